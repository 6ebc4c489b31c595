"""Whole customer turns through the HTTP API, as the widget sends them, on a small real knowledge base.

Real milvus-lite, SQLite, embedder, OCR (a photo of text drawn with Pillow), Whisper (a voice note spoken by
espeak-ng) and the default generator. The knowledge base is three short help articles about one router; a
second workspace holds the same three plus a prompt-injection document.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.chat.chatworld import INJECTION, ChatWorld, KbFile, markdown
from tests.integration.chat.conftest import MakeChatWorld
from tests.support.media_fixtures import espeak_available, speech_wav, text_image

pytestmark = pytest.mark.integration

RESET = (
    "router-reset.md",
    markdown(
        "Resetting the Nimbus router",
        "To restore the factory settings, press and hold the recessed reset button on the back of the Nimbus "
        "router for ten seconds with a paperclip.",
        "The status light blinks amber while the router restarts, then turns solid white.",
    ),
)
WARRANTY = (
    "warranty.md",
    markdown(
        "Nimbus warranty",
        "Every Nimbus router comes with a two-year limited warranty that covers hardware faults.",
        "To make a warranty claim, email support@nimbus.example with your serial number and proof of purchase.",
    ),
)
WIFI = (
    "wifi-password.md",
    markdown(
        "Changing the Wi-Fi password",
        "Open the Nimbus app, tap Settings, then Wireless, and type a new password of at least eight characters.",
        "Devices that used the old password must join the network again.",
    ),
)
ERROR_CODES = (
    "error-codes.md",
    markdown(
        "Nimbus error codes",
        "Error E-204 means the internet cable is unplugged: push the cable into the yellow WAN port until it clicks.",
        "Error E-310 means the firmware update failed: unplug the router for a minute and try the update again.",
    ),
)
INJECTED = "HACKED"
KB: list[KbFile] = [RESET, WARRANTY, WIFI]

RESET_QUESTION = "How do I reset my Nimbus router to factory settings?"
# Drawn on the "photo": the reset sentence, as a customer would photograph it in the printed manual.
PHOTO_LINES = ["Press and hold the recessed reset button", "on the back of the Nimbus router", "for ten seconds."]


@pytest.fixture(scope="module")
def world(make_chat_world: MakeChatWorld) -> ChatWorld:
    return make_chat_world(KB)


@pytest.fixture(scope="module")
def error_code_world(make_chat_world: MakeChatWorld) -> ChatWorld:
    return make_chat_world([*KB, ERROR_CODES])


@pytest.fixture(scope="module")
def injected_world(make_chat_world: MakeChatWorld) -> ChatWorld:
    return make_chat_world([*KB, INJECTION])


def _customer_messages(world: ChatWorld, conversation: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in conversation["messages"] if m["role"] == "customer"]


def test_a_typed_question_is_answered_from_its_article(world: ChatWorld) -> None:
    turn = world.ask(world.start(), RESET_QUESTION)
    assert turn["decision"] == "answer", turn
    assert not turn["escalated"]
    assert world.cited_files(turn)[0] == "router-reset.md"
    assert "ten seconds" in turn["answer"]


def test_a_photo_of_text_retrieves_the_section_it_shows(world: ChatWorld) -> None:
    customer = world.start()
    turn = world.ask(customer, image=("manual.png", text_image(PHOTO_LINES)))

    assert "reset button" in (turn["ocr_text"] or "").lower()
    assert turn["decision"] == "answer", turn
    assert world.cited_files(turn)[0] == "router-reset.md"
    (message,) = _customer_messages(world, world.read(customer))
    assert message["image_url"] and "reset button" in (message["ocr_text"] or "").lower()


def test_a_question_with_a_photo_searches_with_what_the_photo_reads(error_code_world: ChatWorld) -> None:
    world = error_code_world
    customer = world.start()
    screen = ("screen.png", text_image(["Nimbus", "Error E-204"]))
    turn = world.ask(customer, "my router shows this, what do I do?", image=screen)

    assert "E-204" in (turn["ocr_text"] or ""), turn
    assert world.cited_files(turn)[0] == "error-codes.md", turn
    assert "yellow WAN port" in turn["answer"]


def test_a_question_naming_an_error_code_is_answered_from_its_entry(error_code_world: ChatWorld) -> None:
    world = error_code_world
    turn = world.ask(world.start(), "What does E-310 mean?")
    assert turn["decision"] == "answer", turn
    assert world.cited_files(turn)[0] == "error-codes.md"
    assert "firmware update failed" in turn["answer"]
    # The customer's word for their device is not what the entry must say: it says "router", not "modem".
    pointing = world.ask(world.start(), "My modem shows E-310")
    assert pointing["decision"] == "answer", pointing
    assert pointing["answer"] == turn["answer"]
    remedy = world.ask(world.start(), "How do I fix E-310?")  # the entry says "unplug ...", never "fix"
    assert remedy["decision"] == "answer", remedy
    assert remedy["answer"] == turn["answer"]
    unknown = world.ask(world.start(), "What does E-999 mean?")  # a code the knowledge base does not list
    assert unknown["decision"] != "answer", unknown
    assert "E-999" not in unknown["answer"]


def test_a_follow_up_after_an_error_code_is_answered_from_its_entry(error_code_world: ChatWorld) -> None:
    world = error_code_world
    customer = world.start()
    world.ask(customer, "My router shows error E-310.")
    turn = world.ask(customer, "How do I fix it?")  # names nothing: "it" is the code the customer just gave
    assert turn["decision"] == "answer", turn
    assert world.cited_files(turn)[0] == "error-codes.md"
    assert "unplug the router for a minute" in turn["answer"]
    assert "yellow WAN port" not in turn["answer"]  # E-204's remedy shares the entry's chunk, not its code


@pytest.mark.skipif(not espeak_available(), reason="needs espeak-ng")
def test_a_voice_note_retrieves_what_the_typed_question_does(world: ChatWorld) -> None:
    typed_customer, spoken_customer = world.start(), world.start()
    typed = world.ask(typed_customer, RESET_QUESTION)
    spoken = world.ask(spoken_customer, audio=("note.wav", speech_wav(RESET_QUESTION)))

    transcript = spoken["transcript"] or ""
    assert "reset" in transcript.lower() and "router" in transcript.lower(), transcript
    (message,) = _customer_messages(world, world.read(spoken_customer))
    assert message["transcript"] == transcript and message["audio_url"]

    typed_top = world.read_as_agent(typed_customer.id)["messages"][-1]["retrieved"][0]
    spoken_top = world.read_as_agent(spoken_customer.id)["messages"][-1]["retrieved"][0]
    assert spoken_top["chunk_id"] == typed_top["chunk_id"]
    assert spoken["decision"] == typed["decision"] == "answer"
    assert world.cited_files(spoken)[0] == world.cited_files(typed)[0] == "router-reset.md"


def test_an_injected_document_does_not_change_the_answer(world: ChatWorld, injected_world: ChatWorld) -> None:
    clean = world.ask(world.start(), RESET_QUESTION)
    attacked = injected_world.ask(injected_world.start(), RESET_QUESTION)

    assert clean["decision"] == attacked["decision"] == "answer"
    assert attacked["answer"] == clean["answer"]
    for text in (attacked["answer"], attacked["reply"], *(c["snippet"] for c in attacked["citations"])):
        assert INJECTED not in text and "evil.example" not in text
    assert "router-reset-notice.md" not in injected_world.cited_files(attacked)
    # The injection was among what the bot read (so the test tests something), just never obeyed or quoted.
    retrieved = injected_world.read_as_agent(attacked["conversation_id"])["messages"][-1]["retrieved"]
    assert "router-reset-notice.md" in {hit["source"] for hit in retrieved}


def _escalates(world: ChatWorld, text: str, *reasons: str) -> None:
    customer = world.start()
    turn = world.ask(customer, text)
    assert turn["decision"] == "escalate" and turn["escalated"], turn
    assert turn["escalation_reason"] in reasons, turn
    reason = turn["escalation_reason"]
    assert turn["answer"] == "" and turn["citations"] == [] and turn["reply"]
    assert world.read(customer)["status"] == "escalated"
    items = {item["id"]: item for item in world.inbox()}
    assert customer.id in items, f"{customer.id} not in the inbox"
    assert items[customer.id]["escalation_reason"] == reason
    assert customer.id in {item["id"] for item in world.inbox(reason=reason)}
    # The agent sees the evidence behind the decision; the customer does not.
    bot_as_agent = world.read_as_agent(customer.id)["messages"][-1]
    assert bot_as_agent["decision_detail"], bot_as_agent
    if reason == "no_evidence":
        assert re.fullmatch(r"answerability 0\.\d\d < 0\.\d\d", bot_as_agent["decision_detail"]), bot_as_agent
    assert "decision_detail" not in world.read(customer)["messages"][-1]


def test_a_question_the_articles_do_not_answer_goes_to_the_inbox(world: ChatWorld) -> None:
    """On the knowledge base's subject (the router), but no article says: ``no_evidence``."""
    _escalates(
        world, "Which parental control schedules does the Nimbus router offer for children's tablets?", "no_evidence"
    )


