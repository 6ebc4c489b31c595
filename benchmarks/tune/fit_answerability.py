"""Fit the answerability model (:mod:`retrieval.answerability`) on MTRAG-UN and calibrate its threshold.

    .venv/bin/python -m benchmarks.tune.fit_answerability [--port 19607] [--write]

The 1,488 passages of MTRAG-UN's closed pool are indexed with the real chunker and store (one workspace:
the pool mixes the four domains, and 336 passages carry no domain). For each of the 507 tasks the query is
the last user turn, prefixed with the previous user turn (a stand-in for the turn's query rewriting): BM25 +
dense, unit-level score fusion, :class:`retrieval.rerank.EvidenceReranker` with its shipped weights, then the
answerability features. Labels: ANSWERABLE = 1; UNANSWERABLE and UNDERSPECIFIED = 0; PARTIAL is left out of
the fit and counted as *not* answerable when measuring precision (answering it is treated as a mistake).

The threshold is chosen on out-of-fold scores (5-fold, stratified) as the lowest score at which "answer" keeps
precision >= 0.90; figures printed are out-of-fold, beside two one-feature baselines from the same run (the
top reranked probability alone, and the top dense cosine alone, each at its own >= 0.90-precision threshold).
``--write`` stores the model fitted on all tasks and that threshold in retrieval/calibration/answerability.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from benchmarks.tune.retrieval_dev import DATA, Corpus, MiniLM, Question, first_stage, index_corpus
from ingest.types import Block, ParsedDocument
from retrieval.answerability import DEFAULT_PATH, FEATURES, answerability_features
from retrieval.fusion import fuse_groups
from retrieval.lite_server import MilvusLiteServer
from retrieval.milvus import MilvusVectorStore
from retrieval.rerank import EvidenceReranker, LinearWeights

PRECISION_TARGET = 0.90
FIRST_STAGE_WEIGHTS = {"sparse": 0.4, "dense": 0.6}


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


def report(name: str, scores: np.ndarray, labels: list[str], threshold: float) -> dict[str, Any]:
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
    print(f"  {name:34s} {out}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=19607)
    parser.add_argument("--chunk-tokens", type=int, default=128)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    model = MiniLM()
    reranker = EvidenceReranker(model.encode)
    corpus, labels = mtrag()
    rows: list[dict[str, float]] = []
    with (
        tempfile.TemporaryDirectory(prefix="bindesk-answerability-") as tmp,
        MilvusLiteServer(Path(tmp) / "milvus", args.port) as server,
    ):
        store = MilvusVectorStore(server.uri, backend="answerability", dense_dim=384, visual_dim=8)
        store.ensure_collection()
        started = time.perf_counter()
        index_corpus(store, corpus, "mtrag", model, args.chunk_tokens)
        lists = first_stage(store, "mtrag", corpus.questions, model, args.depth)
        for question, ranked in zip(corpus.questions, lists, strict=True):
            fused = fuse_groups(ranked, key=lambda h: h.document_id, method="score", weights=FIRST_STAGE_WEIGHTS)
            reranked = reranker.rerank(question.text, fused)
            rows.append(answerability_features(question.extra["last_turn"], reranked))
        model.save()
        store.close()
    print(f"mtrag: {len(rows)} tasks, {time.perf_counter() - started:.0f}s")
    fit_and_calibrate(rows, labels, args.write)


def fit_and_calibrate(rows: list[dict[str, float]], labels: list[str], write: bool) -> None:
    x = np.array([[r[f] for f in FEATURES] for r in rows])
    y = np.array([lab == "ANSWERABLE" for lab in labels], dtype=int)
    fit_mask = np.array([lab != "PARTIAL" for lab in labels])
    strict = np.array([lab == "ANSWERABLE" for lab in labels])
    oof = np.zeros(len(rows))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for train, test in folds.split(x, labels):
        train = train[fit_mask[train]]
        clf = LogisticRegression(C=1.0, max_iter=5000).fit(x[train], y[train])
        oof[test] = clf.predict_proba(x[test])[:, 1]
    print("out-of-fold, threshold for >= 0.90 precision on 'answer' (PARTIAL counted as a wrong answer):")
    threshold = threshold_for_precision(oof, strict, PRECISION_TARGET)
    summary = report("answerability model", oof, labels, threshold)
    for feature in ("top_rerank", "top_chunk"):
        single = x[:, FEATURES.index(feature)]
        report(f"baseline: {feature} alone", single, labels, threshold_for_precision(single, strict, PRECISION_TARGET))
    clf = LogisticRegression(C=1.0, max_iter=5000).fit(x[fit_mask], y[fit_mask])
    weights = LinearWeights(
        float(clf.intercept_[0]),
        {f: round(float(w), 4) for f, w in zip(FEATURES, clf.coef_[0], strict=True)},
        {"fitted_on": "MTRAG-UN 507 tasks (PARTIAL left out)", "out_of_fold": summary},
    )
    print("weights:", weights.coefficients, "intercept", round(weights.intercept, 4))
    if write:
        weights.save(DEFAULT_PATH, FEATURES)
        data = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
        data["threshold"] = round(float(threshold), 4)
        DEFAULT_PATH.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {DEFAULT_PATH} (threshold {threshold:.4f})")


if __name__ == "__main__":
    main()
