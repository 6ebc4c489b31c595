"""Voice questions: emanual TV questions spoken by espeak-ng, transcribed by the runtime's Whisper, and
retrieved at section level; recall@5 through Whisper beside the same questions typed, in the same run. All go
through the chat turn's evidence (:func:`chat.evidence.gather_evidence` as a new conversation's first turn).

``whisper`` is the voice note as the product takes it (:func:`chat.inputs.normalise` with the audio: the
transcript, corrected against the knowledge base's words when ``Settings.voice_vocabulary`` is on, see
:mod:`chat.vocabulary`); ``heard`` is the transcript as heard, asked as if typed (no correction).

The knowledge base is the TV e-manual alone (no distractor manuals), to keep the run cheap; the typed figure
is measured on that same index, so the two are comparable with each other, not with ``bindesk eval retrieval``.
"""

from __future__ import annotations

import io
import random
import re
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

from benchmarks import datasets as ds
from benchmarks.conversation_replay import ask, start
from benchmarks.harness import EvalStack
from benchmarks.retrieval import recall_at, section_mapper
from chat.inputs import NormalisedTurn
from chat.vocabulary import edit_distance
from core.db import session_scope

WORKSPACE = "emanual-tv"
SEED = 0
QUESTIONS_FULL = 160
QUESTIONS_QUICK = 20
WORDS_PER_MINUTE = 150
_WORD = re.compile(r"[a-z0-9]+")


def speak(text: str, words_per_minute: int = WORDS_PER_MINUTE) -> bytes:
    """``text`` spoken by espeak-ng (en-us) as a WAV file's bytes."""
    with tempfile.TemporaryDirectory(prefix="bindesk-voice-") as tmp:
        path = Path(tmp) / "q.wav"
        subprocess.run(
            ["espeak-ng", "-v", "en-us", "-s", str(words_per_minute), "-w", str(path), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return path.read_bytes()


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as source:
        return source.getnframes() / source.getframerate()


def pad_wav(data: bytes, seconds: float) -> bytes:
    """The WAV with silence appended up to ``seconds`` (unchanged when it is already that long)."""
    with wave.open(io.BytesIO(data)) as source:
        params = source.getparams()
        frames = source.readframes(source.getnframes())
    missing = round(seconds * params.framerate) - params.nframes
    out = io.BytesIO()
    with wave.open(out, "wb") as sink:
        sink.setparams(params)
        sink.writeframes(frames + b"\x00" * (max(0, missing) * params.sampwidth * params.nchannels))
    return out.getvalue()


def word_error_rate(hypothesis: str, reference: str) -> tuple[int, int]:
    """(word edits, reference words) over lower-cased alphanumeric words."""
    hyp, ref = _WORD.findall(hypothesis.lower()), _WORD.findall(reference.lower())
    return edit_distance(ref, hyp), len(ref)


def ingest_tv_manual(stack: EvalStack, root: Path, workdir: Path) -> dict[str, Any]:
    report = stack.ingest(WORKSPACE, [ds.write_tv_manual(root, workdir)])
    return {"documents": report.documents, "chunks": report.chunks, "failed": report.failed}


def run_voice(stack: EvalStack, root: Path, quick: bool) -> dict[str, Any]:
    """Needs the TV manual in :data:`WORKSPACE` (:func:`ingest_tv_manual`)."""
    runtime = stack.runtime
    questions = random.Random(SEED).sample(ds.tv_questions(root), QUESTIONS_QUICK if quick else QUESTIONS_FULL)
    unit_of = section_mapper(stack, WORKSPACE, ds.tv_sections(root))

    def ranked(text: str, audio: bytes | None = None) -> tuple[list[str], NormalisedTurn]:
        """Sections in the order of the turn's evidence (a new conversation's first turn, as the chat runs it),
        and the normalised turn."""
        with session_scope(stack.settings) as session:
            asked = ask(runtime, session, start(session, WORKSPACE), text, audio=audio)
            session.rollback()
        hits = asked.evidence.hits if asked.evidence else []
        return [u for u in dict.fromkeys(unit_of(h) for h in hits) if u is not None], asked.norm

    typed, spoken, heard, edits, words, seconds = [], [], [], 0, 0, 0.0
    corrected, vocabulary_ms = 0, 0.0
    examples: list[dict[str, str]] = []
    for question in questions:
        audio = speak(question.text)
        seconds += wav_seconds(audio)
        typed.append(ranked(question.text)[0])
        units, norm = ranked("", audio)
        spoken.append(units)
        transcript = norm.spoken
        heard.append(ranked(transcript)[0] if transcript else [])
        e, w = word_error_rate(transcript, question.text)
        edits, words = edits + e, words + w
        corrected += bool(norm.correction and norm.correction.changes)
        vocabulary_ms += norm.timings_ms.get("vocabulary", 0.0)
        if len(examples) < 5 and e:
            examples.append({"typed": question.text, "heard": transcript, "searched": norm.spoken_for_search})
    gold = [q.gold for q in questions]
    return {
        "questions": len(questions),
        "kb": "emanual TV manual only (no distractor manuals)",
        "audio_seconds_mean": round(seconds / len(questions), 2),
        "word_error_rate": round(edits / words, 4) if words else 0.0,
        "voice_vocabulary": runtime.settings.voice_vocabulary,
        "corrected_transcripts": corrected,
        "vocabulary_ms_mean": round(vocabulary_ms / len(questions), 2),
        "recall": {
            name: {f"recall@{k}": round(recall_at(r, gold, k), 4) for k in (1, 5)}
            for name, r in (("typed", typed), ("whisper", spoken), ("heard", heard))
        },
        "examples": examples,
    }


def print_voice(v: dict[str, Any]) -> None:
    print(
        f"\nvoice: {v['questions']} emanual TV questions spoken by espeak-ng ({v['audio_seconds_mean']} s mean), "
        f"transcribed by Whisper; KB = {v['kb']}; section-level recall"
    )
    for name, figs in v["recall"].items():
        print(f"  {name:8} " + "  ".join(f"{k} {val:.3f}" for k, val in figs.items()))
    gap = v["recall"]["typed"]["recall@5"] - v["recall"]["whisper"]["recall@5"]
    print(f"  gap typed - whisper @5: {gap:+.3f} (target: within 0.05); word error rate {v['word_error_rate']:.3f}")
    if "corrected_transcripts" in v:
        print(
            f"  whisper = the voice path (vocabulary correction {'on' if v['voice_vocabulary'] else 'off'}: "
            f"{v['corrected_transcripts']} transcripts corrected, {v['vocabulary_ms_mean']} ms mean); "
            "heard = the transcript asked as typed"
        )
