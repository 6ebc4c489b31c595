"""Indexing one document: parse -> chunk -> embed -> upsert vectors -> chunk rows and graph facts -> indexed.

Safe to run twice, concurrently, or after a crash: chunk ids are deterministic per (workspace, document,
version, ordinal), so vectors are upserted in place, and the database rows are replaced in one transaction
at the end. A document that cannot be parsed ends ``failed`` with ``code: reason`` and no chunks, except the
served ones of an earlier version: a re-upload that fails leaves the version indexed before it searchable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.db import session_scope
from core.errors import DocumentRejected, EmptyDocument, InvalidMedia, UnsupportedMediaType
from core.ids import chunk_id
from core.media import AudioClip, decode_audio, load_image
from core.models import Chunk, Document, DocumentStatus, utcnow
from embed.protocol import Embedder
from ingest.chunking import make_chunks
from ingest.pipeline import parse
from ingest.types import ChunkDraft, ParseLimits
from kb.runtime import Runtime
from kg.store import ChunkFacts
from retrieval.protocol import ChunkRecord
from retrieval.rerank import encode_groups, pack_vectors, sentence_inputs

log = logging.getLogger(__name__)

# Images inside documents were checked against Settings.max_image_pixels by the parser; this bound only
# re-asserts a hard ceiling when the embedder reopens them.
_MAX_PIXELS = 200_000_000


@dataclass(frozen=True)
class IndexOutcome:
    document_id: str
    status: str
    chunks: int = 0
    seconds: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class _Job:
    workspace_id: str
    document_id: str
    version: int
    blob_key: str
    filename: str


def index_document(runtime: Runtime, document_id: str) -> IndexOutcome:
    """Index the current version of a document (a no-op when it is already indexed or gone)."""
    job = _claim(runtime, document_id)
    if isinstance(job, IndexOutcome):
        if job.status == "failed":  # make sure a failed document has no vectors but the served ones (idempotent)
            with session_scope(runtime.settings) as session:
                doc = session.get(Document, document_id)
                found = (doc.workspace_id, _served(doc)) if doc else None
            if found:
                workspace_id, served = found
                runtime.store.delete_document(workspace_id, document_id, keep_versions=served)
        return job
    started = time.perf_counter()
    try:
        drafts, title, records, sentences = _build(runtime, job)
    except (DocumentRejected, UnsupportedMediaType, InvalidMedia) as exc:  # the file's fault: no retry helps
        return _fail(runtime, job, f"{exc.code}: {exc.message}")
    store = runtime.store
    store.upsert(job.workspace_id, records)
    with session_scope(runtime.settings) as session:
        doc = session.get(Document, job.document_id)
        if doc is None:  # deleted while we worked: leave nothing behind
            store.delete_document(job.workspace_id, job.document_id)
            return IndexOutcome(job.document_id, "deleted")
        if doc.version != job.version:  # re-uploaded while we worked: that version's task owns the result
            store.delete_document(job.workspace_id, job.document_id, keep_versions=(doc.version, *_served(doc)))
            return IndexOutcome(job.document_id, "superseded")
        store.delete_document(job.workspace_id, job.document_id, keep_versions=[job.version])
        _replace_rows(runtime, session, doc, job, drafts, records, sentences)
        seconds = time.perf_counter() - started
        replaced_blob = doc.indexed_blob_key if doc.indexed_blob_key != job.blob_key else None
        doc.status = DocumentStatus.INDEXED
        doc.title = title
        doc.chunk_count = len(records)
        doc.indexed_version = job.version
        doc.indexed_blob_key = job.blob_key
        doc.indexed_at = utcnow()
        doc.ingest_seconds = seconds
        doc.error = None
    if replaced_blob:  # the version served until now: no row points at its file any more
        runtime.blobs.delete(replaced_blob)
    # Sealed rows are searched through their indexes; rows left unsealed are scanned row by row on every search
    # (milvus-lite: ~1 s per search at 30,000 chunks), so seal once per indexed document.
    store.flush()
    log.info(
        "indexed %s (%s) v%d: %d chunks in %.2fs", job.document_id, job.filename, job.version, len(records), seconds
    )
    return IndexOutcome(job.document_id, "indexed", len(records), seconds)


def rebuild_served(runtime: Runtime, document_id: str) -> IndexOutcome:
    """Index again the earlier version a ``failed`` document still serves; the document stays ``failed``.

    For a reindex: after an embedder switch the new collection holds nothing of that version, and retrying the
    failed current version (:func:`index_document`) does not bring it back. Status ``rebuilt`` with the chunk
    count; ``skipped`` when the document is not failed or serves no earlier version; ``failed`` (the error
    names the version) when the served file no longer parses, its rows and vectors left as they were.
    """
    with session_scope(runtime.settings) as session:
        doc = session.get(Document, document_id)
        if doc is None or doc.status != DocumentStatus.FAILED or not _served(doc) or not doc.indexed_blob_key:
            return IndexOutcome(document_id, "skipped")
        job = _Job(doc.workspace_id, doc.id, doc.indexed_version, doc.indexed_blob_key, doc.filename)
    started = time.perf_counter()
    try:
        drafts, title, records, sentences = _build(runtime, job)
    except (DocumentRejected, UnsupportedMediaType, InvalidMedia) as exc:
        return IndexOutcome(document_id, "failed", error=f"version {job.version}: {exc.code}: {exc.message}")
    store = runtime.store
    store.upsert(job.workspace_id, records)
    with session_scope(runtime.settings) as session:
        doc = session.get(Document, document_id)
        if doc is None:  # deleted while we worked: leave nothing behind
            store.delete_document(job.workspace_id, document_id)
            return IndexOutcome(document_id, "deleted")
        if doc.indexed_version != job.version:  # a newer version was indexed meanwhile: it owns the rows
            store.delete_document(job.workspace_id, document_id, keep_versions=(doc.version, *_served(doc)))
            return IndexOutcome(document_id, "superseded")
        _replace_rows(runtime, session, doc, job, drafts, records, sentences)
        doc.title = title
        doc.chunk_count = len(records)
    store.flush()
    log.info("rebuilt served v%d of %s (%s): %d chunks", job.version, document_id, job.filename, len(records))
    return IndexOutcome(document_id, "rebuilt", len(records), time.perf_counter() - started)


def mark_failed(runtime: Runtime, document_id: str, reason: str) -> None:
    """Record a failure that happened outside parsing (e.g. retries exhausted) and remove any chunks."""
    with session_scope(runtime.settings) as session:
        doc = session.get(Document, document_id)
        if doc is None:
            return
        workspace_id = doc.workspace_id
        _fail_claimed(session, runtime, doc, reason)
        served = _served(doc)
    try:
        runtime.store.delete_document(workspace_id, document_id, keep_versions=served)
    except Exception:  # the store may be why we gave up; the next successful index replaces these rows anyway
        log.exception("could not remove the vectors of failed document %s", document_id)


def _claim(runtime: Runtime, document_id: str) -> _Job | IndexOutcome:
    with session_scope(runtime.settings) as session:
        doc = session.get(Document, document_id)
        if doc is None:
            return IndexOutcome(document_id, "deleted")
        if doc.status == DocumentStatus.INDEXED and doc.indexed_version == doc.version:
            return IndexOutcome(document_id, "indexed", doc.chunk_count)  # duplicate delivery
        if doc.status == DocumentStatus.FAILED:
            return IndexOutcome(document_id, "failed", error=doc.error)
        if doc.attempts > runtime.settings.ingest_max_retries + 1:
            # Delivered again and again without finishing: a worker dies on this document (e.g. out of memory).
            reason = f"internal_error: no worker finished it in {doc.attempts} attempts"
            return _fail_claimed(session, runtime, doc, reason)
        doc.status = DocumentStatus.PROCESSING
        doc.attempts += 1
        return _Job(doc.workspace_id, doc.id, doc.version, doc.blob_key, doc.filename)


def _served(doc: Document) -> tuple[int, ...]:
    """The earlier version search still serves while ``doc.version`` is not indexed: () when there is none."""
    return (doc.indexed_version,) if 0 < doc.indexed_version < doc.version else ()


def _fail_claimed(session: Session, runtime: Runtime, doc: Document, reason: str) -> IndexOutcome:
    """``doc`` ends ``failed``. Its chunk rows and graph facts go, unless they are an earlier version's that
    search serves: those stay, and the reason says so. The caller removes the vectors (keeping the served ones)."""
    doc.status = DocumentStatus.FAILED
    if _served(doc):
        doc.error = f"{reason} (version {doc.indexed_version} is still served)"
    else:
        doc.error = reason
        doc.chunk_count = 0
        doc.indexed_version = 0
        doc.indexed_blob_key = None
        session.query(Chunk).filter(Chunk.document_id == doc.id).delete()
        runtime.graph.remove_document(session, doc.workspace_id, doc.id)
    log.warning("document %s (%s) v%d failed: %s", doc.id, doc.filename, doc.version, doc.error)
    return IndexOutcome(doc.id, "failed", error=doc.error)


def _fail(runtime: Runtime, job: _Job, reason: str) -> IndexOutcome:
    with session_scope(runtime.settings) as session:
        doc = session.get(Document, job.document_id)
        if doc is None or doc.version != job.version:
            return IndexOutcome(job.document_id, "superseded")  # the newer version's task cleans up
        outcome = _fail_claimed(session, runtime, doc, reason)
        served = _served(doc)
    runtime.store.delete_document(job.workspace_id, job.document_id, keep_versions=served)
    return outcome


def _build(runtime: Runtime, job: _Job) -> tuple[list[ChunkDraft], str, list[ChunkRecord], list[bytes]]:
    """Parse, chunk and embed the job's file: drafts, title, vector-store records, packed sentence vectors."""
    drafts, title, audio = _parse_and_chunk(runtime, job)
    records = _embed(runtime.embedder, job, drafts, title, audio)
    return drafts, title, records, _sentence_vectors(runtime.embedder, records)


