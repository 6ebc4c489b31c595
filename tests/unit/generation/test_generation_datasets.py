"""Converters from MTRAG-UN and doc2dial into training JSONL, and the JSONL reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import InvalidInput
from generation.datasets import (
    TrainingExample,
    TrainingPassage,
    doc2dial_examples,
    mtrag_examples,
    read_jsonl,
    write_jsonl,
)


def _write_lines(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _mtrag_row(label: str, target: str) -> dict:
    return {
        "task_id": f"c1<::>{label}",
        "conversation_id": "c1",
        "answerability": [label],
        "input": [
            {"speaker": "user", "text": "My router drops Wi-Fi."},
            {"speaker": "agent", "text": "Try a restart."},
            {"speaker": "user", "text": "How do I reset it?"},
        ],
        "contexts": [
            {"document_id": "d1", "text": "\nThe warranty lasts two years."},
            {"document_id": "d2", "text": "Hold the reset button for ten seconds to reset the router."},
        ],
        "targets": [{"speaker": "agent", "text": target}],
    }


def test_mtrag_tasks_become_examples_with_citation_markers(tmp_path: Path) -> None:
    reference = tmp_path / "mtragun-human" / "generation_tasks" / "reference.jsonl"
    _write_lines(
        reference,
        [
            _mtrag_row("ANSWERABLE", "Hold the reset button for ten seconds. Good luck with it!"),
            _mtrag_row("UNANSWERABLE", "Sorry, I do not know."),
        ],
    )
    examples = list(mtrag_examples(tmp_path))
    assert len(examples) == 1
    example = examples[0]
    assert example.question == "How do I reset it?"
    assert example.history == [("customer", "My router drops Wi-Fi."), ("bot", "Try a restart.")]
    assert [p.text for p in example.passages] == [
        "The warranty lasts two years.",
        "Hold the reset button for ten seconds to reset the router.",
    ]
    assert example.answer == "Hold the reset button for ten seconds [2]. Good luck with it!"
    assert len(list(mtrag_examples(tmp_path, answerability=["UNANSWERABLE"]))) == 1


def test_doc2dial_turns_cite_the_window_holding_the_gold_span(tmp_path: Path) -> None:
    spans = {str(i): f"Sentence number {i} about topic {i}. " for i in range(1, 13)}
    doc = {"doc_id": "doc#1", "domain": "ssa", "title": "Benefits", "text": "".join(spans.values()), "spans": spans}
    query = {
        "id": "q1",
        "dial_id": "d1",
        "turn_id": 3,
        "doc_id": "doc#1",
        "history": [{"role": "user", "text": "Hi"}, {"role": "agent", "text": "Hello"}],
        "question": "What about topics 4 and 5?",
        "answer_spans": [
            {"start": 0, "end": 10, "text": "Sentence number 4 about topic 4. "},
            {"start": 10, "end": 20, "text": "Sentence number 5 about topic 5. "},
        ],
        "answer_span_ids": ["4", "5"],
    }
    _write_lines(tmp_path / "docs.jsonl", [doc])
    _write_lines(tmp_path / "queries.jsonl", [query])
    (example,) = list(doc2dial_examples(tmp_path, distractors=2, window_spans=4))
    assert len(example.passages) == 3
    cited = int(example.answer.split("[")[1].split("]")[0])
    gold = example.passages[cited - 1].text
    assert "about topic 4. Sentence number 5 about topic 5." in gold  # both spans in the one cited passage
    assert example.answer == f"Sentence number 4 about topic 4. Sentence number 5 about topic 5 [{cited}]."
    others = [p.text for n, p in enumerate(example.passages, start=1) if n != cited]
    assert all("topic 4." not in text and "topic 5." not in text for text in others)
    assert example.history == [("customer", "Hi"), ("bot", "Hello")]


def test_jsonl_round_trip_and_bad_lines(tmp_path: Path) -> None:
    example = TrainingExample(
        "How do I reset it?", [TrainingPassage("Reset", "Hold reset.")], "Hold reset [1].", [("customer", "Hi")]
    )
    path = tmp_path / "train.jsonl"
    assert write_jsonl([example, example], path) == 2
    assert read_jsonl(path) == [example, example]
    request = example.to_request()
    assert request.passages[0].number == 1 and request.passages[0].title == "Reset"
    path.write_text('{"question": "q", "answer": "a"}\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"train\.jsonl:1"):
        read_jsonl(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no training examples"):
        read_jsonl(path)
