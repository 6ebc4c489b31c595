"""Bad customer input through the HTTP API: each is refused with a status and ``{"error": {"code", "message"}}``,
and the conversation is left as it was (same messages; a good message afterwards is answered as usual).

Limits are set small in this module's settings (a 100 kB photo, 3 s of audio) so the refusals are cheap to hit.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from httpx2 import Response
from PIL import Image

from tests.integration.chat.chatworld import ChatWorld, Customer, markdown
from tests.integration.chat.conftest import MakeChatWorld
from tests.support.media_fixtures import (
    ELF_HEADER,
    decompression_bomb_png,
    garbage_after_riff_header,
    lying_wav,
    text_image,
    tone_wav,
)

pytestmark = pytest.mark.integration

MAX_IMAGE_BYTES = 100_000
MAX_AUDIO_SECONDS = 3.0
MAX_MESSAGE_CHARS = 4000
GOOD_QUESTION = "How do I reset my Nimbus router to factory settings?"
KB = [
    (
        "router-reset.md",
        markdown(
            "Resetting the Nimbus router",
            "To restore the factory settings, press and hold the recessed reset button on the back of the Nimbus "
            "router for ten seconds with a paperclip.",
        ),
    ),
    (
        "warranty.md",
        markdown("Nimbus warranty", "Every Nimbus router comes with a two-year limited warranty."),
    ),
]


@pytest.fixture(scope="module")
def world(make_chat_world: MakeChatWorld) -> ChatWorld:
    return make_chat_world(
        KB,
        {
            "max_image_bytes": MAX_IMAGE_BYTES,
            "max_audio_seconds": MAX_AUDIO_SECONDS,
            "max_message_chars": MAX_MESSAGE_CHARS,
        },
    )


def noise_png(side: int) -> bytes:
    """A PNG of random pixels: incompressible, so its size grows with ``side`` squared (about 3 bytes a pixel)."""
    pixels = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


Send = Callable[[ChatWorld, Customer], Response]


def _send_parts(world: ChatWorld, customer: Customer, parts: list[tuple[str, tuple[str, bytes]]]) -> Response:
    return world.client.post(f"/v1/conversations/{customer.id}/messages", headers=customer.headers, files=parts)


# name -> (request, allowed statuses, expected code)
BAD_REQUESTS: dict[str, tuple[Send, set[int], str]] = {
    "empty text": (lambda w, c: w.send(c, ""), {422}, "empty_message"),
    "only whitespace": (lambda w, c: w.send(c, "  \n\t "), {422}, "empty_message"),
    "100k characters": (lambda w, c: w.send(c, "a" * 100_000), {413, 422}, "message_too_long"),
    "2 MB text field (over Starlette's 1 MiB part limit too)": (
        lambda w, c: w.send(c, "a" * 2_000_000),
        {413, 422},
        "message_too_long",
    ),
    "text sent as a file part, over the limit": (
        lambda w, c: _send_parts(w, c, [("text", ("question.txt", b"a" * 100_000))]),
        {413, 422},
        "message_too_long",
    ),
    "text file part that is not UTF-8": (
        lambda w, c: _send_parts(w, c, [("text", ("question.txt", "Wie setze ich zurück?".encode("utf-16")))]),
        {422},
        "invalid_input",
    ),
    "photo over the byte limit": (
        lambda w, c: w.send(c, "what is this?", image=("big.png", noise_png(300))),
        {413},
        "payload_too_large",
    ),
    "text named .png": (
        lambda w, c: w.send(c, "what is this?", image=("photo.png", b"this is not an image at all\n" * 20)),
        {415, 422},
        "invalid_media",
    ),
    "PNG header with a broken body": (
        lambda w, c: w.send(c, image=("photo.png", text_image(["Reset"])[:200])),
        {422},
        "invalid_media",
    ),
    "decompression bomb": (
        lambda w, c: w.send(c, image=("bomb.png", decompression_bomb_png())),
        {413, 422},
        "decompression_bomb",
    ),
    "WAV header claiming an hour": (lambda w, c: w.send(c, audio=("note.wav", lying_wav())), {422}, "invalid_media"),
    "RIFF header then noise": (
        lambda w, c: w.send(c, audio=("note.wav", garbage_after_riff_header())),
        {415, 422},
        "invalid_media",
    ),
    "executable named .wav": (lambda w, c: w.send(c, audio=("note.wav", ELF_HEADER)), {415, 422}, "invalid_media"),
    "photo sent as the voice note": (
        lambda w, c: w.send(c, audio=("note.wav", text_image(["Reset"]))),
        {415, 422},
        "invalid_media",
    ),
    "audio over the length limit": (
        lambda w, c: w.send(c, audio=("note.wav", tone_wav(MAX_AUDIO_SECONDS + 5))),
        {422},
        "media_too_long",
    ),
    "JSON that is not an object of text": (
        lambda w, c: w.client.post(f"/v1/conversations/{c.id}/messages", headers=c.headers, json={"text": 5}),
        {422},
        "invalid_input",
    ),
    "plain-text body": (
        lambda w, c: w.client.post(
            f"/v1/conversations/{c.id}/messages",
            headers={**c.headers, "Content-Type": "text/plain"},
            content=b"hello",
        ),
        {415, 422},
        "invalid_input",
    ),
}


def _assert_error(response: Response, statuses: set[int], code: str) -> None:
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    error = response.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip()


def _messages(world: ChatWorld, customer: Customer) -> list[dict[str, object]]:
    return list(world.read(customer)["messages"])


def _still_answers(world: ChatWorld, customer: Customer, before: int) -> None:
    turn = world.ask(customer, GOOD_QUESTION)
    assert turn["decision"] == "answer" and turn["citations"], turn
    assert len(_messages(world, customer)) == before + 2  # the question and the answer


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_input_is_refused_and_leaves_the_conversation_as_it_was(world: ChatWorld, case: str) -> None:
    send, statuses, code = BAD_REQUESTS[case]
    customer = world.start()
    world.ask(customer, GOOD_QUESTION)
    before = _messages(world, customer)

    _assert_error(send(world, customer), statuses, code)

    after = world.read(customer)
    assert after["messages"] == before and after["status"] == "bot"
    _still_answers(world, customer, len(before))


def test_a_question_sent_as_a_text_file_part_is_answered_like_a_field(world: ChatWorld) -> None:
    """``curl -F text=@question.txt``: the part has a file name, and is still the customer's words."""
    customer = world.start()
    response = _send_parts(world, customer, [("text", ("question.txt", GOOD_QUESTION.encode()))])
    assert response.status_code == 200, response.text
    turn = response.json()
    assert turn["decision"] == "answer" and turn["citations"], turn
    (asked, _) = _messages(world, customer)
    assert asked["text"] == GOOD_QUESTION


