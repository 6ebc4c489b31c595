"""Reciprocal-rank fusion in Python, keeping each retriever's evidence on every hit.

Milvus's server-side ``hybrid_search`` + ``RRFRanker`` returns only the fused score. The chat turn needs
more: which retrievers found a chunk, at what rank and raw score (for reranking and the answerability
score), graph-neighbour candidates that never came from Milvus, and per-retriever weights. So the turn runs
each retriever with :meth:`VectorStore.search` and fuses here.

RRF: ``score(d) = sum_r weight_r / (k + rank_r(d))`` over the retrievers ``r`` that returned ``d``
(Cormack et al., 2009). It needs no score calibration between BM25 and cosine similarities.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from core.errors import InvalidInput
from retrieval.protocol import Hit

FUSED = "rrf"  # key under which the fused score is also kept in ``Hit.scores``

Aggregation = Literal["max", "sum", "top2"]


def reciprocal_rank_fusion(
    ranked: Mapping[str, Sequence[Hit]],
    k: float = 60.0,
    weights: Mapping[str, float] | None = None,
    limit: int | None = None,
) -> list[Hit]:
    """Fuse best-first lists (one per retriever name) into one best-first list.

    Each output hit is a copy (inputs are not mutated) whose ``ranks``/``scores`` hold, per retriever that
    returned it, its 1-based rank in that list and that retriever's raw score; ``score`` and
    ``scores["rrf"]`` hold the fused score. A chunk listed twice by one retriever counts once, at its best
    rank. Retrievers missing from ``weights`` weigh 1.0. Ties break on the best single rank, then chunk id,
    so the order is deterministic.
    """
    if k <= 0:
        raise InvalidInput(f"RRF k must be positive, got {k}")
    weights = weights or {}
    fused: dict[str, Hit] = {}
    totals: dict[str, float] = {}
    # Retrievers already counted per chunk in *this* fusion: a hit may arrive carrying ranks from an earlier
    # stage, which this fusion overwrites once rather than mistaking for a duplicate.
    counted: dict[str, set[str]] = {}
    for name, hits in ranked.items():
        weight = float(weights.get(name, 1.0))
        for rank, hit in enumerate(hits, start=1):
            merged = fused.get(hit.chunk_id)
            if merged is None:
                merged = dataclasses.replace(hit, ranks=dict(hit.ranks), scores=dict(hit.scores))
                fused[hit.chunk_id] = merged
                totals[hit.chunk_id] = 0.0
                counted[hit.chunk_id] = set()
            if name in counted[hit.chunk_id]:
                continue  # listed twice by one retriever: its first (best) rank already counts
            counted[hit.chunk_id].add(name)
            merged.ranks[name] = rank
            merged.scores[name] = hit.score
            totals[hit.chunk_id] += weight / (k + rank)
    out = list(fused.values())
    for hit in out:
        hit.score = totals[hit.chunk_id]
        hit.scores[FUSED] = hit.score
    out.sort(key=lambda h: (-h.score, min(h.ranks.values(), default=0), h.chunk_id))
    return out if limit is None else out[:limit]


@dataclass
class Group:
    """Hits that share a key (a document, a section), scored as one unit; ``hits`` stay best first."""

    key: str
    score: float
    hits: list[Hit] = field(default_factory=list)

    @property
    def best(self) -> Hit:
        return self.hits[0]


def aggregate(
    hits: Sequence[Hit],
    key: Callable[[Hit], str] = lambda h: h.document_id,
    how: Aggregation = "max",
    limit: int | None = None,
) -> list[Group]:
    """Roll chunk hits up to groups (documents by default), best first.

    ``max`` scores a group by its best chunk (a long document is not favoured for having many chunks);
    ``sum`` adds all its chunks' scores (rewards a group that matches in several places); ``top2`` adds the
    best two (a middle ground). Ties break on the group's earliest position in ``hits``.
    """
    groups: dict[str, Group] = {}
    first_seen: dict[str, int] = {}
    for position, hit in enumerate(hits):
        name = key(hit)
        group = groups.get(name)
        if group is None:
            group = Group(key=name, score=0.0)
            groups[name] = group
            first_seen[name] = position
        group.hits.append(hit)
    for group in groups.values():
        group.hits.sort(key=lambda h: -h.score)
        scores = [h.score for h in group.hits]
        if how == "max":
            group.score = scores[0]
        elif how == "sum":
            group.score = sum(scores)
        elif how == "top2":
            group.score = sum(scores[:2])
        else:
            raise InvalidInput(f"unknown aggregation {how!r}")
    out = sorted(groups.values(), key=lambda g: (-g.score, first_seen[g.key]))
    return out if limit is None else out[:limit]
