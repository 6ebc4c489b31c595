"""Fit the weights of :class:`retrieval.rerank.EvidenceReranker` on development data and show what it buys.

    .venv/bin/python -m benchmarks.tune.fit_reranker [--port 19606] [--chunk-tokens 128] [--write]

For emanual TV (483 questions), stackfaq (the 1,249 real-text queries) and doc2dial (600 sampled turns,
history + question): index with the real chunker and store, run BM25 + dense (depth 50), fuse chunks by
normalised score (:func:`retrieval.fusion.score_fusion`, the first stage the turn uses), compute the
reranker's features for the top chunks and fit a logistic model (the chunk's unit is gold or not). Recall is
at unit level (a unit ranks by its best chunk). Figures are on held-out questions:
every question's candidates are scored by a model fitted without that question (2-fold by question), beside
the first stage's own order from the same run. ``--write`` stores the model fitted on all of them in
``retrieval/calibration/rerank.json``. grocery/test is never used.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from benchmarks.tune.retrieval_dev import Corpus, MiniLM, doc2dial, emanual, first_stage, index_corpus, stackfaq
from retrieval.fusion import DEFAULT_SCORE_WEIGHTS, score_fusion
from retrieval.lite_server import MilvusLiteServer
from retrieval.milvus import MilvusVectorStore
from retrieval.protocol import Hit
from retrieval.rerank import DEFAULT_WEIGHTS_PATH, FEATURES, EvidenceReranker, LinearWeights


def candidates(lists: dict[str, list[Hit]], n: int) -> list[Hit]:
    """The first stage the turn uses: chunk-level score fusion (the reranker looks at the first ``n``)."""
    return score_fusion(lists, weights=DEFAULT_SCORE_WEIGHTS)


def units(chunk_units: Sequence[str]) -> list[str]:
    """Chunks' units in order of first appearance (a unit ranks by its best chunk)."""
    return list(dict.fromkeys(chunk_units))


def recall_at(ranked: Sequence[Sequence[str]], gold: Sequence[frozenset[str]], k: int) -> float:
    return float(np.mean([bool(g & set(r[:k])) for r, g in zip(ranked, gold, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=19606)
    parser.add_argument("--chunk-tokens", type=int, default=64)
    parser.add_argument("--candidates", type=int, default=12)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--write", action="store_true", help=f"save the fitted weights to {DEFAULT_WEIGHTS_PATH}")
    args = parser.parse_args()

    model = MiniLM()
    scorer = EvidenceReranker(model.encode, weights=LinearWeights(0.0, {}), max_candidates=args.candidates)
    corpora: list[Corpus] = [emanual(), stackfaq(), doc2dial()]
    corpora[1].questions = [q for q in corpora[1].questions if any(c.isalnum() for c in q.text)]
    rows: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    # corpus, question index, units of the reranked head chunks, units of the chunks after them, gold
    groups: list[tuple[str, int, list[str], list[str], frozenset[str]]] = []
    with (
        tempfile.TemporaryDirectory(prefix="bindesk-fit-") as tmp,
        MilvusLiteServer(Path(tmp) / "milvus", args.port) as server,
    ):
        store = MilvusVectorStore(server.uri, backend="fit", dense_dim=384, visual_dim=8)
        store.ensure_collection()
        for corpus in corpora:
            started = time.perf_counter()
            index_corpus(store, corpus, corpus.name, model, args.chunk_tokens)
            lists = first_stage(store, corpus.name, corpus.questions, model, args.depth)
            for qi, (question, ranked) in enumerate(zip(corpus.questions, lists, strict=True)):
                fused = candidates(ranked, args.candidates)
                head, tail = fused[: args.candidates], fused[args.candidates :]
                if not head:
                    continue
                feats = scorer.features(question.text, head)
                rows.append(np.array([[f[name] for name in FEATURES] for f in feats]))
                labels.append(np.array([h.document_id in question.gold for h in head], dtype=int))
                groups.append(
                    (corpus.name, qi, [h.document_id for h in head], [h.document_id for h in tail], question.gold)
                )
            model.save()
            print(f"{corpus.name}: {len(corpus.questions)} questions, {time.perf_counter() - started:.0f}s", flush=True)
        store.close()
    evaluate_and_fit(rows, labels, groups, args.write)


def evaluate_and_fit(
    rows: list[np.ndarray],
    labels: list[np.ndarray],
    groups: list[tuple[str, int, list[str], list[str], frozenset[str]]],
    write: bool,
) -> None:
    folds = np.array([g[1] % 2 for g in groups])
    reranked: list[list[str]] = [[] for _ in groups]
    for fold in (0, 1):
        train = [i for i in range(len(groups)) if folds[i] != fold]
        clf = fit(rows, labels, train)
        for i in range(len(groups)):
            if folds[i] == fold:
                scores = clf.decision_function(rows[i])
                order = np.argsort(-scores, kind="stable")
                reranked[i] = units([groups[i][2][j] for j in order] + groups[i][3])
    for name in dict.fromkeys(g[0] for g in groups):
        idx = [i for i, g in enumerate(groups) if g[0] == name]
        gold = [groups[i][4] for i in idx]
        before = [units(groups[i][2] + groups[i][3]) for i in idx]
        after = [reranked[i] for i in idx]
        line = "  ".join(
            f"R@{k} {recall_at(before, gold, k):.3f} -> {recall_at(after, gold, k):.3f}" for k in (1, 3, 5)
        )
        print(f"{name:10s} first stage -> reranked (held-out): {line}")
    clf = fit(rows, labels, list(range(len(groups))))
    weights = LinearWeights(
        float(clf.intercept_[0]),
        {name: round(float(w), 4) for name, w in zip(FEATURES, clf.coef_[0], strict=True)},
        {"fitted_on": "emanual TV 483 q, stackfaq 1,249 q, doc2dial 600 turns", "script": __name__},
    )
    print("weights:", weights.coefficients, "intercept", round(weights.intercept, 4))
    if write:
        DEFAULT_WEIGHTS_PATH.parent.mkdir(parents=True, exist_ok=True)
        weights.save(DEFAULT_WEIGHTS_PATH, FEATURES)
        print(f"wrote {DEFAULT_WEIGHTS_PATH}")


def fit(rows: list[np.ndarray], labels: list[np.ndarray], which: list[int]) -> LogisticRegression:
    x = np.concatenate([rows[i] for i in which])
    y = np.concatenate([labels[i] for i in which])
    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(x, y)


if __name__ == "__main__":
    main()
