"""Knowledge-base routes for ops: upload, list, inspect, delete, and search to test retrieval."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from api.deps import OpsPrincipal, RuntimeDep, SessionDep, SettingsDep
from api.schemas import AcceptedDocument, DocumentOut, SearchHitOut, SearchRequest, SearchResponse
from core.blobs import BlobStore
from core.errors import InvalidInput, UnsupportedMediaType
from kb.documents import (
    Enqueue,
    Upload,
    accept_uploads,
    delete_document,
    get_document,
    list_documents,
    purge_late_vectors,
    queue_or_fail,
)
from kb.search import search_kb

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/kb", tags=["knowledge base"])

MAX_FILES_PER_UPLOAD = 100


@router.post("/documents", status_code=202, response_model=list[AcceptedDocument])
async def upload_documents(
    request: Request, principal: OpsPrincipal, session: SessionDep, runtime: RuntimeDep, settings: SettingsDep
) -> list[AcceptedDocument]:
    """Multipart upload, every file in a field named ``files``. Answers 202 with one entry per file; indexing
    runs in the background (poll ``GET /v1/kb/documents/{id}``)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaType("send the files as multipart/form-data in fields named 'files'")
    form = await request.form(max_files=MAX_FILES_PER_UPLOAD, max_fields=10)
    try:
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        uploads = [Upload(f.filename or "upload", await f.read()) for f in files]
    finally:
        await form.close()
    # Hashing, blob writes and the commit (which may wait on SQLite's lock) run off the event loop.
    return await asyncio.to_thread(
        _accept_and_queue,
        session,
        runtime.blobs,
        principal.workspace_id,
        uploads,
        settings.max_upload_bytes,
        request.app.state.enqueue,
    )


def _accept_and_queue(
    session: Session,
    blobs: BlobStore,
    workspace_id: str,
    uploads: list[Upload],
    max_bytes: int,
    enqueue: Enqueue,
) -> list[AcceptedDocument]:
    accepted = accept_uploads(session, blobs, workspace_id, uploads, max_bytes=max_bytes)
    out = [AcceptedDocument(id=d.id, filename=d.filename, status=str(d.status.value)) for d in accepted.documents]
    session.commit()
    for key in accepted.stale_blobs:
        blobs.delete(key)
    queue_or_fail(session, workspace_id, accepted.to_index, enqueue)
    return out


@router.get("/documents", response_model=list[DocumentOut])
def get_documents(principal: OpsPrincipal, session: SessionDep, status: str | None = None) -> list[DocumentOut]:
    if status is not None and status not in {"queued", "processing", "indexed", "failed"}:
        raise InvalidInput("status must be one of queued, processing, indexed, failed")
    return [DocumentOut.of(d) for d in list_documents(session, principal.workspace_id, status=status)]


@router.get("/documents/{document_id}", response_model=DocumentOut)
def get_one_document(document_id: str, principal: OpsPrincipal, session: SessionDep) -> DocumentOut:
    return DocumentOut.of(get_document(session, principal.workspace_id, document_id))


@router.delete("/documents/{document_id}", status_code=204)
def remove_document(document_id: str, principal: OpsPrincipal, session: SessionDep, runtime: RuntimeDep) -> Response:
    get_document(session, principal.workspace_id, document_id)  # 404 before the vector store is touched
    blob_keys = delete_document(session, runtime.store, runtime.graph, principal.workspace_id, document_id)
    session.commit()
    purge_late_vectors(runtime.store, principal.workspace_id, document_id)
    for key in blob_keys:
        runtime.blobs.delete(key)
    return Response(status_code=204)


@router.post("/search", response_model=SearchResponse)
async def search(
    request: Request, principal: OpsPrincipal, session: SessionDep, runtime: RuntimeDep, settings: SettingsDep
) -> SearchResponse:
    """JSON ``{"query", "k"}``, or multipart with ``query``, ``k`` and an ``image`` file. Best hits first."""
    content_type = request.headers.get("content-type", "")
    image: bytes | None = None
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=5)
        try:
            raw_k = str(form.get("k") or "10")
            image_field = form.get("image")
            if isinstance(image_field, UploadFile):
                image = await image_field.read()
            query_text = str(form.get("query") or "")
        finally:
            await form.close()
        if not raw_k.isdigit() or not 1 <= int(raw_k) <= 100:
            raise InvalidInput("k must be an integer from 1 to 100")
        if not query_text.strip() and not image:
            raise InvalidInput("give a query, an image, or both")
        k = int(raw_k)
    else:
        body = SearchRequest.model_validate_json(await request.body())
        query_text, k = body.query, body.k
    result = await asyncio.to_thread(search_kb, runtime, session, principal.workspace_id, query_text, k, image=image)
    return SearchResponse(
        hits=[
            SearchHitOut(
                document_id=h.document_id,
                source=h.source,
                title=h.title,
                chunk_id=h.chunk_id,
                page=h.page,
                modality=h.modality,
                score=h.score,
                snippet=h.snippet,
                heading=h.heading,
            )
            for h in result.hits
        ],
        ocr_text=result.ocr_text,
    )
