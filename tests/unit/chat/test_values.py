"""chat.values: a colour the customer names that the best passages do not."""

from __future__ import annotations

from chat.values import unstated_value

LED = [
    "- Pulsing blue: starting up or ready to pair. - Solid blue: online and working normally.",
    "- Solid yellow: the satellite's link to the main router is weak. - Blinking red: there is a problem.",
]


def test_a_colour_the_passages_do_not_name_beside_others_is_unstated() -> None:
    assert unstated_value("and a solid orange one?", LED) == "orange: the passages name blue, red, yellow"


def test_a_colour_the_passages_name_is_stated() -> None:
    assert unstated_value("What does a blinking red light mean?", LED) is None
    assert unstated_value("my orange router blinks red", LED) is None  # one of the colours asked is there


def test_no_colour_asked_or_none_in_the_passages_says_nothing() -> None:
    assert unstated_value("How do I reset it?", LED) is None
    assert unstated_value("Is it available in black?", ["It ships with a power adapter."]) is None
    assert unstated_value("Is it available in black?", []) is None


def test_spellings_and_the_word_colour_itself() -> None:
    assert unstated_value("what does the gray light mean", ["A grey light means standby."]) is None
    assert unstated_value("which colour is it?", LED) is None


def test_a_colour_that_is_no_light_s_says_nothing() -> None:
    """The review's cases: a black display and white vinegar are no lights; "amber" is orange."""
    assert unstated_value("The display stays black after I switch it on", LED) is None
    assert unstated_value("Can I use white vinegar to descale?", LED) is None
    assert unstated_value("the light is amber", ["An orange light means descaling is due."]) is None
