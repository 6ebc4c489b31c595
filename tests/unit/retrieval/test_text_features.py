"""Content terms, coverage and sentence splitting used by reranking and answerability."""

from __future__ import annotations

from retrieval.text_features import (
    content_terms,
    coverage,
    split_sentences,
    stem,
    term_set,
    units_apart,
    without_frame,
)


def test_content_terms_drop_question_boilerplate_and_meet_word_forms() -> None:
    assert content_terms("How do I cancel the scheduled recordings?") == ["cancel", "schedul", "record"]
    assert content_terms("schedule a recording") == ["schedul", "record"]
    assert content_terms("Can you tell me what the weather is?") == ["weather"]
    assert content_terms("error E4417 and 4417") == ["error", "e4417", "4417"]


def test_stem_is_light_and_leaves_short_or_odd_words() -> None:
    assert stem("stopped") == "stop"
    assert stem("called") == "call"
    assert stem("batteries") == "battery"
    assert stem("was") == "was"
    assert stem("e4417") == "e4417"
    assert stem("changing") == stem("changes") == stem("change") == "chang"


def test_coverage_counts_terms_found() -> None:
    passage = term_set("To cancel a scheduled recording, open Recordings and select Delete.")
    assert coverage(content_terms("How do I cancel a scheduled recording?"), passage) == 1.0
    assert coverage(content_terms("cancel the dishwasher cycle"), passage) == 1 / 3
    assert coverage([], passage) == 1.0


def test_split_sentences_joins_fragments_and_caps_the_count() -> None:
    text = "Press Home. Then OK. Select Settings > Picture to adjust the picture. Done! " + " ".join(
        f"Sentence number {i} is here." for i in range(10)
    )
    parts = split_sentences(text, max_sentences=4)
    assert len(parts) == 4
    assert parts[0] == "Press Home. Then OK."  # "Then OK." alone is too short to stand as a sentence
    assert "Sentence number 9 is here." in parts[-1]  # nothing dropped, the tail is merged


def test_a_question_frame_is_not_its_subject_but_the_same_word_elsewhere_is() -> None:
    assert content_terms("How long is the warranty?") == ["warranty"]
    assert content_terms("How often should I descale?") == ["descal"]
    assert content_terms("What does E40 mean?") == ["e40"]
    assert content_terms("Give it a long press to reset") == ["give", "long", "pres", "reset"]
    # The customer's own device, pointing at its screen: "machine" is not what the answer must say.
    assert content_terms("My machine shows this, what do I do? Error E12") == ["error", "e12"]
    assert content_terms("My robot vacuum shows error E-12") == ["error", "12"]  # "E-12" is "e" and "12"
    assert without_frame("My robot vacuum shows error E-12") == "My                    error E-12"
    assert content_terms("My Dustly R5 shows E-12") == ["dustly", "r5", "12"]  # a name says which product
    assert content_terms("The display shows E12") == ["display", "e12"]  # pointing at the code on it
    assert content_terms("How do I show the clock?") == ["show", "clock"]
    # ... or ending its clause: what the app shows is on the photo (the customer's device word goes with it).
    assert content_terms("this is what my app shows, what do i do") == []
    assert content_terms("It shows the battery level") == ["show", "battery", "level"]  # no owner: a subject
    assert content_terms("Which light should my router show?") == ["light", "router", "show"]  # asks about it
    assert content_terms("How long does it take to heat up?") == ["heat"]
    assert content_terms("How long does the battery last?") == ["battery"]
    assert content_terms("Does the last update take long?") == ["last", "updat", "take", "long"]
    assert content_terms("How hot should the milk be?") == ["milk"]


def test_a_problem_that_keeps_coming_back_is_a_frame_around_what_recurs() -> None:
    """ "E-10 keeps coming back, how do I fix it?" escalated at 0.69: "keep", "com" and "back" were words the
    answer had to hold, and the manual writes "If E-10 appears again, contact support"."""
    assert content_terms("E-10 keeps coming back, how do I fix it?") == ["10", "fix"]
    assert content_terms("the error keeps popping up on the screen") == ["error", "screen"]
    assert content_terms("my router keeps disconnecting") == ["router", "disconnect"]  # the gerund is the problem
    assert content_terms("it keeps turning off") == ["turn", "off"]
    assert content_terms("How do I keep the milk warm?") == ["keep", "milk", "warm"]  # no gerund: a subject


def test_off_is_what_a_question_is_about() -> None:
    assert content_terms("How do I turn it off again?") == ["turn", "off"]
    assert content_terms("How do I turn it on?") == ["turn"]


def test_a_number_written_with_its_unit_is_the_number_a_manual_writes_apart() -> None:
    """ "Does it work on 110V?" found no "110v" in the FAQ's "Does the machine work with 110 V?"."""
    assert "110" in content_terms("Does it work on 110V?")
    assert "110" in term_set("Does the machine work with 110 V?")
    assert {"5", "ghz"} <= set(content_terms("it doesn't show up on my 5GHz wifi"))
    assert units_apart("Does it work on 110V or 5GHz?") == ["110 v", "5 ghz"]
    assert content_terms("What does E40 mean?") == ["e40"]  # a code is a letter then digits: not a unit