def _parse_and_chunk(runtime: Runtime, job: _Job) -> tuple[list[ChunkDraft], str, dict[int, AudioClip]]:
    """Drafts, the document title, and for audio chunks their stretch of audio by ordinal."""
    settings = runtime.settings
    data = runtime.blobs.read(job.blob_key)
    parsed = parse(
        data,
        job.filename,
        ocr=runtime.ocr,
        transcriber=runtime.transcriber,
        limits=ParseLimits.from_settings(settings),
    )
    embedder = runtime.embedder
    drafts = make_chunks(
        parsed,
        count_tokens=embedder.count_tokens,
        max_tokens=min(settings.chunk_tokens, embedder.max_text_tokens),
        overlap_tokens=settings.chunk_overlap_tokens,
    )
    if not drafts:
        raise EmptyDocument(f"{job.filename}: no text, image or speech could be extracted")
    audio: dict[int, AudioClip] = {}
    if any(d.modality == "audio" for d in drafts):
        whole = decode_audio(data, max_seconds=settings.max_ingest_audio_seconds)
        audio = {d.ordinal: _slice(whole, d) for d in drafts if d.modality == "audio"}
    return drafts, parsed.title, audio


def _slice(clip: AudioClip, draft: ChunkDraft) -> AudioClip:
    start = int((draft.start_seconds or 0.0) * clip.sample_rate)
    end = int((draft.end_seconds or clip.duration) * clip.sample_rate)
    return AudioClip(samples=clip.samples[start:end], sample_rate=clip.sample_rate)


