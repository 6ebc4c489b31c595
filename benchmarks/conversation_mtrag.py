"""MTRAG-UN: the answer / clarify / escalate decision of the chat path against the data's labels, and the
quality of the answers, on the report half (benchmarks/tune/mtrag_answers.py's split by conversation; the
answerability model and the generator are tuned on the other half).

The closed pool of 1,488 passages is uploaded, one text file per passage, into one workspace (the pool mixes
the four domains). Each task's conversation is replayed (:mod:`benchmarks.conversation_replay`) and its last
user turn decided by ``chat.decide``; an "answer" whose generator grounds no sentence becomes an escalation,
as in :func:`chat.turn.take_turn`. Labels: ANSWERABLE -> answer, UNDERSPECIFIED -> clarify, UNANSWERABLE ->
escalate; PARTIAL has no decision of its own and counts as a wrong "answer" (the strict precision) or as a
right one (the lenient precision). Baseline: answering every turn.

Answer quality (token F1, ROUGE-L against the target answer, ANSWERABLE report-half tasks), with the metrics
of benchmarks/tune/mtrag_answers.py: the product's generator (``chat.replies.answer_turn``) on the retrieved
evidence, beside the first two sentences of the top retrieved passage; and the generator on the reference
passages, beside the first two sentences of the first reference passage.
"""

from __future__ import annotations

import random
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import datasets as ds
from benchmarks.conversation_replay import (
    ROLES,
    answer_asked,
    ask,
    document_units,
    ranked_units,
    record_earlier,
    start,
)
from benchmarks.harness import EvalStack
from benchmarks.tune.mtrag_answers import Task, evaluate, first_passage, split_halves
from core.db import session_scope
from generation.protocol import GenerationRequest, Generator, Passage

WORKSPACE = "mtrag"
SEED = 0
QUICK_TASKS = 40
QUICK_DISTRACTORS = 100
LABEL_TO_DECISION = {"ANSWERABLE": "answer", "UNDERSPECIFIED": "clarify", "UNANSWERABLE": "escalate"}
CLASSES = ("answer", "clarify", "escalate")


def reference_task(row: dict[str, Any]) -> Task:
    """A task as benchmarks/tune/mtrag_answers.py builds it: reference passages, history, target."""
    turns = row["input"]
    passages = [
        Passage(i + 1, c["document_id"], c["document_id"], row["Collection"], "", None, c["text"], 1.0)
        for i, c in enumerate(row["contexts"])
    ]
    history = [(ROLES[t["speaker"]], t["text"]) for t in turns[:-1]]
    request = GenerationRequest(question=turns[-1]["text"], history=history, passages=passages)
    target = row["targets"][0]["text"] if row.get("targets") else ""
    return Task(row["task_id"], row["conversation_id"], row["Collection"], request, target)


def report_rows(root: Path, quick: bool) -> list[dict[str, Any]]:
    rows = ds.mtrag_tasks(root)
    by_id = {r["task_id"]: r for r in rows}
    _, report = split_halves([reference_task(r) for r in rows])
    chosen = [by_id[t.task_id] for t in report]
    if quick:
        chosen = random.Random(SEED).sample(chosen, min(QUICK_TASKS, len(chosen)))
    return chosen


def pool_for(root: Path, rows: list[dict[str, Any]], quick: bool) -> list[dict[str, Any]]:
    pool = ds.mtrag_pool(root)
    if not quick:
        return pool
    needed = {c["document_id"] for r in rows for c in r["contexts"]}
    others = [p for p in pool if p["passage_id"] not in needed]
    extra = random.Random(SEED).sample(others, min(QUICK_DISTRACTORS, len(others)))
    return [p for p in pool if p["passage_id"] in needed] + extra


def run_mtrag(stack: EvalStack, root: Path, workdir: Path, quick: bool) -> dict[str, Any]:
    rows = report_rows(root, quick)
    pool = pool_for(root, rows, quick)
    names = ds.write_mtrag_pool(pool, workdir)
    report = stack.ingest(WORKSPACE, [workdir / name for name in names])
    units = document_units([(d.id, d.filename) for d in stack.documents(WORKSPACE)], names)
    outcomes = [_decide(stack, row, units) for row in rows]
    answerable = [o for o in outcomes if o["label"] == "ANSWERABLE"]
    return {
        "passages": report.documents,
        "chunks": report.chunks,
        "ingest_failed": report.failed,
        "tasks": len(rows),
        "labels": dict(Counter(o["label"] for o in outcomes)),
        "decision": decision_figures(outcomes),
        "baseline_always_answer": decision_figures([{**o, "decision": "answer"} for o in outcomes]),
        "confusion": _confusion(outcomes),
        "reference_recall@5": round(sum(o["reference_in_top5"] for o in answerable) / len(answerable), 4)
        if answerable
        else 0.0,
        "answer_quality": _answer_quality(rows, answerable, stack),
        "escalation_reasons": dict(Counter(o["reason"] for o in outcomes if o["decision"] == "escalate")),
    }


def _decide(stack: EvalStack, row: dict[str, Any], units: dict[str, str]) -> dict[str, Any]:
    runtime = stack.runtime
    turns = [(t["speaker"], t["text"]) for t in row["input"]]
    with session_scope(stack.settings) as session:
        replay = start(session, WORKSPACE)
        record_earlier(runtime, session, replay, turns[:-1])
        asked = ask(runtime, session, replay, turns[-1][1])
        outcome = answer_asked(runtime, session, replay, asked)
        decision, reason, answer = outcome.kind, outcome.reason, outcome.answer
        evidence = asked.evidence
        passages = evidence.passages() if evidence else []
        ranked = ranked_units(evidence.hits, units) if evidence else []
        session.rollback()  # the replayed memory is not kept
    gold = {c["document_id"] for c in row["contexts"]}
    return {
        "task_id": row["task_id"],
        "label": row["answerability"][0],
        "decision": decision,
        "reason": reason,
        "answerability": evidence.answerability if evidence else None,
        "answer": answer,
        "passages": passages,
        "reference_in_top5": bool(gold & set(ranked[:5])),
    }


