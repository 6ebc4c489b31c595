"""The evidence for one turn: the rewritten query, every retriever's candidates (dense, BM25, photo, graph)
fused and reranked, and the answerability score computed from them."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from chat.inputs import NormalisedTurn
from chat.judge import judge_for
from chat.values import unstated_value
from generation.protocol import Passage
from kb.runtime import Runtime
from kb.search import RetrievalQuery, candidate_sentence_vectors, chunk_bodies, retrieve, snippet
from kb.text_vectors import TEXT_VECTORS
from kg.expansion import (
    DEFAULT_HISTORY,
    HISTORY_LIST,
    HistoryConfig,
    conversation_query,
    customer_texts,
    fuse_more,
    history_queries,
)
from kg.followup import points_back, rewrite_query
from kg.types import TurnContext
from retrieval.fusion import first_stage_fusion
from retrieval.protocol import Hit

GRAPH_CANDIDATES = 20
PASSAGES = 5
UNSTATED_DEPTH = 3  # the passages a named value must appear in (the answerability features read as many)
HISTORY = DEFAULT_HISTORY


@dataclass
class Evidence:
    query: str
    hits: list[Hit]
    answerability: float
    underspecified: bool
    out_of_scope: bool
    bodies: dict[str, str]
    history: list[tuple[str, str]]
    focus_values: list[str]
    visual_tags: list[str] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)
    unclear: str | None = None  # what the question leaves open ("the fast food chain"), when underspecified
    exact_identifier: bool = False  # the best passage states the error code / model number the turn names
    unstated_value: str | None = None  # a colour the turn names and the best passages do not (chat.values)

    def passages(self, limit: int = PASSAGES, margin: float | None = None) -> list[Passage]:
        """The best ``limit`` hits as numbered passages; with ``margin``, only those whose score is within
        ``margin`` of the best hit's (the best one always)."""
        hits = self.hits[:limit]
        if margin is not None and hits:
            best = max(float(h.score) for h in hits)
            hits = [h for h in hits if float(h.score) >= best - margin]
        return [
            Passage(
                number=n,
                chunk_id=h.chunk_id,
                document_id=h.document_id,
                source=h.source,
                title=h.title,
                page=h.page,
                text=self.bodies.get(h.chunk_id, h.text),
                score=float(h.score),
                heading=h.heading,
                ordinal=h.ordinal,
            )
            for n, h in enumerate(hits, start=1)
        ]

    def hit_for(self, chunk_id: str) -> Hit | None:
        return next((h for h in self.hits if h.chunk_id == chunk_id), None)

    def snippet_for(self, chunk_id: str) -> str:
        return snippet(self.bodies.get(chunk_id, ""), self.query)

    def retrieved_view(self, limit: int = 8) -> list[dict[str, Any]]:
        """What the agent sees of the retrieval: each candidate with its fused score and per-retriever ranks."""
        return [
            {
                "chunk_id": h.chunk_id,
                "document_id": h.document_id,
                "source": h.source,
                "title": h.title,
                "page": h.page,
                "modality": h.modality,
                "score": round(float(h.score), 6),
                "ranks": dict(h.ranks),
                "snippet": self.snippet_for(h.chunk_id),
            }
            for h in self.hits[:limit]
        ]


def gather_evidence(
    runtime: Runtime,
    session: Session,
    workspace_id: str,
    norm: NormalisedTurn,
    context: TurnContext,
    history: Sequence[tuple[str, str]],
    answered: Sequence[str] = (),
) -> Evidence:
    """Retrieve, fuse, rerank and score the evidence for this turn.

    ``history`` is the conversation before this turn, oldest first, as ``(role, text)`` with role
    ``customer``, ``bot`` or ``agent``. The query is the turn rewritten with the focus entities
    (:func:`kg.followup.rewrite_query`); the last few earlier turns are retrieved too and, with the graph
    neighbours of the focus entities, join the query's fused list by weighted reciprocal-rank fusion
    (:class:`kg.expansion.HistoryConfig`, :func:`kg.expansion.fuse_more`), so that a follow-up that names
    nothing still finds the section the conversation is about; ``answered``, the chunks the bot's latest answer
    cited, votes for its documents as well (``HistoryConfig.answer_weight``): the conversation query joins every
    earlier turn, and a long first answer would otherwise outvote what was just said. A turn that changes the
    subject (:func:`changes_subject`) keeps only a small share of these weights, and
    ``features["changes_subject"]`` says so.
    """
    timings: dict[str, float] = {}
    started = time.perf_counter()
    question = norm.question
    query = rewrite_query(question, context.focus, customer_texts(history)) if question else ""
    extra = history_queries(history, HISTORY, question) if question else []
    depth = runtime.settings.retrieval_candidates
    # The conversation's lists are retrieved alongside the graph step and the turn's own retrieval: encoding a
    # long conversation query is most of their cost, and the encoder and the vector store wait on each other.
    pending = _BACKGROUND.submit(_history_lists, runtime, workspace_id, extra, depth) if extra else None
    graph_hits = _graph_candidates(runtime, session, workspace_id, context) if HISTORY.graph_weight > 0 else []
    timings["graph"] = _ms(started)
    started = time.perf_counter()
    hits = retrieve(
        runtime,
        workspace_id,
        RetrievalQuery(text=query, image=norm.image, ocr_text=norm.ocr_text, text_is_ocr=not norm.words),
        k=depth,
    )
    timings["retrieve"] = _ms(started)
    shifted = False
    if extra or graph_hits or answered:
        started = time.perf_counter()
        lists = pending.result() if pending is not None else []
        hits, shifted = _with_conversation(runtime, workspace_id, question, hits, lists, graph_hits, answered)
        timings["history"] = _ms(started)
    bodies = chunk_bodies(session, workspace_id, [h.chunk_id for h in hits])
    started = time.perf_counter()
    stored = candidate_sentence_vectors(session, workspace_id, hits)
    conversation = conversation_query(history, HISTORY, question) if question and not shifted else ""
    earlier = [text for _, text in history]
    scored = judge_for(runtime).assess(query or question, hits, bodies, context, stored, conversation, earlier)
    timings["rerank_and_score"] = _ms(started)
    return Evidence(
        query=query,
        hits=scored.hits,
        answerability=scored.answerability,
        underspecified=scored.underspecified,
        unclear=scored.unclear,
        out_of_scope=scored.out_of_scope,
        exact_identifier=scored.exact_identifier,
        unstated_value=unstated_value(norm.words, [h.text for h in scored.hits[:UNSTATED_DEPTH]]),
        bodies=bodies,
        history=[(role, text) for role, text in history],
        focus_values=[f.value for f in context.focus[:4]],
        features={**scored.features, "changes_subject": float(shifted)},
        timings_ms=timings,
    )


