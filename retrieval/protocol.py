"""The vector store: one contract for milvus-lite, Milvus standalone and a Milvus cluster.

Every method takes the workspace: no call can reach another tenant's vectors.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from embed.protocol import Vectors

Modality = Literal["text", "image", "audio"]
SearchField = Literal["dense", "sparse", "visual"]


@dataclass(frozen=True)
class ChunkRecord:
    """What is stored per chunk. ``id`` is deterministic (``core.ids.chunk_id``) so writes are upserts."""

    id: str
    workspace_id: str
    document_id: str
    version: int
    ordinal: int
    modality: Modality
    source: str  # the uploaded file name
    title: str
    heading: str  # heading path joined with " > "
    page: int | None
    text: str  # what BM25 indexes (and the snippet when ``body`` is None); may begin with title/heading context
    dense: Sequence[float]
    visual: Sequence[float] | None  # None: no image vector (stored as zeros)
    body: str | None = None  # the chunk's own content for snippets and answers; None: same as ``text``


@dataclass
class Hit:
    chunk_id: str
    document_id: str
    source: str
    title: str
    heading: str
    page: int | None
    modality: Modality
    text: str  # the snippet: the record's ``body`` (or its ``text`` when it had no body)
    score: float  # higher is better; meaning depends on the producer (similarity, BM25, fused, reranked)
    # Evidence for fusion, reranking and answerability: rank (1-based) and raw score per retriever
    # ("dense", "sparse", "visual", "graph", ...; "rrf" for a fused score, "rerank" for a reranked one).
    ranks: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    version: int | None = None  # the document version the chunk belongs to (None: producer did not say)
    ordinal: int | None = None  # the chunk's position in its document (for neighbouring chunks)


@runtime_checkable
class VectorStore(Protocol):
    backend: str  # the embedder backend this store's collection holds

    def ensure_collection(self) -> None:
        """Create the collection and indexes if missing (idempotent); refuse one built for other dims."""
        ...

    def ping(self) -> None:
        """Raise :class:`core.errors.ServiceUnavailable` when the store cannot answer."""
        ...

    def upsert(self, workspace_id: str, records: Sequence[ChunkRecord]) -> None: ...

    def flush(self) -> None:
        """Seal the writes so far, so that searches use the built indexes (call once after a document or a
        batch of upserts, not after each)."""
        ...

    def delete_document(self, workspace_id: str, document_id: str, keep_versions: Collection[int] = ()) -> None:
        """Remove a document's chunks, except those of the versions in ``keep_versions``."""
        ...

    def count(self, workspace_id: str, document_id: str | None = None) -> int: ...

    def search(
        self,
        workspace_id: str,
        field: SearchField,
        query: Vectors | str,
        k: int,
        modalities: Sequence[Modality] | None = None,
    ) -> list[Hit]:
        """One retriever: ``dense``/``visual`` take a vector, ``sparse`` (BM25) takes text. Best first."""
        ...

    def hybrid_search(
        self,
        workspace_id: str,
        dense: Vectors | None,
        text: str | None,
        visual: Vectors | None,
        k: int,
    ) -> list[Hit]:
        """The retrievers given, fused server-side with reciprocal-rank fusion. Best first."""
        ...

    def fetch(self, workspace_id: str, chunk_ids: Sequence[str]) -> list[Hit]:
        """Chunks by id (for graph-neighbour candidates), in no particular order."""
        ...
