"""The rules that escalate before any retrieval: a sensitive subject goes to a person, a question about the
same words that is not one does not."""

from __future__ import annotations

import pytest

from chat.policy import is_vague_complaint, screen, sensitive_topic


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Can I get a refund?", "refund"),
        ("I was charged twice for my order", "billing_dispute"),
        ("My kettle arrived broken", "damage"),
        ("The robot fell down the stairs and is broken, I want a replacement", "damage"),
        ("The screen is cracked after one week", "damage"),
        ("It fell off the table and now the display is smashed", "damage"),
        ("It stopped working after a month. I want a replacement.", "replacement"),
        ("Please send me a new one", "replacement"),
        ("Can you replace it under warranty?", "replacement"),
        ("I will take legal action", "legal"),
    ],
)
def test_sensitive_subjects_are_named(text: str, topic: str) -> None:
    assert sensitive_topic(text) == topic
    verdict = screen(text)
    assert verdict.kind == "escalate" and verdict.reason == "sensitive"


@pytest.mark.parametrize(
    "text",
    [
        "How often should I replace the side brushes?",
        "Where can I buy a replacement filter?",
        "I need a replacement battery for the remote, which model fits?",
        "How do I clean the dust bin?",
        "What does a cracking noise from the fan mean?",
        "How often do I need a replacement?",
        "How do I know when I need a new one?",
        "I need a replacement for the HEPA filter, where can I buy one?",
        "The side brush fell off, how do I reattach it?",
        "The temperature fell from 20 to 10 overnight",
        "Can I use crushed or cracked ice?",
        "Is water damage covered by the warranty?",
    ],
)
def test_questions_about_parts_and_care_are_not_sensitive(text: str) -> None:
    assert sensitive_topic(text) is None
    assert screen(text).kind == "none"


@pytest.mark.parametrize(
    ("text", "vague"),
    [
        ("It's not working", True),
        ("it doesnt work", True),
        ("still not working", True),
        ("it keeps failing", True),
        ("The remote is not working", False),  # names what
        ("pairing failed", False),
        ("How does it work?", False),  # a question about how, not a complaint
        ("help", False),  # nothing said to be broken
    ],
)
def test_a_complaint_that_names_nothing(text: str, vague: bool) -> None:
    assert is_vague_complaint(text) is vague


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("thanks, that's all", "thanks"),  # was searched, and the last answer given again
        ("Thanks! That is all for now.", "thanks"),
        ("thank you so much, bye", "thanks"),
        ("thanks a lot, have a nice day", "thanks"),
        ("ok thanks", "thanks"),
        ("thanks, but how do I descale it?", "none"),  # a question after the thanks is a question
        ("that's all I know about the error", "none"),
    ],
)
def test_thanks_with_a_closing_is_small_talk(text: str, kind: str) -> None:
    assert screen(text).kind == kind
