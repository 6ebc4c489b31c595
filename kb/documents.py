"""Knowledge-base documents: accept uploads, list, delete.

An upload is validated completely (size, real type by magic bytes) before anything is stored, so a batch
with one bad file stores nothing. Re-uploading a file name that the workspace already has makes a new version
of the same document; its chunks replace the old ones when the new version is indexed. Until then, and for good
if the new version fails, search serves the version indexed before (``Document.indexed_version``): a bad
re-upload loses nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.blobs import BlobStore
from core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge, ServiceUnavailable, UnsupportedMediaType
from core.models import Chunk, Document, DocumentStatus, utcnow
from core.workspaces import ensure_workspace
from ingest.sniff import detect, safe_filename
from kg.store import GraphStore
from retrieval.protocol import VectorStore

log = logging.getLogger(__name__)

Enqueue = Callable[[str], None]


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass
class Accepted:
    documents: list[Document]
    to_index: list[str]  # ids of documents that need (re)indexing: enqueue these after commit
    stale_blobs: list[str]  # blobs of replaced versions no one serves: delete these after commit


def accept_uploads(
    session: Session,
    blobs: BlobStore,
    workspace_id: str,
    uploads: Sequence[Upload],
    *,
    max_bytes: int,
    origin: str = "upload",
) -> Accepted:
    """Validate every upload, then store blobs and create or re-version document rows (status ``queued``).

    Raises before storing anything: :class:`InvalidInput` (no files, or an empty one), :class:`PayloadTooLarge`
    (a file over ``max_bytes``) or :class:`UnsupportedMediaType` (a type Bindesk cannot index, or a name that
    lies about the bytes).
    The caller commits, then enqueues ``to_index`` and deletes ``stale_blobs`` (never before the commit, so
    a failed commit leaves every row pointing at a blob that exists).
    """
    if not uploads:
        raise InvalidInput("no files in the upload (send them in multipart fields named 'files')")
    checked = []
    for upload in uploads:
        name = safe_filename(upload.filename)
        if not upload.data:
            raise InvalidInput(f"{name}: the file is empty")
        if len(upload.data) > max_bytes:
            raise PayloadTooLarge(f"{name}: {len(upload.data)} bytes is over the {max_bytes}-byte limit")
        try:
            detected = detect(upload.data, name)
        except UnsupportedMediaType as exc:
            raise UnsupportedMediaType(f"{name}: {exc.message}") from exc
        checked.append((name, upload.data, detected))

    ensure_workspace(session, workspace_id)
    result = Accepted(documents=[], to_index=[], stale_blobs=[])
    changed: list[Document] = []
    new_blobs: list[str] = []
    try:
        for name, data, detected in checked:
            digest = hashlib.sha256(data).hexdigest()
            # Locked (PostgreSQL) so that two uploads of one file name version it one after the other.
            doc = session.scalar(
                select(Document)
                .where(Document.workspace_id == workspace_id, Document.filename == name)
                .with_for_update()
            )
            if (
                doc is not None
                and doc.sha256 == digest
                and doc.status in (DocumentStatus.INDEXED, DocumentStatus.QUEUED)
            ):
                result.documents.append(doc)  # the same bytes again: nothing to do
                continue
            key = blobs.put(workspace_id, "documents", data)
            new_blobs.append(key)
            if doc is None:
                doc = Document(workspace_id=workspace_id, filename=name, version=1, origin=origin)
                session.add(doc)
            else:
                _bump_version(session, doc)
                if doc.blob_key != doc.indexed_blob_key:  # the served version's file goes when its successor is in
                    result.stale_blobs.append(doc.blob_key)
            doc.kind = detected.kind
            doc.media_type = detected.media_type
            doc.size_bytes = len(data)
            doc.sha256 = digest
            doc.blob_key = key
            doc.status = DocumentStatus.QUEUED
            doc.error = None
            doc.attempts = 0
            doc.updated_at = utcnow()
            result.documents.append(doc)
            changed.append(doc)
        session.flush()
    except BaseException as exc:
        for key in new_blobs:  # no row will point at them
            blobs.delete(key)
        if _lost_race(exc):
            raise _upload_conflict() from exc
        raise
    result.to_index = [d.id for d in changed]
    return result


def _bump_version(session: Session, doc: Document) -> None:
    """``doc.version`` + 1, only if no one else bumped it since we read the row; else :func:`_upload_conflict`.
    (SQLite cannot lock the row when it is read: without the check, the later of two concurrent re-uploads
    would overwrite the earlier one's row and leave its blob pointed at by nothing.)"""
    bumped = session.execute(
        update(Document)
        .where(Document.id == doc.id, Document.version == doc.version)
        .values(version=doc.version + 1)
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount != 1:  # type: ignore[attr-defined]
        raise _upload_conflict()
    set_committed_value(doc, "version", doc.version + 1)


def _upload_conflict() -> Conflict:
    return Conflict(
        "another upload of the same file name was saved at the same moment; send this one again",
        code="upload_conflict",
    )


def _lost_race(exc: BaseException) -> bool:
    """Whether a write failed because a concurrent request wrote the same row first: the unique file name
    (both inserted it), SQLite refusing a write on a stale snapshot ("database is locked"), or PostgreSQL's
    serialization failure."""
    if isinstance(exc, IntegrityError):
        return True
    message = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, OperationalError) and ("database is locked" in message or "could not serialize" in message)


def mark_not_queued(session: Session, workspace_id: str, document_ids: Sequence[str], reason: str) -> None:
    """Documents whose task could not be queued end ``failed`` with the reason (an upload again retries)."""
    for document_id in document_ids:
        doc = get_document(session, workspace_id, document_id)
        doc.status = DocumentStatus.FAILED
        doc.error = reason


def queue_or_fail(session: Session, workspace_id: str, document_ids: Sequence[str], enqueue: Enqueue) -> None:
    """Queue each document's ingest task (``enqueue``). When the queue cannot be reached, the documents not yet
    queued end ``failed`` with the reason (committed: none stays ``queued`` with no task behind it, and the same
    bytes uploaded again are accepted as new work) and :class:`ServiceUnavailable` is raised."""
    for position, document_id in enumerate(document_ids):
        try:
            enqueue(document_id)
        except Exception as exc:
            log.exception("could not queue document %s", document_id)
            reason = f"service_unavailable: the ingest queue could not be reached ({type(exc).__name__}); upload again"
            mark_not_queued(session, workspace_id, document_ids[position:], reason)
            session.commit()
            raise ServiceUnavailable("the ingest queue is unavailable; the files were not queued") from exc


def requeue_documents(session: Session, workspace_id: str) -> list[str]:
    """Every document of the workspace back to ``queued`` at its current version; returns their ids.

    For rebuilding the vectors after switching embedders (the new backend's collection starts empty) or after
    changing chunking. Indexing the same version again upserts the same chunk ids and replaces the rows, so a
    reindex never duplicates; a document that failed gets another try (a re-upload that fails again still
    leaves the version served before in place).
    """
    docs = list_documents(session, workspace_id)
    for doc in docs:
        doc.status = DocumentStatus.QUEUED
        doc.error = None
        doc.attempts = 0
        doc.updated_at = utcnow()
    session.flush()
    return [doc.id for doc in docs]


def list_documents(session: Session, workspace_id: str, *, status: str | None = None) -> list[Document]:
    query = select(Document).where(Document.workspace_id == workspace_id)
    if status:
        query = query.where(Document.status == DocumentStatus(status))
    return list(session.scalars(query.order_by(Document.created_at.desc(), Document.id)))


def get_document(session: Session, workspace_id: str, document_id: str) -> Document:
    """The document, or :class:`NotFound` (also when it belongs to another workspace)."""
    doc = session.get(Document, document_id)
    if doc is None or doc.workspace_id != workspace_id:
        raise NotFound(f"no document {document_id!r}")
    return doc


def delete_document(
    session: Session,
    store: VectorStore,
    graph: GraphStore,
    workspace_id: str,
    document_id: str,
) -> list[str]:
    """Remove a document with its chunks (vectors and rows) and graph facts; returns its blob keys (the current
    version's and the served one's), which the caller deletes after committing.

    Vectors go first: if the vector store is down this raises and the row stays, so a retry can finish.
    """
    doc = get_document(session, workspace_id, document_id)
    store.delete_document(workspace_id, doc.id)
    graph.remove_document(session, workspace_id, doc.id)
    session.query(Chunk).filter(Chunk.workspace_id == workspace_id, Chunk.document_id == doc.id).delete()
    blob_keys = sorted({doc.blob_key, doc.indexed_blob_key or doc.blob_key})
    session.delete(doc)
    session.flush()
    return blob_keys


def purge_late_vectors(store: VectorStore, workspace_id: str, document_id: str) -> None:
    """After a delete has committed, remove the document's vectors once more.

    A worker indexing the document upserts its vectors *before* it re-reads the row: an upsert that lands after
    :func:`delete_document` removed the vectors but before the delete committed would otherwise stay in the
    index for good (the worker then finds the row gone or fails writing its rows, and its retry finds nothing
    to clean). Once the delete is committed, every later worker read sees the row gone and cleans up itself.
    Best effort: the document is already deleted, so a store outage here is logged, not raised."""
    try:
        store.delete_document(workspace_id, document_id)
    except ServiceUnavailable:
        log.warning("could not re-check the vectors of deleted document %s", document_id, exc_info=True)


def status_counts(session: Session) -> dict[tuple[str, str], int]:
    """(workspace, status) -> number of documents, for metrics."""
    rows = session.execute(
        select(Document.workspace_id, Document.status, func.count()).group_by(Document.workspace_id, Document.status)
    )
    return {(ws, str(status.value if hasattr(status, "value") else status)): n for ws, status, n in rows}
