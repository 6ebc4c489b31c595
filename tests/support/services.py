"""Real services for integration tests: a milvus-lite server, a PostgreSQL database, Redis, Celery workers.

``scripts/test-services`` makes sure Redis and PostgreSQL run; these helpers give each test session its own
database, Redis database number, vector server and data directory, and clean up after themselves.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis

from core.settings import Settings

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379"
# Redis database numbers reserved for test sessions (the suite flushes the one it takes).
REDIS_TEST_DB = 11


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_database(prefix: str = "bindesk_test") -> Iterator[str]:
    """A fresh, empty PostgreSQL database; yields its SQLAlchemy URL and drops it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        from sqlalchemy import Engine

        from core import db

        # Close pooled connections of this URL before dropping the database.
        engine: Engine = db._engine_for(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
        engine.dispose()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_test_url(db: int = REDIS_TEST_DB) -> str:
    """A Redis database for this session, emptied first."""
    url = f"{REDIS_URL}/{db}"
    redis.Redis.from_url(url).flushdb()
    return url


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment that makes a child process read the same settings."""
    env = dict(os.environ)
    env.update(
        {
            "BINDESK_DATA_DIR": str(settings.data_dir),
            "BINDESK_DATABASE_URL": settings.database_url,
            "BINDESK_BROKER_URL": settings.broker_url,
            "BINDESK_RESULT_BACKEND": settings.result_backend,
            "BINDESK_MILVUS_URI": settings.milvus_uri,
            "BINDESK_MILVUS_LITE_PORT": str(settings.milvus_lite_port),
            "BINDESK_QUEUE_VISIBILITY_TIMEOUT": str(settings.queue_visibility_timeout),
            "BINDESK_EMBEDDER": settings.embedder,
            "BINDESK_REDIS_URL": settings.redis_url,
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
    )
    if settings.imagebind_checkpoint is not None:
        env["BINDESK_IMAGEBIND_CHECKPOINT"] = str(settings.imagebind_checkpoint)
        env["BINDESK_IMAGEBIND_CONFIG"] = settings.imagebind_config
        env["BINDESK_IMAGEBIND_DEVICE"] = settings.imagebind_device
    return env


class CeleryWorker:
    """A real ``celery worker`` child process (own process group, so SIGKILL takes its pool too)."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> CeleryWorker:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.tasks:celery_app",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--pool=prefork",
                "--queues=bindesk-ingest",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=test-{uuid.uuid4().hex[:6]}@%h",
            ],
            env=settings_env(self.settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children) mid-whatever-it-does."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def wait_until(predicate, timeout: float, interval: float = 0.25, message: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}")
