"""MilvusVectorStore against a real milvus-lite server process: idempotent writes, tenancy, every retriever."""

from __future__ import annotations

import uuid
import zlib

import numpy as np
import pytest

from core.errors import Conflict, InvalidInput
from core.ids import chunk_id
from retrieval.lite_server import MilvusLiteServer
from retrieval.milvus import MilvusVectorStore
from retrieval.milvus_schema import MAX_TEXT_BYTES
from retrieval.protocol import ChunkRecord, Modality

pytestmark = pytest.mark.integration

DENSE_DIM = 16
VISUAL_DIM = 8


def unit(seed: int, dim: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def record(
    workspace: str,
    document: str,
    ordinal: int,
    text: str,
    *,
    version: int = 1,
    seed: int | None = None,
    visual_seed: int | None = None,
    modality: Modality = "text",
    page: int | None = None,
) -> ChunkRecord:
    return ChunkRecord(
        id=chunk_id(workspace, document, version, ordinal),
        workspace_id=workspace,
        document_id=document,
        version=version,
        ordinal=ordinal,
        modality=modality,
        source=f"{document}.pdf",
        title=f"Manual {document}",
        heading="Setup > Network",
        page=page,
        text=f"Manual {document} > Setup > Network\n{text}",
        body=text,
        dense=unit(
            seed if seed is not None else zlib.crc32(f"{document}/{ordinal}/{version}".encode()), DENSE_DIM
        ).tolist(),
        visual=None if visual_seed is None else unit(visual_seed, VISUAL_DIM).tolist(),
    )


@pytest.fixture(scope="module")
def store(lite_server: MilvusLiteServer) -> MilvusVectorStore:
    store = MilvusVectorStore(lite_server.uri, backend="local", dense_dim=DENSE_DIM, visual_dim=VISUAL_DIM)
    store.ensure_collection()
    return store


@pytest.fixture
def ws() -> str:
    return f"ws{uuid.uuid4().hex[:10]}"


def test_upserting_the_same_chunks_twice_keeps_one_copy(store: MilvusVectorStore, ws: str) -> None:
    records = [record(ws, "doc1", i, f"paragraph {i}") for i in range(5)]
    store.upsert(ws, records)
    store.upsert(ws, records)
    assert store.count(ws) == 5
    assert store.count(ws, "doc1") == 5
    assert store.count(ws, "other") == 0


def test_a_new_version_replaces_the_old_one(store: MilvusVectorStore, ws: str) -> None:
    store.upsert(ws, [record(ws, "doc", i, f"old text about gaskets {i}", version=1) for i in range(3)])
    store.upsert(ws, [record(ws, "doc", i, f"new text about valves {i}", version=2) for i in range(2)])
    store.delete_document(ws, "doc", keep_versions=[2])

    assert store.count(ws, "doc") == 2
    assert store.search(ws, "sparse", "gaskets", 10) == []
    assert {h.version for h in store.search(ws, "sparse", "valves", 10)} == {2}
    store.upsert(ws, [record(ws, "doc", i, f"newer text about hoses {i}", version=3) for i in range(4)])
    store.delete_document(ws, "doc", keep_versions=[2, 3])  # a served version and the one replacing it
    assert store.count(ws, "doc") == 6
    store.delete_document(ws, "doc", keep_versions=[3])
    assert {h.version for h in store.search(ws, "sparse", "valves hoses", 10)} == {3}
    store.delete_document(ws, "doc")
    assert store.count(ws) == 0


def test_another_workspace_never_sees_a_row(store: MilvusVectorStore) -> None:
    mine, theirs = f"a{uuid.uuid4().hex[:8]}", f"b{uuid.uuid4().hex[:8]}"
    secret = record(theirs, "private", 0, "quarterly zanzibarite figures", seed=7, visual_seed=3)
    store.upsert(theirs, [secret])
    store.upsert(mine, [record(mine, "public", 0, "opening hours", seed=8)])

    assert store.count(mine) == 1
    assert store.search(mine, "sparse", "zanzibarite", 10) == []
    assert all(h.document_id == "public" for h in store.search(mine, "dense", unit(7, DENSE_DIM), 10))
    assert store.search(mine, "visual", unit(3, VISUAL_DIM), 10) == []
    assert store.fetch(mine, [secret.id]) == []
    assert store.hybrid_search(mine, unit(7, DENSE_DIM), "zanzibarite", unit(3, VISUAL_DIM), 10)[0].document_id == (
        "public"
    )
    # A hostile workspace string is one literal: it matches no workspace rather than every one.
    assert store.count(f'{mine}" or workspace != "') == 0
    assert store.search(f'{mine}" or workspace != "', "sparse", "zanzibarite", 10) == []

    store.delete_document(mine, "private")  # another tenant's document id: nothing happens to it
    assert store.count(theirs, "private") == 1
    with pytest.raises(InvalidInput):
        store.upsert(mine, [secret])  # a record of another workspace is refused, not re-homed


def test_bm25_finds_an_exact_rare_term(store: MilvusVectorStore, ws: str) -> None:
    filler = [record(ws, "manual", i, f"The remote control pairs with the TV in step {i}.") for i in range(30)]
    target = record(ws, "manual", 30, "If the screen shows error E4417, unplug the set for thirty seconds.", page=12)
    store.upsert(ws, [*filler, target])

    hits = store.search(ws, "sparse", "what does E4417 mean", 5)
    assert hits[0].chunk_id == target.id
    assert hits[0].page == 12 and hits[0].text == target.body  # the snippet is the body, not the indexed text
    assert hits[0].ranks == {"sparse": 1} and hits[0].scores["sparse"] > 0
    assert hits[0].title == "Manual manual" and hits[0].heading == "Setup > Network"
    # The title/heading prefix is indexed too: a word only in the title finds the chunks.
    assert len(store.search(ws, "sparse", "network", 50)) == 31


def test_dense_and_visual_search_rank_the_nearest_first(store: MilvusVectorStore, ws: str) -> None:
    records = [
        record(ws, "photos", i, f"photo {i}", seed=100 + i, visual_seed=200 + i, modality="image") for i in range(6)
    ]
    records.append(record(ws, "photos", 6, "text without a picture", seed=300))
    store.upsert(ws, records)

    dense = store.search(ws, "dense", unit(103, DENSE_DIM), 3)
    assert dense[0].chunk_id == records[3].id and dense[0].scores["dense"] == pytest.approx(1.0, abs=1e-3)
    assert [h.ranks["dense"] for h in dense] == [1, 2, 3]

    visual = store.search(ws, "visual", unit(205, VISUAL_DIM), 10)
    assert visual[0].chunk_id == records[5].id
    assert records[6].id not in {h.chunk_id for h in visual}  # no image vector: never a visual hit
    assert len(visual) == 6

    only_text = store.search(ws, "dense", unit(103, DENSE_DIM), 10, modalities=["text"])
    assert [h.chunk_id for h in only_text] == [records[6].id]


def test_hybrid_search_puts_the_chunk_both_retrievers_agree_on_first(store: MilvusVectorStore, ws: str) -> None:
    records = [record(ws, "faq", i, f"question number {i} about billing cycles", seed=400 + i) for i in range(10)]
    records.append(record(ws, "faq", 10, "How to reset the thermostat schedule", seed=500))
    store.upsert(ws, records)

    hits = store.hybrid_search(ws, unit(500, DENSE_DIM), "reset thermostat", None, 5)
    assert hits[0].chunk_id == records[10].id
    assert hits[0].scores["rrf"] == pytest.approx(2 / 61, rel=1e-3)  # rank 1 in both lists, RRF k=60
    assert len(hits) == 5
    with pytest.raises(InvalidInput):
        store.hybrid_search(ws, None, "  ", None, 5)


def test_fetch_returns_the_chunks_asked_for(store: MilvusVectorStore, ws: str) -> None:
    records = [record(ws, "doc", i, f"chunk {i}") for i in range(4)]
    store.upsert(ws, records)
    fetched = store.fetch(ws, [records[1].id, records[3].id, "missing"])
    assert sorted(h.chunk_id for h in fetched) == sorted([records[1].id, records[3].id])
    assert {h.ordinal for h in fetched} == {1, 3}


def test_over_long_text_is_cut_on_a_character_boundary(store: MilvusVectorStore, ws: str) -> None:
    long_text = "Größe 東京 " * 8000  # ~104 KB of UTF-8 with 2- and 3-byte characters
    store.upsert(ws, [record(ws, "big", 0, long_text)])
    (hit,) = store.fetch(ws, [chunk_id(ws, "big", 1, 0)])
    assert len(hit.text.encode("utf-8")) <= MAX_TEXT_BYTES
    assert long_text.startswith(hit.text) and len(hit.text) > 10_000


def test_a_collection_built_for_other_dimensions_is_refused(lite_server: MilvusLiteServer) -> None:
    MilvusVectorStore(lite_server.uri, backend="dimcheck", dense_dim=8, visual_dim=4).ensure_collection()
    with pytest.raises(Conflict, match="dense_dim") as refused:
        MilvusVectorStore(lite_server.uri, backend="dimcheck", dense_dim=16, visual_dim=4).ensure_collection()
    assert refused.value.code == "collection_mismatch"
    with pytest.raises(Conflict, match="visual_dim"):
        MilvusVectorStore(lite_server.uri, backend="dimcheck", dense_dim=8, visual_dim=5).ensure_collection()
    # The same configuration again is fine (idempotent).
    MilvusVectorStore(lite_server.uri, backend="dimcheck", dense_dim=8, visual_dim=4).ensure_collection()


def test_wrong_vector_width_is_refused_before_it_reaches_milvus(store: MilvusVectorStore, ws: str) -> None:
    with pytest.raises(InvalidInput, match="dimensions"):
        store.search(ws, "dense", np.ones(3, dtype=np.float32), 5)
    bad = record(ws, "d", 0, "x")
    with pytest.raises(InvalidInput, match="dimensions"):
        store.upsert(ws, [ChunkRecord(**{**bad.__dict__, "dense": [0.1] * 3})])


def test_flush_keeps_every_row_searchable(store: MilvusVectorStore, ws: str) -> None:
    records = [record(ws, "flushed", i, f"sealed paragraph {i} about quokkas") for i in range(40)]
    store.upsert(ws, records)
    store.flush()
    assert store.count(ws) == 40
    assert len(store.search(ws, "sparse", "quokkas", 50)) == 40
    store.upsert(ws, records)  # a retry after the flush still does not duplicate
    store.flush()
    assert store.count(ws) == 40
