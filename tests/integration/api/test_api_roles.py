"""Role and tenancy boundaries of the HTTP API: the wrong role is refused (403), no key is unauthenticated
(401), and another workspace's or another customer's object answers 404 exactly as a missing one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration.api.apiworld import (
    ApiWorld,
    bearer,
    escalate,
    same_as_missing,
    start_conversation,
    store_bot_answer,
    upload,
)

pytestmark = pytest.mark.integration

FAQ = b'[{"question": "How do I pair the remote?", "answer": "Hold MENU and VOL- for five seconds."}]'


def _call(world: ApiWorld, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    if body == "files":
        return world.client.request(method, path, headers=headers, files=[("files", ("faq.json", FAQ))])
    return world.client.request(method, path, headers=headers, json=body)


def _endpoints(world: ApiWorld) -> list[tuple[str, str, str, Any]]:
    """(method, path, the one role allowed, body) for every key-authenticated route."""
    doc = upload(world.client, world.a.ops, "faq.json", FAQ)
    conversation, _ = start_conversation(world.client, world.a.widget)
    agent = f"/v1/agent/conversations/{conversation}"
    return [
        ("GET", "/v1/kb/documents", "ops", None),
        ("POST", "/v1/kb/documents", "ops", "files"),
        ("GET", f"/v1/kb/documents/{doc}", "ops", None),
        ("DELETE", f"/v1/kb/documents/{doc}", "ops", None),
        ("POST", "/v1/kb/search", "ops", {"query": "pair the remote", "k": 3}),
        ("GET", "/v1/ops/stats", "ops", None),
        ("POST", "/v1/conversations", "widget", None),
        ("GET", "/v1/agent/inbox", "agent", None),
        ("GET", "/v1/agent/events", "agent", None),
        ("POST", f"{agent}/claim", "agent", None),
        ("POST", f"{agent}/reply", "agent", {"text": "Hello"}),
        ("POST", f"{agent}/resolve", "agent", None),
        ("POST", f"{agent}/knowledge", "agent", {"question": "How to pair?", "answer": "Hold MENU."}),
    ]


def test_every_key_route_refuses_the_other_roles_with_403(world: ApiWorld) -> None:
    keys = {"ops": world.a.ops, "agent": world.a.agent, "widget": world.a.widget}
    for method, path, allowed, body in _endpoints(world):
        for role, key in keys.items():
            if role == allowed:
                continue
            response = _call(world, method, path, bearer(key), body)
            assert response.status_code == 403, (method, path, role, response.text)
            assert response.json()["error"]["code"] == "forbidden"
            article = "an" if role in ("ops", "agent") else "a"
            assert f"yours is {article} {role} key" in response.json()["error"]["message"]


def test_every_key_route_answers_401_without_a_key_or_with_an_unknown_one(world: ApiWorld) -> None:
    for method, path, _allowed, body in _endpoints(world):
        for headers in ({}, bearer("bk_agent_not-a-real-key"), {"Authorization": "Basic abc"}):
            response = _call(world, method, path, headers, body)
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.json()["error"]["code"] == "unauthenticated"


def test_the_right_role_gets_through(world: ApiWorld) -> None:
    """The refusals above are not blanket: the same routes work for the role they are for."""
    client, a = world.client, world.a
    doc = upload(client, a.ops, "faq.json", FAQ)
    assert client.get("/v1/kb/documents", headers=bearer(a.ops)).json()[0]["id"] == doc
    assert client.get(f"/v1/kb/documents/{doc}", headers=bearer(a.ops)).status_code == 200
    assert client.get("/v1/ops/stats?days=7", headers=bearer(a.ops)).status_code == 200
    conversation, token = start_conversation(client, a.widget)
    escalate(client, conversation, token)
    inbox = client.get("/v1/agent/inbox", headers=bearer(a.agent)).json()["items"]
    assert [item["id"] for item in inbox] == [conversation]
    agent = f"/v1/agent/conversations/{conversation}"
    assert client.post(f"{agent}/claim", headers=bearer(a.agent)).json()["status"] == "claimed"
    assert client.post(f"{agent}/reply", headers=bearer(a.agent), json={"text": "Hi"}).status_code == 201
    saved = client.post(
        f"{agent}/knowledge", headers=bearer(a.agent), json={"question": "Pair?", "answer": "Hold MENU."}
    )
    assert saved.status_code == 202 and saved.json()["filename"] == f"resolution-{conversation}.json"
    assert client.post(f"{agent}/resolve", headers=bearer(a.agent)).json()["status"] == "resolved"


def test_another_workspaces_document_is_404_like_a_missing_one(world: ApiWorld) -> None:
    client = world.client
    doc = upload(client, world.a.ops, "faq.json", FAQ)
    missing = uuid.uuid4().hex
    foreign = client.get(f"/v1/kb/documents/{doc}", headers=bearer(world.b.ops))
    absent = client.get(f"/v1/kb/documents/{missing}", headers=bearer(world.b.ops))
    assert foreign.status_code == absent.status_code == 404
    assert same_as_missing(foreign.json(), absent.json(), doc, missing)
    assert doc not in {d["id"] for d in client.get("/v1/kb/documents", headers=bearer(world.b.ops)).json()}


def test_deleting_another_workspaces_document_is_404_and_leaves_it(live_world: ApiWorld) -> None:
    client = live_world.client
    doc = upload(client, live_world.a.ops, "faq.json", FAQ)
    missing = uuid.uuid4().hex
    foreign = client.delete(f"/v1/kb/documents/{doc}", headers=bearer(live_world.b.ops))
    absent = client.delete(f"/v1/kb/documents/{missing}", headers=bearer(live_world.b.ops))
    assert foreign.status_code == absent.status_code == 404
    assert same_as_missing(foreign.json(), absent.json(), doc, missing)
    assert client.get(f"/v1/kb/documents/{doc}", headers=bearer(live_world.a.ops)).status_code == 200


def test_another_workspaces_conversation_is_404_like_a_missing_one_for_agents(world: ApiWorld) -> None:
    client = world.client
    conversation, token = start_conversation(client, world.a.widget)
    escalate(client, conversation, token)
    missing = uuid.uuid4().hex
    intruder = bearer(world.b.agent)
    requests: list[tuple[str, str, Any]] = [
        ("GET", "/v1/conversations/{id}", None),
        ("POST", "/v1/agent/conversations/{id}/claim", None),
        ("POST", "/v1/agent/conversations/{id}/reply", {"text": "I am not from your company"}),
        ("POST", "/v1/agent/conversations/{id}/resolve", None),
        ("POST", "/v1/agent/conversations/{id}/knowledge", {"question": "Pair?", "answer": "Hold MENU."}),
    ]
    for method, template, body in requests:
        foreign = client.request(method, template.format(id=conversation), headers=intruder, json=body)
        absent = client.request(method, template.format(id=missing), headers=intruder, json=body)
        assert foreign.status_code == absent.status_code == 404, (template, foreign.text)
        assert same_as_missing(foreign.json(), absent.json(), conversation, missing)
    assert client.get("/v1/agent/inbox", headers=intruder).json()["items"] == []
    # Nothing the intruder tried changed the conversation.
    view = client.get(f"/v1/conversations/{conversation}", headers=bearer(world.a.agent)).json()
    assert view["status"] == "escalated" and all(m["role"] != "agent" for m in view["messages"])


def test_another_customers_token_is_404_like_a_missing_conversation(world: ApiWorld) -> None:
    client = world.client
    mine, my_token = start_conversation(client, world.a.widget)
    _, other_token = start_conversation(client, world.a.widget)
    bot_message = store_bot_answer(world.settings, world.a.workspace, mine)
    missing = uuid.uuid4().hex
    for method, template, form in [
        ("GET", "/v1/conversations/{id}", None),
        ("POST", "/v1/conversations/{id}/messages", {"text": "what did they ask?"}),
        ("POST", "/v1/conversations/{id}/handoff", None),
        ("GET", "/v1/conversations/{id}/events", None),
        ("GET", "/v1/conversations/{id}/messages/" + bot_message + "/image", None),
    ]:
        foreign = client.request(method, template.format(id=mine), headers=bearer(other_token), data=form)
        absent = client.request(method, template.format(id=missing), headers=bearer(other_token), data=form)
        assert foreign.status_code == absent.status_code == 404, (template, foreign.text)
        assert same_as_missing(foreign.json(), absent.json(), mine, missing)
    rated = client.post(f"/v1/messages/{bot_message}/feedback", headers=bearer(other_token), json={"rating": "up"})
    never = client.post(f"/v1/messages/{missing}/feedback", headers=bearer(other_token), json={"rating": "up"})
    assert rated.status_code == never.status_code == 404
    assert same_as_missing(rated.json(), never.json(), bot_message, missing)  # names no conversation
    assert (
        client.post(f"/v1/messages/{bot_message}/feedback", headers=bearer(my_token), json={"rating": "up"}).status_code
        == 201
    )


def test_a_conversation_without_its_token_is_404_whatever_else_is_sent(world: ApiWorld) -> None:
    """No existence oracle: no credentials, a widget key, or another workspace's key all read as missing."""
    client = world.client
    conversation, _ = start_conversation(client, world.a.widget)
    for headers in ({}, bearer(world.a.widget), bearer(world.b.ops), bearer("bkc_made-up-token")):
        response = client.get(f"/v1/conversations/{conversation}", headers=headers)
        assert response.status_code == 404, (headers, response.text)


