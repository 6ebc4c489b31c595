"""Response and request bodies of the public HTTP interface (see DESIGN.md for the shapes clients rely on)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from core.models import Document


class DocumentOut(BaseModel):
    id: str
    filename: str
    status: str
    error: str | None
    chunks: int
    kind: str
    media_type: str
    size_bytes: int
    version: int
    served_version: int | None  # the version search answers from: older than ``version`` while a re-upload is
    # queued or after it failed (a failed re-upload leaves the version before it searchable)
    title: str
    origin: str
    created_at: datetime
    updated_at: datetime
    indexed_at: datetime | None

    @classmethod
    def of(cls, doc: Document) -> DocumentOut:
        return cls(
            id=doc.id,
            filename=doc.filename,
            status=str(doc.status.value),
            error=doc.error,
            chunks=doc.chunk_count,
            kind=doc.kind,
            media_type=doc.media_type,
            size_bytes=doc.size_bytes,
            version=doc.version,
            served_version=doc.indexed_version or None,
            title=doc.title,
            origin=doc.origin,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            indexed_at=doc.indexed_at,
        )


class AcceptedDocument(BaseModel):
    id: str
    filename: str
    status: str


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=4000)
    k: int = Field(default=10, ge=1, le=100)


class SearchHitOut(BaseModel):
    document_id: str
    source: str
    title: str
    chunk_id: str
    page: int | None
    modality: str
    score: float
    snippet: str
    heading: str = ""


class SearchResponse(BaseModel):
    hits: list[SearchHitOut]
    ocr_text: str | None = None
