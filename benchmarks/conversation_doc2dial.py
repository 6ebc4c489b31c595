"""doc2dial multi-turn retrieval at document level: does the turn pipeline carry context across turns?

The 273 doc2dial documents are uploaded as Markdown pages through the real ingest path. Turns come from the
report half (dialogues in file order, the second half; benchmarks/tune/doc2dial_rewrite.py tunes on the
first), 600 of them sampled with a fixed seed. Each is ranked three ways on the same index:

- last turn only: ``kb.search.retrieve`` on the final user turn's text;
- last 4 turns concatenated: ``retrieve`` on the previous four turns (user and agent) plus the final one;
- Bindesk: the dialogue replayed through the turn path (:mod:`benchmarks.conversation_replay`), documents in
  the order of the reranked evidence of ``chat.evidence.gather_evidence``.

A fourth row, ``retrieve`` on the pipeline's rewritten query alone, shows how much of the gain is the
rewriting and how much the graph candidates and reranking.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import datasets as ds
from benchmarks.conversation_replay import ask, document_units, ranked_units, record_earlier, start
from benchmarks.harness import EvalStack
from core.db import session_scope
from kb.search import RetrievalQuery, retrieve

WORKSPACE = "doc2dial"
SEED = 0
TURNS_FULL = 600
TURNS_QUICK = 60
QUICK_DOMAIN = "studentaid"  # --quick: one domain's 50 documents and its report-half turns (dmv has none there)
DEPTH = 50
STRATEGIES = ("last_turn", "last4_concat", "rewritten_query_only", "bindesk")


def sample_turns(root: Path, quick: bool) -> tuple[list[dict[str, Any]], list[ds.DialTurn]]:
    docs = ds.doc2dial_docs(root)
    _, report = ds.doc2dial_halves(ds.doc2dial_turns(root))
    if quick:
        docs = [d for d in docs if d["domain"] == QUICK_DOMAIN]
        report = [t for t in report if t.domain == QUICK_DOMAIN]
    order = {t.id: n for n, t in enumerate(report)}
    size = TURNS_QUICK if quick else TURNS_FULL
    turns = random.Random(SEED).sample(report, min(size, len(report)))
    return docs, sorted(turns, key=lambda t: order[t.id])


def concat_last4(turn: ds.DialTurn) -> str:
    return " ".join([text for _, text in turn.history[-4:]] + [turn.question])


def run_doc2dial(stack: EvalStack, root: Path, workdir: Path, quick: bool) -> dict[str, Any]:
    docs, turns = sample_turns(root, quick)
    names = ds.write_doc2dial_docs(docs, workdir)
    report = stack.ingest(WORKSPACE, [workdir / name for name in names])
    units = document_units([(d.id, d.filename) for d in stack.documents(WORKSPACE)], names)
    runtime = stack.runtime

    def ranked(text: str) -> list[str]:
        return ranked_units(retrieve(runtime, WORKSPACE, RetrievalQuery(text=text), DEPTH), units)

    rankings: dict[str, dict[str, list[str]]] = {name: {} for name in STRATEGIES}
    for turn in turns:
        rankings["last_turn"][turn.id] = ranked(turn.question)
        rankings["last4_concat"][turn.id] = ranked(concat_last4(turn))
    queries = _replay_dialogues(stack, turns, units, rankings["bindesk"])
    for turn in turns:
        rankings["rewritten_query_only"][turn.id] = ranked(queries[turn.id])
    gold = {t.id: t.doc_id for t in turns}
    later = [t.id for t in turns if t.history]
    return {
        "documents": report.documents,
        "chunks": report.chunks,
        "ingest_failed": report.failed,
        "turns": len(turns),
        "turns_with_history": len(later),
        "quick_domain": QUICK_DOMAIN if quick else None,
        "recall": {name: _recall(r, gold, [t.id for t in turns]) for name, r in rankings.items()},
        "recall_turns_with_history": {name: _recall(r, gold, later) for name, r in rankings.items()},
        "examples": [
            {
                "question": t.question,
                "rewritten": queries[t.id],
                "gold": t.doc_id,
                "bindesk_top": rankings["bindesk"][t.id][:3],
            }
            for t in turns[:: max(1, len(turns) // 5)][:5]
            if t.history
        ],
    }


def _replay_dialogues(
    stack: EvalStack, turns: Sequence[ds.DialTurn], units: dict[str, str], out: dict[str, list[str]]
) -> dict[str, str]:
    """Replay each sampled dialogue once, asking at every sampled turn; fills ``out`` (turn id -> documents)
    and returns turn id -> the pipeline's rewritten query."""
    runtime = stack.runtime
    by_dialogue: dict[str, list[ds.DialTurn]] = defaultdict(list)
    for turn in turns:
        by_dialogue[turn.dial_id].append(turn)
    queries: dict[str, str] = {}
    for dialogue in by_dialogue.values():
        with session_scope(stack.settings) as session:
            replay = start(session, WORKSPACE)
            for turn in sorted(dialogue, key=lambda t: len(t.history)):
                record_earlier(runtime, session, replay, turn.history)
                asked = ask(runtime, session, replay, turn.question)
                evidence = asked.evidence
                out[turn.id] = ranked_units(evidence.hits, units) if evidence else []
                queries[turn.id] = evidence.query if evidence else turn.question
    return queries


def _recall(ranked: dict[str, list[str]], gold: dict[str, str], ids: Sequence[str]) -> dict[str, float]:
    if not ids:
        return {"recall@1": 0.0, "recall@5": 0.0}
    return {f"recall@{k}": round(sum(gold[i] in ranked[i][:k] for i in ids) / len(ids), 4) for k in (1, 5)}


BASELINE = (
    "data README (600 sampled turns, whole documents, rank-bm25 + MiniLM, RRF): last turn 0.548 @5; "
    "last 4 turns + question 0.908 @5, 0.673 @1. Target: Bindesk >= 0.93 @5, >= 0.75 @1"
)


def print_doc2dial(d: dict[str, Any]) -> None:
    scope = f", quick: domain {d['quick_domain']} only" if d.get("quick_domain") else ""
    print(
        f"\ndoc2dial multi-turn retrieval ({d['turns']} report-half turns, {d['turns_with_history']} with history; "
        f"{d['documents']} documents, {d['chunks']} chunks{scope}), document-level recall"
    )
    labels = {
        "last_turn": "last turn only",
        "last4_concat": "last 4 turns concatenated",
        "rewritten_query_only": "rewritten query alone",
        "bindesk": "Bindesk turn pipeline",
    }
    print(f"  {'':28} {'all turns':>18}   {'turns with history':>20}")
    for name, label in labels.items():
        a, h = d["recall"][name], d["recall_turns_with_history"][name]
        print(
            f"  {label:28} R@1 {a['recall@1']:.3f} R@5 {a['recall@5']:.3f}   "
            f"R@1 {h['recall@1']:.3f} R@5 {h['recall@5']:.3f}"
        )
    print(f"  reference: {BASELINE}")
    if d["ingest_failed"]:
        print(f"  ingest failures: {len(d['ingest_failed'])}")
