"""The public data sets in ../shared/data, written out as the files an ops person would upload.

Nothing here is copied into the repository: the files are generated into a temporary folder for each run.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def data_root(path: str | Path | None) -> Path:
    root = Path(path) if path else DEFAULT_DATA
    if not (root / "emanual").is_dir():
        raise FileNotFoundError(f"no data sets under {root} (expected emanual/, stackfaq/, grocery/, ...)")
    return root


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def norm_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --- emanual --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Section:
    section_id: str
    title: str
    text: str


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    gold: frozenset[str]
    answer: str = ""


def tv_sections(root: Path) -> list[Section]:
    return [Section(s["section_id"], s["title"], s["text"]) for s in read_jsonl(root / "emanual" / "tv_sections.jsonl")]


def tv_questions(root: Path) -> list[Question]:
    """The 483 questions whose gold section was found from the answer text (the data README's set)."""
    rows = read_jsonl(root / "emanual" / "tv_qa.jsonl")
    return [
        Question(r["id"], r["question"], frozenset(r["gold_section_ids"]), r.get("answer") or "")
        for r in rows
        if str(r.get("gold_match") or "").startswith("text") and r.get("gold_section_ids")
    ]


def has_answer_text(question: Question) -> bool:
    """False for the 25 yes/no questions of the 483, whose answer is "Yes": their gold was found by looking for
    the answer text in the manual, so it is whichever three sections happen to contain the word "Yes", not the
    section the question is about. No retriever finds those but by chance."""
    return question.answer.strip().rstrip(".!").lower() not in ("yes", "no")


def write_tv_manual(root: Path, out: Path, sections: Sequence[Section] | None = None) -> Path:
    """The TV e-manual as one Markdown file: every section (or only ``sections``) a level-2 heading."""
    path = out / "samsung-smart-tv-e-manual.md"
    parts = ["# Samsung Smart TV e-Manual", ""]
    for section in tv_sections(root) if sections is None else sections:
        parts += [f"## {section.title}", "", section.text, ""]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def write_distractor_manuals(root: Path, out: Path) -> list[Path]:
    """The 38 other Samsung manuals as Markdown files (the empty ones are skipped: nothing to upload)."""
    paths = []
    for source in sorted((root / "emanual" / "other_emanuals_corpus").glob("*.json")):
        sections = json.loads(source.read_text(encoding="utf-8") or "{}")
        items = sections.values() if isinstance(sections, dict) else sections
        parts = [f"# {source.stem.replace('_', ' ')} user manual", ""]
        for item in items:
            text = " ".join(t for t in item.get("text", []) if isinstance(t, str)).strip()
            if text:
                parts += [f"## {item.get('title', '').strip() or 'Section'}", "", text, ""]
        if len(parts) > 2:
            path = out / f"{source.stem}.md"
            path.write_text("\n".join(parts), encoding="utf-8")
            paths.append(path)
    return paths


# --- stackfaq -------------------------------------------------------------------------------------------------
def write_stackfaq(
    root: Path, out: Path, keep: Callable[[str], bool] | None = None
) -> tuple[Path, dict[str, str], list[Question]]:
    """All 125 FAQs (or those whose id ``keep`` accepts) as one JSONL FAQ file; returns it, every FAQ's question
    text -> faq id, and the paraphrased queries."""
    faqs = read_jsonl(root / "stackfaq" / "faq.jsonl")
    path = out / "web-apps-faq.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for faq in faqs if keep is None else [f for f in faqs if keep(f["faq_id"])]:
            fh.write(json.dumps({"question": faq["question"], "answer": "\n\n".join(faq["answers"])}) + "\n")
    by_question = {norm_space(f["question"]).lower(): f["faq_id"] for f in faqs}
    queries = [
        Question(q["id"], q["query"], frozenset([q["gold_faq_id"]]))
        for q in read_jsonl(root / "stackfaq" / "queries.jsonl")
    ]
    return path, by_question, queries


# --- grocery --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Product:
    class_id: int
    name: str
    description: Path
    photo: Path


def grocery_products(root: Path) -> list[Product]:
    base = root / "grocery"
    products = []
    with (base / "classes.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            products.append(
                Product(
                    int(row["Class ID (int)"]),
                    row["Class Name (str)"],
                    base / row["Product Description Path (str)"].lstrip("/"),
                    base / row["Iconic Image Path (str)"].lstrip("/"),
                )
            )
    return products


def write_grocery_kb(products: list[Product], out: Path) -> list[Path]:
    """Per product: its web-shop description (``<name>.txt``) and photo (``<name>.jpg``)."""
    paths = []
    for product in products:
        text = out / f"{product.name}.txt"
        text.write_text(f"{product.name.replace('-', ' ')}\n\n{product.description.read_text(encoding='utf-8')}")
        photo = out / f"{product.name}.jpg"
        photo.write_bytes(product.photo.read_bytes())
        paths += [text, photo]
    return paths


def grocery_queries(root: Path, split: str, limit: int | None, seed: int = 0) -> list[tuple[Path, int]]:
    """(photo, class id) of a split; a seeded sample of ``limit`` when given (the README's 400 for test)."""
    base = root / "grocery"
    rows = []
    for line in (base / f"{split}.txt").read_text().splitlines():
        if line.strip():
            rel, fine, _ = (p.strip() for p in line.split(","))
            rows.append((base / rel, int(fine)))
    if limit is not None and limit < len(rows):
        rows = random.Random(seed).sample(rows, limit)
    return rows


# --- doc2dial -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DialTurn:
    """One user turn of a doc2dial dialogue, with everything said before it (oldest first)."""

    id: str
    dial_id: str
    doc_id: str
    domain: str
    history: tuple[tuple[str, str], ...]  # (role "user" | "agent", text)
    question: str


def doc2dial_docs(root: Path) -> list[dict[str, Any]]:
    return read_jsonl(root / "doc2dial" / "docs.jsonl")


def doc2dial_turns(root: Path) -> list[DialTurn]:
    return [
        DialTurn(
            r["id"],
            r["dial_id"],
            r["doc_id"],
            r["domain"],
            tuple((h["role"], h["text"]) for h in r["history"]),
            r["question"],
        )
        for r in read_jsonl(root / "doc2dial" / "queries.jsonl")
    ]


def doc2dial_halves(turns: list[DialTurn]) -> tuple[list[DialTurn], list[DialTurn]]:
    """(tune, report): dialogues in file order, the first half tunes, as benchmarks/tune/doc2dial_rewrite.py
    splits them; every turn of a dialogue falls in its dialogue's half."""
    dialogues = list(dict.fromkeys(t.dial_id for t in turns))
    tune_ids = set(dialogues[: len(dialogues) // 2])
    return [t for t in turns if t.dial_id in tune_ids], [t for t in turns if t.dial_id not in tune_ids]


def _doc2dial_heading(line: str) -> bool:
    """doc2dial keeps the web page's section headings as short lines with no closing punctuation."""
    words = line.split()
    return 0 < len(words) <= 16 and not line.rstrip().endswith((".", ",", ";", ":"))


def write_doc2dial_docs(docs: list[dict[str, Any]], out: Path) -> dict[str, str]:
    """Each document as the Markdown page an ops person would upload (its headings kept as headings);
    returns file name -> doc2dial doc id."""
    names: dict[str, str] = {}
    for n, doc in enumerate(docs):
        slug = re.sub(r"[^a-z0-9]+", "-", doc["title"].lower()).strip("-")[:60] or "document"
        name = f"{doc['domain']}-{n:03d}-{slug}.md"
        parts = [f"# {doc['title']}", ""]
        for line in (ln.strip() for ln in doc["text"].split("\n")):
            if line:
                parts += [f"## {line}" if _doc2dial_heading(line) else line, ""]
        (out / name).write_text("\n".join(parts), encoding="utf-8")
        names[name] = doc["doc_id"]
    return names


# --- mtrag ----------------------------------------------------------------------------------------------------
def mtrag_pool(root: Path) -> list[dict[str, Any]]:
    """The closed pool of 1,488 MTRAG-UN passages (passage_id, text, collection)."""
    return read_jsonl(root / "mtrag" / "reference_passage_pool.jsonl")


def mtrag_tasks(root: Path) -> list[dict[str, Any]]:
    """The 507 MTRAG-UN generation tasks as the data gives them (input turns, contexts, targets, answerability)."""
    return read_jsonl(root / "mtrag" / "mtragun-human" / "generation_tasks" / "reference.jsonl")


def write_mtrag_pool(passages: list[dict[str, Any]], out: Path) -> dict[str, str]:
    """Each passage as its own text file; returns file name -> passage id."""
    names: dict[str, str] = {}
    for passage in passages:
        name = re.sub(r"[^A-Za-z0-9_-]+", "_", passage["passage_id"]) + ".txt"
        (out / name).write_text(passage["text"].strip() + "\n", encoding="utf-8")
        names[name] = passage["passage_id"]
    return names
