"""chat.vocabulary: voice transcripts corrected against a knowledge base's own words (pure logic), the
workspace vocabulary kept from the chunk rows (chat.workspace_vocabulary, on SQLite), and the voice path of
chat.inputs.normalise (a stand-in transcriber: the point is what is stored and what is searched)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from chat.inputs import NormalisedTurn, TurnInput, normalise
from chat.vocabulary import (
    CorrectionConfig,
    KbVocabulary,
    correct_words,
    edit_distance,
    intended_question_word,
    is_common,
    sound_key,
)
from chat.workspace_vocabulary import VocabularyCache
from core.db import make_engine
from core.media import AudioClip, Transcript
from core.models import Base, Chunk, Document, Workspace
from core.settings import Settings
from kb.runtime import Models, Runtime
from tests.support.media_fixtures import tone_wav

# A TV manual in miniature: every word offered below is used by at least two chunks.
CHUNKS = [
    "Privacy settings: choose which viewing information the TV shares. Read the privacy notice first.",
    "Privacy notice for Samsung services and the list of channels.",
    "Edit the channels list: register favourite channels, remove channels, rename channels.",
    "Bixby is the voice assistant. Press and hold the Bixby button to talk to Bixby.",
    "Ask Bixby to change channels or the volume.",
    "Screen burn protection: pixel shift moves the picture to prevent screen burn.",
    "Screen burn can appear when a still picture stays on the screen for a long time.",
]


@pytest.fixture(scope="module")
def vocabulary() -> KbVocabulary:
    return KbVocabulary.build(CHUNKS)


def test_sound_key_hears_what_a_recogniser_confuses() -> None:
    assert sound_key("privacy") == "PRFS" and sound_key("primacy") == "PRMS"
    assert edit_distance(sound_key("candles"), sound_key("channels")) == 1  # "ch" sounds like a hard "c"
    assert sound_key("bigspeed")[:4] == sound_key("bixby")  # voiced/voiceless merged: "gs" ~ "x"
    assert sound_key("offer")[0] == "A"  # a leading vowel is kept


def test_vocabulary_counts_chunks_not_occurrences(vocabulary: KbVocabulary) -> None:
    assert vocabulary.documents == len(CHUNKS)
    assert vocabulary.frequency("bixby") == 2  # three times in one chunk, once in another
    assert vocabulary.frequency("Channels") == 3  # case-insensitive
    assert vocabulary.frequency("candles") == 0


def test_a_misheard_word_gets_the_knowledge_base_word_it_sounds_like(vocabulary: KbVocabulary) -> None:
    fixed = correct_words("How do I change the primacy settings?", vocabulary)
    assert fixed.text == "How do I change the primacy privacy settings?"  # appended: the heard word stays
    assert fixed.changes == (("primacy", "privacy"),)
    replaced = correct_words("How do I change the primacy settings?", vocabulary, CorrectionConfig(mode="replace"))
    assert replaced.text == "How do I change the privacy settings?"


def test_candles_become_channels_at_a_looser_limit(vocabulary: KbVocabulary) -> None:
    """The shipped limit (sound + letter distance <= 0.6) leaves "candles" alone; 0.7 lets it through."""
    assert correct_words("edit my candles list", vocabulary).changes == ()
    loose = correct_words("edit my candles list", vocabulary, CorrectionConfig(max_score=0.7))
    assert loose.changes == (("candles", "channels"),)


def test_two_heard_words_that_run_together_into_a_known_word(vocabulary: KbVocabulary) -> None:
    fixed = correct_words("How do I activate big speed?", vocabulary)
    assert fixed.changes == (("big speed", "bixby"),)
    assert fixed.text == "How do I activate big speed bixby?"


def test_words_are_not_joined_across_punctuation(vocabulary: KbVocabulary) -> None:
    assert correct_words("It is big. Speed matters.", vocabulary).changes == ()


def test_a_word_that_is_two_known_words_is_split(vocabulary: KbVocabulary) -> None:
    fixed = correct_words("How do I prevent screenburn?", vocabulary, CorrectionConfig(mode="replace"))
    assert fixed.text == "How do I prevent screen burn?"


def test_two_heard_words_that_spell_a_known_word_are_glued() -> None:
    vocabulary = KbVocabulary.build(["Timeshift pauses live TV.", "Stop timeshift.", "Time zone."])
    fixed = correct_words("What is time shift?", vocabulary)
    assert fixed.changes == (("time shift", "timeshift"),)
    assert fixed.text == "What is time shift timeshift?"
    assert correct_words("What is time shift?", vocabulary, CorrectionConfig(glue=False)).changes == ()


def test_spoken_symbol_names_are_never_corrected() -> None:
    """ "enable/disable" is spoken "enable slash disable": the KB writes "/", and "flash" was never meant."""
    vocabulary = KbVocabulary.build(["Enable or disable the flash.", "Flash, enable or disable.", "Tell the TV."] * 2)
    assert correct_words("How do I enable slash disable?", vocabulary).changes == ()
    assert correct_words("channels one till four", vocabulary).changes == ()  # "till": a function word
    assert correct_words("How do I enable flush disable?", vocabulary).changes == (("flush", "flash"),)


def test_a_common_english_word_gets_no_sound_alike_but_is_still_joined(vocabulary: KbVocabulary) -> None:
    led = KbVocabulary.build(["The LED lights up.", "The LED blinks."])
    assert correct_words("Why does the lead blink?", led).changes == ()
    assert correct_words("Why does the lead blink?", led, CorrectionConfig(common=False)).changes == (("lead", "led"),)
    assert is_common("lead") and is_common("means") and is_common("Teaming") and not is_common("candles")
    assert correct_words("activate big speed", vocabulary).changes == (("big speed", "bixby"),)  # "big" is common


def test_the_words_of_the_questions_frame_are_not_corrected() -> None:
    """ "my screen says E-06": "screen says" was offered "signs", which broke the frame ("says" points at the code,
    "my screen" is the customer's own display) and left "screen" as a word the answer had to hold: escalated."""
    texts = ["Signs that the grind is wrong.", "Signs of scale.", "E-06 means the grinder is blocked."]
    vocabulary = KbVocabulary.build(texts)
    assert correct_words("my screen says E-06", vocabulary).changes == ()
    assert correct_words("what the screen says", vocabulary).changes == (("screen says", "signs"),)  # no frame
    router = KbVocabulary.build(["The router LED blinks red.", "Restart the router.", "E-21: no internet."])
    assert correct_words("my routr shows E-21", router).changes == (("routr", "router"),)  # the device's word


def test_a_join_that_takes_in_a_known_word_must_offer_a_more_frequent_one() -> None:
    texts = ["Update the software.", "Software update.", "Update now.", "Optimal picture.", "Optimal sound."]
    vocabulary = KbVocabulary.build(texts)  # "update" in 3 chunks, "optimal" in 2
    assert correct_words("How to update team software", vocabulary).changes == ()
    loose = correct_words("How to update team software", vocabulary, CorrectionConfig(join_more_frequent=False))
    assert loose.changes == (("update team", "optimal"),)


def test_known_words_function_words_and_contractions_are_left_alone(vocabulary: KbVocabulary) -> None:
    for text in ("Ask Bixby to rename channels", "I'm sure we'll manage", "what about the notice"):
        assert correct_words(text, vocabulary).text == text


def test_a_word_the_knowledge_base_uses_only_once_is_not_offered() -> None:
    once = KbVocabulary.build(["The privacy notice.", "Something else entirely."])
    assert correct_words("the primacy notice", once).changes == ()
    assert correct_words("the primacy notice", once, CorrectionConfig(min_df=1)).changes == (("primacy", "privacy"),)


def test_an_empty_vocabulary_changes_nothing() -> None:
    assert correct_words("activate big speed", KbVocabulary()).text == "activate big speed"


# --- the workspace's vocabulary, kept -----------------------------------------------------------------------------
def _chunk(session: Session, workspace: str, ordinal: int, text: str, heading: str = "") -> None:
    session.add(
        Chunk(
            id=f"{workspace}-{ordinal}",
            workspace_id=workspace,
            document_id="doc",
            version=1,
            ordinal=ordinal,
            modality="text",
            text=text,
            heading_path=[heading] if heading else [],
        )
    )


def test_the_workspace_vocabulary_is_kept_until_its_chunks_change(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(engine)
    cache = VocabularyCache()
    with Session(engine) as session:
        session.add(Workspace(id="ws", name="ws"))
        session.flush()
        session.add(
            Document(
                id="doc", workspace_id="ws", filename="m.md", kind="markdown", media_type="text/markdown",
                size_bytes=1, sha256="0" * 64, blob_key="k",
            )
        )  # fmt: skip
        session.flush()
        _chunk(session, "ws", 0, "Press the Bixby button.", heading="Bixby")
        session.commit()
        first = cache.get(session, "ws")
        assert first.frequency("bixby") == 1 and first.documents == 1
        assert cache.get(session, "ws") is first  # unchanged chunks: the same vocabulary
        _chunk(session, "ws", 1, "Ask Bixby about the weather.")
        session.commit()
        second = cache.get(session, "ws")
        assert second is not first and second.frequency("bixby") == 2
        assert cache.get(session, "other").documents == 0


# --- the voice path of a turn -------------------------------------------------------------------------------------
class HeardAs:
    """A transcriber that hears every voice note as ``text``."""

    def __init__(self, text: str) -> None:
        self.text = text

    def warm_up(self) -> None:
        pass

    def transcribe(self, clip: AudioClip, language: str | None = None) -> Transcript:
        return Transcript(text=self.text, language="en", duration=clip.duration)


def _runtime(tmp_path: Path, heard: str, **settings: object) -> Runtime:
    models = Models(Settings(data_dir=tmp_path))
    models.transcriber = HeardAs(heard)
    return Runtime(Settings(data_dir=tmp_path, **settings), models)  # type: ignore[arg-type]


def test_a_voice_note_searches_with_the_corrected_words_and_keeps_the_transcript(
    tmp_path: Path, vocabulary: KbVocabulary
) -> None:
    runtime = _runtime(tmp_path, "How do I activate big speed?")
    norm = normalise(runtime, TurnInput(audio=tone_wav(1.0)), vocabulary=lambda: vocabulary)
    assert norm.transcript is not None and norm.transcript.text == "How do I activate big speed?"
    assert norm.spoken == "How do I activate big speed?"  # as heard: what is stored and shown
    assert norm.words == "How do I activate big speed bixby?"  # what the turn searches with
    assert "vocabulary" in norm.timings_ms


def test_a_typed_turn_searches_with_the_words_its_misspellings_stand_for(
    tmp_path: Path, vocabulary: KbVocabulary
) -> None:
    norm = normalise(_runtime(tmp_path, ""), TurnInput(text="activate big speed"), vocabulary=lambda: vocabulary)
    assert norm.text == "activate big speed"  # stored as typed
    assert norm.words == "activate big speed bixby"  # searched with the knowledge base's word
    assert norm.said == "activate big speed"  # the wording rules read what was typed

    def no_vocabulary() -> KbVocabulary:
        raise AssertionError("switched off: the vocabulary is never built")

    off = _runtime(tmp_path, "", typed_vocabulary=False)
    assert normalise(off, TurnInput(text="activate big speed"), vocabulary=no_vocabulary).words == "activate big speed"


def test_the_correction_can_be_switched_off(tmp_path: Path, vocabulary: KbVocabulary) -> None:
    runtime = _runtime(tmp_path, "activate big speed", voice_vocabulary=False)
    norm = normalise(runtime, TurnInput(audio=tone_wav(1.0)), vocabulary=lambda: vocabulary)
    assert norm.correction is None and norm.words == "activate big speed"


def test_a_misspelt_question_word_is_put_right_in_place(vocabulary: KbVocabulary) -> None:
    """ "waht does E-09 meen" got the knowledge base's "wait" and "menu" offered, which outweighed the code."""
    corrected = correct_words("waht does the Bixby buton meen", vocabulary)
    assert corrected.text.startswith("what does the Bixby") and corrected.text.endswith(" mean"), corrected
    assert ("waht", "what") in corrected.changes and ("meen", "mean") in corrected.changes
    assert intended_question_word("wich") == "which" and intended_question_word("shoud") == "should"
    # not a knowledge-base word's misspelling, nor a short one: "gest" is the guest network's
    assert intended_question_word("gest") is None and intended_question_word("privacy") is None


# An espresso machine's manual in miniature: each word offered below is in two chunks.
CARE = [
    "Clean the milk frother after every use.",
    "The milk frother needs a clean nozzle.",
    "Set up the guest network for visitors.",
    "The guest network has its own password.",
]


def test_the_answer_is_matched_with_the_corrections_in_place() -> None:
    typed = "how do i clen the milk frohter?"
    offered = correct_words(typed, KbVocabulary.build(CARE))
    assert offered.text == "how do i clen clean the milk frohter frother?"
    turn = NormalisedTurn(text=typed, text_correction=offered)
    assert turn.question == offered.text  # searched with both: a wrong offer costs little there
    assert turn.answer_question == "how do i clean the milk frother?"
    assert NormalisedTurn(text=typed).answer_question == typed


def test_words_one_letter_from_a_question_word_are_left_alone(vocabulary: KbVocabulary) -> None:
    """ "I want a stronger coffee" became "I cant a stronger coffee"; "tank", "hose" and "goes" are words."""
    for word in ("want", "tank", "hose", "goes", "dose", "feed", "worn", "three"):
        assert intended_question_word(word) is None, word
    assert correct_words("I want the hose", vocabulary).text == "I want the hose"


def test_corrections_in_place_replace_whole_words_only() -> None:
    typed = "suggest setting up the gest wifi"
    offered = correct_words(typed, KbVocabulary.build(CARE))
    assert offered.changes == (("gest", "guest"),)
    turn = NormalisedTurn(text=typed, text_correction=offered)
    assert turn.answer_question == "suggest setting up the guest wifi"
