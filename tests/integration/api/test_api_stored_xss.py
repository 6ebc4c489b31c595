"""Stored text comes back exactly as it was written, as JSON, never as markup: the pages then render it as
text (the browser tests check that part). The payload is the classic one that runs when parsed as HTML."""

from __future__ import annotations

import pytest

from tests.integration.api.apiworld import ApiWorld, bearer, escalate, start_conversation, upload

pytestmark = pytest.mark.integration

PAYLOAD = "<img src=x onerror=alert(1)>"


def test_an_agent_reply_comes_back_as_the_same_text_in_json(world: ApiWorld) -> None:
    client = world.client
    conversation, token = start_conversation(client, world.a.widget)
    escalate(client, conversation, token)
    sent = client.post(
        f"/v1/agent/conversations/{conversation}/reply", headers=bearer(world.a.agent), json={"text": PAYLOAD}
    )
    assert sent.status_code == 201
    read = client.get(f"/v1/conversations/{conversation}", headers=bearer(token))
    assert read.headers["content-type"].startswith("application/json")
    assert [m["text"] for m in read.json()["messages"] if m["role"] == "agent"] == [PAYLOAD]


def test_a_document_named_like_markup_keeps_its_name(world: ApiWorld) -> None:
    name = f"{PAYLOAD}.md"
    doc = upload(world.client, world.a.ops, name, b"# Descaling\n\nUse one part descaler to four parts water.")
    listed = world.client.get("/v1/kb/documents", headers=bearer(world.a.ops)).json()
    assert [d["filename"] for d in listed if d["id"] == doc] == [name]


def test_a_knowledge_entry_keeps_markup_as_text(world: ApiWorld) -> None:
    client = world.client
    conversation, token = start_conversation(client, world.a.widget)
    escalate(client, conversation, token)
    saved = client.post(
        f"/v1/agent/conversations/{conversation}/knowledge",
        headers=bearer(world.a.agent),
        json={"question": f"What is {PAYLOAD}?", "answer": PAYLOAD},
    )
    assert saved.status_code == 202
    from core.blobs import FileBlobStore
    from core.db import session_scope
    from core.models import Document

    with session_scope(world.settings) as session:
        document = session.get(Document, saved.json()["id"])
        assert document is not None
        blob_key = document.blob_key
    entry = FileBlobStore(world.settings.blobs_path).read(blob_key).decode()
    assert PAYLOAD in entry  # stored verbatim: escaping is the renderer's job, not the store's


@pytest.mark.slow
def test_a_customer_message_comes_back_as_the_same_text(live_world: ApiWorld) -> None:
    client = live_world.client
    conversation, token = start_conversation(client, live_world.a.widget)
    turn = client.post(f"/v1/conversations/{conversation}/messages", headers=bearer(token), data={"text": PAYLOAD})
    assert turn.status_code == 200, turn.text
    for key in (token, live_world.a.agent):
        messages = client.get(f"/v1/conversations/{conversation}", headers=bearer(key)).json()["messages"]
        assert [m["text"] for m in messages if m["role"] == "customer"] == [PAYLOAD]
