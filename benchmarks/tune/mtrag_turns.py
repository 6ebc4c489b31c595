"""Collect the answerability evidence of the product's turn path on every MTRAG-UN task, for fitting the
answerability model on what the turn really computes (``benchmarks/tune/fit_answerability.py --records``).

    .venv/bin/python -m benchmarks.tune.mtrag_turns [--out /tmp/bindesk-mtrag-turns.pkl]

The 1,488 passages of the closed pool go through the real ingest path (:class:`benchmarks.harness.EvalStack`),
one text file each, as ``benchmarks/conversation_mtrag.py`` uploads them; each of the 507 tasks is replayed
(:mod:`benchmarks.conversation_replay`) and its last user turn's evidence kept: the features the judge computed
(``Evidence.features``), the turn's words and the task's label. Both halves are collected; the fit script fits
and thresholds on the tune half only and reports on the other.

The same records carry the reranker's candidates with their passage ids and every score the turn computed
(``head``, ``tail``, ``gold``), so that :mod:`benchmarks.tune.fit_conversation` can fit how the conversation
weighs in the order on MTRAG's tune half beside doc2dial's (``--mtrag``).
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks import datasets as ds
from benchmarks.conversation_replay import ask, document_units, record_earlier, start
from benchmarks.harness import eval_stack
from core.db import session_scope
from kb.search import RERANK_CANDIDATES

WORKSPACE = "mtrag-tune"


@dataclass
class TaskRecord:
    task_id: str
    conversation_id: str
    label: str
    query: str  # the turn's retrieval query (the last user turn, rewritten), as the judge scored it
    features: dict[str, float]  # Evidence.features ({} when the policy screen stopped the turn first)
    top: list[tuple[str, dict[str, float]]]  # the best three hits: (title, heading and text; Hit.scores)
    gold: frozenset[str] = frozenset()  # the reference passages' ids
    has_history: bool = False
    head: tuple[tuple[str, dict[str, float]], ...] = ()  # (passage id, Hit.scores) of the reranker's candidates
    tail: tuple[str, ...] = ()  # passage ids of the hits after them, in order


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "bindesk-mtrag-turns.pkl")
    args = parser.parse_args()
    root = ds.DEFAULT_DATA
    rows = ds.mtrag_tasks(root)
    records: list[TaskRecord] = []
    with eval_stack() as stack, tempfile.TemporaryDirectory() as tmp:
        names = ds.write_mtrag_pool(ds.mtrag_pool(root), Path(tmp))
        report = stack.ingest(WORKSPACE, [Path(tmp) / name for name in names])
        print(f"ingested {report.documents} passages, {report.chunks} chunks in {report.seconds:.0f}s", flush=True)
        units = document_units([(d.id, d.filename) for d in stack.documents(WORKSPACE)], names)
        runtime = stack.runtime
        for n, row in enumerate(rows, start=1):
            turns = [(t["speaker"], t["text"]) for t in row["input"]]
            with session_scope(stack.settings) as session:
                replay = start(session, WORKSPACE)
                record_earlier(runtime, session, replay, turns[:-1])
                evidence = ask(runtime, session, replay, turns[-1][1]).evidence
                hits = evidence.hits if evidence is not None else []
                session.rollback()  # the replayed memory is not kept
            records.append(
                TaskRecord(
                    row["task_id"],
                    row["conversation_id"],
                    row["answerability"][0],
                    evidence.query if evidence is not None else turns[-1][1],
                    dict(evidence.features) if evidence is not None else {},
                    [(f"{h.title} {h.heading} {h.text}", dict(h.scores)) for h in evidence.hits[:3]]
                    if evidence is not None
                    else [],
                    frozenset(c["document_id"] for c in row["contexts"]),
                    len(turns) > 1,
                    tuple((units.get(h.document_id, ""), dict(h.scores)) for h in hits[:RERANK_CANDIDATES]),
                    tuple(units.get(h.document_id, "") for h in hits[RERANK_CANDIDATES:]),
                )
            )
            if n % 50 == 0:
                print(f"{n} tasks", flush=True)
    args.out.write_bytes(pickle.dumps(records))
    print(f"wrote {len(records)} tasks to {args.out}")


if __name__ == "__main__":
    main()
