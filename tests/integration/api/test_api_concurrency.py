"""Requests that overlap, on a real HTTP server (or the real app) with a real database and vector store.

- Event streams stay open for as long as an agent keeps the inbox (or a customer the chat) open: hours. The
  request's database session must be given back once the caller is authenticated, or a handful of open tabs
  take every pooled connection and every other route waits, then fails.
- Uploads of one file name at the same moment: one document, no server error, no orphaned blob.
- A delete while a worker is indexing the document: no vector of it may outlive the delete.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from core.ids import chunk_id
from core.settings import Settings
from kb.indexing import index_document
from retrieval.protocol import ChunkRecord
from tests.browser.services import free_port
from tests.integration.api.apiworld import ApiWorld, bearer, upload
from tests.integration.api.conftest import UNREACHABLE_MILVUS, _settings, _tenant

pytestmark = pytest.mark.integration

# More streams than the SQLite engine pools (5 connections + 10 overflow): before the fix the next request
# waited 30 s for a connection and failed.
OPEN_STREAMS = 20


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    app = create_app(settings, warm_up=False, enqueue=lambda _id: None)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _open_stream(stack: ExitStack, client: httpx.Client, path: str, headers: dict[str, str]) -> None:
    response = stack.enter_context(client.stream("GET", path, headers=headers))
    assert response.status_code == 200, path
    assert next(response.iter_lines()) == ": connected"


def test_many_open_event_streams_leave_the_api_answering(tmp_path: Path) -> None:
    settings = _settings(tmp_path, UNREACHABLE_MILVUS)
    tenant = _tenant(settings, f"s{uuid.uuid4().hex[:8]}")
    limits = httpx.Limits(max_connections=OPEN_STREAMS * 2 + 4)
    with (
        live_server(settings) as base,
        httpx.Client(base_url=base, timeout=10.0, limits=limits) as client,
        ExitStack() as streams,
    ):
        started = client.post("/v1/conversations", headers=bearer(tenant.widget))
        assert started.status_code == 201, started.text
        conversation, token = started.json()["id"], started.json()["token"]
        for _ in range(OPEN_STREAMS):
            _open_stream(streams, client, "/v1/agent/events", bearer(tenant.agent))
            _open_stream(streams, client, f"/v1/conversations/{conversation}/events", bearer(token))

        # With 40 streams open, the inbox and a customer's conversation still answer at once.
        inbox = client.get("/v1/agent/inbox", headers=bearer(tenant.agent))
        assert inbox.status_code == 200, inbox.text
        view = client.get(f"/v1/conversations/{conversation}", headers=bearer(token))
        assert view.status_code == 200, view.text


def test_concurrent_uploads_of_one_new_file_name_leave_one_document(tmp_path: Path) -> None:
    settings = _settings(tmp_path, UNREACHABLE_MILVUS)
    tenant = _tenant(settings, f"u{uuid.uuid4().hex[:8]}")
    senders = 6
    with live_server(settings) as base, httpx.Client(base_url=base, timeout=60.0) as client:
        barrier = threading.Barrier(senders)
        answers: list[httpx.Response] = []

        def send(n: int) -> None:
            body = f"# Pairing\n\nVersion {n}: hold MENU and VOL- for five seconds.\n".encode()
            barrier.wait()
            answers.append(
                client.post("/v1/kb/documents", headers=bearer(tenant.ops), files=[("files", ("pairing.md", body))])
            )

        threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(answers) == senders
        for answer in answers:  # accepted, or refused with a clear conflict: never a server error
            assert answer.status_code in (202, 409), answer.text
            if answer.status_code == 409:
                assert answer.json()["error"]["code"] == "upload_conflict"
        documents = client.get("/v1/kb/documents", headers=bearer(tenant.ops)).json()
        assert [d["filename"] for d in documents] == ["pairing.md"]
        # Every stored blob belongs to the one document's current version: refused uploads left nothing.
        blobs = [p for p in settings.blobs_path.rglob("*") if p.is_file()]
        assert len(blobs) == 1


def test_vectors_upserted_by_a_worker_during_a_delete_do_not_outlive_it(
    live_world: ApiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, workspace = live_world.client, live_world.a.workspace
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    faq = b'[{"question": "How do I pair the remote?", "answer": "Hold MENU and VOL- for five seconds."}]'
    doc = upload(client, live_world.a.ops, "faq.json", faq)
    assert index_document(runtime, doc).status == "indexed"
    store = runtime.store
    assert store.count(workspace, doc) > 0

    # A worker (indexing this document again) upserts its vectors right after the API removed them and before
    # the API's delete commits: the worker checks the row only after its upsert, and still finds it.
    text = "How do I pair the remote? Hold MENU and VOL- for five seconds."
    late = ChunkRecord(
        id=chunk_id(workspace, doc, 1, 0),
        workspace_id=workspace,
        document_id=doc,
        version=1,
        ordinal=0,
        modality="text",
        source="faq.json",
        title="faq",
        heading="",
        page=None,
        text=text,
        dense=runtime.embedder.embed_texts([text])[0],
        visual=None,
    )
    remove = store.delete_document
    interleaved: list[str] = []

    def delete_then_a_worker_upserts(workspace_id: str, document_id: str, keep_versions: Collection[int] = ()) -> None:
        remove(workspace_id, document_id, keep_versions)
        if not interleaved:
            interleaved.append(document_id)
            store.upsert(workspace_id, [late])

    monkeypatch.setattr(store, "delete_document", delete_then_a_worker_upserts)
    assert client.delete(f"/v1/kb/documents/{doc}", headers=bearer(live_world.a.ops)).status_code == 204
    assert interleaved == [doc]
    assert store.count(workspace, doc) == 0
    found = client.post("/v1/kb/search", headers=bearer(live_world.a.ops), json={"query": "pair the remote", "k": 5})
    assert found.status_code == 200 and doc not in {h["document_id"] for h in found.json()["hits"]}
