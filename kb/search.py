"""Retrieval over a workspace's knowledge base: each retriever on its own, fused
(:func:`retrieval.fusion.first_stage_fusion`: normalised-score fusion for text, RRF when a photo is in the
query), then reranked by :class:`retrieval.rerank.EvidenceReranker`.

Used by ``POST /v1/kb/search`` (ops testing retrieval: :func:`search_kb` reranks) and by the chat turn, which
adds graph candidates to :func:`retrieve` and reranks in ``chat.judge``. Both share one reranker per set of
loaded models (:func:`reranker_for`) and hand it the candidates' sentence vectors made at ingest
(:func:`stored_sentence_vectors`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.media import load_image
from core.models import Chunk
from kb.runtime import Models, Runtime
from kb.text_vectors import TEXT_VECTORS
from retrieval.fusion import first_stage_fusion
from retrieval.protocol import Hit
from retrieval.rerank import EvidenceReranker, default_weights
from retrieval.text_features import phrasal_compounds, units_apart

SNIPPET_CHARS = 320
# Candidates the reranker looks at (their sentence vectors are read from the chunk rows); 12 covers recall@10,
# and the reranker's weights were fitted with this budget.
RERANK_CANDIDATES = 12


@dataclass
class RetrievalQuery:
    text: str = ""
    image: Image.Image | None = None
    ocr_text: str = ""
    extra: dict[str, list[Hit]] = field(default_factory=dict)  # more ranked lists to fuse (e.g. graph)
    text_is_ocr: bool = False  # ``text`` is the photo's OCR text (the customer wrote nothing): weigh it by length


@dataclass(frozen=True)
class SearchHit:
    chunk_id: str
    document_id: str
    source: str
    title: str
    heading: str
    page: int | None
    modality: str
    score: float
    snippet: str
    text: str  # the chunk's whole content (for answers); the snippet is a window of it


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    ocr_text: str | None
    fused: list[Hit]


def retrieve(runtime: Runtime, workspace_id: str, query: RetrievalQuery, k: int) -> list[Hit]:
    """Run every retriever the query allows (dense and BM25 on text; image vector and the image's text-space
    vector on a photo), then fuse. Returns up to ``k`` hits, best first, each with per-retriever evidence."""
    settings = runtime.settings
    embedder, store = runtime.embedder, runtime.store
    depth = max(k, settings.retrieval_candidates)
    ranked: dict[str, list[Hit]] = {}
    text = query.text.strip()
    if text:
        vector = TEXT_VECTORS.get(embedder, [text])[0]
        ranked["dense"] = store.search(workspace_id, "dense", vector, depth)
        # "set up" also asks BM25 for the "Setup" a manual's heading writes as one word, "110V" for "110 V"
        sparse_text = " ".join([text, *phrasal_compounds(text), *units_apart(text)])
        ranked["sparse"] = store.search(workspace_id, "sparse", sparse_text, depth)
    if query.image is not None:
        image_vectors = embedder.embed_images([query.image], [query.ocr_text])
        ranked["visual"] = store.search(workspace_id, "visual", image_vectors.visual[0], depth, modalities=["image"])
        ranked["image_dense"] = store.search(workspace_id, "dense", image_vectors.dense[0], depth)
    ranked.update(query.extra)
    ocr_query = text if query.text_is_ocr and query.image is not None else None
    return first_stage_fusion(ranked, rrf_k=settings.rrf_k, limit=k, ocr_text_query=ocr_query)


@lru_cache(maxsize=8)
def _reranker(models: Models) -> EvidenceReranker:
    return EvidenceReranker(
        models.embedder.embed_texts,
        default_weights(),
        max_candidates=RERANK_CANDIDATES,
        encode_query=partial(TEXT_VECTORS.get, models.embedder),
    )


def reranker_for(runtime: Runtime) -> EvidenceReranker:
    """The process's reranker for the runtime's models (fitted weights, the embedder's text encoder, one
    sentence-vector cache), built on first use."""
    return _reranker(runtime.models)


def search_kb(
    runtime: Runtime, session: Session, workspace_id: str, text: str, k: int, *, image: bytes | None = None
) -> SearchResult:
    """Retrieval as ops test it: a text query, a photo, or both; the fused candidates reranked on the query's
    words (the photo's OCR text when there are none), the first ``k`` returned."""
    query = RetrievalQuery(text=text)
    if image is not None:
        query.image = load_image(image, max_pixels=runtime.settings.max_image_pixels)
        query.ocr_text = runtime.photo_ocr.read(query.image).text
    hits = retrieve(runtime, workspace_id, query, max(k, RERANK_CANDIDATES))
    words = text.strip() or query.ocr_text.strip()
    if words and query.image is None:
        hits = reranker_for(runtime).rerank(words, hits, stored=candidate_sentence_vectors(session, workspace_id, hits))
    hits = hits[:k]
    return SearchResult(
        hits=to_search_hits(session, workspace_id, hits, " ".join([text, query.ocr_text])),
        ocr_text=query.ocr_text if image is not None else None,
        fused=hits,
    )


def to_search_hits(session: Session, workspace_id: str, hits: Sequence[Hit], query_text: str) -> list[SearchHit]:
    """Attach each hit's stored content (the vector store keeps only an index copy) and a snippet."""
    bodies = chunk_bodies(session, workspace_id, [h.chunk_id for h in hits])
    out = []
    for hit in hits:
        body = bodies.get(hit.chunk_id, hit.text)
        out.append(
            SearchHit(
                chunk_id=hit.chunk_id,
                document_id=hit.document_id,
                source=hit.source,
                title=hit.title,
                heading=hit.heading,
                page=hit.page,
                modality=hit.modality,
                score=round(float(hit.score), 6),
                snippet=snippet(body, query_text),
                text=body,
            )
        )
    return out


def chunk_bodies(session: Session, workspace_id: str, chunk_ids: Sequence[str]) -> dict[str, str]:
    if not chunk_ids:
        return {}
    rows = session.execute(
        select(Chunk.id, Chunk.text).where(Chunk.workspace_id == workspace_id, Chunk.id.in_(list(chunk_ids)))
    )
    return {cid: text for cid, text in rows}


def stored_sentence_vectors(session: Session, workspace_id: str, chunk_ids: Sequence[str]) -> dict[str, bytes]:
    """The reranker's sentence vectors made at ingest for ``chunk_ids`` (those that have them)."""
    if not chunk_ids:
        return {}
    rows = session.execute(
        select(Chunk.id, Chunk.sentence_vectors).where(
            Chunk.workspace_id == workspace_id, Chunk.id.in_(list(chunk_ids)), Chunk.sentence_vectors.is_not(None)
        )
    )
    return {cid: data for cid, data in rows if data}


def candidate_sentence_vectors(session: Session, workspace_id: str, hits: Sequence[Hit]) -> dict[str, bytes]:
    """:func:`stored_sentence_vectors` of the hits the reranker will look at (the first
    :data:`RERANK_CANDIDATES`)."""
    return stored_sentence_vectors(session, workspace_id, [h.chunk_id for h in hits[:RERANK_CANDIDATES]])


_WORD = re.compile(r"\w{3,}")


def snippet(body: str, query_text: str, width: int = SNIPPET_CHARS) -> str:
    """The window of ``body`` that holds the most query words (the start when none match)."""
    body = " ".join(body.split())
    if len(body) <= width:
        return body
    terms = {w.lower() for w in _WORD.findall(query_text)}
    best_start, best_count = 0, -1
    for start in range(0, len(body) - width + 1, max(1, width // 4)):
        window = body[start : start + width].lower()
        count = sum(1 for t in terms if t in window)
        if count > best_count:
            best_start, best_count = start, count
    if best_count <= 0:
        best_start = 0
    # Start and end at word boundaries.
    start = body.rfind(" ", 0, best_start) + 1 if best_start else 0
    end = body.find(" ", start + width)
    text = body[start : end if end != -1 else len(body)]
    return ("… " if start else "") + text + (" …" if end != -1 else "")
