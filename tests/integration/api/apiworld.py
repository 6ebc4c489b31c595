"""Helpers of the API boundary tests: a tenant's keys, and the few calls every test makes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient

from core.db import session_scope
from core.models import Message, utcnow
from core.settings import Settings


@dataclass(frozen=True)
class Tenant:
    workspace: str
    ops: str
    agent: str
    widget: str
    agent_key_id: str


@dataclass
class ApiWorld:
    client: TestClient
    settings: Settings
    a: Tenant
    b: Tenant


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def start_conversation(client: TestClient, widget_key: str) -> tuple[str, str]:
    response = client.post("/v1/conversations", headers=bearer(widget_key))
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], body["token"]


def upload(client: TestClient, ops_key: str, filename: str, data: bytes) -> str:
    response = client.post("/v1/kb/documents", headers=bearer(ops_key), files=[("files", (filename, data))])
    assert response.status_code == 202, response.text
    return str(response.json()[0]["id"])


def escalate(client: TestClient, conversation_id: str, token: str) -> None:
    response = client.post(f"/v1/conversations/{conversation_id}/handoff", headers=bearer(token))
    assert response.status_code == 200, response.text


def store_bot_answer(settings: Settings, workspace: str, conversation_id: str, text: str = "Hold MENU.") -> str:
    """A bot answer as the chat turn stores it (the rows feedback and the staff view read), without the models."""
    with session_scope(settings) as session:
        message = Message(
            conversation_id=conversation_id,
            workspace_id=workspace,
            role="bot",
            text=text,
            decision="answer",
            confidence=0.8,
            query="how to pair",
            retrieved=[{"chunk_id": "c1", "source": "manual.pdf", "page": 3, "score": 0.03, "snippet": text}],
            citations=[{"chunk_id": "c1", "source": "manual.pdf", "page": 3, "score": 0.03, "snippet": text}],
            created_at=utcnow(),
        )
        session.add(message)
        session.flush()
        return message.id


def same_as_missing(found: dict[str, object], missing: dict[str, object], real_id: str, missing_id: str) -> bool:
    """True when two error bodies are identical once the ids they name are set aside."""
    return str(found).replace(real_id, "<id>") == str(missing).replace(missing_id, "<id>")
