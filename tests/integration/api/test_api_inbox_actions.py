"""Two agents of one workspace on one escalated conversation: whoever claimed it works it, the other cannot
reply to it or close it under them."""

from __future__ import annotations

import pytest

from core.db import session_scope
from core.models import Role
from core.workspaces import create_key
from tests.integration.api.apiworld import ApiWorld, bearer, escalate, start_conversation

pytestmark = pytest.mark.integration


def test_only_the_agent_who_claimed_a_conversation_replies_and_resolves(world: ApiWorld) -> None:
    client = world.client
    with session_scope(world.settings) as session:
        _, second_agent = create_key(session, world.a.workspace, Role.AGENT, name="Ana")
    conversation, token = start_conversation(client, world.a.widget)
    escalate(client, conversation, token)
    base = f"/v1/agent/conversations/{conversation}"
    first, second = bearer(world.a.agent), bearer(second_agent)

    assert client.post(f"{base}/claim", headers=first).status_code == 200
    for action, body in (("claim", None), ("reply", {"text": "I'll take it from here"}), ("resolve", None)):
        refused = client.post(f"{base}/{action}", headers=second, json=body)
        assert refused.status_code == 409, (action, refused.text)
        assert refused.json()["error"]["code"] == "conflict"
    view = client.get(f"/v1/conversations/{conversation}", headers=first).json()
    assert view["status"] == "claimed" and not any(m["role"] == "agent" for m in view["messages"])

    assert client.post(f"{base}/resolve", headers=first).json()["status"] == "resolved"
    # Resolving again changes nothing and is no error; a resolved conversation takes no reply.
    assert client.post(f"{base}/resolve", headers=second).json()["status"] == "resolved"
    assert client.post(f"{base}/reply", headers=first, json={"text": "one more thing"}).status_code == 409
