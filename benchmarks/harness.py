"""A throwaway Bindesk for a benchmark: its own data directory, a milvus-lite server, Celery workers and a
runtime for queries, all torn down afterwards. Ingest goes through the real path (blob -> document row -> Celery
task -> parse -> chunk -> embed -> Milvus), exactly as an upload would."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from core.db import migrate, session_scope
from core.models import Chunk, Document, DocumentStatus
from core.settings import Settings
from kb.documents import Upload, accept_uploads
from kb.runtime import Runtime
from retrieval.lite_server import MilvusLiteServer
from workers.process import WorkerProcess, restore_sigterm, stop_cleanly_on_sigterm
from workers.queue import TaskQueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestReport:
    documents: int
    chunks: int
    failed: list[str]
    seconds: float

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _release_redis(broker_url: str) -> None:
    import redis

    redis.Redis.from_url(broker_url).flushdb()


def _broker_urls(root: Path) -> tuple[str, str]:
    """Redis when it answers (faster hand-off), else the embedded SQLite broker."""
    try:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()
        # One database per running stack: two benchmarks at once on one shared database consume each other's
        # ingest tasks (and a flush would drop the other's queue). Claim a free one of 8..15 by a key whose
        # expiry outlives any run; a database whose claim is held by another run is skipped.
        for db in range(8, 16):
            client = redis.Redis(host="127.0.0.1", port=6379, db=db)
            if client.set("bindesk-eval-claim", str(root), nx=True, ex=6 * 3600):
                for key in client.scan_iter():
                    if key != b"bindesk-eval-claim":
                        client.delete(key)
                return f"redis://127.0.0.1:6379/{db}", f"redis://127.0.0.1:6379/{db}"
        raise RuntimeError("no free Redis database for a benchmark stack (8..15 all claimed)")
    except Exception:
        return f"sqla+sqlite:///{root / 'broker.sqlite'}", f"db+sqlite:///{root / 'results.sqlite'}"


class EvalStack:
    def __init__(self, root: Path, workers: int) -> None:
        self.root = root
        self.workers = workers
        broker, backend = _broker_urls(root)
        self.milvus = MilvusLiteServer(root / "milvus", _free_port(), log_path=root / "milvus.log")
        self.settings = Settings(
            data_dir=root / "var", milvus_uri=self.milvus.uri, broker_url=broker, result_backend=backend
        )
        self.runtime = Runtime(self.settings)
        self._worker: WorkerProcess | None = None

    def start(self) -> None:
        self.milvus.start()
        migrate(self.settings)
        self._worker = WorkerProcess(self.settings, self.root / "worker.log", concurrency=self.workers)
        self._worker.start()  # assigned first: a start interrupted half-way is still stopped

    def child_pids(self) -> dict[str, int | None]:
        """The process ids of the vector server and the worker (None for one not running)."""
        worker = self._worker.process if self._worker is not None else None
        return {"milvus": self.milvus.pid, "worker": worker.pid if worker is not None else None}

    def stop(self) -> None:
        """Stop the worker, the vector server, and release the Redis database: each step runs even when one before
        it fails (or a SIGTERM interrupts it)."""
        with ExitStack() as steps:  # run last-in first-out: the worker first
            if self.settings.broker_url.startswith("redis://"):  # release the database claimed in _broker_urls
                steps.callback(_release_redis, self.settings.broker_url)
            steps.callback(self.milvus.stop)
            if self._worker is not None:
                steps.callback(self._worker.stop)

    def ingest(self, workspace_id: str, files: Sequence[Path], timeout: float = 7200) -> IngestReport:
        """Upload ``files`` through the real path and wait until every document is indexed or failed."""
        queue = TaskQueue(self.settings)
        started = time.perf_counter()
        ids: list[str] = []
        for path in files:
            with session_scope(self.settings) as session:
                accepted = accept_uploads(
                    session,
                    self.runtime.blobs,
                    workspace_id,
                    [Upload(path.name, path.read_bytes())],
                    max_bytes=self.settings.max_upload_bytes,
                )
            for document_id in accepted.to_index:
                queue.enqueue_ingest(document_id)
            ids.extend(d.id for d in accepted.documents)
        deadline = time.monotonic() + timeout
        while True:
            with session_scope(self.settings) as session:
                docs = list(session.scalars(select(Document).where(Document.id.in_(ids))))
            done = [d for d in docs if d.status in (DocumentStatus.INDEXED, DocumentStatus.FAILED)]
            if len(done) == len(ids):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(ids) - len(done)} documents still not indexed")
            time.sleep(0.5)
        seconds = time.perf_counter() - started
        failed = [f"{d.filename}: {d.error}" for d in docs if d.status == DocumentStatus.FAILED]
        return IngestReport(len(ids), sum(d.chunk_count for d in docs), failed, seconds)

    def chunks(self, workspace_id: str) -> list[Chunk]:
        with session_scope(self.settings) as session:
            return list(session.scalars(select(Chunk).where(Chunk.workspace_id == workspace_id)))

    def documents(self, workspace_id: str) -> list[Document]:
        with session_scope(self.settings) as session:
            return list(session.scalars(select(Document).where(Document.workspace_id == workspace_id)))


@contextmanager
def eval_stack(workers: int = 2, keep: bool = False) -> Iterator[EvalStack]:
    root = Path(tempfile.mkdtemp(prefix="bindesk-eval-"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    previous = stop_cleanly_on_sigterm("the benchmark's worker and vector server", exit_code=143)
    stack: EvalStack | None = None
    try:
        stack = EvalStack(root, workers)
        stack.start()
        yield stack
    finally:
        try:
            if stack is not None:
                stack.stop()
        finally:
            if not keep:
                shutil.rmtree(root, ignore_errors=True)
            restore_sigterm(previous)
