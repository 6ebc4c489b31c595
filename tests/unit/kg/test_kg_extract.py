"""Entity extraction: identifier patterns, masking of personal data, the KB dictionary, noun phrases."""

from __future__ import annotations

import itertools

import pytest

from kg.dictionary import Section, build_dictionary
from kg.extract import Entity, EntityDictionary, entity_key, extract_entities, redact


def _pairs(text: str, dictionary: EntityDictionary | None = None) -> list[tuple[str, str]]:
    return [(e.type, e.value) for e in extract_entities(text, dictionary)]


@pytest.mark.parametrize(
    ("text", "code", "norm"),
    [
        ("The TV shows E-101 after start-up", "E-101", "e101"),
        ("got E101 again", "E101", "e101"),
        ("Windows update fails with 0x80070005", "0x80070005", "0x80070005"),
        ("the site says error 404", "404", "404"),
        ("Error code: LC-12 on the washer", "LC-12", "lc12"),
    ],
)
def test_error_codes_are_found_with_a_spelling_independent_norm(text: str, code: str, norm: str) -> None:
    codes = [e for e in extract_entities(text) if e.type == "error_code"]
    assert [(e.value, e.norm) for e in codes] == [(code, norm)]


@pytest.mark.parametrize("model", ["UN55TU8000", "SM-G973F", "QN65Q80T", "WF45R6100AW", "un55tu8000"])
def test_model_numbers_are_found(model: str) -> None:
    entities = extract_entities(f"I have the {model} since May")
    assert [(e.type, e.norm) for e in entities if e.type == "model"] == [("model", model.lower())]


@pytest.mark.parametrize("not_a_model", ["covid19", "100Mbps", "2400mAh", "Win10", "MP3"])
def test_words_that_merely_mix_letters_and_digits_are_not_models(not_a_model: str) -> None:
    assert all(e.type != "model" for e in extract_entities(f"about {not_a_model} today"))


def test_order_and_serial_numbers_need_their_cue_word() -> None:
    text = "my order number is 123-45678 and the serial number: R3TN90ABC12"
    entities = extract_entities(text)
    assert [(e.type, e.norm) for e in entities] == [("order_number", "12345678"), ("serial_number", "r3tn90abc12")]
    assert extract_entities("order #5551234")[0].norm == "5551234"
    assert not any(e.type in {"order_number", "serial_number"} for e in extract_entities("it costs 12345678 won"))


def test_email_and_phone_are_masked_in_value_and_norm() -> None:
    text = "Write to jane.doe@example.com or call +1 (555) 123-4567 please"
    found = {e.type: e for e in extract_entities(text)}
    email, phone = found["email"], found["phone"]
    assert email.value == "j***@example.com"
    assert "jane" not in email.norm and "doe" not in email.norm
    assert phone.value.endswith("67") and "555" not in phone.value and "4567" not in phone.value
    assert "123" not in phone.norm
    # The offsets still point at the original text, so the caller can redact it.
    assert text[email.start : email.end] == "jane.doe@example.com"
    assert text[phone.start : phone.end] == "+1 (555) 123-4567"


def test_redact_removes_every_email_and_phone_from_a_text() -> None:
    redacted = redact("mail a.b@x.org, b@y.co or ring 020 7946 0958; order 12345 stays")
    assert "a.b@x.org" not in redacted and "b@y.co" not in redacted and "7946" not in redacted
    assert "a***@x.org" in redacted and "order 12345 stays" in redacted


def test_dates_and_short_numbers_are_not_phone_numbers() -> None:
    assert all(e.type != "phone" for e in extract_entities("since 2024-01-15 I waited 3 days for 12 34"))


def test_menu_path_yields_the_path_without_the_sentence_around_it() -> None:
    entities = extract_entities("Go to Settings > General > Eco Solution > Auto Power Off and press Enter.")
    menus = [e for e in entities if e.type == "menu"]
    assert [m.value for m in menus] == ["Settings > General > Eco Solution > Auto Power Off"]


