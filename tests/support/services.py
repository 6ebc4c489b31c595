"""Real services for integration tests: a milvus-lite server, a PostgreSQL database, Redis, Celery workers.

``scripts/test-services`` makes sure Redis and PostgreSQL run; these helpers give each test session its own
database, Redis database number, vector server and data directory, and clean up after themselves.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import redis

from workers.process import WorkerProcess, settings_env

__all__ = [
    "CeleryWorker",
    "WorkerProcess",
    "free_port",
    "postgres_database",
    "redis_test_url",
    "settings_env",
    "wait_until",
]

# The name the first tests used for the worker child process.
CeleryWorker = WorkerProcess

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379"
# The Redis database of test sessions (the suite flushes it). Outside 8..15, which `bindesk eval` stacks claim and
# flush (benchmarks/harness.py): a benchmark running beside the tests must not eat their ingest tasks.
REDIS_TEST_DB = 7


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


def wait_until(predicate, timeout: float, interval: float = 0.25, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}")
