"""Reranking the fused candidates with evidence the first-stage retrievers do not look at.

The first stage compares the question with a whole chunk (one MiniLM vector, one BM25 bag of words). The
default :class:`EvidenceReranker` looks closer, at a handful of candidates, with no model of its own (it takes
the shared text encoder as a function, so it never loads weights itself):

- ``sentence_max``: the best cosine between the question and any single sentence of the candidate (an
  answer is usually one sentence; a chunk vector dilutes it among the others);
- ``chunk_sim``: the question-chunk cosine (from the dense retriever's evidence when it has it);
- ``coverage``: the share of the question's content terms the candidate contains (title and headings
  included); ``title_coverage``: the share found in its title and headings alone;
- ``agreement``: the share of the retrievers that ran which returned this candidate;
- ``bm25``: its BM25 score relative to the best BM25 score among the candidates;
- ``prior``/``rank_prior``: the first stage's own fused score (relative to the best) and 1/rank.

A linear model combines them; its weights are fitted on development data (emanual questions, stackfaq,
doc2dial; never grocery/test) by ``benchmarks/tune/fit_reranker.py`` and stored in
``retrieval/calibration/rerank.json``. Every feature is kept on the returned hits (``scores["rerank.<name>"]``)
for the answerability score and for agents to inspect.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import struct
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from embed.protocol import Vectors
from retrieval.conversation import CONVERSATION_PREFIX, conversation_shares, load_conversation_weights
from retrieval.conversation import DEFAULT_PATH as CONVERSATION_WEIGHTS_PATH
from retrieval.linear import LinearWeights
from retrieval.protocol import Hit
from retrieval.text_features import content_terms, coverage, split_sentences, term_set

Encode = Callable[[Sequence[str]], Vectors]

FEATURES = (
    "sentence_max",
    "chunk_sim",
    "coverage",
    "title_coverage",
    "agreement",
    "bm25",
    "prior",
    "rank_prior",
)
RERANK = "rerank"  # key of the reranked score in ``Hit.scores``; features go under "rerank.<feature>"
RETRIEVERS = frozenset({"dense", "sparse", "visual", "image_dense", "graph"})
CALIBRATION_DIR = Path(__file__).parent / "calibration"
DEFAULT_WEIGHTS_PATH = CALIBRATION_DIR / "rerank.json"
MAX_SENTENCES = 6  # sentences of a chunk compared one by one with the question (the rest merged into the last)


@runtime_checkable
class Reranker(Protocol):
    def rerank(
        self,
        query: str,
        hits: Sequence[Hit],
        limit: int | None = None,
        keep_order: bool = False,
        stored: Mapping[str, bytes] | None = None,
        context: str = "",
    ) -> list[Hit]:
        """``hits`` (best first from the first stage) reordered best first; returns copies whose ``score`` is
        the reranked score (also under ``scores["rerank"]``). Hits past the reranker's candidate budget keep
        their relative order after the reranked ones. ``keep_order=True``: annotate only (every candidate's
        reranked score under ``scores["rerank"]``), keeping the first stage's order and scores.
        ``stored``: by chunk id, the encodings of :func:`sentence_inputs` made at ingest (:func:`pack_vectors`
        of the same encoder's rows); chunks missing from it, or stored at another dimension, are encoded now.
        ``context``: the conversation query (earlier turns and this one joined; empty on a first turn): the
        conversation's evidence then joins the order (:mod:`retrieval.conversation`), while
        ``scores["rerank"]`` stays the score of ``query`` alone."""
        ...


class EvidenceReranker:
    """:class:`Reranker` on per-sentence similarity, term coverage, title match and retriever agreement.

    ``encode`` must return L2-normalised rows (the embedder's ``embed_texts``); ``encode_query`` (default
    ``encode``) encodes the questions, e.g. through a cache the first stage shares. Sentence vectors are cached per
    chunk (by id and text), so a popular chunk costs its encoding once.
    """

    def __init__(
        self,
        encode: Encode,
        weights: LinearWeights | None = None,
        conversation: LinearWeights | None = None,
        max_candidates: int = 12,
        max_sentences: int = MAX_SENTENCES,
        cache_size: int = 4096,
        encode_query: Encode | None = None,
    ) -> None:
        self.encode = encode
        self.encode_query = encode_query if encode_query is not None else encode
        self.weights = weights if weights is not None else default_weights()
        self.conversation = conversation if conversation is not None else default_conversation_weights()
        self.max_candidates = max_candidates
        self.max_sentences = max_sentences
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_size = cache_size

    def rerank(
        self,
        query: str,
        hits: Sequence[Hit],
        limit: int | None = None,
        keep_order: bool = False,
        stored: Mapping[str, bytes] | None = None,
        context: str = "",
    ) -> list[Hit]:
        """See :meth:`Reranker.rerank`. ``keep_order=True`` only annotates: every candidate gets its reranked
        score and features under ``scores`` but keeps its first-stage ``score`` and place (for a photo query,
        whose visual evidence the reranker was not fitted on, while the answerability score needs the
        features). With a ``context``, the conversation's features go under ``scores["conv.<name>"]`` and
        its share of the order under ``scores["rerank.conversation"]``."""
        head, tail = list(hits[: self.max_candidates]), list(hits[self.max_candidates :])
        if not head:
            return []
        rows = self.features(query, head, stored)
        scored = []
        for hit, row in zip(head, rows, strict=True):
            score = self.weights.apply(row)
            copy = dataclasses.replace(hit, ranks=dict(hit.ranks), scores=dict(hit.scores))
            copy.scores[RERANK] = score
            copy.scores.update({f"{RERANK}.{name}": value for name, value in row.items()})
            scored.append(copy)
        shares = self._conversation_shares(context, scored, stored) if context.strip() else [0.0] * len(scored)
        if keep_order:
            out = scored + [dataclasses.replace(h, ranks=dict(h.ranks), scores=dict(h.scores)) for h in tail]
            return out if limit is None else out[:limit]
        for copy, share in zip(scored, shares, strict=True):
            copy.score = copy.scores[RERANK] + share
        scored.sort(key=lambda h: -h.score)
        floor = scored[-1].score
        rest = [
            dataclasses.replace(h, score=floor - 1.0 - i, ranks=dict(h.ranks), scores=dict(h.scores))
            for i, h in enumerate(tail)
        ]
        out = scored + rest
        return out if limit is None else out[:limit]

    def _conversation_shares(
        self, context: str, scored: Sequence[Hit], stored: Mapping[str, bytes] | None
    ) -> list[float]:
        """Annotate ``scored`` with the conversation's features and return each one's share of the order."""
        if not self.conversation.coefficients:
            return [0.0] * len(scored)
        for hit, row in zip(scored, self.text_match(context, scored, stored), strict=True):
            hit.scores.update({f"{CONVERSATION_PREFIX}{name}": value for name, value in row.items()})
        shares = conversation_shares(self.conversation, [h.scores for h in scored])
        for hit, share in zip(scored, shares, strict=True):
            hit.scores[f"{RERANK}.conversation"] = share
        return shares

    def text_match(
        self, query: str, hits: Sequence[Hit], stored: Mapping[str, bytes] | None = None
    ) -> list[dict[str, float]]:
        """``sentence_max``, ``coverage`` and ``title_coverage`` of :meth:`features` alone (no chunk encoding:
        the stored or cached sentence vectors and the texts suffice)."""
        if not hits:
            return []
        return self._text_match(np.asarray(self.encode_query([query]), dtype=np.float32)[0], query, hits, stored)

    def features(
        self, query: str, hits: Sequence[Hit], stored: Mapping[str, bytes] | None = None
    ) -> list[dict[str, float]]:
        """One feature row per hit (the order of ``hits``), every value finite and roughly in [0, 1]."""
        if not hits:
            return []
        query_vector = np.asarray(self.encode_query([query]), dtype=np.float32)[0]
        matched = self._text_match(query_vector, query, hits, stored)
        ran = {name for h in hits for name in h.ranks if name in RETRIEVERS} or {"dense"}
        best_prior = max((h.score for h in hits), default=0.0)
        best_bm25 = max((h.scores.get("sparse", 0.0) for h in hits), default=0.0)
        missing_dense = [h for h in hits if "dense" not in h.scores]
        computed = self._chunk_similarities(query_vector, missing_dense)
        return [
            {
                **match,
                "chunk_sim": float(hit.scores.get("dense", computed.get(hit.chunk_id, 0.0))),
                "agreement": len(ran & set(hit.ranks)) / len(ran),
                "bm25": hit.scores.get("sparse", 0.0) / best_bm25 if best_bm25 > 0 else 0.0,
                "prior": hit.score / best_prior if best_prior > 0 else 0.0,
                "rank_prior": 1.0 / (position + 1),
            }
            for position, (hit, match) in enumerate(zip(hits, matched, strict=True))
        ]

    def _text_match(
        self, query_vector: Vectors, query: str, hits: Sequence[Hit], stored: Mapping[str, bytes] | None
    ) -> list[dict[str, float]]:
        ready = _unpacked(stored or {}, [h.chunk_id for h in hits], query_vector.shape[0])
        self._encode_missing([h for h in hits if h.chunk_id not in ready])
        terms = content_terms(query)
        rows = []
        for hit in hits:
            label = f"{hit.title} {hit.heading}"
            vectors = ready[hit.chunk_id] if hit.chunk_id in ready else self._sentence_vectors(hit)
            rows.append(
                {
                    "sentence_max": float(np.max(vectors @ query_vector)) if len(vectors) else 0.0,
                    "coverage": coverage(terms, term_set(f"{label} {hit.text}")),
                    "title_coverage": coverage(terms, term_set(label)) if terms else 0.0,
                }
            )
        return rows

    def _chunk_similarities(self, query_vector: Vectors, hits: Sequence[Hit]) -> dict[str, float]:
        if not hits:
            return {}
        vectors = np.asarray(self.encode([_chunk_text(h) for h in hits]), dtype=np.float32)
        return {h.chunk_id: float(v @ query_vector) for h, v in zip(hits, vectors, strict=True)}

    def _encode_missing(self, hits: Sequence[Hit]) -> None:
        """Encode the sentences of every hit not cached yet, in one batch (one encoder call per turn, not one
        per candidate)."""
        todo: dict[str, list[str]] = {}
        for hit in hits:
            key = _cache_key(hit)
            if key not in self._cache and key not in todo:
                todo[key] = sentence_inputs(hit.text, hit.heading, hit.title, self.max_sentences)
        for key, vectors in zip(todo, encode_groups(self.encode, list(todo.values())), strict=True):
            self._remember(key, vectors)

    def _sentence_vectors(self, hit: Hit) -> Vectors:
        key = _cache_key(hit)
        if key not in self._cache:  # evicted since _encode_missing (another thread's turn)
            self._encode_missing([hit])
        self._cache.move_to_end(key)
        return self._cache[key]

    def _remember(self, key: str, vectors: Vectors) -> None:
        self._cache[key] = vectors
        self._cache.move_to_end(key)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def sentence_inputs(text: str, heading: str, title: str, max_sentences: int = MAX_SENTENCES) -> list[str]:
    """What the reranker encodes for a chunk: each of its first ``max_sentences`` sentences (the rest merged
    into the last), after its nearest heading (or the title when it has none). ``text``, ``heading`` and
    ``title`` as a :class:`Hit` carries them. Ingest encodes the same list ahead of time (``kb.indexing``) so a
    turn does not have to."""
    sentences = split_sentences(text, max_sentences)
    context = heading.split(" > ")[-1] if heading else title
    return [f"{context}: {s}" if context else s for s in sentences]


def encode_groups(encode: Encode, groups: Sequence[Sequence[str]]) -> list[Vectors]:
    """Each group of texts encoded (float32 rows, one per text), all groups in a single encoder call."""
    texts = [text for group in groups for text in group]
    vectors = np.asarray(encode(texts), dtype=np.float32) if texts else np.zeros((0, 1), dtype=np.float32)
    out, start = [], 0
    for group in groups:
        out.append(vectors[start : start + len(group)])
        start += len(group)
    return out


def pack_vectors(vectors: Vectors) -> bytes:
    """Rows of unit vectors for storage: their dimension (uint16, little-endian), then float16 values
    (cosines move by < 1e-3)."""
    array = np.asarray(vectors, dtype=np.float16)
    dim = array.shape[1] if array.ndim == 2 else 0
    return struct.pack("<H", dim) + array.astype("<f2").tobytes()


def unpack_vectors(data: bytes, dim: int) -> Vectors | None:
    """What :func:`pack_vectors` stored, as float32 rows; ``None`` unless they are rows of ``dim`` (stored by an
    encoder of another size: the caller encodes afresh)."""
    if len(data) < 2 or struct.unpack_from("<H", data)[0] != dim or dim <= 0 or (len(data) - 2) % (2 * dim):
        return None
    return np.frombuffer(data, dtype="<f2", offset=2).reshape(-1, dim).astype(np.float32)


def _unpacked(stored: Mapping[str, bytes], chunk_ids: Sequence[str], dim: int) -> dict[str, Vectors]:
    """The stored sentence vectors of ``chunk_ids`` that are rows of ``dim`` (others came from another encoder)."""
    out = {}
    for chunk in chunk_ids:
        data = stored.get(chunk)
        vectors = unpack_vectors(data, dim) if data is not None else None
        if vectors is not None:
            out[chunk] = vectors
    return out


def _cache_key(hit: Hit) -> str:
    return hashlib.sha1(f"{hit.chunk_id}\x1f{hit.heading}\x1f{hit.text}".encode()).hexdigest()


def _chunk_text(hit: Hit) -> str:
    context = " > ".join(p for p in (hit.title, hit.heading) if p)
    return f"{context}\n{hit.text}" if context else hit.text


def default_weights() -> LinearWeights:
    """The fitted weights shipped with Bindesk; if the file is missing, a hand-set fallback."""
    if DEFAULT_WEIGHTS_PATH.exists():
        return LinearWeights.load(DEFAULT_WEIGHTS_PATH)
    return LinearWeights(0.0, {"sentence_max": 2.0, "chunk_sim": 2.0, "coverage": 1.0, "prior": 1.0})


def default_conversation_weights() -> LinearWeights:
    """The fitted conversation weights shipped with Bindesk; none (the reranker's own order) if the file is
    missing."""
    if CONVERSATION_WEIGHTS_PATH.exists():
        return load_conversation_weights(CONVERSATION_WEIGHTS_PATH)
    return LinearWeights(0.0, {})


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
