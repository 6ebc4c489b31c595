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
from kg.patterns import code_and_model_norms, code_norm, opening_codes
from kg.types import TurnContext
from retrieval.answerability import (
    TOP,
    AnswerabilityModel,
    UnderspecifiedModel,
    answerability_features,
)
from retrieval.fusion import IMAGE_LISTS
from retrieval.protocol import Hit
from retrieval.rerank import Reranker
from retrieval.text_features import content_terms, coverage, stem, term_set


@dataclass(frozen=True)
class Judgement:
    hits: list[Hit]  # reranked, best first
    answerability: float  # probability in [0, 1] that the hits answer the query
    underspecified: bool  # the question leaves its subject open (ask, rather than escalate)
    out_of_scope: bool  # nothing retrieved shares a content term with it (never a vague complaint: see assess)
    features: dict[str, float] = field(default_factory=dict)
    unclear: str | None = None  # the phrase the question leaves open ("the fast food chain"), when it is known
    exact_identifier: bool = False  # the best passage states the error code / model number the turn names


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
        ranked = code_first(ranked, context)
        row = answerability_features(text, ranked)
        score = self.answerability.score(text, ranked) if ranked else 0.0
        p_under = self.underspecified.score(text, row)
        features = {**row, "answerability": score, "underspecified": p_under}
        exact = answers_named_identifiers(text, context, ranked)
        features["exact_identifier"] = float(exact)
        underspecified = p_under >= self.clarify_threshold and not _names_its_subject(context)
        # What to ask about, in a follow-up only: "the warranty" opening a conversation is the company's warranty.
        unclear = unresolved_reference(text, earlier) if underspecified and earlier else None
        # Out of scope: nothing retrieved shares a word with the question. A complaint that names nothing ("It
        # is not working") has no word to share: it is underspecified, not about something the KB lacks. (So is
        # a lone word the knowledge base lacks, "Bitcoin?": asking what the customer means is the better reply.)
        vague = underspecified and len(content_terms(text)) <= VAGUE_TERMS
        return Judgement(
            hits=ranked,
            answerability=score,
            underspecified=underspecified,
            out_of_scope=not ranked or (row["coverage_union"] == 0.0 and not vague),
            features=features,
            unclear=unclear,
            exact_identifier=exact,
        )


NAMED_THINGS = 3
VAGUE_TERMS = 1  # an underspecified question with at most this many content terms is never out of scope
IDENTIFIER_TYPES = frozenset({"error_code", "model"})
# "How do I fix E40?", "how can I clear error code E-204?": an error code's entry is its remedy, so asking for
# the remedy, and calling the code an error, is the question's frame, not a term the entry must repeat (the
# manual says "E40: ... switch the machine off", neither "fix" nor "error").
_ERROR_CODE_FRAME = frozenset(
    stem(w) for w in "fix solve resolve repair clear troubleshoot handle deal error code fault".split()
)


CODE_DEPTH = 5  # how far down a passage stating the error code named is brought to the top


def code_first(ranked: Sequence[Hit], context: TurnContext) -> list[Hit]:
    """``ranked`` with the best of its first :data:`CODE_DEPTH` passages that states every error code the turn
    names brought to the top: the code is an exact key the text encoder barely reads, and "my screen says E-06"
    ranked E-06's fix steps, which do not name it, above its entry ("E-06 | Grinder blocked | ..."), so the entry
    was never checked (:func:`answers_named_identifiers` reads the top passage). Model numbers, which a product's
    every page names, do not move anything."""
    named = {code_norm(e.value) for e in context.entities if e.type == "error_code"}
    hits = list(ranked)
    if not named:
        return hits
    for index, hit in enumerate(hits[:CODE_DEPTH]):
        if named <= _entries(hit):
            return [hit, *hits[:index], *hits[index + 1 :]]
    return hits


def _entries(hit: Hit) -> set[str]:
    """The codes ``hit`` has an entry for: its section's heading names them ("Fixing E-06"), or one of its lines
    starts with one ("E-06 | Grinder blocked | ...", "- E-21: no internet ..."). A passage that only mentions a
    code among others ("Many errors, such as E-04, E-06 and E-07, can be fixed at home") has none."""
    codes = {code_norm(norm) for norm in code_and_model_norms(hit.heading)}
    for line in hit.text.splitlines():
        codes |= {code_norm(norm) for norm in opening_codes(line)}
    return codes


def answers_named_identifiers(question: str, context: TurnContext, ranked: Sequence[Hit]) -> bool:
    """The turn names error codes or model numbers ("What does E40 mean?", a photo of the display), the best
    passage states every one of them, and the best three hold every other content term of ``question``.

    Such an identifier is an exact key that the bundled text encoder barely reads: "What does E40 mean?" and the
    manual's own "E40: The heating element is overheating ..." have a cosine of 0.25, so the reranked
    probability and the answerability model, fitted on prose questions (MTRAG-UN names almost no codes),
    underrate the passage that answers it (0.65 where the threshold is 0.79). The other terms keep "Is E40
    covered by the warranty?" from counting as answered by E40's entry alone; asking for an error code's remedy
    ("how do I fix / clear / solve E40?") is not such a term."""
    named = {e.value for e in context.entities if e.type in IDENTIFIER_TYPES}
    if not named or not ranked:
        return False
    best = ranked[0]
    best_text = f"{best.title} {best.heading} {best.text}"
    stated = {code_norm(norm) for norm in code_and_model_norms(best_text)}
    if not {code_norm(value) for value in named} <= stated:
        return False
    spelled = set().union(*(term_set(value) for value in named))  # "E-40" is the words "e" and "40"
    if any(e.type == "error_code" for e in context.entities):
        spelled |= _ERROR_CODE_FRAME
    others = [term for term in content_terms(question) if term not in spelled]
    union = set().union(*(term_set(f"{h.title} {h.heading} {h.text}") for h in ranked[:TOP]))
    return coverage(others, union) == 1.0


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
