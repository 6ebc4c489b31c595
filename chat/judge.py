"""Reranks a turn's candidates and scores whether they answer it.

The judge sits between retrieval and the decision: it reorders the fused candidates and turns the evidence
(retrieval scores, agreement between retrievers, coverage of the question's words by the best passages) into
an answerability score in [0, 1] that ``chat.decide`` compares with ``Settings.answer_threshold``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from kb.runtime import Models, Runtime
from kg.types import TurnContext
from retrieval.protocol import Hit

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_STOP = frozenset(
    "a an the and or but if then so to of in on at by for with from as is are was were be been being do does did "
    "i you he she it we they me my your our their this that these those what which who whom how why when where "
    "can could should would will shall may might must have has had not no yes please thanks hi hello there about "
    "into over under again also just get got any some".split()
)


@dataclass(frozen=True)
class Judgement:
    hits: list[Hit]
    answerability: float
    underspecified: bool
    out_of_scope: bool
    features: dict[str, float] = field(default_factory=dict)


def content_terms(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1]


class Judge:
    """Evidence features -> logistic answerability."""

    def __init__(self, weights: Mapping[str, float], bias: float, out_of_scope_dense: float = 0.2) -> None:
        self.weights = dict(weights)
        self.bias = bias
        self.out_of_scope_dense = out_of_scope_dense

    def assess(self, query: str, hits: Sequence[Hit], bodies: Mapping[str, str], context: TurnContext) -> Judgement:
        ranked = list(hits)
        features = evidence_features(query, ranked, bodies)
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        score = 1.0 / (1.0 + math.exp(-z))
        terms = content_terms(query)
        underspecified = (context.is_followup and not context.focus) or len(terms) <= 1
        out_of_scope = features.get("top_dense", 0.0) < self.out_of_scope_dense and features.get("coverage", 0.0) < 0.3
        return Judgement(ranked, score if ranked else 0.0, underspecified, out_of_scope, features)


def evidence_features(query: str, hits: Sequence[Hit], bodies: Mapping[str, str]) -> dict[str, float]:
    if not hits:
        return {"top_dense": 0.0, "coverage": 0.0, "agreement": 0.0}
    top = hits[0]
    terms = set(content_terms(query))
    best_text = " ".join(bodies.get(h.chunk_id, h.text) for h in hits[:3]).lower()
    found = {t for t in terms if t in best_text}
    return {
        "top_dense": float(top.scores.get("dense", top.scores.get("image_dense", 0.0))),
        "coverage": len(found) / len(terms) if terms else 0.0,
        "agreement": float(len(top.ranks)) / 2.0,
    }


@lru_cache(maxsize=8)
def _judge(models: Models) -> Judge:
    return Judge({"top_dense": 6.0, "coverage": 3.0, "agreement": 0.5}, bias=-5.0)


def judge_for(runtime: Runtime) -> Judge:
    """One judge per set of models (it may hold calibrated weights and an encoder)."""
    return _judge(runtime.models)
