"""``bindesk eval conversation``: the conversation figures of issue 3, each beside its baseline measured in the
same run, on one throw-away stack (milvus-lite, a real Celery worker; ingest through the real pipeline).

- doc2dial: multi-turn retrieval at document level, last turn vs last 4 turns vs the turn pipeline
  (:mod:`benchmarks.conversation_doc2dial`).
- MTRAG-UN: the answer / clarify / escalate decision against the labels, and answer quality
  (:mod:`benchmarks.conversation_mtrag`).
- support: answer or escalate on a product manual's and an FAQ's questions, half of each knowledge base
  uploaded (:mod:`benchmarks.conversation_support`).
- voice: emanual TV questions spoken and transcribed by Whisper vs typed (:mod:`benchmarks.conversation_voice`).
- latency: whole turns through ``chat.turn.take_turn``, text / photo / voice (:mod:`benchmarks.conversation_latency`).

``--quick`` shrinks every part (one doc2dial domain, 40 MTRAG tasks with a reduced pool, 20 voice questions,
8 turns of each kind, every 8th support question) for iteration; its figures are not comparable with a full run.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.conversation_doc2dial import print_doc2dial, run_doc2dial
from benchmarks.conversation_latency import print_latency, run_latency
from benchmarks.conversation_mtrag import print_mtrag, run_mtrag
from benchmarks.conversation_support import print_support, run_support
from benchmarks.conversation_voice import ingest_tv_manual, print_voice, run_voice
from benchmarks.harness import EvalStack

PARTS = ("doc2dial", "voice", "latency", "support", "mtrag")


def run(stack: EvalStack, root: Path, work_dir: Path, quick: bool, parts: Sequence[str] = PARTS) -> dict[str, Any]:
    """Run ``parts`` (a subset of :data:`PARTS`, always in that order) and return their figures by name."""
    results: dict[str, Any] = {}

    def timed(name: str, part: Callable[[Path], dict[str, Any]]) -> None:
        if name not in parts:
            return
        sub = work_dir / name
        sub.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        try:
            results[name] = part(sub)
        except Exception as exc:  # one broken part must not lose the others' figures (saved at the end)
            traceback.print_exc()
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        results[name]["wall_seconds"] = round(time.perf_counter() - started, 1)
        # The figures as soon as they exist: a run stopped later still leaves them in its log.
        print(f"conversation: {name} done: {json.dumps(results[name], default=str)}", file=sys.stderr, flush=True)

    timed("doc2dial", lambda sub: run_doc2dial(stack, root, sub, quick))
    timed("voice", lambda sub: {"kb_ingest": ingest_tv_manual(stack, root, sub), **run_voice(stack, root, quick)})
    # The latency turns ask the voice part's knowledge base: ingest it here when the voice part did not run.
    kb = (lambda sub: {}) if "voice" in parts else (lambda sub: {"kb_ingest": ingest_tv_manual(stack, root, sub)})
    timed("latency", lambda sub: {**kb(sub), **run_latency(stack, root, quick)})
    timed("support", lambda sub: run_support(stack, root, sub, quick))
    timed("mtrag", lambda sub: run_mtrag(stack, root, sub, quick))  # last: its pool is the longest ingest
    return results


def print_report(result: dict[str, Any]) -> None:
    printers: dict[str, Callable[[dict[str, Any]], None]] = {
        "doc2dial": print_doc2dial,
        "mtrag": print_mtrag,
        "voice": print_voice,
        "latency": print_latency,
        "support": print_support,
    }
    for name, printer in printers.items():
        part = result.get(name)
        if part and "error" in part:
            print(f"\n{name}: FAILED ({part['error']})")
        elif part:
            printer(part)
            print(f"  ({part.get('wall_seconds', '?')} s)")
