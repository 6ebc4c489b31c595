"""The agent's inbox and actions: claim, reply (delivered live), resolve, save a resolution as knowledge."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.deps import AgentPrincipal, RuntimeDep, SessionDep, SettingsDep
from api.routes.conversations import sse_response
from api.schemas import AcceptedDocument
from chat.conversations import agent_reply, author_names, claim, for_staff, inbox, messages_of, resolve
from chat.events import conversation_channel, inbox_channel
from chat.knowledge import save_resolution
from chat.views import conversation_view, message_view
from kb.documents import queue_or_fail

router = APIRouter(prefix="/v1/agent", tags=["agent"])


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=8000)


class KnowledgeIn(BaseModel):
    question: str = Field(min_length=3, max_length=2000)
    answer: str = Field(min_length=3, max_length=8000)
    title: str = Field(default="", max_length=300)


@router.get("/inbox")
def get_inbox(
    principal: AgentPrincipal, session: SessionDep, status: str = "open", reason: str | None = None
) -> dict[str, Any]:
    items = inbox(session, principal.workspace_id, view=status, agent_key_id=principal.key_id, reason=reason)
    return {
        "items": [
            {
                "id": item.conversation.id,
                "status": item.conversation.status.value,
                "escalation_reason": item.conversation.escalation_reason,
                "assigned_to_me": item.conversation.assigned_key_id == principal.key_id,
                "claimed": item.conversation.assigned_key_id is not None,
                "escalated_at": conversation_view(item.conversation, [], staff=True)["escalated_at"],
                "message_count": item.message_count,
                "last_message": message_view(item.last_message, staff=True) if item.last_message else None,
            }
            for item in items
        ]
    }


@router.get("/events")
async def inbox_events(request: Request, principal: AgentPrincipal) -> Any:
    """Server-sent events for the inbox: ``escalated`` and ``changed`` items of this workspace. (The key's
    database session ends when this returns: ``SessionDep`` is scoped to the route function.)"""
    return sse_response(request, inbox_channel(principal.workspace_id))


@router.post("/conversations/{conversation_id}/claim")
def claim_conversation(
    conversation_id: str, request: Request, principal: AgentPrincipal, session: SessionDep
) -> dict[str, Any]:
    conversation = for_staff(session, principal.workspace_id, conversation_id)
    claim(conversation, principal.key_id)
    session.commit()
    request.app.state.events.publish(
        conversation_channel(conversation.id), {"type": "status", "status": conversation.status.value}
    )
    _changed(request, conversation.workspace_id, conversation.id, conversation.status.value)
    messages = messages_of(session, conversation)
    return conversation_view(conversation, messages, staff=True, authors=author_names(session, messages))


@router.post("/conversations/{conversation_id}/reply", status_code=201)
def reply(
    conversation_id: str,
    body: ReplyIn,
    request: Request,
    principal: AgentPrincipal,
    session: SessionDep,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    conversation = for_staff(session, principal.workspace_id, conversation_id)
    message = agent_reply(session, conversation, principal.key_id, body.text)
    # What the agent names (the product, the order) stays in the conversation's focus for the bot's later turns.
    customer_turns = sum(1 for m in messages_of(session, conversation) if m.role == "customer")
    runtime.graph.record_turn(
        session, conversation.workspace_id, conversation.id, customer_turns, message.text or "", by_customer=False
    )
    session.commit()
    authors = {principal.key_id: principal.name}
    view = message_view(message, staff=False, authors=authors)
    request.app.state.events.publish(conversation_channel(conversation.id), {"type": "message", "message": view})
    _changed(request, conversation.workspace_id, conversation.id, conversation.status.value)
    return message_view(message, staff=True, authors=authors)


@router.post("/conversations/{conversation_id}/resolve")
def resolve_conversation(
    conversation_id: str, request: Request, principal: AgentPrincipal, session: SessionDep
) -> dict[str, Any]:
    conversation = for_staff(session, principal.workspace_id, conversation_id)
    resolve(conversation, principal.key_id)
    session.commit()
    request.app.state.events.publish(conversation_channel(conversation.id), {"type": "status", "status": "resolved"})
    _changed(request, conversation.workspace_id, conversation.id, "resolved")
    return {"id": conversation.id, "status": conversation.status.value}


@router.post("/conversations/{conversation_id}/knowledge", status_code=202, response_model=AcceptedDocument)
def save_as_knowledge(
    conversation_id: str,
    body: KnowledgeIn,
    request: Request,
    principal: AgentPrincipal,
    session: SessionDep,
    runtime: RuntimeDep,
    settings: SettingsDep,
) -> AcceptedDocument:
    """Turn the agent's resolution into a reviewed FAQ entry: a JSON FAQ document indexed like any other."""
    conversation = for_staff(session, principal.workspace_id, conversation_id)
    accepted = save_resolution(
        session,
        runtime.blobs,
        conversation,
        body.question,
        body.answer,
        body.title,
        reviewer=principal.name or principal.key_id,
        max_bytes=settings.max_upload_bytes,
    )
    session.commit()
    queue_or_fail(session, principal.workspace_id, accepted.to_index, request.app.state.enqueue)
    doc = accepted.documents[0]
    return AcceptedDocument(id=doc.id, filename=doc.filename, status=doc.status.value)


def _changed(request: Request, workspace_id: str, conversation_id: str, status: str) -> None:
    request.app.state.events.publish(
        inbox_channel(workspace_id), {"type": "changed", "conversation_id": conversation_id, "status": status}
    )
