"""Latency of a whole turn on this machine, warm: :func:`chat.turn.take_turn` (inputs checked and read,
entity memory, retrieval, rerank and answerability, decision, generation, the messages persisted and
committed) for typed questions, photos of a question (rendered with Pillow), and 5-second voice notes
(espeak-ng, padded with silence to 5 s). KB: the emanual TV manual (:mod:`benchmarks.conversation_voice`).

Each kind runs a few warm-up turns first (not counted). A conversation takes three turns and is replaced
earlier when it escalates, so every measured turn is one the bot answers, clarifies or escalates (never a
silent hand-off). The share of each stage is its mean over the mean total, from the turn's ``timings_ms``;
what no stage names (entity memory, policy, chunk texts, generation, persisting) is reported as "rest".
"""

from __future__ import annotations

import io
import os
import random
import statistics
import textwrap
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from benchmarks import datasets as ds
from benchmarks.conversation_voice import WORKSPACE, pad_wav, speak, wav_seconds
from benchmarks.harness import EvalStack
from chat.conversations import create_conversation
from chat.inputs import TurnInput
from chat.turn import take_turn
from core.db import session_scope
from core.models import Conversation, ConversationStatus

SEED = 1
TURNS_FULL = 30
TURNS_QUICK = 8
WARM_UP = 3
TURNS_PER_CONVERSATION = 3
VOICE_SECONDS = 5.0
TARGETS_MS = {"text": 150, "photo": 1000, "voice": 1200}


def photo_of(text: str) -> bytes:
    """A phone-sized JPEG of the question in black on white (what a customer photographs: a screen, a label)."""
    font = ImageFont.load_default(size=40)
    lines = textwrap.wrap(text, width=36) or [text]
    image = Image.new("RGB", (1024, max(300, 80 + 64 * len(lines))), "white")
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((48, 40 + row * 64), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def voice_note(text: str) -> bytes:
    """``text`` spoken in under 5 s (faster speech when needed), padded with silence to exactly 5 s."""
    audio = speak(text)
    duration = wav_seconds(audio)
    if duration > VOICE_SECONDS - 0.2:
        audio = speak(text, words_per_minute=min(300, int(150 * duration / (VOICE_SECONDS - 0.4)) + 1))
    return pad_wav(audio, VOICE_SECONDS)


def turn_inputs(root: Path, quick: bool) -> dict[str, list[TurnInput]]:
    count = WARM_UP + (TURNS_QUICK if quick else TURNS_FULL)
    questions = [q.text for q in ds.tv_questions(root)]
    rng = random.Random(SEED)
    short = [q for q in questions if 4 <= len(q.split()) <= 12]
    return {
        "text": [TurnInput(text=q) for q in rng.sample(questions, count)],
        "photo": [TurnInput(image=photo_of(q)) for q in rng.sample(questions, count)],
        "voice": [TurnInput(audio=voice_note(q)) for q in rng.sample(short, count)],
    }


def run_latency(stack: EvalStack, root: Path, quick: bool) -> dict[str, Any]:
    """Needs the TV manual in the voice benchmark's workspace."""
    stack.runtime.warm_up()
    inputs = turn_inputs(root, quick)
    out: dict[str, Any] = {"load_average_before": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
    for kind, turns in inputs.items():
        out[kind] = _measure(stack, turns)
        out[kind]["target_p50_ms"] = TARGETS_MS[kind]
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


def _measure(stack: EvalStack, turns: Sequence[TurnInput]) -> dict[str, Any]:
    runtime = stack.runtime
    walls: list[float] = []
    stages: list[dict[str, float]] = []
    decisions: Counter[str] = Counter()
    conversation_id: str | None = None
    taken = 0
    for n, turn in enumerate(turns):
        with session_scope(stack.settings) as session:
            conversation = session.get(Conversation, conversation_id) if conversation_id else None
            if (
                conversation is None
                or taken >= TURNS_PER_CONVERSATION
                or conversation.status
                in (
                    ConversationStatus.ESCALATED,
                    ConversationStatus.CLAIMED,
                )
            ):
                conversation, _ = create_conversation(session, WORKSPACE)
                session.commit()
                conversation_id, taken = conversation.id, 0
            started = time.perf_counter()
            result = take_turn(runtime, session, conversation, turn)
            wall = (time.perf_counter() - started) * 1000
            taken += 1
        if n < WARM_UP:
            continue
        walls.append(wall)
        stages.append({k: float(v) for k, v in (result.get("timings_ms") or {}).items()})
        decisions[str(result["decision"])] += 1
    return {
        "turns": len(walls),
        "p50_ms": round(statistics.median(walls), 1),
        "p95_ms": round(_percentile(walls, 0.95), 1),
        "mean_ms": round(statistics.fmean(walls), 1),
        "stage_share": _shares(stages),
        "stage_mean_ms": {k: round(v, 1) for k, v in _means(stages).items()},
        "decisions": dict(decisions),
    }


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _means(stages: Sequence[dict[str, float]]) -> dict[str, float]:
    keys = dict.fromkeys(k for s in stages for k in s)
    return {k: statistics.fmean(s.get(k, 0.0) for s in stages) for k in keys}


def _shares(stages: Sequence[dict[str, float]]) -> dict[str, float]:
    means = _means(stages)
    total = means.pop("total", 0.0)
    if total <= 0:
        return {}
    shares = {k: round(v / total, 3) for k, v in means.items()}
    shares["rest"] = round(max(0.0, total - sum(means.values())) / total, 3)
    return shares


def print_latency(lat: dict[str, Any]) -> None:
    print(
        f"\nturn latency through chat.turn.take_turn, warm, on this machine ({lat['cpus']} CPUs, shared; "
        f"load average before {lat['load_average_before']}, after {lat['load_average_after']}); KB emanual TV"
    )
    for kind in ("text", "photo", "voice"):
        k = lat[kind]
        shares = ", ".join(f"{name} {share:.0%}" for name, share in k["stage_share"].items())
        print(
            f"  {kind:5} {k['turns']} turns: p50 {k['p50_ms']:.0f} ms, p95 {k['p95_ms']:.0f} ms "
            f"(target p50 <= {k['target_p50_ms']} ms); decisions {k['decisions']}"
        )
        print(f"        share of the turn: {shares}")
