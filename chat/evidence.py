"""The evidence for one turn: the rewritten query, every retriever's candidates (dense, BM25, photo, graph)
fused and reranked, and the answerability score computed from them."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from chat.inputs import NormalisedTurn
from chat.judge import judge_for
from generation.protocol import Passage
from kb.runtime import Runtime
from kb.search import RetrievalQuery, chunk_bodies, retrieve, snippet
from kg.followup import rewrite_query
from kg.types import TurnContext
from retrieval.protocol import Hit

GRAPH_CANDIDATES = 20
PASSAGES = 5


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

    def passages(self, limit: int = PASSAGES) -> list[Passage]:
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
            )
            for n, h in enumerate(self.hits[:limit], start=1)
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
    earlier_customer_turns: Sequence[str],
) -> Evidence:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    question = norm.words or norm.ocr_text
    query = rewrite_query(question, context.focus, list(earlier_customer_turns)) if question else ""
    graph_hits = _graph_candidates(runtime, session, workspace_id, context)
    timings["graph"] = _ms(started)
    started = time.perf_counter()
    hits = retrieve(
        runtime,
        workspace_id,
        RetrievalQuery(
            text=query, image=norm.image, ocr_text=norm.ocr_text, extra={"graph": graph_hits} if graph_hits else {}
        ),
        k=runtime.settings.retrieval_candidates,
    )
    timings["retrieve"] = _ms(started)
    bodies = chunk_bodies(session, workspace_id, [h.chunk_id for h in hits])
    started = time.perf_counter()
    scored = judge_for(runtime).assess(query or question, hits, bodies, context)
    timings["rerank_and_score"] = _ms(started)
    return Evidence(
        query=query,
        hits=scored.hits,
        answerability=scored.answerability,
        underspecified=scored.underspecified,
        out_of_scope=scored.out_of_scope,
        bodies=bodies,
        history=[("customer", t) for t in earlier_customer_turns],
        focus_values=[f.value for f in context.focus[:4]],
        features=scored.features,
        timings_ms=timings,
    )


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
