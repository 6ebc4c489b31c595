"""What a turn takes from the conversation before it (pure functions over message rows, no database)."""

from __future__ import annotations

from chat.turn import last_answer_chunks
from core.models import Message


def _bot(decision: str, *chunks: str) -> Message:
    return Message(role="bot", decision=decision, citations=[{"chunk_id": c} for c in chunks])


def test_the_latest_answer_votes_until_a_person_replies() -> None:
    customer = Message(role="customer", text="How do I set a schedule?")
    answered = [customer, _bot("answer", "c1", "c2", "c1"), Message(role="customer", text="and off?")]
    assert last_answer_chunks(answered) == ["c1", "c2"]  # in citation order, once each
    assert last_answer_chunks([*answered, _bot("escalate")]) == ["c1", "c2"]  # a canned reply is no answer
    assert last_answer_chunks([*answered, Message(role="agent", text="Let me check.")]) == []
    assert last_answer_chunks([customer]) == []
