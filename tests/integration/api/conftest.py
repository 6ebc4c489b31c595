"""A real app on a real SQLite database for the API boundary tests: two workspaces with a key of every role.

No models load here (``warm_up=False``, ingest queue replaced by a no-op): the checks under test happen
before any model would be needed. Tests that need the vector store or the models ask for ``live_runtime``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.db import migrate, session_scope
from core.models import Role
from core.settings import Settings
from core.workspaces import create_key
from kb.runtime import Models, Runtime
from tests.browser.services import MilvusInRange
from tests.integration.api.apiworld import ApiWorld, Tenant

UNREACHABLE_MILVUS = "http://127.0.0.1:9"  # nothing listens: a test that touches the vector store fails loudly


def _tenant(settings: Settings, workspace: str) -> Tenant:
    with session_scope(settings) as session:
        _, ops = create_key(session, workspace, Role.OPS, name=f"{workspace} ops")
        agent_key, agent = create_key(session, workspace, Role.AGENT, name=f"{workspace} agent")
        _, widget = create_key(session, workspace, Role.WIDGET, name=f"{workspace} site")
        agent_key_id = agent_key.id
    return Tenant(workspace, ops, agent, widget, agent_key_id)


def _settings(tmp_path: Path, milvus_uri: str) -> Settings:
    settings = Settings(data_dir=tmp_path / "var", milvus_uri=milvus_uri, redis_url="")
    migrate(settings)
    return settings


def _world(settings: Settings, runtime: Runtime | None = None) -> Iterator[ApiWorld]:
    a = _tenant(settings, f"a{uuid.uuid4().hex[:8]}")
    b = _tenant(settings, f"b{uuid.uuid4().hex[:8]}")
    app = create_app(settings, runtime=runtime, warm_up=False, enqueue=lambda _id: None)
    with TestClient(app) as client:
        yield ApiWorld(client, settings, a, b)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ApiWorld]:
    yield from _world(_settings(tmp_path, UNREACHABLE_MILVUS))


@pytest.fixture(scope="session")
def milvus_in_range(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A milvus-lite server on one of the ports reserved for the web tests (19630-19639)."""
    with MilvusInRange(tmp_path_factory.mktemp("api-milvus")) as uri:
        yield uri


@pytest.fixture
def live_world(tmp_path: Path, milvus_in_range: str, models: Models) -> Iterator[ApiWorld]:
    """The same two workspaces, with a reachable vector store and the session's real models."""
    settings = _settings(tmp_path, milvus_in_range)
    yield from _world(settings, Runtime(settings, models))
