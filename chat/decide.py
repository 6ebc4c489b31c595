"""Answer, ask a clarifying question, or escalate with a reason: the decision, from rules and evidence.

Order: the rules first (the customer asked for a person; a sensitive subject), then small talk, then the
evidence: escalate a turn that names a colour the best passages do not while they name others
(:mod:`chat.values`: "and a solid orange one?" must not get the blue light's line); answer when the
answerability score reaches ``Settings.answer_threshold``, or when the turn names an
error code or model number and the best passage states it while the best three cover every other content term
of the question (an exact key the score underrates: :func:`chat.judge.answers_named_identifiers`); otherwise,
unless the conversation has failed too often, ask back a complaint that names nothing before anything was
answered (:func:`chat.policy.is_vague_complaint`: "It's not working"); otherwise ask a
clarifying question when the knowledge base holds something on the subject and the judge found the
question underspecified (its underspecified probability reached
``Settings.clarify_threshold``) and the conversation has not already failed ``Settings.max_failed_turns``
times; otherwise escalate. Both thresholds default to values calibrated on MTRAG-UN's tune half
(``benchmarks/tune/fit_answerability.py``; the models and thresholds are in ``retrieval/calibration/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chat.evidence import Evidence
from chat.inputs import NormalisedTurn
from chat.policy import PolicyVerdict, is_vague_complaint
from core.models import Conversation
from core.settings import Settings

DecisionKind = Literal["answer", "clarify", "escalate", "handoff"]


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    reason: str | None  # escalation reason (DESIGN.md list) or, for clarify, what is unclear
    detail: str = ""
    subject: str | None = None  # clarify: the phrase to ask about ("the fast food chain"), when known


def decide(
    verdict: PolicyVerdict,
    evidence: Evidence | None,
    norm: NormalisedTurn,
    conversation: Conversation,
    settings: Settings,
) -> Decision:
    if verdict.kind == "escalate":
        return Decision("escalate", verdict.reason, verdict.detail)
    if verdict.kind in ("greeting", "thanks"):
        return Decision("clarify", verdict.kind, "small talk")
    if evidence is None:
        return Decision("clarify", "no_speech", "the voice note held no words")
    score = evidence.answerability
    if evidence.unstated_value and not evidence.exact_identifier:  # "a solid orange one?": blue, yellow, red lights
        return Decision("escalate", "no_evidence", f"answerability {score:.2f}; {evidence.unstated_value}")
    if score >= settings.answer_threshold and evidence.hits:
        return Decision("answer", None, f"answerability {score:.2f} >= {settings.answer_threshold:.2f}")
    if evidence.exact_identifier and evidence.hits:  # an exact key the score underrates (chat.judge)
        return Decision("answer", None, f"answerability {score:.2f}; the best passage states the code named")
    if conversation.failed_turns >= settings.max_failed_turns:
        return Decision("escalate", "repeated_failure", f"{conversation.failed_turns} turns without an answer")
    said_only = is_vague_complaint(norm.said) and norm.image is None  # a photo says what "it" is
    if said_only and not any(role != "customer" for role, _ in evidence.history):
        # Nothing answered yet that "it" could be: ask what is wrong. (After an answer, "it doesn't work" says
        # the answer failed, and the evidence decides as for any turn.)
        return Decision("clarify", "underspecified", f"answerability {score:.2f}; a complaint that names nothing")
    if evidence.out_of_scope:  # no clarification helps when nothing in the knowledge base is about it
        return Decision("escalate", "out_of_scope", "nothing in the knowledge base is about this")
    if evidence.underspecified:
        detail = f"answerability {score:.2f}; the question leaves its subject open"
        if evidence.unclear:
            detail += f" ({evidence.unclear!r})"
        return Decision("clarify", "underspecified", detail, subject=evidence.unclear)
    return Decision("escalate", "no_evidence", f"answerability {score:.2f} < {settings.answer_threshold:.2f}")
