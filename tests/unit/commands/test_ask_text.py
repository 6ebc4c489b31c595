"""``bindesk ask`` without ``--json``: what a person reads for each kind of turn."""

from __future__ import annotations

from typing import Any

from commands.ask import ask_text

CITATION = {"source": "router-reset.md", "page": None, "title": "Resetting the Nimbus router"}


def _turn(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"answer": "", "reply": "", "decision": "answer", "escalated": False}
    base["escalation_reason"] = None
    base["citations"] = []
    return base | fields


def test_an_answer_is_printed_with_its_sources() -> None:
    text = "Hold the reset button for ten seconds [1]."
    lines = ask_text(_turn(answer=text, reply=text, citations=[CITATION, CITATION | {"page": 4}]))
    assert lines == [
        text,
        "  [1] router-reset.md: Resetting the Nimbus router",
        "  [2] router-reset.md, page 4: Resetting the Nimbus router",
    ]


def test_a_clarifying_question_is_printed_not_called_an_escalation() -> None:
    question = "I couldn't make out any words in your voice note. Could you type your question?"
    assert ask_text(_turn(reply=question, decision="clarify")) == [question, "(clarify)"]


def test_a_hand_over_says_why() -> None:
    notice = "I'm passing this to a colleague who can help with refunds."
    lines = ask_text(_turn(reply=notice, decision="escalate", escalated=True, escalation_reason="sensitive"))
    assert lines == [notice, "(handed to a person: sensitive)"]