def _with_conversation(
    runtime: Runtime,
    workspace_id: str,
    question: str,
    hits: list[Hit],
    lists: list[tuple[str, list[Hit], float]],
    graph_hits: list[Hit],
    answered: Sequence[str],
) -> tuple[list[Hit], bool]:
    """``hits`` (the turn's own) fused with the earlier turns' ``lists``, the latest answer's documents and the
    graph's candidates, and whether the turn changes the subject (:func:`changes_subject`), in which case the
    conversation's lists weigh only ``HISTORY.topic_change_weight`` of their weight."""
    shifted = changes_subject(question, hits, lists, HISTORY)
    lists = lists + _answered_list(runtime, workspace_id, answered)
    if shifted:  # the conversation's documents weigh little: this turn asks about something else
        lists = [(name, found, weight * HISTORY.topic_change_weight) for name, found, weight in lists]
    if graph_hits:
        lists.append(("graph", graph_hits, HISTORY.graph_weight))
    depth = runtime.settings.retrieval_candidates
    fused = fuse_more(hits, lists, k=runtime.settings.rrf_k, limit=depth, vote_k=HISTORY.vote_k)
    return fused, shifted


def changes_subject(
    question: str, own: Sequence[Hit], lists: Sequence[tuple[str, Sequence[Hit], float]], config: HistoryConfig
) -> bool:
    """Whether the turn asks about something the conversation was not about: dense and BM25 both rank the turn's
    own best chunk near the top (``config.shift_agreement``), the document the conversation query finds first
    is not among the turn's own best ``config.shift_depth`` chunks, and the turn does not point back ("and ...",
    "what about ...", "it", "that": :func:`kg.followup.points_back`).

    The conversation's document vote (:func:`kg.expansion.fuse_more`) otherwise decides the document, as it
    should in a follow-up: "How long does the battery last?" after two turns about the app got the app's
    pairing section (a trial customer's conversation)."""
    if not own or not lists or points_back(question):
        return False
    ranks = own[0].ranks
    if max(ranks.get("dense", 10**6), ranks.get("sparse", 10**6)) > config.shift_agreement:
        return False
    history = next((found for name, found, _ in lists if name == HISTORY_LIST), [])
    return bool(history) and history[0].document_id not in {h.document_id for h in own[: config.shift_depth]}


_BACKGROUND = ThreadPoolExecutor(max_workers=4, thread_name_prefix="bindesk-conversation-lists")


def _history_lists(
    runtime: Runtime, workspace_id: str, extra: Sequence[tuple[str, float]], depth: int
) -> list[tuple[str, list[Hit], float]]:
    """Each extra query's first stage (dense and BM25 fused as :func:`kb.search.retrieve` fuses a text query)
    with its weight; the texts are embedded in one batch (and a text embedded on an earlier turn is not
    embedded again)."""
    if not extra:
        return []
    vectors = TEXT_VECTORS.get(runtime.embedder, [text for text, _ in extra])
    store = runtime.store
    lists: list[tuple[str, list[Hit], float]] = []
    for (text, weight), vector in zip(extra, vectors, strict=True):
        ranked = {
            "dense": store.search(workspace_id, "dense", vector, depth),
            "sparse": store.search(workspace_id, "sparse", text, depth),
        }
        lists.append((HISTORY_LIST, first_stage_fusion(ranked, rrf_k=runtime.settings.rrf_k, limit=depth), weight))
    return lists


def _answered_list(runtime: Runtime, workspace_id: str, chunk_ids: Sequence[str]) -> list[tuple[str, list[Hit], float]]:
    """The latest answer's cited chunks (those still in the index), in citation order, as a document vote."""
    if not chunk_ids or HISTORY.answer_weight <= 0:
        return []
    fetched = {h.chunk_id: h for h in runtime.store.fetch(workspace_id, list(chunk_ids))}
    ranked = [fetched[chunk_id] for chunk_id in chunk_ids if chunk_id in fetched]
    return [(HISTORY_LIST, ranked, HISTORY.answer_weight)] if ranked else []


def _graph_candidates(runtime: Runtime, session: Session, workspace_id: str, context: TurnContext) -> list[Hit]:
    weights = context.focus_weights
    if not weights:
        return []
    ranked = runtime.graph.neighbours(session, workspace_id, weights, GRAPH_CANDIDATES)
    if not ranked:
        return []
    fetched = {h.chunk_id: h for h in runtime.store.fetch(workspace_id, [cid for cid, _ in ranked])}
    hits = []
    for chunk_id, weight in ranked:
        hit = fetched.get(chunk_id)
        if hit is not None:
            hit.score = float(weight)
            hits.append(hit)
    return hits


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
