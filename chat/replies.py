"""What the bot says: a grounded, cited answer from the generator, or a fixed reply for every other decision."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from chat.decide import Decision
from chat.events import EventBus, conversation_channel
from chat.evidence import Evidence
from chat.inputs import NormalisedTurn
from core.ids import new_id
from core.models import Conversation, Message
from generation.answer_types import asked_type, states
from generation.guardrails import assemble_answer, quotable_text
from generation.protocol import Answer, GenerationRequest, Generator, Passage, SentenceStreamer
from kb.runtime import Runtime
from kb.search import snippet
from kg.followup import DEFINITE_DETERMINERS

_ESCALATION_TEXT = {
    "customer_asked_for_human": "Of course. I've passed your conversation to a member of our team; they'll reply here.",
    "sensitive": "This needs a person on our team, so I've passed your conversation to them. "
    "They'll reply here shortly.",
    "no_evidence": "I couldn't find this in our help articles, so I've asked a member of our team to help. "
    "They'll reply here.",
    "out_of_scope": "That's outside what I can help with, so I've passed your conversation to a member of our team.",
    "repeated_failure": "I'm sorry I couldn't sort this out. I've passed your conversation to a member of our team.",
}
_CLARIFY_TEXT = {
    "greeting": "Hello! What can I help you with today?",
    "thanks": "You're welcome! Is there anything else I can help with?",
    "no_speech": "I couldn't make out any words in that voice note. Could you try again, or type your question?",
}


def canned_reply(decision: Decision, norm: NormalisedTurn, options: list[str] | None = None) -> str:
    if decision.kind == "escalate":
        return _ESCALATION_TEXT.get(decision.reason or "", _ESCALATION_TEXT["no_evidence"])
    if decision.kind == "clarify":
        if decision.reason in _CLARIFY_TEXT:
            return _CLARIFY_TEXT[decision.reason or ""]
        if options and len(options) >= 2:
            return f"Could you tell me a bit more? Do you mean {options[0]!r} or {options[1]!r}?"
        if decision.subject:
            subject = _without_determiner(decision.subject)
            return f"Which {subject} do you mean? Tell me a little more and I'll look again."
        return "Could you tell me a bit more: which product, feature or error is this about?"
    return ""


def _generate(generator: Generator, request: GenerationRequest, events: EventBus | None, message: Message) -> Answer:
    """The answer; when someone may be watching and the generator can stream whole cited sentences, each sentence
    goes out as a ``delta`` event (with the id the bot's message will have) as soon as it is ready; the final
    ``message`` event carries the whole answer and its citations."""
    if events is None or not isinstance(generator, SentenceStreamer):
        return generator.generate(request)
    if message.id is None:
        message.id = new_id()  # known before the row is written, so the deltas can name it
    sentences = []
    for sentence in generator.stream_sentences(request):
        sentences.append(sentence)
        if sentence.citations:
            delta = {"type": "delta", "message_id": message.id, "text": sentence.text}
            events.publish(conversation_channel(message.conversation_id), delta)
    return assemble_answer(sentences)


def source_url(conversation_id: str, document_id: str, page: int | None) -> str:
    """Where the customer (with the conversation token) or an agent can open a cited document."""
    anchor = f"#page={page}" if page else ""
    return f"/v1/conversations/{conversation_id}/sources/{document_id}{anchor}"


def answer_turn(
    runtime: Runtime,
    session: Session,
    conversation: Conversation,
    norm: NormalisedTurn,
    evidence: Evidence,
    message: Message,
    events: EventBus | None,
) -> bool:
    """Generate the answer into ``message`` (text and citations); stream it as ``delta`` events when the
    generator can. False when the generator could not ground a single sentence."""
    passages = _answer_passages(evidence, norm.answer_question, runtime.settings.answer_passage_margin)
    request = GenerationRequest(
        question=norm.answer_question,
        history=evidence.history,
        passages=passages,
        focus_entities=evidence.focus_values,
    )
    answer = _generate(runtime.generator, request, events, message)
    if not answer.grounded or not answer.text.strip():
        return False
    by_number = {p.number: p for p in passages}
    citations: list[dict[str, Any]] = []
    for number in answer.cited:
        passage = by_number.get(number)
        if passage is None:
            continue
        hit = evidence.hit_for(passage.chunk_id)
        citations.append(
            {
                "document_id": passage.document_id,
                "source": passage.source,
                "title": passage.title,
                "chunk_id": passage.chunk_id,
                "page": passage.page,
                "score": round(float(hit.score if hit else passage.score), 6),
                # Customers see the passage without instruction-like sentences (agents see it raw).
                "snippet": snippet(quotable_text(evidence.bodies.get(passage.chunk_id, "")), evidence.query),
                "url": source_url(conversation.id, passage.document_id, passage.page),
            }
        )
    message.text = answer.text
    message.citations = citations
    return bool(citations)


def _without_determiner(phrase: str) -> str:
    """ "the fast food chain" -> "fast food chain" (the reply supplies its own "which")."""
    first, _, rest = phrase.partition(" ")
    return rest if rest and first.lower() in DEFINITE_DETERMINERS else phrase


def _answer_passages(evidence: Evidence, question: str, margin: float) -> list[Passage]:
    """The passages within ``margin`` of the best; all of the best few when the question asks for a kind of fact
    (:mod:`generation.answer_types`) that none of those states: "and how much power does it use?" after the
    loudness answer had only the loudness passage within the margin, "The machine uses 1450 W ..." the next one."""
    close = evidence.passages(margin=margin)
    kind = asked_type(question)
    if kind is None or any(states(kind, p.text) for p in close):
        return close
    return evidence.passages()
