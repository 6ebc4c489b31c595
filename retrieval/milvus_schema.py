"""The chunk collection's schema: its fields, indexes, BM25 analyzer and the properties that say what it was
built for. :class:`retrieval.milvus.MilvusVectorStore` creates collections through :func:`create_collection`
and refuses, through :func:`check_compatible`, one built for another embedder or schema version.

Fields: typed scalars for everything we filter on (a JSON field would be scanned row by row), ``text``
(analysed; Milvus's own BM25 function turns it into the ``sparse`` field, so the server does the full-text
indexing and scoring), ``body`` (the snippet shown to people, not analysed), ``dense`` (the shared
text/image/audio space) and ``visual`` (image-to-image; zeros for chunks without one, which under the IP metric
score 0, and ``has_visual`` keeps them out of visual searches altogether). Indexes: HNSW on both vectors,
SPARSE_INVERTED_INDEX/BM25 on ``sparse``, INVERTED on the filtered scalars. The workspace is the partition key
(why: :mod:`retrieval.milvus`).
"""

from __future__ import annotations

import re
from typing import Any

from core.errors import Conflict, InvalidInput

SCHEMA_VERSION = "1"
COLLECTION_PREFIX = "bindesk_chunks"
# VARCHAR limits, in UTF-8 bytes (Milvus allows up to 65,535).
MAX_TEXT_BYTES = 65_535
MAX_ID_BYTES = 64
MAX_LABEL_BYTES = 1_024
MAX_HEADING_BYTES = 2_048
NO_PAGE = 0  # pages are 1-based; 0 stores "no page" without needing nullable fields (older Milvus lacks them)

# Plain English function words: left out of the BM25 index so that long chunks are not rewarded for them
# and "how do I ..." queries weigh only their content words. Explicit, so Milvus and milvus-lite agree.
_STOP_WORDS_TEXT = (
    "a an and are as at be but by for from has have how i if in into is it its me my of on or our so such "
    "that the their then there these they this to was we what when where which who why will with you your"
)
STOP_WORDS = tuple(_STOP_WORDS_TEXT.split())
ANALYZER_PARAMS: dict[str, Any] = {
    "tokenizer": "standard",
    "filter": ["lowercase", {"type": "stop", "stop_words": list(STOP_WORDS)}],
}

# The scalar fields every read returns (vectors are never read back).
OUTPUT_FIELDS = [
    "chunk_id",
    "document_id",
    "version",
    "ordinal",
    "modality",
    "source",
    "title",
    "heading",
    "page",
    "text",
    "body",
]
_PROP_BACKEND = "bindesk.backend"
_PROP_DENSE_DIM = "bindesk.dense_dim"
_PROP_VISUAL_DIM = "bindesk.visual_dim"
_PROP_SCHEMA = "bindesk.schema_version"
_BACKEND_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def collection_name_for(backend: str, prefix: str = COLLECTION_PREFIX) -> str:
    """The collection of an embedder backend's chunks; the backend name must be a plain identifier."""
    if not _BACKEND_NAME.match(backend):
        raise InvalidInput(f"embedder backend name {backend!r} must match {_BACKEND_NAME.pattern}")
    return f"{prefix}_{backend}"


def create_collection(client: Any, collection: str, backend: str, dense_dim: int, visual_dim: int) -> None:
    """Create ``collection`` with its fields, BM25 function, indexes and properties (Strong consistency).
    ``client`` is a connected ``pymilvus.MilvusClient``; errors propagate as pymilvus raises them."""
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("chunk_id", DataType.VARCHAR, max_length=MAX_ID_BYTES, is_primary=True)
    schema.add_field("workspace", DataType.VARCHAR, max_length=MAX_ID_BYTES, is_partition_key=True)
    schema.add_field("document_id", DataType.VARCHAR, max_length=MAX_ID_BYTES)
    schema.add_field("version", DataType.INT64)
    schema.add_field("ordinal", DataType.INT64)
    schema.add_field("modality", DataType.VARCHAR, max_length=16)
    schema.add_field("source", DataType.VARCHAR, max_length=MAX_LABEL_BYTES)
    schema.add_field("title", DataType.VARCHAR, max_length=MAX_LABEL_BYTES)
    schema.add_field("heading", DataType.VARCHAR, max_length=MAX_HEADING_BYTES)
    schema.add_field("page", DataType.INT64)
    schema.add_field("has_visual", DataType.BOOL)
    schema.add_field(
        "text", DataType.VARCHAR, max_length=MAX_TEXT_BYTES, enable_analyzer=True, analyzer_params=ANALYZER_PARAMS
    )
    schema.add_field("body", DataType.VARCHAR, max_length=MAX_TEXT_BYTES)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dense_dim)
    schema.add_field("visual", DataType.FLOAT_VECTOR, dim=visual_dim)
    schema.add_function(
        Function(
            name="text_bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    index = client.prepare_index_params()
    index.add_index("dense", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
    index.add_index("visual", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    for scalar in ("workspace", "document_id", "version", "modality", "has_visual"):
        index.add_index(scalar, index_type="INVERTED")
    client.create_collection(
        collection,
        schema=schema,
        index_params=index,
        consistency_level="Strong",
        description=f"Bindesk chunks, {backend} embedder",
        properties={
            _PROP_BACKEND: backend,
            _PROP_DENSE_DIM: str(dense_dim),
            _PROP_VISUAL_DIM: str(visual_dim),
            _PROP_SCHEMA: SCHEMA_VERSION,
        },
    )


def check_compatible(described: dict[str, Any], where: str, backend: str, dense_dim: int, visual_dim: int) -> None:
    """Raise :class:`Conflict` (``collection_mismatch``) unless ``described`` (``describe_collection``'s
    answer for the collection named by ``where``) was built for this backend, these widths and this schema."""
    props = described.get("properties") or {}
    dims = {f["name"]: int(f.get("params", {}).get("dim", 0)) for f in described.get("fields", [])}
    found = {
        "backend": props.get(_PROP_BACKEND),
        "dense_dim": dims.get("dense"),
        "visual_dim": dims.get("visual"),
        "schema": props.get(_PROP_SCHEMA),
    }
    wanted = {"backend": backend, "dense_dim": dense_dim, "visual_dim": visual_dim, "schema": SCHEMA_VERSION}
    if found != wanted:
        raise Conflict(
            f"collection {where} was built for {found}, but this store needs {wanted}; re-index into a fresh "
            "collection (or drop it) before switching embedders",
            code="collection_mismatch",
        )