def decision_figures(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for cls in CLASSES:
        chosen = [o for o in outcomes if o["decision"] == cls]
        wanted = [o for o in outcomes if LABEL_TO_DECISION.get(o["label"]) == cls]
        right = [o for o in chosen if LABEL_TO_DECISION.get(o["label"]) == cls]
        out[cls] = {
            "decided": len(chosen),
            "labelled": len(wanted),
            "precision": round(len(right) / len(chosen), 4) if chosen else None,
            "recall": round(sum(o["decision"] == cls for o in wanted) / len(wanted), 4) if wanted else None,
        }
    answered = [o for o in outcomes if o["decision"] == "answer"]
    lenient = [o for o in answered if o["label"] in ("ANSWERABLE", "PARTIAL")]
    out["answer"]["precision_partial_ok"] = round(len(lenient) / len(answered), 4) if answered else None
    return out


def _confusion(outcomes: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for o in outcomes:
        row = table.setdefault(o["label"], {})
        row[o["decision"]] = row.get(o["decision"], 0) + 1
    return table


def _answer_quality(rows: list[dict[str, Any]], answerable: list[dict[str, Any]], stack: EvalStack) -> dict[str, Any]:
    by_id = {r["task_id"]: r for r in rows}
    retrieved_tasks, answers = [], {}
    for o in answerable:
        ref = reference_task(by_id[o["task_id"]])
        request = GenerationRequest(ref.request.question, ref.request.history, o["passages"])
        retrieved_tasks.append(Task(ref.task_id, ref.conversation_id, ref.collection, request, ref.target))
        answers[o["task_id"]] = o["answer"]
    with_hits = [t for t in retrieved_tasks if t.request.passages]
    reference_tasks = [reference_task(by_id[o["task_id"]]) for o in answerable]
    generator = stack.runtime.generator
    return {
        "tasks": len(answerable),
        "retrieved": {
            "bindesk_answer": evaluate(lambda t: answers[t.task_id], retrieved_tasks),
            "baseline_first_2_sentences_top_passage": evaluate(
                lambda t: first_passage(t, 2) if t.request.passages else "", retrieved_tasks
            ),
            "tasks_with_evidence": len(with_hits),
            **{
                f"generator_on_passages_within_{margin:g}_of_the_top": evaluate(
                    partial(_answer_within, generator, margin), retrieved_tasks
                )
                for margin in PASSAGE_MARGINS
            },
        },
        "reference_passages": {
            "generator": evaluate(lambda t: generator.generate(t.request).text, reference_tasks),
            "baseline_first_2_sentences_first_passage": evaluate(lambda t: first_passage(t, 2), reference_tasks),
        },
    }


# Reranked-score margins below the top passage tried for the passages the generator reads (measured only).
PASSAGE_MARGINS = (1.0, 2.0, 4.0)


def _answer_within(generator: Generator, margin: float, task: Task) -> str:
    """The generator's answer from the task's passages whose score is within ``margin`` of the best."""
    request = task.request
    if not request.passages:
        return ""
    top = max(p.score for p in request.passages)
    kept = [p for p in request.passages if p.score >= top - margin]
    return generator.generate(GenerationRequest(request.question, request.history, kept, request.focus_entities)).text


def print_mtrag(m: dict[str, Any]) -> None:
    print(
        f"\nMTRAG-UN answerability ({m['tasks']} report-half tasks {m['labels']}; "
        f"{m['passages']} passages, {m['chunks']} chunks)"
    )
    for name, figs in (("Bindesk decision", m["decision"]), ("baseline: always answer", m["baseline_always_answer"])):
        print(f"  {name}")
        for cls in CLASSES:
            f = figs[cls]
            precision = "-" if f["precision"] is None else f"{f['precision']:.3f}"
            recall = "-" if f["recall"] is None else f"{f['recall']:.3f}"
            extra = ""
            if cls == "answer" and f.get("precision_partial_ok") is not None:
                extra = f" (PARTIAL counted right: {f['precision_partial_ok']:.3f})"
            print(
                f"    {cls:9} decided {f['decided']:4d}  labelled {f['labelled']:4d}  "
                f"precision {precision}{extra}  recall {recall}"
            )
    print(f"  confusion (label -> decisions): {m['confusion']}")
    print(f"  escalation reasons: {m['escalation_reasons']}")
    print(f"  a reference passage in the top 5 evidence (answerable): {m['reference_recall@5']:.3f}")
    print("  target: precision on 'answer' >= 0.90, recall on answerable >= 0.70")
    q = m["answer_quality"]
    print(f"  answer quality on {q['tasks']} answerable tasks (token F1 / ROUGE-L / words)")
    for group, systems in (("retrieved evidence", q["retrieved"]), ("reference passages", q["reference_passages"])):
        for name, f in systems.items():
            if isinstance(f, dict):
                print(
                    f"    {group:19} {name:42} {f['token_f1']:.3f} / {f['rouge_l']:.3f} / {f['words']:.0f}"
                    f"  (empty {f['empty']:.0%})"
                )
