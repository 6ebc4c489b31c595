"""A dataset dialogue replayed through the product's turn path, for the conversation benchmarks.

A replay is one real conversation row. Each earlier dataset turn is recorded in the conversation's entity
memory exactly as a live turn would be (``runtime.graph.record_turn``; the agent's replies with
``by_customer=False``), and the turn under test goes through what :func:`chat.turn.take_turn` runs before
generation: normalise -> record the turn -> policy screen -> :func:`chat.evidence.gather_evidence` (with the
last ``HISTORY_MESSAGES`` earlier turns, as the live turn hands on) -> :func:`chat.decide.decide`. Nothing is
generated or stored as messages here: the benchmarks score the evidence and the decision (and call the
generator themselves when they measure answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from chat.conversations import create_conversation
from chat.decide import Decision, decide
from chat.evidence import Evidence, gather_evidence
from chat.inputs import NormalisedTurn, TurnInput, normalise
from chat.policy import screen
from chat.replies import answer_turn
from chat.turn import HISTORY_MESSAGES
from chat.workspace_vocabulary import workspace_vocabulary
from core.models import Conversation, Message
from kb.runtime import Runtime
from retrieval.protocol import Hit

# Dataset speaker -> the role the product's history uses. The earlier replies in a conversation the bot
# handles are the bot's own, whoever wrote them in the data set.
ROLES = {"user": "customer", "customer": "customer", "agent": "bot", "bot": "bot"}


@dataclass
class Replay:
    conversation: Conversation
    customer_turns: int = 0  # customer turns recorded so far (the next one's turn index)
    recorded: int = 0  # dataset turns recorded so far, the asked ones included
    history: list[tuple[str, str]] = field(default_factory=list)  # (role, text), oldest first


@dataclass(frozen=True)
class Asked:
    norm: NormalisedTurn
    evidence: Evidence | None
    decision: Decision


def start(session: Session, workspace_id: str) -> Replay:
    conversation, _ = create_conversation(session, workspace_id)
    return Replay(conversation)


def record_earlier(runtime: Runtime, session: Session, replay: Replay, turns: Sequence[tuple[str, str]]) -> None:
    """Record ``turns[replay.recorded:]`` (speaker, text): the part of the dialogue not yet replayed."""
    conversation = replay.conversation
    for speaker, text in turns[replay.recorded :]:
        role = ROLES[speaker]
        by_customer = role == "customer"
        index = replay.customer_turns if by_customer else max(0, replay.customer_turns - 1)
        if text.strip():
            runtime.graph.record_turn(
                session, conversation.workspace_id, conversation.id, index, text, by_customer=by_customer
            )
            replay.history.append((role, text))
        replay.customer_turns += by_customer
    replay.recorded = max(replay.recorded, len(turns))


def ask(runtime: Runtime, session: Session, replay: Replay, question: str, audio: bytes | None = None) -> Asked:
    """The customer's next turn (typed, or a voice note), up to the decision; it then counts as recorded history.
    A voice note is transcribed and corrected against the workspace's words as :func:`chat.turn.take_turn` does."""
    conversation = replay.conversation
    norm = normalise(
        runtime,
        TurnInput(text=question, audio=audio),
        vocabulary=lambda: workspace_vocabulary(session, conversation.workspace_id),
    )
    context = runtime.graph.record_turn(
        session, conversation.workspace_id, conversation.id, replay.customer_turns, norm.words
    )
    verdict = screen(norm.said)
    evidence = None
    if verdict.kind == "none":
        evidence = gather_evidence(
            runtime, session, conversation.workspace_id, norm, context, replay.history[-HISTORY_MESSAGES:]
        )
    decision = decide(verdict, evidence, norm, conversation, runtime.settings)
    replay.history.append(("customer", norm.words))
    replay.customer_turns += 1
    replay.recorded += 1
    return Asked(norm, evidence, decision)


@dataclass(frozen=True)
class Outcome:
    kind: str  # the decision the customer sees: answer, clarify, escalate or handoff
    reason: str | None
    answer: str  # the generated answer ("" unless there was evidence to answer from)


def answer_asked(runtime: Runtime, session: Session, replay: Replay, asked: Asked) -> Outcome:
    """Generate the answer from ``asked``'s evidence as :func:`chat.turn.take_turn` does; an "answer" whose
    generator grounds no sentence becomes an escalation for ``no_evidence``, as it does in the product."""
    kind, reason = asked.decision.kind, asked.decision.reason
    evidence = asked.evidence
    answer = ""
    if evidence is not None and evidence.hits:
        conversation = replay.conversation
        message = Message(conversation_id=conversation.id, workspace_id=conversation.workspace_id, role="bot")
        grounded = answer_turn(runtime, session, conversation, asked.norm, evidence, message, None)
        answer = (message.text or "") if grounded else ""
        if kind == "answer" and not grounded:
            kind, reason = "escalate", "no_evidence"
    return Outcome(kind, reason, answer)


def ranked_units(hits: Sequence[Hit], unit_of: dict[str, str]) -> list[str]:
    """Units (documents, passages) in the order their first chunk appears in ``hits``; unmapped hits skipped."""
    out: dict[str, None] = {}
    for hit in hits:
        unit = unit_of.get(hit.document_id)
        if unit is not None:
            out.setdefault(unit, None)
    return list(out)


def document_units(documents: Sequence[tuple[str, str]], names: dict[str, str]) -> dict[str, str]:
    """Bindesk document id -> data set unit id, from (document id, uploaded file name) pairs."""
    return {doc_id: names[filename] for doc_id, filename in documents if filename in names}
