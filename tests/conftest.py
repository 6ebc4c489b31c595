"""Session-wide fixtures: real models (loaded once), a real milvus-lite server, real databases.

Tests isolate themselves by workspace (every test that writes vectors uses its own workspace id) and by
data directory; the vector server, the PostgreSQL database and the models are shared by the session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from core.db import migrate
from core.settings import Settings
from kb.runtime import Models, Runtime
from tests.support.services import free_port, postgres_database, redis_test_url

MakeSettings = Callable[..., Settings]


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    """The default (local) models, shared by the whole session; each loads on first use."""
    return Models(Settings(data_dir=tmp_path_factory.mktemp("models")))


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from retrieval.lite_server import MilvusLiteServer

    root = tmp_path_factory.mktemp("milvus")
    server = MilvusLiteServer(root / "data", free_port(), log_path=root / "server.log")
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    return redis_test_url()


@pytest.fixture
def workspace() -> str:
    """A workspace id of its own for each test (vectors of all tests share one collection)."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_settings(tmp_path: Path, milvus_uri: str) -> MakeSettings:
    """Settings for a test: own data directory (SQLite inside it unless a database URL is given)."""

    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {"data_dir": tmp_path / "var", "milvus_uri": milvus_uri}
        values.update(overrides)
        settings = Settings(**values)  # type: ignore[arg-type]
        migrate(settings)
        return settings

    return make


@pytest.fixture
def runtime(make_settings: MakeSettings, models: Models) -> Runtime:
    """A runtime on SQLite and the shared vector server, with the session's models."""
    return Runtime(make_settings(), models)
