"""Fusion in Python (reciprocal-rank and normalised-score), keeping each retriever's evidence on every hit.

Milvus's server-side ``hybrid_search`` + ``RRFRanker`` returns only the fused score. The chat turn needs
more: which retrievers found a chunk, at what rank and raw score (for reranking and the answerability
score), graph-neighbour candidates that never came from Milvus, and per-retriever weights. So the turn runs
each retriever with :meth:`VectorStore.search` and fuses here.

RRF: ``score(d) = sum_r weight_r / (k + rank_r(d))`` over the retrievers ``r`` that returned ``d``
(Cormack et al., 2009). It needs no score calibration between BM25 and cosine similarities.
Score fusion (:func:`score_fusion`): ``sum_r weight_r * minmax_r(score_r(d))``; it keeps how *much* better a
retriever finds its first hit, and measured better on the development sets (emanual TV, 64-token chunks,
BM25 0.5 / dense 0.5: section recall@5 0.781 vs 0.756 for RRF k=60, ``benchmarks/retrieval_tune.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from core.errors import InvalidInput
from retrieval.protocol import Hit

FUSED = "rrf"  # key under which the RRF score is also kept in ``Hit.scores``
SCORE_FUSED = "fused"  # ... and the score-fusion score

# Tuned on emanual TV / stackfaq (benchmarks/retrieval_tune.py): equal weights on normalised BM25 and dense
# scores. Graph neighbours count as much as one text retriever (as they did under RRF): not measured, and kept
# below the two text retrievers together so a graph neighbour alone cannot outrank a chunk both found.
DEFAULT_SCORE_WEIGHTS: dict[str, float] = {"sparse": 0.5, "dense": 0.5, "graph": 0.5}
# Lists that come from a photo: fused by RRF, as benchmarks/grocery_features.py measured the photo path.
IMAGE_LISTS = frozenset({"visual", "image_dense"})
# Weights of a photo query's lists, measured on grocery/val (200 in-store photos vs the 81 products; top-1/top-5:
# all lists equal 0.38/0.63, visual alone 0.45/0.78, these 0.45/0.76): the image-in-text-space vector (OCR text
# + ImageNet tags through the text encoder) mostly adds noise beside the visual vector, so it only fills in.
PHOTO_WEIGHTS: dict[str, float] = {"visual": 1.0, "image_dense": 0.05}
# When the text lists' query is the photo's OCR text alone, they weigh min(1, words read / this): an in-store
# photo reads a few stray words, a photographed screen or page reads many.
OCR_WORDS_FOR_FULL_WEIGHT = 12

Aggregation = Literal["max", "sum", "top2"]
FusionMethod = Literal["rrf", "score"]
HitKey = Callable[[Hit], str]


def _by_chunk(hit: Hit) -> str:
    return hit.chunk_id


def reciprocal_rank_fusion(
    ranked: Mapping[str, Sequence[Hit]],
    k: float = 60.0,
    weights: Mapping[str, float] | None = None,
    limit: int | None = None,
    key: HitKey = _by_chunk,
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
            ident = key(hit)
            merged = fused.get(ident)
            if merged is None:
                merged = dataclasses.replace(hit, ranks=dict(hit.ranks), scores=dict(hit.scores))
                fused[ident] = merged
                totals[ident] = 0.0
                counted[ident] = set()
            if name in counted[ident]:
                continue  # listed twice by one retriever: its first (best) rank already counts
            counted[ident].add(name)
            merged.ranks[name] = rank
            merged.scores[name] = hit.score
            totals[ident] += weight / (k + rank)
    return _finish(fused, totals, FUSED, limit)


def score_fusion(
    ranked: Mapping[str, Sequence[Hit]],
    weights: Mapping[str, float] | None = None,
    limit: int | None = None,
    key: HitKey = _by_chunk,
) -> list[Hit]:
    """Fuse best-first lists by a weighted sum of each retriever's min-max-normalised scores.

    Each list's scores are mapped to [0, 1] over that list (best 1, last 0; a list whose scores are all
    equal maps to 1), so BM25's unbounded scores and cosine similarities become comparable; a hit missing from
    a list gets 0 from it. Unlike RRF, a retriever that is far more sure of its first hit than of its second
    keeps that margin, which is what lets a strong dense match beat several lukewarm agreements. Evidence is
    kept as in :func:`reciprocal_rank_fusion`; the fused score is also under ``scores["fused"]``.
    """
    weights = weights or {}
    fused: dict[str, Hit] = {}
    totals: dict[str, float] = {}
    for name, hits in ranked.items():
        weight = float(weights.get(name, 1.0))
        if not hits:
            continue
        top, bottom = max(h.score for h in hits), min(h.score for h in hits)
        span = top - bottom
        seen: set[str] = set()
        for rank, hit in enumerate(hits, start=1):
            ident = key(hit)
            if ident in seen:
                continue
            seen.add(ident)
            merged = fused.get(ident)
            if merged is None:
                merged = dataclasses.replace(hit, ranks=dict(hit.ranks), scores=dict(hit.scores))
                fused[ident] = merged
                totals[ident] = 0.0
            merged.ranks[name] = rank
            merged.scores[name] = hit.score
            totals[ident] += weight * ((hit.score - bottom) / span if span > 0 else 1.0)
    return _finish(fused, totals, SCORE_FUSED, limit)


def _finish(fused: dict[str, Hit], totals: dict[str, float], label: str, limit: int | None) -> list[Hit]:
    out = list(fused.values())
    for ident, hit in fused.items():
        hit.score = totals[ident]
        hit.scores[label] = hit.score
    out.sort(key=lambda h: (-h.score, min(h.ranks.values(), default=0), h.chunk_id))
    return out if limit is None else out[:limit]


def first_stage_fusion(
    ranked: Mapping[str, Sequence[Hit]], rrf_k: float, limit: int | None = None, ocr_text_query: str | None = None
) -> list[Hit]:
    """The fusion the turn and ``/v1/kb/search`` use: chunk-level score fusion (:func:`score_fusion`,
    :data:`DEFAULT_SCORE_WEIGHTS`) for text queries, where it measured better than RRF on emanual TV and
    stackfaq (``benchmarks/retrieval.py`` prints both); reciprocal-rank fusion with ``rrf_k`` and
    :data:`PHOTO_WEIGHTS` when a photo contributed lists, since image and text similarities live on unrelated
    scales. ``ocr_text_query``: the photo's OCR text, when it is also the text lists' query (the customer wrote
    nothing); those lists then weigh :func:`ocr_text_weight` of it."""
    if IMAGE_LISTS & {name for name, hits in ranked.items() if hits}:
        weights = dict(PHOTO_WEIGHTS)
        if ocr_text_query is not None:
            weights |= dict.fromkeys(("dense", "sparse"), ocr_text_weight(ocr_text_query))
        return reciprocal_rank_fusion(ranked, k=rrf_k, weights=weights, limit=limit)
    return score_fusion(ranked, weights=DEFAULT_SCORE_WEIGHTS, limit=limit)


def ocr_text_weight(ocr_text: str) -> float:
    """Weight in [0, 1] of text lists whose query is a photo's OCR text: words of 3+ characters read, over
    :data:`OCR_WORDS_FOR_FULL_WEIGHT`."""
    words = sum(1 for word in ocr_text.split() if len(word) > 2)
    return min(1.0, words / OCR_WORDS_FOR_FULL_WEIGHT)


def fuse_groups(
    ranked: Mapping[str, Sequence[Hit]],
    key: HitKey,
    method: FusionMethod = "score",
    weights: Mapping[str, float] | None = None,
    rrf_k: float = 60.0,
    limit: int | None = None,
) -> list[Hit]:
    """Fuse at the level of groups (documents, sections, FAQ entries) instead of chunks.

    Each retriever's list is first rolled up to its groups, each scored by its best chunk (so a retriever
    votes for a section once, with its best evidence), then the group lists are fused by ``method``. Returns
    one hit per group, best first: the best chunk of the first retriever that found the group, carrying every
    retriever's group-level rank and score. Better than fusing chunks when the retrievers agree on the
    section but not on the exact chunk (BM25 likes the chunk with the rare term, dense the paraphrase).
    """
    rolled = {
        name: [dataclasses.replace(g.best, score=g.score) for g in aggregate(hits, key=key, how="max")]
        for name, hits in ranked.items()
    }
    if method == "rrf":
        return reciprocal_rank_fusion(rolled, k=rrf_k, weights=weights, limit=limit, key=key)
    if method == "score":
        return score_fusion(rolled, weights=weights, limit=limit, key=key)
    raise InvalidInput(f"unknown fusion method {method!r}")


@dataclass
class Group:
    """Hits that share a key (a document, a section), scored as one unit; ``hits`` stay best first."""

    key: str
    score: float
    hits: list[Hit] = field(default_factory=list)

    @property
    def best(self) -> Hit:
        return self.hits[0]


def _by_document(hit: Hit) -> str:
    return hit.document_id


def aggregate(
    hits: Sequence[Hit],
    key: HitKey = _by_document,
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
