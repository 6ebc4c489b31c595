"""The conversation's share of a turn's final order (retrieval.conversation) and how the reranker applies it.

The encoder is the bag-of-words fake of test_rerank.py (pure logic); the real path runs in the doc2dial
benchmark and the integration tests of the chat turn.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from core.errors import InvalidInput
from retrieval.conversation import (
    CONVERSATION_FEATURES,
    conversation_features,
    conversation_shares,
    load_conversation_weights,
)
from retrieval.linear import LinearWeights
from retrieval.protocol import Hit
from retrieval.rerank import EvidenceReranker
from tests.unit.retrieval.test_rerank import CANDIDATES, WEIGHTS, BagOfWords

QUESTION = "How do I turn it off?"
CONVERSATION = "My remote control batteries are flat. How do I turn it off?"


def test_features_scale_the_history_vote_by_the_best_and_read_missing_scores_as_zero() -> None:
    rows = conversation_features([{"history": 0.2, "conv.sentence_max": 0.7}, {"history": 0.05}, {}])
    assert rows[0]["history"] == 1.0
    assert rows[1]["history"] == pytest.approx(0.25)
    assert [r["history_top"] for r in rows] == [1.0, 0.0, 0.0]
    assert rows[2] == dict.fromkeys(CONVERSATION_FEATURES, 0.0)
    assert rows[0]["conv_sentence_max"] == 0.7


def test_no_history_anywhere_gives_zero_history_features() -> None:
    rows = conversation_features([{"conv.coverage": 1.0}, {}])
    assert [(r["history"], r["history_top"]) for r in rows] == [(0.0, 0.0), (0.0, 0.0)]


def test_adjustments_are_the_weighted_sum_of_the_features() -> None:
    weights = LinearWeights(0.0, {"history": 2.0, "conv_coverage": 1.0})
    shares = conversation_shares(weights, [{"history": 0.5, "conv.coverage": 0.5}, {"history": 0.25}])
    assert shares == pytest.approx([2.5, 1.0])


def test_weights_survive_a_save_and_load(tmp_path: Path) -> None:
    weights = LinearWeights(0.0, {"history": 1.5, "conv_sentence_max": 0.75}, {"fitted_on": "a test"})
    weights.save(tmp_path / "c.json", CONVERSATION_FEATURES)
    assert load_conversation_weights(tmp_path / "c.json") == weights


def test_unknown_or_unreadable_weights_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"intercept": 0.0, "coefficients": {"history": 1.0, "mood": 2.0}}))
    with pytest.raises(InvalidInput, match="mood"):
        load_conversation_weights(path)
    path.write_text("not json")
    with pytest.raises(InvalidInput):
        load_conversation_weights(path)


def with_history(shares: dict[str, float]) -> list[Hit]:
    out = []
    for candidate in CANDIDATES:
        copy = dataclasses.replace(candidate, scores=dict(candidate.scores))
        if candidate.chunk_id in shares:
            copy.scores["history"] = shares[candidate.chunk_id]
        out.append(copy)
    return out


def test_the_conversation_lifts_the_candidate_the_earlier_turns_were_about() -> None:
    weights = LinearWeights(0.0, {"history": 3.0, "conv_sentence_max": 2.0})
    reranker = EvidenceReranker(BagOfWords(), WEIGHTS, conversation=weights)
    hits = with_history({"a": 0.09, "b": 0.01})
    alone = reranker.rerank(QUESTION, hits)
    together = reranker.rerank(QUESTION, hits, context=CONVERSATION)
    assert alone[0].chunk_id != "a"
    assert together[0].chunk_id == "a"  # the remote and its batteries: what the customer was talking about
    rerank_alone = {h.chunk_id: h.scores["rerank"] for h in alone}
    for h in together:  # the question's own reranked score is kept apart from the conversation's share
        assert h.scores["rerank"] == pytest.approx(rerank_alone[h.chunk_id])
        assert h.score == pytest.approx(h.scores["rerank"] + h.scores["rerank.conversation"])
    assert together[0].scores["conv.coverage"] > 0


def test_without_weights_or_context_the_order_is_the_question_alone() -> None:
    hits = with_history({"a": 0.09})
    plain = [h.chunk_id for h in EvidenceReranker(BagOfWords(), WEIGHTS).rerank(QUESTION, hits)]
    unweighted = EvidenceReranker(BagOfWords(), WEIGHTS, conversation=LinearWeights(0.0, {}))
    assert [h.chunk_id for h in unweighted.rerank(QUESTION, hits, context=CONVERSATION)] == plain
    weighted = EvidenceReranker(BagOfWords(), WEIGHTS, conversation=LinearWeights(0.0, {"history": 5.0}))
    assert [h.chunk_id for h in weighted.rerank(QUESTION, hits, context="")] == plain
