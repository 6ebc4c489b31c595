"""An ops client on a real app: SQLite with indexing in-process, or PostgreSQL with a real Celery worker on Redis."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.db import session_scope
from core.models import Chunk, Role
from core.settings import Settings
from core.workspaces import create_key
from kb.indexing import index_document
from kb.runtime import Models, Runtime
from tests.conftest import MakeSettings
from workers.process import WorkerProcess
from workers.queue import TaskQueue


@dataclass
class OpsClient:
    client: TestClient
    settings: Settings
    runtime: Runtime
    workspace: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def upload(self, *files: tuple[str, bytes]) -> Any:
        return self.client.post("/v1/kb/documents", headers=self.headers, files=[("files", f) for f in files])

    def document(self, document_id: str) -> dict[str, Any]:
        response = self.client.get(f"/v1/kb/documents/{document_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_done(self, document_id: str, timeout: float = 600) -> dict[str, Any]:
        """Poll like a client would until the document is indexed or failed."""
        deadline = time.monotonic() + timeout
        while True:
            doc = self.document(document_id)
            if doc["status"] in ("indexed", "failed"):
                return doc
            if time.monotonic() > deadline:
                raise AssertionError(f"document still {doc['status']} after {timeout:.0f}s")
            time.sleep(0.3)

    def search(self, query: str, k: int = 5) -> list[dict[str, Any]]:
        response = self.client.post("/v1/kb/search", headers=self.headers, json={"query": query, "k": k})
        assert response.status_code == 200, response.text
        return list(response.json()["hits"])

    def vector_count(self, document_id: str) -> int:
        return self.runtime.store.count(self.workspace, document_id)

    def chunk_rows(self, document_id: str) -> int:
        with session_scope(self.settings) as session:
            return session.query(Chunk).filter(Chunk.document_id == document_id).count()


def _client(
    settings: Settings, runtime: Runtime, workspace: str, enqueue: Callable[[str], None]
) -> Iterator[OpsClient]:
    with session_scope(settings) as session:
        _, key = create_key(session, workspace, Role.OPS, name="ops tests")
    app = create_app(settings, runtime=runtime, warm_up=False, enqueue=enqueue)
    with TestClient(app) as client:
        yield OpsClient(client, settings, runtime, workspace, key)


@pytest.fixture
def sqlite_ops(make_settings: MakeSettings, models: Models, workspace: str) -> Iterator[OpsClient]:
    """SQLite; every upload is indexed in-process before the upload call returns (the CLI's path)."""
    settings = make_settings()
    runtime = Runtime(settings, models)
    yield from _client(settings, runtime, workspace, lambda document_id: _index_now(runtime, document_id))


def _index_now(runtime: Runtime, document_id: str) -> None:
    index_document(runtime, document_id)


@dataclass
class CeleryWorld:
    ops: OpsClient
    worker: WorkerProcess
    log_path: Path

    def restart_worker(self) -> WorkerProcess:
        self.worker = WorkerProcess(self.ops.settings, self.log_path).start()
        return self.worker


@pytest.fixture(scope="module")
def celery_world(
    tmp_path_factory: pytest.TempPathFactory, milvus_uri: str, postgres_url: str, redis_url: str, models: Models
) -> Iterator[CeleryWorld]:
    """PostgreSQL, Redis broker and a real worker process. A task taken by a killed worker is delivered again
    after 10 s (the Redis visibility timeout)."""
    from core.db import migrate

    root = tmp_path_factory.mktemp("celery-world")
    settings = Settings(
        data_dir=root / "var",
        database_url=postgres_url,
        broker_url=redis_url,
        result_backend=redis_url,
        milvus_uri=milvus_uri,
        queue_visibility_timeout=10,
    )
    migrate(settings)
    log_path = root / "worker.log"
    worker = WorkerProcess(settings, log_path).start()
    world: CeleryWorld | None = None
    try:
        runtime = Runtime(settings, models)
        for ops in _client(settings, runtime, "celery", TaskQueue(settings).enqueue_ingest):
            world = CeleryWorld(ops, worker, log_path)
            yield world
    finally:
        (world.worker if world else worker).stop()
