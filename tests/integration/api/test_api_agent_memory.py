"""An agent's reply feeds the conversation's entity memory, so the bot's later turns keep its subject."""

from __future__ import annotations

import pytest

from core.db import session_scope
from tests.integration.api.apiworld import ApiWorld, bearer, escalate, start_conversation

pytestmark = pytest.mark.integration


def test_what_the_agent_names_comes_into_the_conversations_focus(world: ApiWorld) -> None:
    client, a = world.client, world.a
    conversation, token = start_conversation(client, a.widget)
    escalate(client, conversation, token)
    reply = client.post(
        f"/v1/agent/conversations/{conversation}/reply",
        headers=bearer(a.agent),
        json={"text": "Error code E-204 on the QN90A means the HDMI cable is loose."},
    )
    assert reply.status_code == 201, reply.text

    graph = client.app.state.runtime.graph  # type: ignore[attr-defined]
    with session_scope(world.settings) as session:
        focus = {entity.value.lower() for entity in graph.focus(session, a.workspace, conversation)}
    assert {"e-204", "qn90a"} <= focus, focus