def test_dictionary_names_win_over_noun_phrases_and_keep_their_type() -> None:
    dictionary = EntityDictionary()
    dictionary.add("Samsung Smart Remote", "product")
    dictionary.add("Picture Mode", "setting")
    entities = extract_entities("the samsung smart remotes button changes picture mode", dictionary)
    assert ("product", "Samsung Smart Remote") in [(e.type, e.value) for e in entities]
    assert ("setting", "Picture Mode") in [(e.type, e.value) for e in entities]
    # What the names leave is still chunked: "button" survives on its own.
    assert ("topic", "button") in [(e.type, e.value) for e in entities]


def test_build_dictionary_reads_models_menus_recurring_names_and_headings() -> None:
    sections = [
        Section("Open Settings > Picture > Picture Mode to pick Movie. The QN65Q80T supports Game Mode.", "Picture"),
        Section("Game Mode lowers input lag. The Galaxy S10 mirrors its screen with Smart View.", "Game Mode"),
        Section("Smart View needs the Galaxy S10 on the same network.", "Mirroring your phone"),
    ]
    dictionary = build_dictionary(sections)
    by_value = {e.value: e.type for e in dictionary}
    assert by_value["QN65Q80T"] == "model"
    assert by_value["Picture Mode"] == "setting"
    assert by_value["Picture"] == "menu"
    assert by_value["Game Mode"] == "setting"
    assert by_value["Galaxy S10"] == "product"
    assert by_value["Mirroring your phone"] == "topic"
    # Seen once only: not a dictionary name.
    assert "Movie" not in by_value


def test_noun_phrases_skip_function_words_and_verbs() -> None:
    assert _pairs("My insurance ended so what should i do") == [("topic", "insurance")]
    assert _pairs("How do I surrender New York State plates to the DMV?") == [
        ("topic", "New York State plates"),
        ("topic", "DMV"),
    ]


def test_a_turn_that_names_nothing_yields_nothing() -> None:
    assert extract_entities("and how do I turn it off again?") == []
    assert extract_entities("what about the second one?") == []
    assert extract_entities("") == []


def test_capitalised_name_with_a_number_is_a_product() -> None:
    assert ("product", "Galaxy S10") in _pairs("my Galaxy S10 keeps restarting")
    assert ("product", "iPhone 12") in _pairs("will it pair with an iPhone 12?")


def test_entities_do_not_overlap_and_come_in_text_order() -> None:
    text = "Order 98765: my UN55TU8000 shows E-101, contact me at x@y.io"
    entities = extract_entities(text)
    spans = [(e.start, e.end) for e in entities]
    assert spans == sorted(spans)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    assert {e.type for e in entities} >= {"order_number", "model", "error_code", "email"}


def test_entity_key_is_shared_by_spellings_and_bounded() -> None:
    a = extract_entities("E-101")[0]
    b = extract_entities("error E101")[0]
    assert a.key == b.key == "entity:error_code:e101"
    assert len(entity_key("topic", "x" * 1000)) <= 300
    assert isinstance(a, Entity)


def test_the_words_of_a_questions_frame_are_not_topics() -> None:
    # "long" would be carried into the next turns' queries as a subject of the conversation.
    assert _pairs("How long is the warranty?") == [("topic", "warranty")]
    assert _pairs("How hot should the milk be?") == [("topic", "milk")]
    assert ("topic", "robot") not in _pairs("My robot shows E-12")  # the customer's own device, pointing
    assert ("topic", "long") in _pairs("Give it a long press")  # outside the frame, the same word stays


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        ("How do I set a cleaning schedule?", ["cleaning schedule"]),  # "set" is the verb, not a topic
        ("Can I pair my phone with the app?", ["phone", "app"]),
        ("To reset the router, hold the button", ["router", "button"]),
        ("Go to Settings and choose a network", ["Settings", "network"]),  # after "to", a place
        ("The set includes a spare pair of filters", ["set", "spare pair", "filters"]),  # nouns where nouns stand
        ("How to set a cleaning schedule", ["cleaning schedule"]),
        ("Will Meshly X3 work with my ISP?", ["ISP"]),  # the subject after a modal stays (a product here)
        ("Could ethernet backhaul help?", ["ethernet backhaul"]),
        ("I sent you photos of the router", ["photos", "router"]),  # "you", an object here
    ],
)
def test_a_word_in_a_verbs_place_is_no_topic(text: str, topics: list[str]) -> None:
    assert [e.value for e in extract_entities(text) if e.type == "topic"] == topics
