"""Fit the answerability and underspecified models (:mod:`retrieval.answerability`) on MTRAG-UN and
calibrate their thresholds.

    .venv/bin/python -m benchmarks.tune.fit_answerability [--port 19607] [--chunk-tokens 64] [--write]
    .venv/bin/python -m benchmarks.tune.fit_answerability --records /tmp/bindesk-mtrag-turns.pkl [--write]

With ``--records``, the rows are what the product's turn path computed for each task (the judge's features on
the rewritten query, the conversation's earlier turns voting and joining the order), as
``benchmarks/tune/mtrag_turns.py`` collects them; the split, fit and thresholds below are the same. Without it:

The 1,488 passages of MTRAG-UN's closed pool are indexed with the real chunker and store (one workspace:
the pool mixes the four domains, and 336 passages carry no domain). For each of the 507 tasks the query is
the last user turn, prefixed with the previous user turn (a stand-in for the turn's query rewriting): BM25 +
dense, the live first stage (:func:`retrieval.fusion.first_stage_fusion`), :class:`retrieval.rerank.EvidenceReranker`
with its shipped weights, then the answerability features. Labels: ANSWERABLE = 1; UNANSWERABLE and
UNDERSPECIFIED = 0; PARTIAL is left out of the fit and counted as *not* answerable when measuring precision
(answering it is treated as a mistake).

Tasks are split in halves by conversation (``benchmarks/tune/mtrag_answers.py``'s split): everything is fitted
and every threshold chosen on the tune half (thresholds on 5-fold out-of-fold scores within it); the figures
that count are on the report half, beside two one-feature baselines from the same run (the top reranked
probability alone and the top dense cosine alone, each at its own tune-half >= 0.90-precision threshold).

The answer threshold is the lowest score at which "answer" keeps precision >= 0.90 on the tune half. The
underspecified model (UNDERSPECIFIED vs every other label) gets the threshold that maximises F1 on the tune
half. ``--write`` stores both models (fitted on the whole tune half) and thresholds in
retrieval/calibration/answerability.json and underspecified.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from benchmarks.tune.mtrag_answers import in_tune_half
from benchmarks.tune.retrieval_dev import DATA, Corpus, MiniLM, Question, first_stage, index_corpus
from ingest.types import Block, ParsedDocument
from kb.search import RERANK_CANDIDATES
from retrieval.answerability import (
    DEFAULT_PATH,
    FEATURES,
    UNDERSPECIFIED_FEATURES,
    UNDERSPECIFIED_PATH,
    AnswerabilityModel,
    answerability_features,
    underspecified_features,
)
from retrieval.fusion import first_stage_fusion
from retrieval.lite_server import MilvusLiteServer
from retrieval.milvus import MilvusVectorStore
from retrieval.rerank import EvidenceReranker, LinearWeights, default_weights, sigmoid

PRECISION_TARGET = 0.90
TASKS = DATA / "mtrag" / "mtragun-human" / "generation_tasks" / "reference.jsonl"


def conversations(path: Path = TASKS) -> list[str]:
    return [json.loads(x)["conversation_id"] for x in path.read_text(encoding="utf-8").splitlines() if x]


def mtrag(root: Path = DATA) -> tuple[Corpus, list[str]]:
    pool = [json.loads(x) for x in (root / "mtrag" / "reference_passage_pool.jsonl").read_text().splitlines() if x]
    docs = [
        ParsedDocument(kind="text", title="", blocks=[Block(kind="paragraph", text=p["text"].strip())]) for p in pool
    ]
    tasks = [
        json.loads(x)
        for x in (root / "mtrag" / "mtragun-human" / "generation_tasks" / "reference.jsonl").read_text().splitlines()
        if x
    ]
    questions, labels = [], []
    for task in tasks:
        users = [t["text"].strip() for t in task["input"] if t["speaker"] == "user"]
        query = " ".join(users[-2:])
        gold = frozenset(c["document_id"] for c in task["contexts"])
        questions.append(Question(query, gold, {"last_turn": users[-1]}))
        labels.append(task["answerability"][0])
    return Corpus("mtrag", docs, [p["passage_id"] for p in pool], questions), labels


def threshold_for_precision(scores: np.ndarray, positive: np.ndarray, target: float) -> float:
    """Lowest threshold whose "answer" set (score >= t) has precision >= target (1.01 if none has)."""
    best = 1.01
    for t in sorted(set(scores.tolist()), reverse=True):
        chosen = scores >= t
        if positive[chosen].mean() >= target:
            best = t
    return best


def threshold_for_f1(scores: np.ndarray, positive: np.ndarray) -> float:
    best, best_f1 = 1.01, -1.0
    for t in sorted(set(scores.tolist())):
        chosen = scores >= t
        tp = float((chosen & positive).sum())
        f1 = 2 * tp / (chosen.sum() + positive.sum()) if tp else 0.0
        if f1 > best_f1:
            best, best_f1 = t, f1
    return best


def report(name: str, scores: np.ndarray, labels: Sequence[str], threshold: float) -> dict[str, Any]:
    labels_arr = np.array(labels)
    answered = scores >= threshold
    strict_positive = labels_arr == "ANSWERABLE"
    precision = strict_positive[answered].mean() if answered.any() else 0.0
    lenient = np.isin(labels_arr, ["ANSWERABLE", "PARTIAL"])
    out = {
        "threshold": round(float(threshold), 4),
        "answered": int(answered.sum()),
        "precision_answer": round(float(precision), 3),
        "precision_answer_partial_ok": round(float(lenient[answered].mean()) if answered.any() else 0.0, 3),
        "recall_answerable": round(float(answered[strict_positive].mean()), 3),
        "answered_by_label": {lab: int((answered & (labels_arr == lab)).sum()) for lab in sorted(set(labels))},
    }
    print(f"  {name:34s} {out}", flush=True)
    return out


def tasks_and_rows(args: argparse.Namespace) -> tuple[list[dict[str, float]], list[dict[str, float]], list[str]]:
    model = MiniLM()
    reranker = EvidenceReranker(model.encode, default_weights(), max_candidates=RERANK_CANDIDATES)
    corpus, labels = mtrag()
    rows: list[dict[str, float]] = []
    under_rows: list[dict[str, float]] = []
    with (
        tempfile.TemporaryDirectory(prefix="bindesk-answerability-") as tmp,
        MilvusLiteServer(Path(tmp) / "milvus", args.port) as server,
    ):
        store = MilvusVectorStore(server.uri, backend="answerability", dense_dim=384, visual_dim=8)
        store.ensure_collection()
        started = time.perf_counter()
        index_corpus(store, corpus, "mtrag", model, args.chunk_tokens, args.overlap_tokens)
        lists = first_stage(store, "mtrag", corpus.questions, model, args.depth)
        for question, ranked in zip(corpus.questions, lists, strict=True):
            fused = first_stage_fusion(ranked, rrf_k=60, limit=args.depth)
            reranked = reranker.rerank(question.text, fused)
            row = answerability_features(question.extra["last_turn"], reranked)
            rows.append(row)
            under_rows.append(underspecified_features(question.extra["last_turn"], row))
        model.save()
        store.close()
    print(f"mtrag: {len(rows)} tasks, {time.perf_counter() - started:.0f}s", flush=True)
    return rows, under_rows, labels


def product_path_rows(
    path: Path,
) -> tuple[list[dict[str, float]], list[dict[str, float]], list[str], list[str]]:
    """Rows as the turn computed them (``Evidence.features``); a task the policy screen stopped before
    retrieval reads as no evidence."""
    from benchmarks.tune.mtrag_turns import TaskRecord
    from benchmarks.tune.records import read_records

    records: list[TaskRecord] = read_records(path, TaskRecord)
    rows = [{f: r.features.get(f, 0.0) for f in FEATURES} for r in records]
    under_rows = [underspecified_features(r.query, row) for r, row in zip(records, rows, strict=True)]
    print(f"mtrag: {len(records)} tasks from the product turn path ({path})", flush=True)
    return rows, under_rows, [r.label for r in records], [r.conversation_id for r in records]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=19607)
    parser.add_argument("--chunk-tokens", type=int, default=64)
    parser.add_argument("--overlap-tokens", type=int, default=16)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--write", action="store_true")
    parser.add_argument(
        "--models",
        default="answerability,underspecified",
        help="which fitted models --write stores (comma-separated; both are always fitted and reported)",
    )
    parser.add_argument(
        "--records",
        type=Path,
        default=None,
        help="fit on the product turn path's evidence collected by benchmarks/tune/mtrag_turns.py (a pickle)",
    )
    args = parser.parse_args()
    if args.records is not None:
        rows, under_rows, labels, conversation_ids = product_path_rows(args.records)
    else:
        rows, under_rows, labels = tasks_and_rows(args)
        conversation_ids = conversations()
    tune = np.array([in_tune_half(c) for c in conversation_ids])
    chosen = {m.strip() for m in args.models.split(",")}
    answer = fit_answerability(rows, labels, tune, args.write and "answerability" in chosen)
    if "answerability" not in chosen:  # the clarify report then reads the shipped model's decisions
        shipped = AnswerabilityModel.load()
        answer = np.array([sigmoid(shipped.weights.apply(r)) >= shipped.threshold for r in rows])
    fit_underspecified(under_rows, labels, tune, answer, args.write and "underspecified" in chosen)


def _oof(x: np.ndarray, y: np.ndarray, strata: Sequence[str], fit_mask: np.ndarray) -> np.ndarray:
    oof = np.zeros(len(x))
    for train, test in StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(x, strata):
        train = train[fit_mask[train]]
        oof[test] = LogisticRegression(C=1.0, max_iter=5000).fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    return oof


def fit_answerability(rows: list[dict[str, float]], labels: list[str], tune: np.ndarray, write: bool) -> np.ndarray:
    """Fit on the tune half, threshold on its out-of-fold scores, report on the report half; returns every
    task's answer decision under the final model (for the clarify model's report)."""
    x = np.array([[r[f] for f in FEATURES] for r in rows])
    y = np.array([lab == "ANSWERABLE" for lab in labels], dtype=int)
    fit_mask = np.array([lab != "PARTIAL" for lab in labels])
    strict = y.astype(bool)
    tune_labels = [lab for lab, t in zip(labels, tune, strict=True) if t]
    report_labels = [lab for lab, t in zip(labels, tune, strict=True) if not t]
    oof = _oof(x[tune], y[tune], tune_labels, fit_mask[tune])
    threshold = threshold_for_precision(oof, strict[tune], PRECISION_TARGET)
    print(f"tune half ({tune.sum()} tasks), out-of-fold; threshold for >= 0.90 precision (PARTIAL = wrong):")
    tune_summary = report("answerability model", oof, tune_labels, threshold)
    clf = LogisticRegression(C=1.0, max_iter=5000).fit(x[tune & fit_mask], y[tune & fit_mask])
    scores = clf.predict_proba(x)[:, 1]
    print(f"report half ({(~tune).sum()} tasks), held out:")
    summary = report("answerability model", scores[~tune], report_labels, threshold)
    for feature in ("top_rerank", "top_chunk"):
        single = x[:, FEATURES.index(feature)]
        cut = threshold_for_precision(single[tune], strict[tune], PRECISION_TARGET)
        report(f"baseline: {feature} alone", single[~tune], report_labels, cut)
    weights = LinearWeights(
        float(clf.intercept_[0]),
        {f: round(float(w), 4) for f, w in zip(FEATURES, clf.coef_[0], strict=True)},
        {
            "fitted_on": f"MTRAG-UN tune half, {int((tune & fit_mask).sum())} tasks (PARTIAL left out)",
            "tune_out_of_fold": tune_summary,
            "report_half": summary,
            "script": "benchmarks/tune/fit_answerability.py",
        },
    )
    print("weights:", weights.coefficients, "intercept", round(weights.intercept, 4))
    if write:
        _write(weights, FEATURES, threshold, DEFAULT_PATH)
    return np.asarray(scores >= threshold)


def fit_underspecified(
    rows: list[dict[str, float]], labels: list[str], tune: np.ndarray, answered: np.ndarray, write: bool
) -> None:
    x = np.array([[r[f] for f in UNDERSPECIFIED_FEATURES] for r in rows])
    y = np.array([lab == "UNDERSPECIFIED" for lab in labels], dtype=int)
    tune_labels = [lab for lab, t in zip(labels, tune, strict=True) if t]
    oof = _oof(x[tune], y[tune], tune_labels, np.ones(int(tune.sum()), dtype=bool))
    threshold = threshold_for_f1(oof, y[tune].astype(bool))
    clf = LogisticRegression(C=1.0, max_iter=5000).fit(x[tune], y[tune])
    scores = clf.predict_proba(x)[:, 1]
    labels_arr = np.array(labels)
    for name, mask, s in (("tune half (out-of-fold)", tune, oof), ("report half", ~tune, scores[~tune])):
        flagged = s >= threshold
        positive = y[mask].astype(bool)
        precision = positive[flagged].mean() if flagged.any() else 0.0
        print(
            f"underspecified, {name}: threshold {threshold:.4f}, flagged {int(flagged.sum())}, "
            f"precision {precision:.3f}, recall {flagged[positive].mean():.3f} ({int(positive.sum())} underspecified)"
        )
    # The turn's decision on the report half: answer, else clarify when underspecified, else escalate.
    held = ~tune
    clarify = (scores >= threshold) & ~answered
    for label in sorted(set(labels)):
        pick = held & (labels_arr == label)
        print(
            f"  report half {label:15s} n={int(pick.sum()):3d}  answer {int((answered & pick).sum()):3d}  "
            f"clarify {int((clarify & pick).sum()):3d}  escalate {int((~answered & ~clarify & pick).sum()):3d}"
        )
    weights = LinearWeights(
        float(clf.intercept_[0]),
        {f: round(float(w), 4) for f, w in zip(UNDERSPECIFIED_FEATURES, clf.coef_[0], strict=True)},
        {"fitted_on": f"MTRAG-UN tune half, {int(tune.sum())} tasks", "script": "benchmarks/tune/fit_answerability.py"},
    )
    print("underspecified weights:", weights.coefficients, "intercept", round(weights.intercept, 4))
    if write:
        _write(weights, UNDERSPECIFIED_FEATURES, threshold, UNDERSPECIFIED_PATH)


def _write(weights: LinearWeights, features: Sequence[str], threshold: float, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    weights.save(path, features)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["threshold"] = round(float(threshold), 4)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {path} (threshold {threshold:.4f})")


if __name__ == "__main__":
    main()
