"""/readyz: 503 while the vector store cannot answer, saying which dependency without its address; 200 once it
answers."""

from __future__ import annotations

import pytest

from tests.integration.api.apiworld import ApiWorld
from tests.integration.api.conftest import UNREACHABLE_MILVUS

pytestmark = pytest.mark.integration


def test_not_ready_while_the_vector_store_is_down_and_no_address_leaks(world: ApiWorld) -> None:
    response = world.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready" and body["error"]["code"] == "service_unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["vector_store"].startswith("unavailable")
    host = UNREACHABLE_MILVUS.removeprefix("http://")
    assert host not in response.text and str(world.settings.data_dir) not in response.text
    assert world.client.get("/healthz").status_code == 200  # alive, just not ready


def test_ready_when_the_database_and_the_vector_store_answer(live_world: ApiWorld) -> None:
    response = live_world.client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "vector_store": "ok"}
