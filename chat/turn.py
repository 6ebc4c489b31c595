"""One conversation turn: normalise inputs -> link entities -> retrieve -> decide -> generate -> persist.

Nothing is stored until the inputs pass their checks; then the customer's message, the graph memory and the
bot's message (with everything an agent needs later: transcript, OCR text, retrieved chunks with scores, the
decision and its reason) are written in the caller's transaction, which :func:`take_turn` commits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chat.conversations import escalate, messages_of, reopen_if_resolved
from chat.decide import Decision, decide
from chat.events import EventBus, conversation_channel, inbox_channel
from chat.evidence import Evidence, gather_evidence
from chat.inputs import NormalisedTurn, TurnInput, normalise
from chat.policy import screen
from chat.replies import answer_turn, canned_reply
from chat.workspace_vocabulary import workspace_vocabulary
from core.models import Conversation, ConversationStatus, Message, utcnow
from kb.runtime import Runtime
from kg.types import TurnContext

log = logging.getLogger(__name__)
HISTORY_MESSAGES = 8  # earlier turns handed on: retrieval uses the last few, the generator up to six


def take_turn(
    runtime: Runtime,
    session: Session,
    conversation: Conversation,
    turn: TurnInput,
    *,
    events: EventBus | None = None,
) -> dict[str, Any]:
    """Run one customer turn and return the ``ask --json`` object (plus ``message_id`` and ``status``)."""
    started = time.perf_counter()
    # Raises on bad input before anything is written; a voice note is corrected against the workspace's words.
    norm = normalise(runtime, turn, vocabulary=lambda: workspace_vocabulary(session, conversation.workspace_id))
    reopen_if_resolved(conversation)
    history = messages_of(session, conversation)
    customer = _store_customer_message(runtime, session, conversation, norm)
    turn_index = sum(1 for m in history if m.role == "customer")
    context = runtime.graph.record_turn(
        session, conversation.workspace_id, conversation.id, turn_index, " ".join([norm.words, norm.ocr_text])
    )
    if conversation.status in (ConversationStatus.ESCALATED, ConversationStatus.CLAIMED):
        # A person has this conversation: the bot stays quiet, the agent sees the message live.
        session.commit()
        _publish_customer(events, conversation, customer)
        return _result(conversation, None, norm, context, None, Decision("handoff", None, "a person is handling it"))
    verdict = screen(norm.said)
    evidence: Evidence | None = None
    if verdict.kind == "none" and (norm.words or norm.image is not None):
        evidence = gather_evidence(
            runtime,
            session,
            conversation.workspace_id,
            norm,
            context,
            turn_history(history),
            answered=last_answer_chunks(history),
        )
    decision = decide(verdict, evidence, norm, conversation, runtime.settings)
    bot = _bot_message(runtime, session, conversation, norm, context, evidence, decision, events)
    if bot.decision == "answer" and bot.text:
        # The answer's entities keep the subject in focus (at the memory's lower bot weight) for the next turn.
        runtime.graph.record_turn(
            session, conversation.workspace_id, conversation.id, turn_index, bot.text, by_customer=False
        )
    bot.latency_ms = (time.perf_counter() - started) * 1000
    timings = {**norm.timings_ms, **(evidence.timings_ms if evidence else {}), **(bot.timings_ms or {})}
    bot.timings_ms = {stage: round(ms, 1) for stage, ms in {**timings, "total": bot.latency_ms}.items()}
    _update_conversation(conversation, bot)
    session.commit()
    _publish(events, conversation, customer, bot)
    return _result(conversation, bot, norm, context, evidence, decision)


def _store_customer_message(
    runtime: Runtime, session: Session, conversation: Conversation, norm: NormalisedTurn
) -> Message:
    ws = conversation.workspace_id
    message = Message(
        conversation_id=conversation.id,
        workspace_id=ws,
        role="customer",
        text=norm.text,
        transcript=norm.transcript.text if norm.transcript else None,
        transcript_language=norm.transcript.language if norm.transcript else None,
        ocr_text=norm.ocr_text or None,
        image_blob=runtime.blobs.put(ws, "images", norm.image_bytes) if norm.image_bytes else None,
        image_media_type=norm.image_media_type,
        audio_blob=runtime.blobs.put(ws, "audio", norm.audio_bytes) if norm.audio_bytes else None,
        audio_media_type=norm.audio_media_type,
        created_at=utcnow(),
    )
    session.add(message)
    conversation.updated_at = utcnow()
    session.flush()
    return message


def _bot_message(
    runtime: Runtime,
    session: Session,
    conversation: Conversation,
    norm: NormalisedTurn,
    context: TurnContext,
    evidence: Evidence | None,
    decision: Decision,
    events: EventBus | None,
) -> Message:
    message = Message(
        conversation_id=conversation.id,
        workspace_id=conversation.workspace_id,
        role="bot",
        decision=decision.kind,
        escalation_reason=decision.reason,
        decision_detail=decision.detail or None,
        confidence=evidence.answerability if evidence else None,
        query=evidence.query if evidence else None,
        retrieved=evidence.retrieved_view() if evidence else [],
        entities=[{"type": e.type, "value": e.value} for e in context.entities],
        visual_tags=evidence.visual_tags if evidence else [],
        created_at=utcnow(),
    )
    if decision.kind == "answer" and evidence is not None:
        answered = answer_turn(runtime, session, conversation, norm, evidence, message, events)
        if not answered:  # nothing the generator could ground: that is no evidence, not an answer
            decision = Decision("escalate", "no_evidence", "no sentence of the retrieved passages answers it")
            message.decision, message.escalation_reason = decision.kind, decision.reason
            message.decision_detail = "; ".join(d for d in (message.decision_detail, decision.detail) if d)
    if message.decision != "answer":
        message.text = canned_reply(decision, norm)
        message.citations = []
    session.add(message)
    session.flush()
    return message


def _update_conversation(conversation: Conversation, bot: Message) -> None:
    if bot.decision == "answer":
        conversation.failed_turns = 0
    elif bot.decision == "clarify":
        conversation.failed_turns += 1
    elif bot.decision == "escalate":
        escalate(conversation, bot.escalation_reason or "no_evidence")
    conversation.updated_at = utcnow()


def _publish(events: EventBus | None, conversation: Conversation, customer: Message, bot: Message) -> None:
    if events is None:
        return
    from chat.views import message_view

    _publish_customer(events, conversation, customer)
    events.publish(
        conversation_channel(conversation.id), {"type": "message", "message": message_view(bot, staff=False)}
    )
    if bot.decision == "escalate":
        status = conversation.status.value  # "escalated" (or unchanged when a person already had it)
        events.publish(conversation_channel(conversation.id), {"type": "status", "status": status})
        events.publish(
            inbox_channel(conversation.workspace_id),
            {"type": "escalated", "conversation_id": conversation.id, "reason": bot.escalation_reason},
        )


def _publish_customer(events: EventBus | None, conversation: Conversation, customer: Message) -> None:
    if events is None:
        return
    from chat.views import message_view

    events.publish(
        conversation_channel(conversation.id), {"type": "message", "message": message_view(customer, staff=False)}
    )
    if conversation.status in (ConversationStatus.ESCALATED, ConversationStatus.CLAIMED):
        events.publish(
            inbox_channel(conversation.workspace_id), {"type": "changed", "conversation_id": conversation.id}
        )


def _result(
    conversation: Conversation,
    bot: Message | None,
    norm: NormalisedTurn,
    context: TurnContext,
    evidence: Evidence | None,
    decision: Decision,
) -> dict[str, Any]:
    escalated = conversation.status in (ConversationStatus.ESCALATED, ConversationStatus.CLAIMED)
    return {
        "conversation_id": conversation.id,
        "message_id": bot.id if bot else None,
        "answer": bot.text if bot is not None and bot.decision == "answer" else "",
        "reply": bot.text if bot is not None else "",
        "decision": bot.decision if bot is not None else decision.kind,
        "escalated": escalated,
        "escalation_reason": conversation.escalation_reason if escalated else None,
        "confidence": round(evidence.answerability, 4) if evidence else None,
        "citations": bot.citations if bot is not None else [],
        "transcript": norm.transcript.text if norm.transcript else None,
        "ocr_text": norm.ocr_text or None,
        "entities": [{"type": e.type, "value": e.value} for e in context.entities],
        "status": conversation.status.value,
        "timings_ms": bot.timings_ms if bot is not None else norm.timings_ms,
    }


def turn_history(messages: Sequence[Message], limit: int = HISTORY_MESSAGES) -> list[tuple[str, str]]:
    """The conversation before this turn as ``(role, text)``, oldest first, for retrieval and generation.

    Customer turns (their text, or the transcript of a voice message), the bot's answers and the agents'
    replies; the bot's canned replies (clarify, escalate, hand-off) and system notes say nothing about
    the subject and are left out.
    """
    out: list[tuple[str, str]] = []
    for m in messages:
        if m.role == "customer":
            text = m.text or m.transcript or ""
        elif m.role == "agent" or (m.role == "bot" and m.decision == "answer"):
            text = m.text or ""
        else:
            continue
        if text.strip():
            out.append((m.role, text))
    return out[-limit:] if limit > 0 else []


def last_answer_chunks(messages: Sequence[Message]) -> list[str]:
    """The chunks the bot's latest answer cited, in citation order (empty when it has not answered yet, or when a
    person has replied since): what "that" in the next turn most likely points at, whatever the conversation
    was about before."""
    for m in reversed(messages):
        if m.role == "agent":
            return []
        if m.role == "bot" and m.decision == "answer" and m.citations:
            return list(dict.fromkeys(str(c["chunk_id"]) for c in m.citations if c.get("chunk_id")))
    return []


def customer_turn_count(session: Session, conversation: Conversation) -> int:
    return int(
        session.scalar(
            select(func.count()).where(Message.conversation_id == conversation.id, Message.role == "customer")
        )
        or 0
    )
