"""EvidenceReranker and the answerability features on hand-made candidates.

The encoder here is a fake on purpose (pure-logic unit tests): a deterministic bag-of-words hashing vector,
so "the sentence that shares the question's words" is the most similar one. The real MiniLM path is covered
by tests/integration/retrieval/test_rerank_minilm.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from core.errors import InvalidInput
from retrieval.answerability import FEATURES as ANSWER_FEATURES
from retrieval.answerability import AnswerabilityModel, answerability_features
from retrieval.protocol import Hit
from retrieval.rerank import FEATURES, EvidenceReranker, LinearWeights, pack_vectors, sentence_inputs, unpack_vectors
from retrieval.text_features import stem, words

DIM = 256


class BagOfWords:
    """A toy text encoder: hashed stemmed words, L2-normalised. Counts the texts it was asked to encode."""

    def __init__(self) -> None:
        self.encoded = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += len(texts)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in words(text):
                out[row, int(hashlib.md5(stem(word).encode()).hexdigest(), 16) % DIM] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def hit(chunk: str, text: str, score: float, ranks: dict[str, int], heading: str = "") -> Hit:
    return Hit(
        chunk_id=chunk,
        document_id=f"doc-{chunk}",
        source="manual.pdf",
        title="TV manual",
        heading=heading,
        page=None,
        modality="text",
        text=text,
        score=score,
        ranks=dict(ranks),
        scores={name: 0.5 for name in ranks},
    )


CANDIDATES = [
    hit("a", "The remote pairs automatically. Batteries last a year. The power light blinks.", 0.9, {"dense": 1}),
    hit("b", "Picture modes change brightness. Sound modes change the equaliser.", 0.8, {"dense": 2, "sparse": 2}),
    hit(
        "c",
        "Many settings exist. To cancel a scheduled recording, open Recordings and choose Delete.",
        0.7,
        {"dense": 3, "sparse": 1},
        heading="Recording",
    ),
]
WEIGHTS = LinearWeights(0.0, {"sentence_max": 3.0, "coverage": 2.0, "agreement": 0.5, "prior": 0.5})


def test_the_candidate_with_the_answering_sentence_moves_to_the_top() -> None:
    reranker = EvidenceReranker(BagOfWords(), WEIGHTS)
    out = reranker.rerank("How do I cancel a scheduled recording?", CANDIDATES)
    assert out[0].chunk_id == "c"
    top = out[0]
    assert top.scores["rerank"] == top.score
    assert top.scores["rerank.coverage"] == 1.0
    assert top.scores["rerank.agreement"] == 1.0
    assert top.ranks == {"dense": 3, "sparse": 1}  # first-stage evidence is kept
    assert CANDIDATES[2].score == 0.7 and "rerank" not in CANDIDATES[2].scores  # inputs untouched


def test_features_are_bounded_and_complete() -> None:
    rows = EvidenceReranker(BagOfWords(), WEIGHTS).features("cancel recording", CANDIDATES)
    assert len(rows) == len(CANDIDATES)
    for row in rows:
        assert set(row) == set(FEATURES)
        assert all(-1.0 <= v <= 1.0 + 1e-6 for v in row.values())
    assert rows[0]["rank_prior"] == 1.0 and rows[2]["rank_prior"] == pytest.approx(1 / 3)


def test_candidates_past_the_budget_follow_in_their_order_and_limit_applies() -> None:
    many = [hit(str(i), f"text number {i}", 1.0 - i / 100, {"dense": i + 1}) for i in range(8)]
    out = EvidenceReranker(BagOfWords(), WEIGHTS, max_candidates=3).rerank("number", many)
    assert [h.chunk_id for h in out[3:]] == ["3", "4", "5", "6", "7"]
    assert all(out[i].score > out[i + 1].score for i in range(len(out) - 1))
    assert len(EvidenceReranker(BagOfWords(), WEIGHTS).rerank("number", many, limit=2)) == 2
    assert EvidenceReranker(BagOfWords(), WEIGHTS).rerank("number", []) == []


def test_sentence_vectors_are_cached_per_chunk() -> None:
    encoder = BagOfWords()
    reranker = EvidenceReranker(encoder, WEIGHTS)
    reranker.rerank("cancel recording", CANDIDATES)
    first = encoder.encoded
    reranker.rerank("picture modes", CANDIDATES)
    assert encoder.encoded == first + 1  # only the new question was encoded


def test_weights_round_trip_and_bad_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    WEIGHTS.save(path, FEATURES)
    loaded = LinearWeights.load(path)
    assert loaded.coefficients == WEIGHTS.coefficients and loaded.intercept == WEIGHTS.intercept
    path.write_text("{not json")
    with pytest.raises(InvalidInput):
        LinearWeights.load(path)


def test_answerability_features_separate_an_answer_from_noise() -> None:
    reranker = EvidenceReranker(BagOfWords(), WEIGHTS)
    question = "How do I cancel a scheduled recording?"
    good = answerability_features(question, reranker.rerank(question, CANDIDATES))
    off_topic = "How do I replace the oil filter of my lawn mower?"
    bad = answerability_features(off_topic, reranker.rerank(off_topic, CANDIDATES))
    assert set(good) == set(ANSWER_FEATURES)
    assert good["coverage_top"] == 1.0 and bad["coverage_top"] == 0.0
    assert good["top_sentence"] > bad["top_sentence"]
    assert bad["missing_rare"] == 1.0
    empty = answerability_features(question, [])
    assert empty["top_rerank"] == 0.0 and empty["missing_rare"] == 1.0


def test_answerability_model_scores_in_unit_interval(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    LinearWeights(-2.0, {"coverage_top": 3.0, "top_sentence": 2.0}).save(path, ANSWER_FEATURES)
    path.write_text(path.read_text().replace('"intercept"', '"threshold": 0.5, "intercept"'))
    model = AnswerabilityModel.load(path)
    reranker = EvidenceReranker(BagOfWords(), WEIGHTS)
    question = "How do I cancel a scheduled recording?"
    good = model.score(question, reranker.rerank(question, CANDIDATES))
    bad = model.score("oil filter lawn mower", reranker.rerank("oil filter lawn mower", CANDIDATES))
    assert 0.0 <= bad < 0.5 <= good <= 1.0
    assert model.answerable(question, reranker.rerank(question, CANDIDATES))


def test_keep_order_annotates_without_reordering() -> None:
    out = EvidenceReranker(BagOfWords(), WEIGHTS).rerank(
        "How do I cancel a scheduled recording?", CANDIDATES, keep_order=True
    )
    assert [h.chunk_id for h in out] == ["a", "b", "c"]
    assert [h.score for h in out] == [0.9, 0.8, 0.7]  # first-stage scores kept
    assert out[2].scores["rerank"] > out[0].scores["rerank"]  # yet the reranker prefers "c"


def test_shipped_calibration_loads_and_matches_the_settings_defaults() -> None:
    from core.settings import Settings
    from retrieval.answerability import UnderspecifiedModel
    from retrieval.rerank import DEFAULT_WEIGHTS_PATH, default_weights

    assert DEFAULT_WEIGHTS_PATH.exists()
    assert set(default_weights().coefficients) == set(FEATURES)
    answer, under = AnswerabilityModel.load(), UnderspecifiedModel.load()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.answer_threshold == answer.threshold
    assert settings.clarify_threshold == under.threshold


def test_sentence_vectors_stored_at_ingest_replace_encoding_and_rank_the_same() -> None:
    question = "How do I cancel a scheduled recording?"
    encoder = BagOfWords()
    stored = {h.chunk_id: pack_vectors(encoder(sentence_inputs(h.text, h.heading, h.title))) for h in CANDIDATES}
    fresh = EvidenceReranker(BagOfWords(), WEIGHTS).rerank(question, CANDIDATES)
    counting = BagOfWords()
    from_store = EvidenceReranker(counting, WEIGHTS).rerank(question, CANDIDATES, stored=stored)
    assert counting.encoded == 1  # the question alone
    assert [h.chunk_id for h in from_store] == [h.chunk_id for h in fresh]
    for a, b in zip(from_store, fresh, strict=True):
        assert a.scores["rerank.sentence_max"] == pytest.approx(b.scores["rerank.sentence_max"], abs=2e-3)


def test_stored_vectors_of_another_encoder_size_are_ignored_and_encoded_afresh() -> None:
    wrong = {h.chunk_id: pack_vectors(np.ones((2, DIM // 2), dtype=np.float32)) for h in CANDIDATES}
    counting = BagOfWords()
    out = EvidenceReranker(counting, WEIGHTS).rerank("cancel a scheduled recording", CANDIDATES, stored=wrong)
    assert counting.encoded > 1
    assert out[0].chunk_id == "c"


def test_missing_sentences_are_encoded_in_one_batch() -> None:
    calls: list[int] = []
    encoder = BagOfWords()

    def encode(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        return encoder(texts)

    EvidenceReranker(encode, WEIGHTS).rerank("cancel a scheduled recording", CANDIDATES)
    assert len(calls) == 2  # the question, then every candidate's sentences together


def test_packed_vectors_round_trip_and_refuse_another_dimension() -> None:
    vectors = BagOfWords()(["one sentence", "another sentence here"])
    unpacked = unpack_vectors(pack_vectors(vectors), DIM)
    assert unpacked is not None and unpacked.shape == (2, DIM)
    assert np.allclose(unpacked, vectors, atol=1e-3)
    assert unpack_vectors(pack_vectors(vectors), 300) is None
