"""Collect the product turn path's reranker candidates on doc2dial's tuning half, for fitting how the
conversation weighs in the final order (:mod:`benchmarks.tune.fit_conversation`).

    .venv/bin/python -m benchmarks.tune.doc2dial_turns [--turns 600] [--out /tmp/bindesk-d2d-tune.pkl]

The 273 documents go through the real ingest path (:class:`benchmarks.harness.EvalStack`); 600 turns of the
*tuning* half (dialogues in file order, the first half; the report half is what
``benchmarks/conversation_doc2dial.py`` measures) are replayed through the turn path exactly as the benchmark
replays them. For each turn it keeps the reranked hits' document ids and, for the reranker's candidates, every
feature under ``Hit.scores`` plus the reranker's features computed against the conversation query (the last
earlier turns and this one joined, :func:`kg.expansion.conversation_query`), prefixed ``conv.``.
"""

from __future__ import annotations

import argparse
import pickle
import random
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from benchmarks import datasets as ds
from benchmarks.conversation_replay import ask, document_units, record_earlier, start
from benchmarks.harness import eval_stack
from chat.evidence import HISTORY
from core.db import session_scope
from kb.search import RERANK_CANDIDATES, RetrievalQuery, candidate_sentence_vectors, reranker_for, retrieve
from kg.expansion import HistoryConfig, conversation_query
from retrieval.protocol import Hit

DEPTH = 50

WORKSPACE = "doc2dial-tune"


@dataclass
class TurnRecord:
    turn_id: str
    gold: str
    has_history: bool
    head: list[tuple[str, dict[str, float]]]  # (unit, scores) of the reranker's candidates, reranked order
    tail: list[str]  # units of the hits after them, in order
    alternatives: dict[str, list[str]]  # units ranked by other conversation queries (name -> best first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "bindesk-d2d-tune.pkl")
    args = parser.parse_args()
    root = ds.DEFAULT_DATA
    docs = ds.doc2dial_docs(root)
    tune, _ = ds.doc2dial_halves(ds.doc2dial_turns(root))
    order = {t.id: n for n, t in enumerate(tune)}
    turns = sorted(random.Random(0).sample(tune, min(args.turns, len(tune))), key=lambda t: order[t.id])
    records: list[TurnRecord] = []
    with eval_stack() as stack, tempfile.TemporaryDirectory() as tmp:
        names = ds.write_doc2dial_docs(docs, Path(tmp))
        report = stack.ingest(WORKSPACE, [Path(tmp) / name for name in names])
        print(f"ingested {report.documents} documents, {report.chunks} chunks in {report.seconds:.0f}s", flush=True)
        units = document_units([(d.id, d.filename) for d in stack.documents(WORKSPACE)], names)
        runtime = stack.runtime
        reranker = reranker_for(runtime)
        by_dialogue: dict[str, list[ds.DialTurn]] = defaultdict(list)
        for turn in turns:
            by_dialogue[turn.dial_id].append(turn)
        for dialogue in by_dialogue.values():
            with session_scope(stack.settings) as session:
                replay = start(session, WORKSPACE)
                for turn in sorted(dialogue, key=lambda t: len(t.history)):
                    record_earlier(runtime, session, replay, turn.history)
                    history = list(replay.history)
                    evidence = ask(runtime, session, replay, turn.question).evidence
                    if evidence is None:
                        continue
                    head_hits = evidence.hits[:RERANK_CANDIDATES]
                    conversation = conversation_query(history, HISTORY, turn.question)
                    conv_rows: list[dict[str, float]] = [{} for _ in head_hits]
                    if conversation:
                        stored = candidate_sentence_vectors(session, WORKSPACE, head_hits)
                        conv_rows = reranker.features(conversation, head_hits, stored)
                    head = [
                        (
                            units.get(h.document_id, ""),
                            {**h.scores, **{f"conv.{k}": v for k, v in row.items()}},
                        )
                        for h, row in zip(head_hits, conv_rows, strict=True)
                    ]
                    tail = [units.get(h.document_id, "") for h in evidence.hits[RERANK_CANDIDATES:]]
                    alternatives = {
                        f"concat{n}": _units(retrieve(runtime, WORKSPACE, RetrievalQuery(text=text), DEPTH), units)
                        for n in (2, 3, 4, 6)
                        if (text := conversation_query(history, HistoryConfig(context_turns=n), turn.question))
                    }
                    records.append(TurnRecord(turn.id, turn.doc_id, bool(history), head, tail, alternatives))
            if len(records) % 50 < len(dialogue):
                print(f"{len(records)} turns", flush=True)
    args.out.write_bytes(pickle.dumps(records))
    print(f"wrote {len(records)} turns to {args.out}")


def _units(hits: list[Hit], units: dict[str, str]) -> list[str]:
    return list(dict.fromkeys(units.get(h.document_id, "") for h in hits))


if __name__ == "__main__":
    main()
