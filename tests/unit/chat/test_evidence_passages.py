"""Which retrieved passages the generator reads: the best few, cut at a score margin below the best."""

from __future__ import annotations

from chat.evidence import Evidence
from tests.support.hits import text_hit


def _evidence(*scores: float) -> Evidence:
    hits = [text_hit(f"c{n}", s, "manual") for n, s in enumerate(scores)]
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
