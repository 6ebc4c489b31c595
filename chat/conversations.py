"""Conversations as data: create, find (workspace- and token-scoped), the inbox, and agent actions.

Access rules: a customer's token opens only its own conversation; staff keys open conversations of their own
workspace. Anything else answers :class:`NotFound`, exactly like a missing conversation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import Conflict, InvalidInput, NotFound
from core.ids import hash_secret, new_token
from core.models import ApiKey, Conversation, ConversationStatus, Feedback, Message, utcnow
from core.workspaces import ensure_workspace


def create_conversation(session: Session, workspace_id: str) -> tuple[Conversation, str]:
    """A new conversation and its customer token (shown once; only its hash is stored)."""
    ensure_workspace(session, workspace_id)
    token = f"bkc_{new_token(24)}"
    conversation = Conversation(workspace_id=workspace_id, token_hash=hash_secret(token))
    session.add(conversation)
    session.flush()
    return conversation, token


def for_customer(session: Session, conversation_id: str, token: str | None) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or not token or conversation.token_hash != hash_secret(token):
        raise NotFound(f"no conversation {conversation_id!r}")
    return conversation


def for_staff(session: Session, workspace_id: str, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.workspace_id != workspace_id:
        raise NotFound(f"no conversation {conversation_id!r}")
    return conversation


def messages_of(session: Session, conversation: Conversation) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id, Message.workspace_id == conversation.workspace_id)
            .order_by(Message.created_at, Message.id)
        )
    )


def author_names(session: Session, messages: Sequence[Message]) -> dict[str, str]:
    """Key id -> display name for the agents who wrote ``messages``."""
    ids = {m.author_key_id for m in messages if m.role == "agent" and m.author_key_id}
    if not ids:
        return {}
    return {k.id: k.name for k in session.scalars(select(ApiKey).where(ApiKey.id.in_(ids)))}


def message_in_workspace(session: Session, workspace_id: str, message_id: str) -> Message:
    message = session.get(Message, message_id)
    if message is None or message.workspace_id != workspace_id:
        raise NotFound(f"no message {message_id!r}")
    return message


def escalate(conversation: Conversation, reason: str) -> bool:
    """Put the conversation in the inbox (unless a person already has it). True if it changed."""
    if conversation.status in (ConversationStatus.ESCALATED, ConversationStatus.CLAIMED):
        return False
    if conversation.status == ConversationStatus.RESOLVED:
        conversation.reopened_count += 1
    conversation.status = ConversationStatus.ESCALATED
    conversation.escalation_reason = reason
    conversation.escalated_at = utcnow()
    conversation.resolved_at = None
    return True


def reopen_if_resolved(conversation: Conversation) -> None:
    """A customer writing again after resolution reopens the conversation (counted for the reopen rate)."""
    if conversation.status == ConversationStatus.RESOLVED:
        conversation.status = ConversationStatus.BOT
        conversation.reopened_count += 1
        conversation.resolved_at = None


@dataclass(frozen=True)
class InboxItem:
    conversation: Conversation
    last_message: Message | None
    message_count: int


def inbox(
    session: Session,
    workspace_id: str,
    *,
    view: str,
    agent_key_id: str,
    reason: str | None = None,
    limit: int = 100,
) -> list[InboxItem]:
    """Escalated conversations, newest first. ``view``: open (waiting or claimed), mine (claimed by this
    agent, not resolved), resolved (that once reached the inbox)."""
    query = select(Conversation).where(Conversation.workspace_id == workspace_id)
    if view == "open":
        query = query.where(Conversation.status.in_([ConversationStatus.ESCALATED, ConversationStatus.CLAIMED]))
    elif view == "mine":
        query = query.where(
            Conversation.status == ConversationStatus.CLAIMED, Conversation.assigned_key_id == agent_key_id
        )
    elif view == "resolved":
        query = query.where(Conversation.status == ConversationStatus.RESOLVED, Conversation.escalated_at.is_not(None))
    else:
        raise InvalidInput("status must be one of open, mine, resolved")
    if reason:
        query = query.where(Conversation.escalation_reason == reason)
    conversations = list(
        session.scalars(query.order_by(Conversation.escalated_at.desc(), Conversation.id).limit(limit))
    )
    return [_inbox_item(session, c) for c in conversations]


def _inbox_item(session: Session, conversation: Conversation) -> InboxItem:
    last = session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    count = session.scalar(select(func.count()).where(Message.conversation_id == conversation.id)) or 0
    return InboxItem(conversation, last, int(count))


def claim(conversation: Conversation, agent_key_id: str) -> None:
    if conversation.status == ConversationStatus.CLAIMED and conversation.assigned_key_id != agent_key_id:
        raise Conflict("another agent has already claimed this conversation")
    if conversation.status == ConversationStatus.RESOLVED:
        raise Conflict("this conversation is resolved")
    conversation.status = ConversationStatus.CLAIMED
    conversation.assigned_key_id = agent_key_id
    if conversation.escalated_at is None:  # an agent may take over a conversation the bot is handling
        conversation.escalated_at = utcnow()
        conversation.escalation_reason = conversation.escalation_reason or "agent_took_over"


def agent_reply(session: Session, conversation: Conversation, agent_key_id: str, text: str) -> Message:
    text = text.strip()
    if not text:
        raise InvalidInput("the reply is empty")
    if conversation.status == ConversationStatus.RESOLVED:
        raise Conflict("this conversation is resolved")
    if conversation.status != ConversationStatus.CLAIMED or conversation.assigned_key_id != agent_key_id:
        claim(conversation, agent_key_id)
    message = Message(
        conversation_id=conversation.id,
        workspace_id=conversation.workspace_id,
        role="agent",
        author_key_id=agent_key_id,
        text=text,
    )
    session.add(message)
    conversation.updated_at = utcnow()
    session.flush()
    return message


def resolve(conversation: Conversation, agent_key_id: str) -> None:
    """Mark the conversation resolved (again: no change). :class:`Conflict` when another agent has claimed
    it: only the agent working a conversation closes it."""
    if conversation.status == ConversationStatus.RESOLVED:
        return
    if conversation.status == ConversationStatus.CLAIMED and conversation.assigned_key_id != agent_key_id:
        raise Conflict("another agent has claimed this conversation")
    conversation.status = ConversationStatus.RESOLVED
    conversation.resolved_at = utcnow()
    conversation.failed_turns = 0


def record_feedback(
    session: Session, message: Message, by_role: str, rating: int, reason: str, author_key_id: str | None
) -> Feedback:
    """One rating per message and role; rating again replaces it."""
    if message.role != "bot":
        raise InvalidInput("only the assistant's answers can be rated")
    if rating not in (-1, 1):
        raise InvalidInput("rating must be 1 (helpful) or -1 (not helpful)")
    existing = session.scalar(select(Feedback).where(Feedback.message_id == message.id, Feedback.by_role == by_role))
    feedback = existing or Feedback(workspace_id=message.workspace_id, message_id=message.id, by_role=by_role)
    feedback.rating = rating
    feedback.reason = reason.strip()[:2000]
    feedback.author_key_id = author_key_id
    feedback.created_at = utcnow()
    session.add(feedback)
    session.flush()
    return feedback


def aware(moment: datetime | None) -> datetime | None:
    from datetime import UTC

    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