def test_a_body_over_the_request_limit_is_refused_before_it_is_read(world: ChatWorld) -> None:
    """Bigger than photo + voice note + 1 MiB together: the body limit answers before the route runs."""
    customer = world.start()
    limit = world.settings.max_image_bytes + world.settings.max_audio_bytes + 1024 * 1024
    response = world.send(customer, image=("huge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (limit + 1)))
    _assert_error(response, {413}, "payload_too_large")
    assert _messages(world, customer) == []
    _still_answers(world, customer, 0)


def test_a_token_opens_only_its_own_conversation(world: ChatWorld) -> None:
    mine, theirs = world.start(), world.start()
    world.ask(theirs, GOOD_QUESTION)
    before = _messages(world, theirs)

    response = world.send(mine, "hello from the wrong conversation", conversation_id=theirs.id)
    _assert_error(response, {404}, "not_found")
    read = world.client.get(f"/v1/conversations/{theirs.id}", headers=mine.headers)
    _assert_error(read, {404}, "not_found")
    missing = world.send(mine, "hello", conversation_id="0" * 32)
    assert missing.json()["error"]["code"] == "not_found" and missing.status_code == 404

    assert _messages(world, theirs) == before
    assert _messages(world, mine) == []
    _still_answers(world, theirs, len(before))
    _still_answers(world, mine, 0)
