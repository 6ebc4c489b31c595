"""FAQ files (CSV, JSON, JSON Lines): each question/answer pair becomes one ``faq`` block.

Accepted field names (any case): question/answer, q/a, title/body, query/response, prompt/reply; an
``answers`` list is joined. An optional category/section/topic field becomes the pair's heading, and so does a
``title`` beside a question field (under the category); a file of one titled pair (an agent's saved resolution)
takes that title as the document's. JSON may be a list of objects, an object holding such a list (``faqs``,
``items``, ``data``...), or one object mapping questions to answers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from core.errors import CorruptDocument, EmptyDocument
from ingest.parsers.common import ParseContext, clean_inline, clean_lines
from ingest.types import Block, ParsedDocument

_QUESTION_KEYS = ("question", "questions", "q", "title", "query", "prompt", "faq")
_ANSWER_KEYS = ("answer", "answers", "a", "body", "response", "reply", "text", "content")
_CATEGORY_KEYS = ("category", "section", "topic", "group")
EXPECTED = "question/answer, q/a or title/body"


def parse_faq(data: bytes, ctx: ParseContext) -> ParsedDocument:
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    extension = ctx.filename.lower().rsplit(".", 1)[-1] if "." in ctx.filename else ""
    if extension == "csv":
        records: Iterable[Mapping[str, Any]] = _csv_records(text)
    elif extension in ("jsonl", "ndjson"):
        records = _jsonl_records(text)
    else:
        records = _json_records(text)
    blocks, titles = [], []
    for record in records:
        pair = _pair(record)
        if pair is not None:
            question, answer, category, title = pair
            path = tuple(part for part in (category, title) if part)
            blocks.append(Block(kind="faq", text=f"{question}\n{answer}", heading_path=path))
            titles.append(title)
    if not blocks:
        raise EmptyDocument(f"no question/answer pairs found (expected fields {EXPECTED})")
    title = titles[0] if len(titles) == 1 and titles[0] else ctx.stem
    return ParsedDocument(kind="faq", title=title, blocks=blocks, warnings=ctx.warnings)


def _csv_records(text: str) -> list[dict[str, str]]:
    # The delimiter is the one the header row uses most (csv.Sniffer guesses wrong on quoted answers).
    header = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",;\t|", key=header.count)
    try:
        return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise CorruptDocument(f"the CSV cannot be read: {exc}") from exc


def _jsonl_records(text: str) -> list[Mapping[str, Any]]:
    records: list[Mapping[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorruptDocument(f"line {number} is not JSON: {exc.msg}") from exc
        if isinstance(value, dict):
            records.append(value)
    return records


def _json_records(text: str) -> list[Mapping[str, Any]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptDocument(f"the JSON cannot be read: {exc.msg} (line {exc.lineno})") from exc
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if lists:
            value = lists[0]
        elif all(isinstance(v, str) for v in value.values()):
            return [{"question": q, "answer": a} for q, a in value.items()]
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def _pair(record: Mapping[str, Any]) -> tuple[str, str, str, str] | None:
    """(question, answer, category, title) of one record; the title only when it is not the question."""
    fields = {str(key).strip().lower(): value for key, value in record.items() if key is not None}
    question = clean_inline(_text(_first(fields, _QUESTION_KEYS)))
    answer = clean_lines(_text(_first(fields, _ANSWER_KEYS)))
    if not question or not answer:
        return None
    title = clean_inline(_text(fields.get("title")))
    category = clean_inline(_text(_first(fields, _CATEGORY_KEYS)))
    return question, answer, category, "" if title == question else title


def _first(fields: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    return next((fields[key] for key in keys if fields.get(key) not in (None, "", [])), None)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n\n".join(_text(item) for item in value if item)
    if isinstance(value, dict):
        return _text(value.get("text") or value.get("body") or "")
    return str(value)