def _embed(
    embedder: Embedder, job: _Job, drafts: Sequence[ChunkDraft], title: str, audio: dict[int, AudioClip]
) -> list[ChunkRecord]:
    """Embed every draft by modality, in batches, and build the vector-store records in draft order."""
    dense: dict[int, list[float]] = {}
    visual: dict[int, list[float] | None] = {}
    texts: dict[int, str] = {}
    text_idx = [i for i, d in enumerate(drafts) if d.modality == "text"]
    image_idx = [i for i, d in enumerate(drafts) if d.modality == "image"]
    audio_idx = [i for i, d in enumerate(drafts) if d.modality == "audio"]
    if text_idx:
        vectors = embedder.embed_texts([drafts[i].text for i in text_idx])
        for i, vec in zip(text_idx, vectors, strict=True):
            dense[i], visual[i], texts[i] = vec.tolist(), None, drafts[i].text
    if image_idx:
        # The parser already refused bombs; the images are re-opened from its bytes with the same guard.
        images = [load_image(drafts[i].image or b"", max_pixels=_MAX_PIXELS) for i in image_idx]
        out = embedder.embed_images(images, [drafts[i].body for i in image_idx])
        for row, i in enumerate(image_idx):
            dense[i], visual[i] = out.dense[row].tolist(), out.visual[row].tolist()
            tags = out.tags[row]
            texts[i] = drafts[i].text + (f"\nPictured: {', '.join(tags)}" if tags else "")
    if audio_idx:
        clips = [audio[drafts[i].ordinal] for i in audio_idx]
        vectors = embedder.embed_audio(clips, [drafts[i].body for i in audio_idx])
        for i, vec in zip(audio_idx, vectors, strict=True):
            dense[i], visual[i], texts[i] = vec.tolist(), None, drafts[i].text
    return [
        ChunkRecord(
            id=chunk_id(job.workspace_id, job.document_id, job.version, draft.ordinal),
            workspace_id=job.workspace_id,
            document_id=job.document_id,
            version=job.version,
            ordinal=draft.ordinal,
            modality=draft.modality,
            source=job.filename,
            title=draft.title or title,
            heading=" > ".join(draft.heading_path),
            page=draft.page,
            text=texts[i],
            dense=dense[i],
            visual=visual[i],
        )
        for i, draft in enumerate(drafts)
    ]


