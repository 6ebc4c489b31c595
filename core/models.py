"""The relational schema. Every row carries its workspace; queries always filter on it.

Vectors live in Milvus; everything a person reads (documents, chunk text, conversations, the knowledge
graph) lives here so that it survives a vector-store rebuild.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.ids import new_id


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Role(enum.StrEnum):
    OPS = "ops"
    AGENT = "agent"
    WIDGET = "widget"


class DocumentStatus(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    INDEXED = "indexed"
    FAILED = "failed"


class ConversationStatus(enum.StrEnum):
    BOT = "bot"  # the assistant is handling it
    ESCALATED = "escalated"  # waiting in the inbox
    CLAIMED = "claimed"  # an agent has it
    RESOLVED = "resolved"


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings (no native enum type) so adding a value needs no type migration.
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class Workspace(Base):
    __tablename__ = "workspaces"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """A bearer key for one workspace and role. Only the hash is stored."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    name: Mapped[str] = mapped_column(String(200), default="")
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSession(Base):
    """A browser login: the cookie holds the session secret, whose hash is the primary key."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Document(Base):
    """One knowledge-base file. Re-uploading the same filename makes a new version of the same row."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("workspace_id", "filename", name="uq_documents_workspace_filename"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # pdf, docx, html, markdown, text, faq, image, audio
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[DocumentStatus] = mapped_column(_enum(DocumentStatus), default=DocumentStatus.QUEUED, index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    # The version search serves (0: none). Older than ``version`` while a re-upload waits or after it failed:
    # a failed re-upload never takes the served version away. Its file is kept until a newer version is indexed.
    indexed_version: Mapped[int] = mapped_column(Integer, default=0)
    indexed_blob_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    ingest_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    origin: Mapped[str] = mapped_column(String(32), default="upload")  # upload | resolution
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    indexed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Chunk(Base):
    """A retrievable unit. Its id is also its Milvus primary key (see ``core.ids.chunk_id``)."""

    __tablename__ = "chunks"
    __table_args__ = (Index("ix_chunks_document_ordinal", "document_id", "ordinal"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    ordinal: Mapped[int] = mapped_column(Integer)
    modality: Mapped[str] = mapped_column(String(16))  # text | image | audio
    text: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(500), default="")
    heading_path: Mapped[list[Any]] = mapped_column(JSON, default=list)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    token_count: Mapped[int] = mapped_column(Integer, default=0)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The reranker's sentence encodings, made at ingest (retrieval.rerank.pack_vectors): a turn reads them
    # instead of encoding a dozen candidates' sentences. NULL for chunks indexed before they existed.
    sentence_vectors: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)


class Conversation(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[ConversationStatus] = mapped_column(
        _enum(ConversationStatus), default=ConversationStatus.BOT, index=True
    )
    escalation_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    assigned_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    failed_turns: Mapped[int] = mapped_column(Integer, default=0)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Message(Base):
    """One turn by the customer, the bot or an agent, with everything an agent needs to review it."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_created", "conversation_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # customer | bot | agent | system
    author_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    transcript: Mapped[str | None] = mapped_column(Text, nullable=True)
    transcript_language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    ocr_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    visual_tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    image_blob: Mapped[str | None] = mapped_column(String(255), nullable=True)
    image_media_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    audio_blob: Mapped[str | None] = mapped_column(String(255), nullable=True)
    audio_media_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)  # answer | clarify | escalate
    escalation_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision_detail: Mapped[str | None] = mapped_column(Text, nullable=True)  # the evidence behind it, in words
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    query: Mapped[str | None] = mapped_column(Text, nullable=True)  # the rewritten retrieval query
    citations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    retrieved: Mapped[list[Any]] = mapped_column(JSON, default=list)
    entities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    timings_ms: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("message_id", "by_role", name="uq_feedback_message_role"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    by_role: Mapped[str] = mapped_column(String(16))  # customer | agent
    author_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    rating: Mapped[int] = mapped_column(Integer)  # +1 or -1
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KgNode(Base):
    """A knowledge-graph node: an entity (``kind`` = its type) or a chunk/conversation anchor."""

    __tablename__ = "kg_nodes"
    __table_args__ = (UniqueConstraint("workspace_id", "key", name="uq_kg_nodes_workspace_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    key: Mapped[str] = mapped_column(String(300))  # e.g. "entity:error_code:e-101", "chunk:<id>"
    kind: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(500))
    attrs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class KgEdge(Base):
    """A knowledge-graph fact, owned by the document or conversation that asserted it (for clean removal)."""

    __tablename__ = "kg_edges"
    __table_args__ = (
        Index("ix_kg_edges_workspace_src", "workspace_id", "src"),
        Index("ix_kg_edges_workspace_dst", "workspace_id", "dst"),
        Index("ix_kg_edges_document", "document_id"),
        Index("ix_kg_edges_conversation", "conversation_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    src: Mapped[str] = mapped_column(String(300))
    dst: Mapped[str] = mapped_column(String(300))
    relation: Mapped[str] = mapped_column(String(32))  # mentions | co_occurs | in_focus | ...
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    document_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    conversation_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    turn: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
