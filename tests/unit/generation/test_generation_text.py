"""Sentence splitting and citation markers: the pieces every backend's grounding relies on."""

from __future__ import annotations

import random

import pytest

from generation.text import (
    cited_numbers,
    content_terms,
    split_complete_sentences,
    split_sentences,
    strip_citation_markers,
)


def test_abbreviations_decimals_and_initials_do_not_split() -> None:
    text = "Use e.g. the U.S. plug. It draws 1.5 A at most. J. Smith wrote the manual. Done!"
    assert split_sentences(text) == [
        "Use e.g. the U.S. plug.",
        "It draws 1.5 A at most.",
        "J. Smith wrote the manual.",
        "Done!",
    ]


def test_line_breaks_end_sentences_and_list_enumerators_stay_with_their_item() -> None:
    text = "Steps\n1. Open the menu.\n2. Select Reset. Confirm with OK."
    assert split_sentences(text) == ["Steps", "1. Open the menu.", "2. Select Reset.", "Confirm with OK."]


def test_citation_markers_after_the_full_stop_stay_with_their_sentence() -> None:
    text = "Hold the button. [2] Wait for the light [1]. Release it.[3] Done"
    assert split_sentences(text) == ["Hold the button. [2]", "Wait for the light [1].", "Release it.[3]", "Done"]


@pytest.mark.parametrize("seed", range(20))
def test_streamed_text_splits_exactly_like_the_whole_text(seed: int) -> None:
    text = "Hold the button. [2] Wait e.g. ten s. for the light [1]. 1. Open it.\nThe U.S. model [1-2]. Fine? Yes!"
    chooser = random.Random(seed)
    buffer, sentences, position = "", [], 0
    while position < len(text):
        step = chooser.randint(1, 5)
        buffer += text[position : position + step]
        position += step
        complete, buffer = split_complete_sentences(buffer)
        sentences += complete
    if buffer.strip():
        sentences.append(buffer.strip())
    assert sentences == split_sentences(text)


def test_cited_numbers_reads_the_forms_models_write() -> None:
    assert cited_numbers("a [1] b [2, 3] c [Passage 4] d [5-7] e [1] f [source 8]") == [1, 2, 3, 4, 5, 6, 7, 8]
    assert cited_numbers("no markers, [x] or [] here") == []


def test_strip_citation_markers_leaves_clean_punctuation() -> None:
    assert strip_citation_markers("It works [1]. Really [2, 3]!") == "It works. Really!"


def test_content_terms_drop_stopwords_and_meet_simple_inflections() -> None:
    assert content_terms("Resetting the passwords for my TV's remote controls") == [
        "reset",
        "password",
        "tv",
        "remote",
        "control",
    ]
    assert content_terms("How do I reset my password?") == ["reset", "password"]