def test_a_question_on_another_subject_goes_to_the_inbox(world: ChatWorld) -> None:
    """Nothing in the knowledge base is about it: ``out_of_scope`` when no retrieved passage shares a word with
    it, ``no_evidence`` when some do (here "store" may): either way a person gets it, never a guess."""
    _escalates(
        world, "What are the opening hours of your store in Lisbon on public holidays?", "out_of_scope", "no_evidence"
    )


@pytest.mark.parametrize("complaint", ["It is not working", "it doesnt work"])
def test_a_complaint_that_names_nothing_gets_a_question_back(world: ChatWorld, complaint: str) -> None:
    """Nothing in it to match the knowledge base against, which is not the same as a subject it lacks: the bot
    asks what the customer means instead of handing a bare "it is not working" to a person."""
    customer = world.start()
    turn = world.ask(customer, complaint)
    assert turn["decision"] == "clarify", turn
    assert not turn["escalated"] and "?" in turn["reply"]
    assert world.read(customer)["status"] == "bot"


def test_asking_for_a_person_goes_to_the_inbox(world: ChatWorld) -> None:
    _escalates(world, "I want to talk to a real person please", "customer_asked_for_human")


@pytest.mark.parametrize(
    "question",
    [
        "Can I get a refund for my Nimbus router?",
        "My Nimbus router arrived damaged, what now?",
        "The router fell off the shelf and the case is cracked, I want a replacement",
    ],
)
def test_refunds_and_damage_go_to_a_person(world: ChatWorld, question: str) -> None:
    _escalates(world, question, "sensitive")


