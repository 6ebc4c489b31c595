"""How likely the knowledge base answers the question: a score in [0, 1] from the retrieval evidence.

Features (computed from the question and the reranked hits, no model of its own):

- ``top_rerank``: the reranker's probability that the best candidate is relevant;
- ``margin``: how far the best candidate's reranked log-odds lead the second's (a clear winner vs a tie);
- ``top_sentence``: the best question-sentence cosine among the top three (is one sentence *about* this?);
- ``top_chunk``: the best question-chunk cosine among the top three;
- ``coverage_top``: the share of the question's content terms found in the best candidate;
- ``coverage_union``: ... found anywhere in the top three (a multi-part question answered across passages);
- ``missing_rare``: the share of content terms that no top-three passage contains *and* that the retrievers'
  BM25 evidence did not match at all (typically the name of a thing the knowledge base does not cover);
- ``agreement``: whether BM25 and dense both returned the best candidate;
- ``short_question``: 1 for a question with at most two content terms ("Regional differences", "and the
  fee?"), which is more often underspecified than answerable.

A logistic model maps them to a probability; its coefficients and the decision threshold are fitted on
MTRAG-UN (answerable vs unanswerable/underspecified, over its closed passage pool) by
``benchmarks/tune/fit_answerability.py`` and stored in ``retrieval/calibration/answerability.json``. The
threshold is chosen for >= 0.90 precision on "answer" and is the default of ``Settings.answer_threshold``.

Underspecified questions ("Is there a daily limit to hunt the animal?", "Are they safer?") are told apart by a
second logistic model, :class:`UnderspecifiedModel`, on cues in the question's own words (a pronoun or a "this
X" that points back, few content terms, a short question) beside the retrieval evidence; it is fitted on the
same MTRAG-UN tune half (UNDERSPECIFIED vs every other label) and stored in
``retrieval/calibration/underspecified.json``; its threshold is the default of ``Settings.clarify_threshold``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from core.errors import InvalidInput
from retrieval.protocol import Hit
from retrieval.rerank import CALIBRATION_DIR, RERANK, LinearWeights, sigmoid
from retrieval.text_features import content_terms, coverage, term_set, words

FEATURES = (
    "top_rerank",
    "margin",
    "top_sentence",
    "top_chunk",
    "coverage_top",
    "coverage_union",
    "missing_rare",
    "agreement",
    "short_question",
)
DEFAULT_PATH = CALIBRATION_DIR / "answerability.json"
UNDERSPECIFIED_PATH = CALIBRATION_DIR / "underspecified.json"
TOP = 3
UNDERSPECIFIED_FEATURES = (
    "pronoun",
    "deictic",
    "few_terms",
    "short_question",
    "top_rerank",
    "coverage_union",
    "top_sentence",
)
_PRONOUNS = frozenset("it its it's they them their theirs he him his she her there one ones".split())
_DEICTIC = re.compile(r"\b(?:this|that|these|those|the same|such|said)\s+[^\W\d_]{3,}", re.IGNORECASE)


@runtime_checkable
class AnswerabilityScorer(Protocol):
    def score(self, question: str, hits: Sequence[Hit]) -> float:
        """Probability in [0, 1] that ``hits`` (reranked, best first) hold the answer to ``question``."""
        ...


def answerability_features(question: str, hits: Sequence[Hit]) -> dict[str, float]:
    """The feature row for ``hits`` as returned by :class:`retrieval.rerank.EvidenceReranker` (other hits
    work too: a missing feature reads as 0)."""
    terms = content_terms(question)
    top = list(hits[:TOP])
    if not top:
        return dict.fromkeys(FEATURES, 0.0) | {"short_question": float(len(terms) <= 2), "missing_rare": 1.0}
    first = top[0]
    second = top[1].scores.get(RERANK, top[1].score) if len(top) > 1 else None
    first_score = first.scores.get(RERANK, first.score)
    term_sets = [term_set(f"{h.title} {h.heading} {h.text}") for h in top]
    union = set().union(*term_sets)
    missing = [t for t in terms if t not in union]
    return {
        "top_rerank": sigmoid(first_score) if RERANK in first.scores else 0.0,
        "margin": min(5.0, max(0.0, first_score - second)) / 5.0 if second is not None else 1.0,
        "top_sentence": max(h.scores.get(f"{RERANK}.sentence_max", 0.0) for h in top),
        "top_chunk": max(h.scores.get(f"{RERANK}.chunk_sim", h.scores.get("dense", 0.0)) for h in top),
        "coverage_top": coverage(terms, term_sets[0]),
        "coverage_union": coverage(terms, union),
        "missing_rare": len(missing) / len(terms) if terms else 0.0,
        "agreement": float({"dense", "sparse"} <= set(first.ranks)),
        "short_question": float(len(terms) <= 2),
    }


def underspecified_features(question: str, answer_row: dict[str, float]) -> dict[str, float]:
    """Cues that ``question`` leaves its subject open, beside three features of ``answer_row`` (the
    question's :func:`answerability_features`)."""
    tokens = words(question)
    terms = content_terms(question)
    return {
        "pronoun": float(any(t in _PRONOUNS for t in tokens)),
        "deictic": float(bool(_DEICTIC.search(question))),
        "few_terms": 1.0 / (1.0 + len(terms)),
        "short_question": answer_row.get("short_question", float(len(terms) <= 2)),
        "top_rerank": answer_row.get("top_rerank", 0.0),
        "coverage_union": answer_row.get("coverage_union", 0.0),
        "top_sentence": answer_row.get("top_sentence", 0.0),
    }


def _load_with_threshold(path: Path) -> tuple[LinearWeights, float]:
    weights = LinearWeights.load(path)
    try:
        threshold = float(json.loads(Path(path).read_text(encoding="utf-8"))["threshold"])
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidInput(f"{path} has no usable 'threshold': {exc}") from exc
    return weights, threshold


@dataclass(frozen=True)
class UnderspecifiedModel:
    """Probability that a question leaves its subject open (a clarifying question beats an escalation);
    ``threshold`` is the calibrated cut-off (``Settings.clarify_threshold`` by default)."""

    weights: LinearWeights
    threshold: float

    @classmethod
    def load(cls, path: Path = UNDERSPECIFIED_PATH) -> UnderspecifiedModel:
        return cls(*_load_with_threshold(path))

    def score(self, question: str, answer_row: dict[str, float]) -> float:
        return sigmoid(self.weights.apply(underspecified_features(question, answer_row)))


@dataclass(frozen=True)
class AnswerabilityModel:
    """:class:`AnswerabilityScorer` as a logistic model; ``threshold`` is the calibrated answer cut-off."""

    weights: LinearWeights
    threshold: float

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> AnswerabilityModel:
        return cls(*_load_with_threshold(path))

    def score(self, question: str, hits: Sequence[Hit]) -> float:
        return sigmoid(self.weights.apply(answerability_features(question, hits)))

    def answerable(self, question: str, hits: Sequence[Hit]) -> bool:
        return self.score(question, hits) >= self.threshold
