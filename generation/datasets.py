"""Training data for the T5 backend: one JSON object per line, (question, history, passages, answer).

    {"question": "How do I reset it?",
     "history": [{"role": "customer", "text": "..."}, {"role": "bot", "text": "..."}],
     "passages": [{"title": "Reset", "text": "Hold the power button ..."}],
     "answer": "Hold the power button for ten seconds [1]."}

Answers carry [n] markers (numbers of ``passages``, 1-based) so a fine-tuned model learns to cite. The
converters here turn MTRAG-UN generation tasks and doc2dial turns into that format; reference answers get
markers by lexical support (:func:`generation.grounding.add_citation_markers`).

    python -m generation.datasets mtrag ../shared/data/mtrag out.jsonl [--answerability ANSWERABLE PARTIAL]
    python -m generation.datasets doc2dial ../shared/data/doc2dial out.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InvalidInput
from generation.grounding import add_citation_markers
from generation.protocol import GenerationRequest, Passage

MTRAG_ROLES = {"user": "customer", "agent": "bot"}
DOC2DIAL_ROLES = {"user": "customer", "agent": "bot"}


@dataclass(frozen=True)
class TrainingPassage:
    title: str
    text: str


@dataclass(frozen=True)
class TrainingExample:
    question: str
    passages: list[TrainingPassage]
    answer: str
    history: list[tuple[str, str]] = field(default_factory=list)

    def to_request(self) -> GenerationRequest:
        """The request a generator would see for this example (passages numbered from 1)."""
        passages = [
            Passage(i, f"train-{i}", f"train-{i}", "", p.title, None, p.text, 1.0)
            for i, p in enumerate(self.passages, start=1)
        ]
        return GenerationRequest(question=self.question, history=list(self.history), passages=passages)

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "history": [{"role": role, "text": text} for role, text in self.history],
            "passages": [{"title": p.title, "text": p.text} for p in self.passages],
            "answer": self.answer,
        }

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> TrainingExample:
        try:
            return cls(
                question=str(row["question"]),
                passages=[TrainingPassage(str(p.get("title", "")), str(p["text"])) for p in row["passages"]],
                answer=str(row["answer"]),
                history=[(str(t["role"]), str(t["text"])) for t in row.get("history", [])],
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise InvalidInput(f"training example lacks a field or has the wrong shape: {error!r}") from error


def read_jsonl(path: Path) -> list[TrainingExample]:
    """Examples from a JSONL file; a bad line raises InvalidInput naming the line."""
    examples = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                examples.append(TrainingExample.from_json(json.loads(line)))
            except (json.JSONDecodeError, InvalidInput) as error:
                raise InvalidInput(f"{path}:{number}: {error}") from error
    if not examples:
        raise InvalidInput(f"{path} holds no training examples")
    return examples


def write_jsonl(examples: Iterable[TrainingExample], path: Path) -> int:
    """Write ``examples`` to ``path``; returns how many."""
    count = 0
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with Path(path).open("w", encoding="utf-8") as out:
        for example in examples:
            out.write(json.dumps(example.to_json(), ensure_ascii=False) + "\n")
            count += 1
    return count


def _with_markers(answer: str, passages: Sequence[TrainingPassage]) -> str:
    numbered = [Passage(i, "", "", "", p.title, None, p.text, 1.0) for i, p in enumerate(passages, start=1)]
    return add_citation_markers(answer, numbered)


def mtrag_examples(
    data_dir: Path, answerability: Sequence[str] = ("ANSWERABLE", "PARTIAL")
) -> Iterator[TrainingExample]:
    """MTRAG-UN generation tasks (``mtragun-human/generation_tasks/reference.jsonl``) whose label is in
    ``answerability``: last user turn as the question, earlier turns as history, reference passages,
    the target answer with [n] markers added where a passage supports a sentence."""
    path = Path(data_dir) / "mtragun-human" / "generation_tasks" / "reference.jsonl"
    wanted = set(answerability)
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if not wanted.intersection(row.get("answerability", [])) or not row.get("targets"):
                continue
            turns = row["input"]
            passages = [TrainingPassage("", c["text"].strip()) for c in row.get("contexts", [])]
            yield TrainingExample(
                question=turns[-1]["text"],
                history=[(MTRAG_ROLES.get(t["speaker"], "customer"), t["text"]) for t in turns[:-1]],
                passages=passages,
                answer=_with_markers(row["targets"][0]["text"], passages),
            )


def doc2dial_examples(
    data_dir: Path, *, distractors: int = 2, window_spans: int = 4, seed: int = 0
) -> Iterator[TrainingExample]:
    """doc2dial turns (``queries.jsonl`` + ``docs.jsonl``): the gold answer spans are the answer; the passage
    holding them is a window of the document's spans around them, placed at a random position among
    ``distractors`` other windows of the same document, so the model learns which number to cite."""
    data_dir = Path(data_dir)
    documents = {}
    with (data_dir / "docs.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            documents[doc["doc_id"]] = doc
    chooser = random.Random(seed)
    with (data_dir / "queries.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            query = json.loads(line)
            doc = documents.get(query["doc_id"])
            if doc is None or not query.get("answer_span_ids"):
                continue
            span_ids = sorted(doc["spans"], key=int)
            gold = sorted(span_ids.index(s) for s in query["answer_span_ids"] if s in doc["spans"])
            if not gold:
                continue
            windows = _windows_around(span_ids, gold[0], gold[-1], window_spans)
            picked = [*chooser.sample(windows[1:], min(distractors, len(windows) - 1)), windows[0]]
            chooser.shuffle(picked)
            passages = [TrainingPassage(doc["title"], " ".join(doc["spans"][s].strip() for s in w)) for w in picked]
            number = picked.index(windows[0]) + 1
            answer = " ".join(a["text"].strip() for a in query["answer_spans"])
            yield TrainingExample(
                question=query["question"],
                history=[(DOC2DIAL_ROLES.get(t["role"], "customer"), t["text"]) for t in query.get("history", [])],
                passages=passages,
                answer=_cite_all(answer, number),
            )


def _windows_around(span_ids: list[str], first: int, last: int, size: int) -> list[list[str]]:
    """The window holding spans ``first..last`` (indices, padded with neighbours to ``size``) first, then
    ``size``-span windows of the rest of the document that do not overlap it."""
    pad = max(0, size - (last - first + 1))
    start = max(0, first - pad // 2)
    end = min(len(span_ids), max(last + 1, start + size))
    windows = [span_ids[start:end]]
    for begin in range(0, len(span_ids), size):
        window = [s for s in span_ids[begin : begin + size] if s not in windows[0]]
        if window:
            windows.append(window)
    return windows


def _cite_all(answer: str, number: int) -> str:
    """The whole answer cited to passage ``number`` (the marker before the final full stop)."""
    answer = answer.strip()
    if answer and answer[-1] in ".!?":
        return f"{answer[:-1]} [{number}]{answer[-1]}"
    return f"{answer} [{number}]"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convert MTRAG-UN or doc2dial into T5 training JSONL.")
    parser.add_argument("source", choices=["mtrag", "doc2dial"])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--answerability", nargs="+", default=["ANSWERABLE", "PARTIAL"], help="MTRAG labels to keep")
    args = parser.parse_args(argv)
    examples = (
        mtrag_examples(args.data_dir, args.answerability)
        if args.source == "mtrag"
        else doc2dial_examples(args.data_dir)
    )
    print(f"wrote {write_jsonl(examples, args.out)} examples to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