def _sentence_vectors(embedder: Embedder, records: Sequence[ChunkRecord]) -> list[bytes]:
    """The reranker's sentence encodings of every record (:func:`retrieval.rerank.sentence_inputs` of the text,
    heading and title the vector store will return for it), in one batch, packed for the chunk rows. Costs
    about as much as embedding the chunks once more; it saves a turn from encoding its candidates."""
    inputs = [
        sentence_inputs(record.text if record.body is None else record.body, record.heading, record.title)
        for record in records
    ]
    if not any(inputs):
        return [b"" for _ in records]
    return [pack_vectors(vectors) for vectors in encode_groups(embedder.embed_texts, inputs)]


def _replace_rows(
    runtime: Runtime,
    session: Session,
    doc: Document,
    job: _Job,
    drafts: Sequence[ChunkDraft],
    records: Sequence[ChunkRecord],
    sentences: Sequence[bytes],
) -> None:
    session.query(Chunk).filter(Chunk.document_id == doc.id).delete()
    for draft, record, sentence_vectors in zip(drafts, records, sentences, strict=True):
        session.add(
            Chunk(
                id=record.id,
                workspace_id=job.workspace_id,
                document_id=doc.id,
                version=job.version,
                ordinal=draft.ordinal,
                modality=draft.modality,
                text=draft.body,
                title=record.title,
                heading_path=list(draft.heading_path),
                page=draft.page,
                start_seconds=draft.start_seconds,
                end_seconds=draft.end_seconds,
                token_count=draft.token_count,
                extra={"indexed_text": record.text},
                sentence_vectors=sentence_vectors,
            )
        )
    facts = [ChunkFacts(r.id, d.body, r.title, tuple(d.heading_path)) for d, r in zip(drafts, records, strict=True)]
    runtime.graph.add_document(session, job.workspace_id, doc.id, facts)
