"""Ratings of the bot's answers, by the customer (their token) or an agent (with a reason)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.auth import authenticate, bearer_secret
from api.deps import SessionDep
from chat.conversations import for_customer, message_in_workspace, record_feedback
from core.errors import NotFound, Unauthenticated
from core.models import Message, Role

router = APIRouter(prefix="/v1/messages", tags=["feedback"])


class FeedbackIn(BaseModel):
    rating: int | str = Field(description="1 or 'up' (helpful), -1 or 'down' (not helpful)")
    reason: str = Field(default="", max_length=2000)

    def value(self) -> int:
        mapping = {"up": 1, "down": -1, "1": 1, "-1": -1, 1: 1, -1: -1}
        return mapping.get(self.rating, 0)


@router.post("/{message_id}/feedback", status_code=201)
def feedback(message_id: str, body: FeedbackIn, request: Request, session: SessionDep) -> dict[str, Any]:
    token = bearer_secret(request)
    if token and token.startswith("bkc_"):
        message = session.get(Message, message_id)
        if message is None or not _customer_owns(session, message, token):
            # Another customer's message answers exactly as a missing one (naming no conversation).
            raise NotFound(f"no message {message_id!r}")
        by_role, author = "customer", None
    else:
        try:
            principal = authenticate(request, session)
        except Unauthenticated:
            raise NotFound(f"no message {message_id!r}") from None
        if principal.role not in (Role.AGENT, Role.OPS):
            raise NotFound(f"no message {message_id!r}")
        message = message_in_workspace(session, principal.workspace_id, message_id)
        by_role, author = "agent", principal.key_id
    saved = record_feedback(session, message, by_role, body.value(), body.reason, author)
    return {"message_id": message.id, "rating": saved.rating, "reason": saved.reason, "by": by_role}


def _customer_owns(session: Session, message: Message, token: str) -> bool:
    try:
        for_customer(session, message.conversation_id, token)
    except NotFound:
        return False
    return True
