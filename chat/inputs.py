"""One customer turn's inputs, checked and turned into text: voice -> transcript, photo -> OCR text.

Every check happens before anything is stored, so a refused turn leaves the conversation as it was. A voice
note's transcript is kept as heard (stored and shown); the words the turn searches with also carry the
knowledge base's own words for what the recogniser misheard (:mod:`chat.vocabulary`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from chat.vocabulary import Correction, KbVocabulary, correct_words
from core.errors import EmptyMessage, InvalidInput, InvalidMedia, PayloadTooLarge, UnsupportedMediaType
from core.media import OcrResult, Transcript, decode_audio, load_image
from ingest.sniff import detect
from kb.runtime import Runtime

# Words of a photo's text that join a written or spoken question: enough for an error screen or a label, not a
# photographed page, which would drown the customer's own words (a photo alone searches with all of its text).
PHOTO_WORDS_WITH_TEXT = 32


@dataclass
class TurnInput:
    text: str = ""
    image: bytes | None = None
    audio: bytes | None = None


@dataclass
class NormalisedTurn:
    text: str
    image: Image.Image | None = None
    image_bytes: bytes | None = None
    image_media_type: str | None = None
    ocr: OcrResult | None = None
    audio_bytes: bytes | None = None
    audio_media_type: str | None = None
    transcript: Transcript | None = None
    correction: Correction | None = None  # the transcript with the knowledge base's words offered
    text_correction: Correction | None = None  # the typed text with the knowledge base's words offered
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def spoken(self) -> str:
        """The transcript as heard."""
        return self.transcript.text.strip() if self.transcript else ""

    @property
    def spoken_for_search(self) -> str:
        """The transcript with the knowledge base's words offered for the words it misheard (as heard when
        there was no correction)."""
        return self.correction.text.strip() if self.correction else self.spoken

    @property
    def text_for_search(self) -> str:
        """The typed text with the knowledge base's words offered for the words it misspells (as typed when
        there was no correction)."""
        return self.text_correction.text.strip() if self.text_correction else self.text

    @property
    def ocr_text(self) -> str:
        return self.ocr.text.strip() if self.ocr else ""

    @property
    def words(self) -> str:
        """What the customer said, typed or spoken, as the turn searches with it: the text and a voice note's
        transcript with the knowledge base's words added (:attr:`text_for_search`, :attr:`spoken_for_search`).
        The photo's text is not part of it: :attr:`question` adds it."""
        return " ".join(part for part in (self.text_for_search, self.spoken_for_search) if part)

    @property
    def said(self) -> str:
        """What the customer said, for the rules that read their wording (:func:`chat.policy.screen`): the text as
        typed ("cheers" is thanks, not "cheers covers") and a voice note's transcript as searched."""
        return " ".join(part for part in (self.text, self.spoken_for_search) if part)

    @property
    def question(self) -> str:
        """What the turn searches and answers with: :attr:`words`, then what the photo reads (its first
        :data:`PHOTO_WORDS_WITH_TEXT` words when the customer also wrote or spoke: "my purifier shows this"
        means the error code on the photo), or the photo's text alone when nobody said anything. The graph
        records the same words and photo text, so an entity read off the photo counts as named here."""
        return self._with_photo_text(self.words)

    @property
    def answer_question(self) -> str:
        """:attr:`question` with the knowledge base's words *in place of* the words it misspells or mishears ("how
        do i clean the milk frother?" for "how do i clen the milk frohter?"): what an answer's sentences are
        matched against. Beside each other, the misspelt words, which no passage holds, outweighed the right
        ones, and no sentence qualified."""
        typed = _in_place(self.text, self.text_correction)
        spoken = _in_place(self.spoken, self.correction)
        return self._with_photo_text(" ".join(part for part in (typed, spoken) if part))

    def _with_photo_text(self, words: str) -> str:
        if not words:
            return self.ocr_text
        read = self.ocr_text.split()[:PHOTO_WORDS_WITH_TEXT]
        return " ".join([words, *read])


