"""Browser sessions: a key exchanged for an HttpOnly cookie; every unsafe request that the cookie
authenticates must carry the session's CSRF token, or it is refused with 403 ``csrf_failed``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.integration.api.apiworld import ApiWorld, bearer, escalate, start_conversation

pytestmark = pytest.mark.integration


def _login(world: ApiWorld, key: str) -> tuple[TestClient, str]:
    """A second client (its own cookie jar) signed in with ``key``; returns it and the CSRF token."""
    browser = TestClient(create_app(world.settings, warm_up=False, enqueue=lambda _id: None))
    response = browser.post("/v1/auth/login", json={"key": key})
    assert response.status_code == 200, response.text
    return browser, response.json()["csrf_token"]


def test_login_sets_an_httponly_strict_cookie_and_me_returns_the_csrf_token(world: ApiWorld) -> None:
    browser = TestClient(create_app(world.settings, warm_up=False, enqueue=lambda _id: None))
    response = browser.post("/v1/auth/login", json={"key": world.a.agent})
    header = response.headers["set-cookie"].lower()
    assert header.startswith("bindesk_session=") and "httponly" in header and "samesite=strict" in header
    secret = browser.cookies["bindesk_session"]
    assert secret not in response.text  # the cookie value never reaches page scripts
    me = browser.get("/v1/auth/me").json()
    assert me["role"] == "agent" and me["workspace"] == world.a.workspace
    assert me["csrf_token"] == response.json()["csrf_token"]


def test_cookie_posts_need_the_csrf_token(world: ApiWorld) -> None:
    conversation, token = start_conversation(world.client, world.a.widget)
    escalate(world.client, conversation, token)
    browser, csrf = _login(world, world.a.agent)
    claim = f"/v1/agent/conversations/{conversation}/claim"

    without = browser.post(claim)
    wrong = browser.post(claim, headers={"X-CSRF-Token": csrf[:-2] + "xx"})
    empty = browser.post(claim, headers={"X-CSRF-Token": ""})
    for refused in (without, wrong, empty):
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
    # Refused means not done: the conversation still waits for an agent.
    assert (
        world.client.get(f"/v1/conversations/{conversation}", headers=bearer(world.a.agent)).json()["status"]
        == "escalated"
    )

    done = browser.post(claim, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and done.json()["status"] == "claimed"
    reply = browser.post(
        f"/v1/agent/conversations/{conversation}/reply", json={"text": "On it"}, headers={"X-CSRF-Token": csrf}
    )
    assert reply.status_code == 201


def test_safe_requests_with_the_cookie_need_no_token(world: ApiWorld) -> None:
    browser, _ = _login(world, world.a.agent)
    assert browser.get("/v1/agent/inbox").status_code == 200


def test_ops_uploads_through_the_cookie_need_the_token_too(world: ApiWorld) -> None:
    browser, csrf = _login(world, world.a.ops)
    files = [("files", ("notes.md", b"# Notes\n\nThe descale light blinks amber."))]
    refused = browser.post("/v1/kb/documents", files=files)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    assert browser.get("/v1/kb/documents").json() == []
    accepted = browser.post("/v1/kb/documents", files=files, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 202 and accepted.json()[0]["filename"] == "notes.md"
    deleted = browser.delete(f"/v1/kb/documents/{accepted.json()[0]['id']}")
    assert deleted.status_code == 403 and deleted.json()["error"]["code"] == "csrf_failed"


def test_another_sessions_token_does_not_pass(world: ApiWorld) -> None:
    """The token is bound to its session: agent A's token is no good with agent B's cookie."""
    conversation, token = start_conversation(world.client, world.a.widget)
    escalate(world.client, conversation, token)
    _, other_csrf = _login(world, world.a.agent)
    browser, _ = _login(world, world.a.agent)
    response = browser.post(f"/v1/agent/conversations/{conversation}/claim", headers={"X-CSRF-Token": other_csrf})
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"


def test_bearer_requests_need_no_csrf_token(world: ApiWorld) -> None:
    """CSRF rides on ambient credentials; a bearer key is not ambient, so API clients send no token."""
    conversation, token = start_conversation(world.client, world.a.widget)
    escalate(world.client, conversation, token)
    response = world.client.post(f"/v1/agent/conversations/{conversation}/claim", headers=bearer(world.a.agent))
    assert response.status_code == 200


def test_logout_needs_the_token_and_ends_the_session(world: ApiWorld) -> None:
    browser, csrf = _login(world, world.a.agent)
    refused = browser.post("/v1/auth/logout")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    assert browser.get("/v1/auth/me").status_code == 200
    assert browser.post("/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert browser.get("/v1/auth/me").status_code == 401
    assert browser.get("/v1/agent/inbox").status_code == 401
