"""generation.answer_types: the kind of fact a question asks for, and the sentences that state one."""

from __future__ import annotations

import pytest

from generation.answer_types import asked_type, states


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("and how often should I do that?", "frequency"),
        ("How long does descaling take?", "duration"),
        ("How long is the warranty?", "duration"),
        ("and how much power does it use?", "power"),
        ("How loud is the machine?", "loudness"),
        ("How much is the milk carafe?", "price"),
        ("How much water does the tank hold?", "volume"),
        ("How do I descale it?", None),
        ("What does E-09 mean?", None),
    ],
)
def test_the_kind_of_fact_asked_for(question: str, kind: str | None) -> None:
    assert asked_type(question) == kind


@pytest.mark.parametrize(
    ("kind", "sentence", "stated"),
    [
        ("frequency", "3 (hard) | about every 6 weeks", True),
        ("frequency", "Clean the brew unit once a week.", True),
        ("frequency", "Rinse it under lukewarm running water.", False),
        ("duration", "The whole program takes about 25 minutes.", True),
        ("duration", "Every Brewa Duo 2 comes with a 2-year warranty.", True),
        ("duration", "Press OK to start.", False),
        ("power", "The machine uses 1450 W while heating.", True),
        ("power", "The grinder runs at about 65 dB.", False),
        ("loudness", "The grinder runs at about 65 dB.", True),
        ("price", "Meshly Shield costs 4.99 per month.", True),
        ("price", "The carafe is sold separately.", False),
        ("volume", "Clean it 2 a day.", False),
    ],
)
def test_sentences_that_state_one(kind: str, sentence: str, stated: bool) -> None:
    assert states(kind, sentence) is stated  # type: ignore[arg-type]


def test_what_is_no_such_question_or_statement() -> None:
    """The review's false matches: "Once the descaling is complete" is no frequency, "How much is left in the
    tank?" no price, "5G" no weight."""
    assert not states("frequency", "Once the descaling is complete, rinse the tank.")
    assert asked_type("How much is left in the tank?") is None
    assert asked_type("How much do I need to grind?") is None
    assert not states("weight", "It supports 5G networks.")
    assert asked_type("How long is the power cord?") is None