def _in_place(text: str, correction: Correction | None) -> str:
    """``text`` as ``correction`` put the knowledge base's words in its place, or as it is."""
    return text if correction is None or correction.in_place is None else correction.in_place


def normalise(
    runtime: Runtime, turn: TurnInput, vocabulary: Callable[[], KbVocabulary] | None = None
) -> NormalisedTurn:
    """Check the turn's inputs and read them (OCR, speech to text). ``vocabulary`` gives the workspace's
    vocabulary (asked for only when ``Settings.voice_vocabulary`` or ``Settings.typed_vocabulary`` needs it): a
    transcript and typed text are corrected against it for search (a recogniser's "primacy" and a customer's
    "netwrok" are the same kind of mistake: a word no chunk of the knowledge base holds)."""
    settings = runtime.settings
    text = (turn.text or "").strip()
    if len(text) > settings.max_message_chars:
        raise InvalidInput(
            f"the message has {len(text)} characters; the limit is {settings.max_message_chars}",
            code="message_too_long",
        )
    if not text and not turn.image and not turn.audio:
        raise EmptyMessage("the message is empty: send text, a photo or a voice note")
    out = NormalisedTurn(text=text)
    if vocabulary is not None and settings.typed_vocabulary and text:
        out.text_correction = _corrected(text, vocabulary, out)
    if turn.image:
        _read_image(runtime, turn.image, out)
    if turn.audio:
        _read_audio(runtime, turn.audio, out)
        if vocabulary is not None and settings.voice_vocabulary and out.spoken:
            out.correction = _corrected(out.spoken, vocabulary, out)
    return out


def _corrected(text: str, vocabulary: Callable[[], KbVocabulary], out: NormalisedTurn) -> Correction:
    """``text`` corrected against the workspace's vocabulary, the time it took added to ``out``'s timings."""
    started = time.perf_counter()
    correction = correct_words(text, vocabulary())
    out.timings_ms["vocabulary"] = out.timings_ms.get("vocabulary", 0.0) + (time.perf_counter() - started) * 1000
    return correction


def _read_image(runtime: Runtime, data: bytes, out: NormalisedTurn) -> None:
    settings = runtime.settings
    if len(data) > settings.max_image_bytes:
        raise PayloadTooLarge(f"the photo is {len(data)} bytes; the limit is {settings.max_image_bytes}")
    media_type = _media_type(data, "photo", "image")
    started = time.perf_counter()
    out.image = load_image(data, max_pixels=settings.max_image_pixels)
    out.image_bytes, out.image_media_type = data, media_type
    out.ocr = runtime.photo_ocr.read(out.image)
    out.timings_ms["ocr"] = (time.perf_counter() - started) * 1000


def _read_audio(runtime: Runtime, data: bytes, out: NormalisedTurn) -> None:
    settings = runtime.settings
    if len(data) > settings.max_audio_bytes:
        raise PayloadTooLarge(f"the voice note is {len(data)} bytes; the limit is {settings.max_audio_bytes}")
    media_type = _media_type(data, "voice note", "audio")
    started = time.perf_counter()
    clip = decode_audio(data, max_seconds=settings.max_audio_seconds)
    out.timings_ms["decode_audio"] = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    out.transcript = runtime.transcriber.transcribe(clip)
    out.audio_bytes, out.audio_media_type = data, media_type
    out.timings_ms["transcribe"] = (time.perf_counter() - started) * 1000


def _media_type(data: bytes, what: str, kind: str) -> str:
    """The real media type by magic bytes; refuses a file of another kind whatever its name says."""
    try:
        detected = detect(data, "")  # no name: the bytes alone decide
    except UnsupportedMediaType as exc:
        raise InvalidMedia(f"the {what} is not a supported {kind} file: {exc.message}") from exc
    if detected.kind != kind:
        raise InvalidMedia(f"the {what} is not a supported {kind} file (its content is {detected.kind})")
    return detected.media_type
