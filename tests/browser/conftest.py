"""The whole platform as a browser meets it: milvus-lite, a Celery worker and ``bindesk serve`` as child
processes on Redis (db 12), keys from ``bindesk keys create``, and headless Chromium driven by Playwright.

Started once per session (the API and the worker each load the models once); every test opens its own
browser contexts, so cookies and sessionStorage never leak between tests.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, expect, sync_playwright

from core.db import migrate, session_scope
from core.models import Role
from core.settings import Settings
from core.workspaces import create_key as create_key_row
from tests.browser.services import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REDIS_DB,
    ApiServer,
    MilvusInRange,
    create_key,
)
from tests.support.media_fixtures import pdf_with_text_layer
from tests.support.services import WorkerProcess, redis_test_url

# Two shared CPU cores run the API, the worker, the vector store and the browser: give assertions time.
expect.set_options(timeout=20_000)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
KB_FILENAME = "aurora-kettle-manual.pdf"


@dataclass(frozen=True)
class Keys:
    ops: str
    agent: str
    widget: str


@dataclass
class Stack:
    url: str
    keys: Keys
    settings: Settings
    root: Path

    def api(self, key: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    def wait_indexed(self, filename: str, timeout: float = 240.0) -> dict[str, object]:
        """Poll the document list (as ops) until ``filename`` is indexed; fail on ``failed`` or timeout."""
        deadline = time.monotonic() + timeout
        with self.api(self.keys.ops) as client:
            while time.monotonic() < deadline:
                for doc in client.get("/v1/kb/documents").json():
                    if doc["filename"] == filename and doc["status"] == "indexed":
                        return dict(doc)
                    if doc["filename"] == filename and doc["status"] == "failed":
                        raise AssertionError(f"{filename} failed to index: {doc['error']}")
                time.sleep(0.5)
        raise AssertionError(f"{filename} was not indexed within {timeout:.0f}s")


def _key(settings: Settings, role: Role, name: str) -> str:
    with session_scope(settings) as session:
        _, secret = create_key_row(session, "default", role, name=name)
    return secret


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("web")
    redis_url = redis_test_url(REDIS_DB)
    with MilvusInRange(root / "milvus") as milvus_uri:
        settings = Settings(
            data_dir=root / "var",
            milvus_uri=milvus_uri,
            broker_url=redis_url,
            result_backend=redis_url,
            redis_url=redis_url,  # live events through Redis pub/sub, as with several API processes
        )
        migrate(settings)
        worker = WorkerProcess(settings, root / "worker.log").start()
        server = ApiServer(settings, root / "api.log").start()
        try:
            # While both load their models: one key through the CLI (its documented last-line contract), the
            # others directly, since each CLI start costs seconds on a busy machine.
            keys = Keys(
                ops=create_key(settings, "ops", "default", "Olivia Park"),
                agent=_key(settings, Role.AGENT, "Alex Morgan"),
                widget=_key(settings, Role.WIDGET, "Support site"),
            )
            server.wait_ready()
            yield Stack(server.url, keys, settings, root)
        finally:
            server.stop()
            worker.stop()


@pytest.fixture(scope="session")
def knowledge_base(stack: Stack) -> str:
    """The kettle manual (three pages: descaling, warranty, error codes), uploaded by ops and indexed."""
    with stack.api(stack.keys.ops) as client:
        response = client.post("/v1/kb/documents", files=[("files", (KB_FILENAME, pdf_with_text_layer()))])
        assert response.status_code == 202, response.text
    stack.wait_indexed(KB_FILENAME)
    return KB_FILENAME


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
