"""Rate limits on what the public widget key can start (conversations, customer turns): 429 with Retry-After
past the limit, per workspace; counted in Redis when the API runs with one, so every API process shares them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.ratelimit import RedisRateLimiter
from core.db import migrate
from core.settings import Settings
from tests.integration.api.apiworld import ApiWorld, bearer, start_conversation
from tests.integration.api.conftest import UNREACHABLE_MILVUS, _world

pytestmark = pytest.mark.integration


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[ApiWorld]:
    settings = Settings(
        data_dir=tmp_path / "var",
        milvus_uri=UNREACHABLE_MILVUS,
        redis_url="",
        rate_limit_conversations_per_hour=3,
        rate_limit_turns_per_minute=2,
    )
    migrate(settings)
    yield from _world(settings)


def test_a_site_key_cannot_open_conversations_without_end(limited: ApiWorld) -> None:
    client = limited.client
    for _ in range(3):
        start_conversation(client, limited.a.widget)
    refused = client.post("/v1/conversations", headers=bearer(limited.a.widget))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    start_conversation(client, limited.b.widget)  # another workspace counts on its own


def test_turns_past_the_limit_are_refused_before_anything_runs(limited: ApiWorld) -> None:
    client = limited.client
    conversation, token = start_conversation(client, limited.a.widget)
    path = f"/v1/conversations/{conversation}/messages"
    # Each attempt counts, even one refused for its content.
    assert [client.post(path, headers=bearer(token), data={"text": " "}).status_code for _ in range(2)] == [422, 422]
    refused = client.post(path, headers=bearer(token), data={"text": "How do I pair the remote?"})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    messages = client.get(f"/v1/conversations/{conversation}", headers=bearer(token)).json()["messages"]
    assert messages == []  # nothing of the refused turn was stored


def test_api_processes_share_their_counts_through_redis(redis_url: str) -> None:
    key = f"turn:{uuid.uuid4().hex}:10.0.0.1"
    first, second = RedisRateLimiter(redis_url), RedisRateLimiter(redis_url)
    assert first.hit(key, 2, 60) is None and second.hit(key, 2, 60) is None
    assert first.hit(key, 2, 60) is not None and second.hit(key, 2, 60) is not None


def test_a_down_limit_store_lets_customers_through() -> None:
    limiter = RedisRateLimiter("redis://127.0.0.1:9/0")
    assert all(limiter.hit("turn:ws:10.0.0.1", 1, 60) is None for _ in range(3))
