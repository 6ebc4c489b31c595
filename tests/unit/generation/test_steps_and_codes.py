"""Which questions ask for steps (generation.steps_and_codes.is_how_to)."""

from __future__ import annotations

import pytest

from generation.steps_and_codes import is_how_to


@pytest.mark.parametrize(
    "question",
    [
        "how do I descale it?",
        "And how can I clean the frother?",
        "my machine shows E-06, what do I do?",
        "E-10 keeps coming back, how do I fix it?",
        "the app says E-21. What should I do?",
    ],
)
def test_a_question_asking_what_to_do_wants_steps(question: str) -> None:
    assert is_how_to(question)


@pytest.mark.parametrize(
    "question",
    [
        "my machine shows E-06, how could that happen?",  # asks why
        "Is the descaler safe, how do you know?",
        "What does E-06 mean?",
        "The first setup needs the app, right?",
    ],
)
def test_a_later_clause_asking_why_or_what_is_no_how_to(question: str) -> None:
    assert not is_how_to(question)
