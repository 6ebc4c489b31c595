"""The ingest queue's broker is down: uploads and saved resolutions answer 503 and end ``failed`` with the reason,
never ``queued`` with no task behind them; once the broker is back, the same bytes are accepted again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.db import migrate
from core.settings import Settings
from tests.integration.api.apiworld import Tenant, bearer, escalate, start_conversation
from tests.integration.api.conftest import UNREACHABLE_MILVUS, _tenant

pytestmark = pytest.mark.integration

NOTHING_LISTENS = "redis://127.0.0.1:9/0"


@pytest.fixture
def broker_down(tmp_path: Path) -> Iterator[tuple[TestClient, Tenant]]:
    """The real app with its real Celery task queue, pointed at a broker nothing answers."""
    settings = Settings(
        data_dir=tmp_path / "var",
        milvus_uri=UNREACHABLE_MILVUS,
        redis_url="",
        broker_url=NOTHING_LISTENS,
        result_backend=NOTHING_LISTENS,
    )
    migrate(settings)
    tenant = _tenant(settings, f"q{uuid.uuid4().hex[:8]}")
    with TestClient(create_app(settings, warm_up=False)) as client:
        yield client, tenant


def _document(client: TestClient, tenant: Tenant, filename: str) -> dict[str, object]:
    listed = client.get("/v1/kb/documents", headers=bearer(tenant.ops)).json()
    return next(d for d in listed if d["filename"] == filename)


def test_an_upload_while_the_broker_is_down_fails_clearly(broker_down: tuple[TestClient, Tenant]) -> None:
    client, tenant = broker_down
    files = [("files", ("pairing.md", b"# Pairing\n\nHold MENU and VOL- for five seconds.\n"))]
    answer = client.post("/v1/kb/documents", headers=bearer(tenant.ops), files=files)
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "service_unavailable"
    document = _document(client, tenant, "pairing.md")
    assert document["status"] == "failed" and "ingest queue" in str(document["error"])


def test_a_resolution_saved_while_the_broker_is_down_fails_clearly(broker_down: tuple[TestClient, Tenant]) -> None:
    client, tenant = broker_down
    conversation, token = start_conversation(client, tenant.widget)
    escalate(client, conversation, token)
    path = f"/v1/agent/conversations/{conversation}/knowledge"
    body = {"question": "Does the X200 work with HomeKit?", "answer": "Yes, since firmware 2.1."}
    answer = client.post(path, headers=bearer(tenant.agent), json=body)
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "service_unavailable"
    documents = client.get("/v1/kb/documents", headers=bearer(tenant.ops)).json()
    assert len(documents) == 1
    assert documents[0]["status"] == "failed" and "ingest queue" in str(documents[0]["error"])
    # Saving it again is new work (not skipped as "the same bytes, already queued"): it tries the queue again.
    again = client.post(path, headers=bearer(tenant.agent), json=body)
    assert again.status_code == 503