def test_customers_see_their_conversation_without_the_bots_internals(world: ApiWorld) -> None:
    client = world.client
    conversation, token = start_conversation(client, world.a.widget)
    store_bot_answer(world.settings, world.a.workspace, conversation)
    customer = client.get(f"/v1/conversations/{conversation}", headers=bearer(token)).json()
    staff = client.get(f"/v1/conversations/{conversation}", headers=bearer(world.a.agent)).json()
    assert customer["messages"][0]["citations"] and "retrieved" not in customer["messages"][0]
    assert "query" not in customer["messages"][0] and "assigned_key_id" not in customer
    assert staff["messages"][0]["retrieved"][0]["source"] == "manual.pdf"
    assert staff["messages"][0]["query"] == "how to pair"


def test_agents_rate_only_their_own_workspaces_answers(world: ApiWorld) -> None:
    client = world.client
    conversation, _ = start_conversation(client, world.a.widget)
    bot_message = store_bot_answer(world.settings, world.a.workspace, conversation)
    body = {"rating": "down", "reason": "wrong product"}
    assert (
        client.post(f"/v1/messages/{bot_message}/feedback", headers=bearer(world.b.agent), json=body).status_code == 404
    )
    saved = client.post(f"/v1/messages/{bot_message}/feedback", headers=bearer(world.a.agent), json=body)
    assert saved.status_code == 201 and saved.json() == {
        "message_id": bot_message,
        "rating": -1,
        "reason": "wrong product",
        "by": "agent",
    }


def test_only_staff_keys_can_log_in_to_the_pages(world: ApiWorld) -> None:
    client = world.client
    widget = client.post("/v1/auth/login", json={"key": world.a.widget})
    assert widget.status_code == 403 and "set-cookie" not in widget.headers
    unknown = client.post("/v1/auth/login", json={"key": "bk_agent_unknown-key-123"})
    assert unknown.status_code == 401 and "set-cookie" not in unknown.headers
