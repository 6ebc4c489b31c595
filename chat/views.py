"""What clients see of conversations and messages (JSON-ready dicts).

Customers see their conversation without internals; staff also see what the bot retrieved, its decision
and reasons. Media are referenced by URL, never inlined. Text is returned as stored (plain text; the pages
render it as text, never as HTML).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chat.conversations import aware
from core.models import Conversation, Message

AGENT_FALLBACK_NAME = "Support agent"


def message_view(message: Message, *, staff: bool, authors: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``authors`` maps key ids to display names (agents' names show beside their replies)."""
    base = f"/v1/conversations/{message.conversation_id}/messages/{message.id}"
    view: dict[str, Any] = {
        "id": message.id,
        "role": message.role,
        "text": message.text,
        "transcript": message.transcript,
        "ocr_text": message.ocr_text,
        "image_url": f"{base}/image" if message.image_blob else None,
        "audio_url": f"{base}/audio" if message.audio_blob else None,
        "created_at": _iso(message),
    }
    if message.role == "agent":
        name = (authors or {}).get(message.author_key_id or "", "")
        view["author"] = name or AGENT_FALLBACK_NAME
    if message.role == "bot":
        view.update(
            decision=message.decision,
            escalated=message.decision == "escalate",
            escalation_reason=message.escalation_reason,
            confidence=message.confidence,
            citations=message.citations or [],
        )
    if staff:
        view.update(
            visual_tags=message.visual_tags or [],
            entities=message.entities or [],
            query=message.query,
            decision_detail=message.decision_detail,
            retrieved=message.retrieved or [],
            timings_ms=message.timings_ms or {},
            transcript_language=message.transcript_language,
            author_key_id=message.author_key_id,
        )
    return view


def conversation_view(
    conversation: Conversation,
    messages: list[Message],
    *,
    staff: bool,
    authors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": conversation.id,
        "status": conversation.status.value,
        "escalation_reason": conversation.escalation_reason,
        "created_at": _iso_dt(conversation.created_at),
        "messages": [message_view(m, staff=staff, authors=authors) for m in messages],
    }
    if staff:
        view.update(
            assigned_key_id=conversation.assigned_key_id,
            reopened_count=conversation.reopened_count,
            escalated_at=_iso_dt(conversation.escalated_at),
            resolved_at=_iso_dt(conversation.resolved_at),
        )
    return view


def _iso(message: Message) -> str | None:
    return _iso_dt(message.created_at)


def _iso_dt(moment: Any) -> str | None:
    value = aware(moment)
    return value.isoformat() if value is not None else None