class RecordingBus:
    """The app's own event bus, with a record of what each turn published."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, channel: str, event: dict[str, Any]) -> None:
        self.published.append((channel, event))
        self.inner.publish(channel, event)

    def subscribe(self, channel: str) -> Any:
        return self.inner.subscribe(channel)

    def on(self, conversation_id: str) -> list[dict[str, Any]]:
        return [event for channel, event in self.published if channel == f"conversation:{conversation_id}"]


def test_live_events_name_the_answer_they_stream_and_say_when_a_person_takes_over(
    world: ChatWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = RecordingBus(world.client.app.state.events)  # type: ignore[attr-defined]
    monkeypatch.setattr(world.client.app.state, "events", bus)  # type: ignore[attr-defined]

    answered = world.start()
    turn = world.ask(answered, RESET_QUESTION)
    events = bus.on(answered.id)
    deltas = [e for e in events if e["type"] == "delta"]
    assert deltas and all(d["message_id"] == turn["message_id"] for d in deltas)
    assert "".join(d["text"] for d in deltas).strip() in turn["answer"]
    assert events[-1]["type"] == "message" and events[-1]["message"]["id"] == turn["message_id"]

    handed_over = world.start()
    turn = world.ask(handed_over, "I want a refund for my router, it arrived broken")
    assert turn["escalated"], turn
    assert {"type": "status", "status": "escalated"} in bus.on(handed_over.id)
