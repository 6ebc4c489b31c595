"""Reranks a turn's candidates and scores whether they answer it.

The judge sits between retrieval and the decision. It reranks the fused candidates with the process's
:class:`retrieval.rerank.EvidenceReranker` (fitted weights, ``retrieval/calibration/rerank.json``), turns the
evidence (reranked relevance, retrieval scores, agreement between retrievers, coverage of the question's
terms by the best passages) into an answerability probability with
:class:`retrieval.answerability.AnswerabilityModel` (``answerability.json``, fitted on MTRAG-UN), and flags an
underspecified question with :class:`retrieval.answerability.UnderspecifiedModel` (``underspecified.json``,
same data). ``chat.decide`` compares the answerability with ``Settings.answer_threshold``; the underspecified
flag is the model's probability against ``Settings.clarify_threshold``. Both defaults are the calibrated
thresholds stored beside the models.

Cost of a turn: one query encoding; the candidates' sentence vectors were encoded at ingest and are read with
the chunks (``chunks.sentence_vectors``). Only a chunk indexed before they existed is encoded here (then cached).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from kb.runtime import Runtime
from kb.search import reranker_for
from kg.extract import SPECIFIC_TYPES
from kg.followup import unresolved_reference
from kg.types import TurnContext
from retrieval.answerability import (
    AnswerabilityModel,
    UnderspecifiedModel,
    answerability_features,
)
from retrieval.fusion import IMAGE_LISTS
from retrieval.protocol import Hit
from retrieval.rerank import Reranker


@dataclass(frozen=True)
class Judgement:
    hits: list[Hit]  # reranked, best first
    answerability: float  # probability in [0, 1] that the hits answer the query
    underspecified: bool  # the question leaves its subject open (ask, rather than escalate)
    out_of_scope: bool  # nothing retrieved shares a content term with the question
    features: dict[str, float] = field(default_factory=dict)
    unclear: str | None = None  # the phrase the question leaves open ("the fast food chain"), when it is known


class Judge:
    """Rerank -> answerability -> underspecified, from calibrated models; no state of its own."""

    def __init__(
        self,
        reranker: Reranker,
        answerability: AnswerabilityModel,
        underspecified: UnderspecifiedModel,
        clarify_threshold: float,
    ) -> None:
        self.reranker = reranker
        self.answerability = answerability
        self.underspecified = underspecified
        self.clarify_threshold = clarify_threshold

    def assess(
        self,
        query: str,
        hits: Sequence[Hit],
        bodies: Mapping[str, str],
        context: TurnContext,
        stored: Mapping[str, bytes] | None = None,
        conversation: str = "",
        earlier: Sequence[str] = (),
    ) -> Judgement:
        """``hits`` fused best first; ``bodies`` is accepted for the caller's convenience but the features
        are computed on the hits' indexed text, as the models were fitted. ``stored``: the candidates'
        sentence vectors made at ingest (:meth:`retrieval.rerank.Reranker.rerank`). ``conversation``: the
        conversation query (:func:`kg.expansion.conversation_query`; empty on a first turn), whose evidence joins
        the order. ``earlier``: the conversation's earlier turns (customer and bot), for a "the X" they never
        named. A photo turn keeps the first stage's order (the reranker was fitted on text evidence only)
        but is still scored."""
        text = query.strip()
        ranked = list(hits)
        if text and ranked:
            photo = any(IMAGE_LISTS & set(h.ranks) for h in ranked)
            ranked = self.reranker.rerank(text, ranked, keep_order=photo, stored=stored, context=conversation)
        row = answerability_features(text, ranked)
        score = self.answerability.score(text, ranked) if ranked else 0.0
        p_under = self.underspecified.score(text, row)
        features = {**row, "answerability": score, "underspecified": p_under}
        underspecified = p_under >= self.clarify_threshold and not _names_its_subject(context)
        # What to ask about, in a follow-up only: "the warranty" opening a conversation is the company's warranty.
        unclear = unresolved_reference(text, earlier) if underspecified and earlier else None
        return Judgement(
            hits=ranked,
            answerability=score,
            underspecified=underspecified,
            out_of_scope=not ranked or row["coverage_union"] == 0.0,
            features=features,
            unclear=unclear,
        )


NAMED_THINGS = 3


def _names_its_subject(context: TurnContext) -> bool:
    """The turn names a specific thing (a product, model, error code, order or serial number) or three things
    of any kind: whatever the underspecified model reads in its wording, asking "which product?" back would be
    wrong. (That model is weak on its own: precision 0.32 on MTRAG-UN's report half, benchmarks/RESULTS.md.)"""
    specific = any(entity.type in SPECIFIC_TYPES for entity in context.entities)
    return specific or len(context.entities) >= NAMED_THINGS


@lru_cache(maxsize=1)
def _models() -> tuple[AnswerabilityModel, UnderspecifiedModel]:
    return AnswerabilityModel.load(), UnderspecifiedModel.load()


def judge_for(runtime: Runtime) -> Judge:
    """The judge for this runtime: the process's shared reranker (one sentence-vector cache per set of loaded
    models), the calibrated models (read once per process) and the runtime's clarify threshold."""
    answerability, underspecified = _models()
    return Judge(reranker_for(runtime), answerability, underspecified, runtime.settings.clarify_threshold)
