"""The Milvus vector store: milvus-lite server, Milvus standalone or a cluster, by URI alone.

Layout. One collection per embedder backend (``bindesk_chunks_local``, ``bindesk_chunks_imagebind``), with
the workspace as its *partition key*. Why not one collection per workspace: a deployment has many tenants
and only one schema; Milvus caps collections per cluster (65,536 by default, and each costs memory and
coordination even when idle), while a partition-key field hashes any number of tenants into a fixed set of
partitions and, given the ``workspace == ...`` clause every call here sends, searches only that tenant's
partition. A new tenant needs no DDL. Backends stay in separate collections because their vectors live in
different spaces and widths; each collection records its backend and dimensions in its properties and
:meth:`ensure_collection` refuses one built for anything else.

Schema, fields and indexes: :mod:`retrieval.milvus_schema`.

Writes are upserts keyed by deterministic chunk ids (``core.ids.chunk_id``), so a retried ingest rewrites
the same rows. Reads use Strong consistency so a search right after an ingest sees it. Strings are cut to
the VARCHAR limit in UTF-8 bytes on a character boundary; the full text stays in the database (caller).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from core.errors import BindeskError, InvalidInput, ServiceUnavailable
from embed.protocol import Vectors
from retrieval import filters as F
from retrieval.milvus_schema import (
    COLLECTION_PREFIX,
    MAX_HEADING_BYTES,
    MAX_ID_BYTES,
    MAX_LABEL_BYTES,
    MAX_TEXT_BYTES,
    NO_PAGE,
    OUTPUT_FIELDS,
    check_compatible,
    collection_name_for,
    create_collection,
)
from retrieval.protocol import ChunkRecord, Hit, Modality, SearchField

UPSERT_BATCH = 256

# pymilvus pings every 10 s even while idle; gRPC servers (milvus-lite's included) answer idle pings with
# GOAWAY "too_many_pings" and drop the connection. Ping only while a call is in flight.
GRPC_OPTIONS = {"grpc.keepalive_permit_without_calls": 0}


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes without splitting a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


@contextmanager
def _milvus_errors(action: str) -> Iterator[None]:
    """pymilvus and gRPC failures become :class:`ServiceUnavailable`; our own errors pass through."""
    try:
        yield
    except BindeskError:
        raise
    except Exception as exc:
        raise ServiceUnavailable(f"vector store could not {action}: {exc}") from exc


class MilvusVectorStore:
    """:class:`retrieval.protocol.VectorStore` on Milvus. The constructor does no I/O; the first call connects."""

    def __init__(
        self,
        uri: str,
        backend: str,
        dense_dim: int,
        visual_dim: int,
        token: str = "",
        *,
        collection_prefix: str = COLLECTION_PREFIX,
        rrf_k: int = 60,
        hnsw_ef: int = 128,
        timeout: float = 30.0,
    ) -> None:
        if dense_dim <= 0 or visual_dim <= 0:
            raise InvalidInput(f"vector dimensions must be positive, got dense={dense_dim} visual={visual_dim}")
        self.uri = uri
        self.backend = backend
        self.dense_dim = dense_dim
        self.visual_dim = visual_dim
        self.collection = collection_name_for(backend, collection_prefix)
        self.rrf_k = rrf_k
        self.hnsw_ef = hnsw_ef
        self.timeout = timeout
        self._token = token
        self._client: Any = None

    # --- connection and schema -------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        if self._client is None:
            from pymilvus import MilvusClient

            with _milvus_errors(f"connect to {self.uri}"):
                self._client = MilvusClient(
                    uri=self.uri, token=self._token, timeout=self.timeout, grpc_options=GRPC_OPTIONS
                )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def ping(self) -> None:
        with _milvus_errors(f"answer at {self.uri}"):
            self.client.list_collections(timeout=min(self.timeout, 5.0))

    def ensure_collection(self) -> None:
        """Create the collection with its indexes if missing, refuse an incompatible one, and load it."""
        with _milvus_errors(f"prepare collection {self.collection}"):
            if not self.client.has_collection(self.collection):
                try:
                    create_collection(self.client, self.collection, self.backend, self.dense_dim, self.visual_dim)
                except Exception:
                    if not self.client.has_collection(self.collection):
                        raise
                    # another process created it between our check and our create: verify theirs below
            described = self.client.describe_collection(self.collection)
            where = f"{self.collection} at {self.uri}"
            check_compatible(described, where, self.backend, self.dense_dim, self.visual_dim)
            self.client.load_collection(self.collection)

    # --- writes ----------------------------------------------------------------------------------------

    def upsert(self, workspace_id: str, records: Sequence[ChunkRecord]) -> None:
        rows = [self._row(workspace_id, record) for record in records]
        with _milvus_errors(f"upsert into {self.collection}"):
            for start in range(0, len(rows), UPSERT_BATCH):
                self.client.upsert(self.collection, rows[start : start + UPSERT_BATCH])

    def flush(self) -> None:
        """Seal what was written so that searches use the built indexes.

        milvus-lite keeps unsealed rows in a memtable that every search scans (and rebuilds a BM25 index over)
        row by row, so a search after a big ingest is ~10x slower until the memtable is sealed; Milvus seals
        on its own. Call this once after a document or a batch, not after every upsert (each call makes a
        segment; Milvus merges small ones in the background)."""
        with _milvus_errors(f"flush {self.collection}"):
            self.client.flush(self.collection)

    def _row(self, workspace_id: str, record: ChunkRecord) -> dict[str, Any]:
        if record.workspace_id != workspace_id:
            raise InvalidInput(f"chunk {record.id} belongs to workspace {record.workspace_id!r}, not {workspace_id!r}")
        F.literal("workspace", workspace_id)  # same validation as reads: no control characters in ids
        if not record.id or len(record.id.encode()) > MAX_ID_BYTES:
            raise InvalidInput(f"chunk id must be 1-{MAX_ID_BYTES} bytes, got {record.id!r}")
        if record.modality not in F.KNOWN_MODALITIES:
            raise InvalidInput(f"unknown modality {record.modality!r}")
        dense = self._vector(record.dense, self.dense_dim, "dense")
        has_visual = record.visual is not None
        visual = self._vector(record.visual, self.visual_dim, "visual") if has_visual else [0.0] * self.visual_dim
        body = record.text if record.body is None else record.body
        return {
            "chunk_id": record.id,
            "workspace": truncate_utf8(workspace_id, MAX_ID_BYTES),
            "document_id": truncate_utf8(record.document_id, MAX_ID_BYTES),
            "version": int(record.version),
            "ordinal": int(record.ordinal),
            "modality": record.modality,
            "source": truncate_utf8(record.source, MAX_LABEL_BYTES),
            "title": truncate_utf8(record.title, MAX_LABEL_BYTES),
            "heading": truncate_utf8(record.heading, MAX_HEADING_BYTES),
            "page": NO_PAGE if record.page is None else int(record.page),
            "has_visual": has_visual,
            "text": truncate_utf8(record.text, MAX_TEXT_BYTES),
            "body": truncate_utf8(body, MAX_TEXT_BYTES),
            "dense": dense,
            "visual": visual,
        }

    @staticmethod
    def _vector(values: Sequence[float] | Vectors | None, dim: int, name: str) -> list[float]:
        array = np.asarray(values, dtype=np.float32).reshape(-1)
        if array.shape[0] != dim:
            raise InvalidInput(f"{name} vector has {array.shape[0]} dimensions, the collection expects {dim}")
        if not np.all(np.isfinite(array)):
            raise InvalidInput(f"{name} vector contains NaN or infinity")
        return [float(x) for x in array]

    def delete_document(self, workspace_id: str, document_id: str, keep_versions: Collection[int] = ()) -> None:
        clauses = [F.eq("document_id", document_id)]
        if keep_versions:
            clauses.append(F.not_in("version", sorted(keep_versions)))
        expression = F.scoped(workspace_id, *clauses)
        with _milvus_errors(f"delete from {self.collection}"):
            self.client.delete(self.collection, filter=expression)

    # --- reads -----------------------------------------------------------------------------------------

    def count(self, workspace_id: str, document_id: str | None = None) -> int:
        clauses = [] if document_id is None else [F.eq("document_id", document_id)]
        expression = F.scoped(workspace_id, *clauses)
        with _milvus_errors(f"count in {self.collection}"):
            rows = self.client.query(self.collection, filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def search(
        self,
        workspace_id: str,
        field: SearchField,
        query: Vectors | str,
        k: int,
        modalities: Sequence[Modality] | None = None,
    ) -> list[Hit]:
        if k <= 0:
            return []
        clauses = [F.modality_clause(modalities)]
        if field == "sparse":
            if not isinstance(query, str):
                raise InvalidInput("BM25 search takes query text")
            if not query.strip():
                return []
            data: list[Any] = [truncate_utf8(query, MAX_TEXT_BYTES)]
            params: dict[str, Any] = {"metric_type": "BM25"}
        elif field in ("dense", "visual"):
            if isinstance(query, str):
                raise InvalidInput(f"{field} search takes a vector")
            dim = self.dense_dim if field == "dense" else self.visual_dim
            data = [self._vector(query, dim, field)]
            params = {"metric_type": "IP", "params": {"ef": max(self.hnsw_ef, k)}}
            if field == "visual":
                clauses.append(F.eq("has_visual", True))
        else:
            raise InvalidInput(f"unknown search field {field!r}")
        expression = F.scoped(workspace_id, *clauses)
        with _milvus_errors(f"search {self.collection}"):
            results = self.client.search(
                self.collection,
                data=data,
                anns_field=field,
                filter=expression,
                limit=k,
                output_fields=OUTPUT_FIELDS,
                search_params=params,
            )
        hits = []
        for rank, row in enumerate(results[0] if results else [], start=1):
            score = _score(field, float(row["distance"]))
            hits.append(_hit(row, score, ranks={field: rank}, scores={field: score}))
        return hits

    def hybrid_search(
        self,
        workspace_id: str,
        dense: Vectors | None,
        text: str | None,
        visual: Vectors | None,
        k: int,
    ) -> list[Hit]:
        """Server-side RRF over the retrievers given. Hits carry only the fused score (under ``"rrf"``):
        use :meth:`search` per retriever with :func:`retrieval.fusion.reciprocal_rank_fusion` when the
        per-retriever evidence matters."""
        from pymilvus import AnnSearchRequest, RRFRanker

        if k <= 0:
            return []
        depth = max(k, 50)
        expression = F.scoped(workspace_id)
        requests = []
        if dense is not None:
            requests.append(
                AnnSearchRequest(
                    data=[self._vector(dense, self.dense_dim, "dense")],
                    anns_field="dense",
                    param={"metric_type": "IP", "params": {"ef": max(self.hnsw_ef, depth)}},
                    limit=depth,
                    expr=expression,
                )
            )
        if text is not None and text.strip():
            requests.append(
                AnnSearchRequest(
                    data=[truncate_utf8(text, MAX_TEXT_BYTES)],
                    anns_field="sparse",
                    param={"metric_type": "BM25"},
                    limit=depth,
                    expr=expression,
                )
            )
        if visual is not None:
            requests.append(
                AnnSearchRequest(
                    data=[self._vector(visual, self.visual_dim, "visual")],
                    anns_field="visual",
                    param={"metric_type": "IP", "params": {"ef": max(self.hnsw_ef, depth)}},
                    limit=depth,
                    expr=F.scoped(workspace_id, F.eq("has_visual", True)),
                )
            )
        if not requests:
            raise InvalidInput("hybrid search needs at least one of a dense vector, query text or a visual vector")
        with _milvus_errors(f"hybrid-search {self.collection}"):
            results = self.client.hybrid_search(
                self.collection, requests, RRFRanker(self.rrf_k), limit=k, output_fields=OUTPUT_FIELDS
            )
        return [
            _hit(row, float(row["distance"]), ranks={"rrf": rank}, scores={"rrf": float(row["distance"])})
            for rank, row in enumerate(results[0] if results else [], start=1)
        ]

    def fetch(self, workspace_id: str, chunk_ids: Sequence[str]) -> list[Hit]:
        ids = list(dict.fromkeys(chunk_ids))
        if not ids:
            return []
        hits: list[Hit] = []
        with _milvus_errors(f"fetch from {self.collection}"):
            for start in range(0, len(ids), 1000):
                expression = F.scoped(workspace_id, F.in_("chunk_id", ids[start : start + 1000]))
                rows = self.client.query(self.collection, filter=expression, output_fields=OUTPUT_FIELDS)
                hits.extend(_hit(row, 0.0, ranks={}, scores={}) for row in rows)
        return hits


def _score(field: str, distance: float) -> float:
    """Higher is better. BM25 comes back positive from Milvus but negated from milvus-lite."""
    return abs(distance) if field == "sparse" else distance


def _hit(row: dict[str, Any], score: float, ranks: dict[str, int], scores: dict[str, float]) -> Hit:
    entity = row.get("entity", row)
    page = int(entity.get("page", NO_PAGE))
    return Hit(
        chunk_id=str(row.get("chunk_id", entity.get("chunk_id", row.get("id", "")))),
        document_id=entity["document_id"],
        source=entity["source"],
        title=entity["title"],
        heading=entity["heading"],
        page=None if page == NO_PAGE else page,
        modality=entity["modality"],
        text=entity["body"] or entity["text"],
        score=score,
        ranks=ranks,
        scores=scores,
        version=int(entity["version"]),
        ordinal=int(entity["ordinal"]),
    )
