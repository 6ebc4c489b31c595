"""The graph store on real databases: SQLite files and the session's PostgreSQL database."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.db import migrate, session_scope
from core.settings import Settings
from core.workspaces import ensure_workspace

OpenSession = Callable[[], AbstractContextManager[Session]]


@pytest.fixture(params=["sqlite", "postgresql"])
def kg_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings on a fresh SQLite file, or on the session's PostgreSQL database; schema via migrate."""
    if request.param == "sqlite":
        settings = Settings(data_dir=tmp_path / "var")
    else:
        settings = Settings(data_dir=tmp_path / "var", database_url=request.getfixturevalue("postgres_url"))
    migrate(settings)
    return settings


@pytest.fixture
def db(kg_settings: Settings) -> OpenSession:
    """``with db() as session:`` commits on success, as the API and the workers do."""
    return lambda: session_scope(kg_settings)


@pytest.fixture
def make_workspace(db: OpenSession, workspace: str) -> Callable[[str], str]:
    """Create a workspace row whose id is the test's own workspace id plus ``suffix``."""

    def make(suffix: str = "") -> str:
        ws = f"{workspace}{suffix}"
        with db() as session:
            ensure_workspace(session, ws)
        return ws

    return make
