"""Which retrieved passages the generator reads: the best few, cut at a score margin below the best."""

from __future__ import annotations

from chat.evidence import Evidence
from retrieval.protocol import Hit


def _hit(n: int, score: float) -> Hit:
    return Hit(
        chunk_id=f"c{n}",
        document_id="manual",
        source="manual.md",
        title="Zephyr X200",
        heading="",
        page=None,
        modality="text",
        text=f"passage {n}",
        score=score,
        ranks={},
        scores={},
    )


def _evidence(*scores: float) -> Evidence:
    hits = [_hit(n, s) for n, s in enumerate(scores)]
    return Evidence(
        query="q",
        hits=hits,
        answerability=0.9,
        underspecified=False,
        out_of_scope=False,
        bodies={},
        history=[],
        focus_values=[],
    )


def test_passages_far_below_the_best_are_not_read() -> None:
    evidence = _evidence(3.1, 2.0, 1.2, -0.4, -0.5, 2.9)
    assert [p.chunk_id for p in evidence.passages(margin=2.0)] == ["c0", "c1", "c2"]  # c5 is past the top 5
    assert [p.number for p in evidence.passages(margin=2.0)] == [1, 2, 3]
    assert len(evidence.passages()) == 5  # no margin: the top five


def test_the_best_passage_is_always_read() -> None:
    assert [p.chunk_id for p in _evidence(-3.0, -9.0).passages(margin=0.0)] == ["c0"]
    assert _evidence().passages(margin=2.0) == []
