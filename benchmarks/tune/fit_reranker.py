"""Fit the weights of :class:`retrieval.rerank.EvidenceReranker` on development data and show what it buys.

    .venv/bin/python -m benchmarks.tune.fit_reranker [--port 19606] [--chunk-tokens 64] [--write]

For emanual TV (483 questions), stackfaq (the 1,249 real-text queries) and doc2dial (600 sampled turns,
history + question): index with the real chunker and store, run BM25 + dense (depth 50), fuse chunks by
normalised score (:func:`retrieval.fusion.first_stage_fusion`, the first stage the turn uses), compute the
reranker's features for the top ``--pool`` chunks (cached in ``--features``, so refitting is cheap) and fit
a pairwise logistic model: for each question, the feature difference between a chunk of a gold unit and one
of another unit, so the fit learns to order candidates rather than to guess an absolute relevance; each corpus
weighs the same (stackfaq's 1,249 questions would otherwise drown emanual's 483). Recall is at unit level (a
unit ranks by its best chunk). Figures are on held-out questions: every question's candidates are scored by a
model fitted without that question (2-fold by question), for each candidate budget in ``--budgets``, beside
the first stage's own order from the same run. ``--write`` stores the model fitted on all of them in
``retrieval/calibration/rerank.json``. grocery/test is never used.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from benchmarks.tune.retrieval_dev import CACHE, Corpus, MiniLM, doc2dial, emanual, first_stage, index_corpus, stackfaq
from retrieval.fusion import first_stage_fusion
from retrieval.lite_server import MilvusLiteServer
from retrieval.milvus import MilvusVectorStore
from retrieval.rerank import DEFAULT_WEIGHTS_PATH, FEATURES, EvidenceReranker, LinearWeights


@dataclass
class Candidates:
    """One question's first-stage candidates: features of the first ``pool`` chunks (first-stage order), the
    units of those chunks and of the chunks after them, and the gold units."""

    corpus: str
    index: int
    rows: np.ndarray
    head_units: list[str]
    tail_units: list[str]
    gold: frozenset[str]

    def labels(self, budget: int) -> np.ndarray:
        return np.array([u in self.gold for u in self.head_units[:budget]], dtype=bool)


def units(chunk_units: Sequence[str]) -> list[str]:
    """Chunks' units in order of first appearance (a unit ranks by its best chunk)."""
    return list(dict.fromkeys(chunk_units))


def recall_at(ranked: Sequence[Sequence[str]], gold: Sequence[frozenset[str]], k: int) -> float:
    return float(np.mean([bool(g & set(r[:k])) for r, g in zip(ranked, gold, strict=True)]))


def collect(args: argparse.Namespace) -> list[Candidates]:
    model = MiniLM()
    scorer = EvidenceReranker(model.encode, weights=LinearWeights(0.0, {}), max_candidates=args.pool)
    corpora: list[Corpus] = [emanual(), stackfaq(), doc2dial()]
    corpora[1].questions = [q for q in corpora[1].questions if any(c.isalnum() for c in q.text)]
    out: list[Candidates] = []
    with (
        tempfile.TemporaryDirectory(prefix="bindesk-fit-") as tmp,
        MilvusLiteServer(Path(tmp) / "milvus", args.port) as server,
    ):
        store = MilvusVectorStore(server.uri, backend="fit", dense_dim=384, visual_dim=8)
        store.ensure_collection()
        for corpus in corpora:
            started = time.perf_counter()
            index_corpus(store, corpus, corpus.name, model, args.chunk_tokens, args.overlap_tokens)
            lists = first_stage(store, corpus.name, corpus.questions, model, args.depth)
            for qi, (question, ranked) in enumerate(zip(corpus.questions, lists, strict=True)):
                fused = first_stage_fusion(ranked, rrf_k=60)
                head, tail = fused[: args.pool], fused[args.pool :]
                if not head:
                    continue
                feats = scorer.features(question.text, head)
                out.append(
                    Candidates(
                        corpus.name,
                        qi,
                        np.array([[f[name] for name in FEATURES] for f in feats]),
                        [h.document_id for h in head],
                        [h.document_id for h in tail],
                        question.gold,
                    )
                )
            model.save()
            print(f"{corpus.name}: {len(corpus.questions)} questions, {time.perf_counter() - started:.0f}s", flush=True)
        store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=19606)
    parser.add_argument("--chunk-tokens", type=int, default=64)
    parser.add_argument("--overlap-tokens", type=int, default=16)
    parser.add_argument("--pool", type=int, default=30, help="candidates whose features are computed")
    parser.add_argument("--budgets", type=int, nargs="+", default=[12, 20, 30])
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--features", type=Path, default=CACHE / "rerank-features.pkl")
    parser.add_argument("--budget", type=int, default=12, help="the candidate budget the written model is fitted at")
    parser.add_argument("--write", action="store_true", help=f"save the fitted weights to {DEFAULT_WEIGHTS_PATH}")
    args = parser.parse_args()
    key = (args.chunk_tokens, args.overlap_tokens, args.pool, args.depth, FEATURES)
    cached = pickle.loads(args.features.read_bytes()) if args.features.exists() else None
    if cached is not None and cached[0] == key:
        groups: list[Candidates] = cached[1]
    else:
        groups = collect(args)
        args.features.write_bytes(pickle.dumps((key, groups)))
    for budget in args.budgets:
        evaluate(groups, budget)
    fit_and_write(groups, args.budget, args.chunk_tokens, args.write)


def evaluate(groups: list[Candidates], budget: int) -> None:
    reranked: list[list[str]] = [[] for _ in groups]
    for fold in (0, 1):
        weights = fit(groups, [i for i, g in enumerate(groups) if g.index % 2 != fold], budget)
        for i, g in enumerate(groups):
            if g.index % 2 == fold:
                scores = g.rows[:budget] @ weights
                order = np.argsort(-scores, kind="stable")
                reranked[i] = units([g.head_units[j] for j in order] + g.head_units[budget:] + g.tail_units)
    for name in dict.fromkeys(g.corpus for g in groups):
        idx = [i for i, g in enumerate(groups) if g.corpus == name]
        gold = [groups[i].gold for i in idx]
        before = [units(groups[i].head_units + groups[i].tail_units) for i in idx]
        after = [reranked[i] for i in idx]
        line = "  ".join(
            f"R@{k} {recall_at(before, gold, k):.3f} -> {recall_at(after, gold, k):.3f}" for k in (1, 3, 5, 10)
        )
        print(f"{name:10s} budget {budget:2d}, first stage -> reranked (held-out): {line}", flush=True)


def fit(groups: list[Candidates], which: list[int], budget: int) -> np.ndarray:
    """Pairwise logistic weights (no intercept): gold-unit chunk minus other chunk, both ways; every
    question weighs the same within its corpus and every corpus the same."""
    per_corpus: dict[str, int] = {}
    for i in which:
        per_corpus[groups[i].corpus] = per_corpus.get(groups[i].corpus, 0) + 1
    xs, ys, ws = [], [], []
    for i in which:
        g = groups[i]
        labels = g.labels(budget)
        pos, neg = g.rows[:budget][labels], g.rows[:budget][~labels]
        if not len(pos) or not len(neg):
            continue
        diff = (pos[:, None, :] - neg[None, :, :]).reshape(-1, len(FEATURES))
        weight = 1.0 / (len(diff) * per_corpus[g.corpus])
        xs += [diff, -diff]
        ys += [np.ones(len(diff)), np.zeros(len(diff))]
        ws += [np.full(len(diff), weight)] * 2
    x, y, w = np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)
    clf = LogisticRegression(C=1.0, fit_intercept=False, max_iter=5000).fit(x, y, sample_weight=w / w.mean())
    return np.asarray(clf.coef_[0])


def fit_and_write(groups: list[Candidates], budget: int, chunk_tokens: int, write: bool) -> None:
    """Fit on every question, then scale the pairwise score into a calibrated log-odds of "this chunk's unit is
    gold" (a one-feature pointwise logistic on it), so ``sigmoid(score)`` is a probability the answerability
    model can use; the order is the pairwise model's."""
    direction = fit(groups, list(range(len(groups))), budget)
    s = np.concatenate([g.rows[:budget] @ direction for g in groups])
    y = np.concatenate([g.labels(budget) for g in groups])
    scale = LogisticRegression(C=1.0, max_iter=2000).fit(s[:, None], y)
    a, b = float(scale.coef_[0][0]), float(scale.intercept_[0])
    weights = LinearWeights(
        round(b, 4),
        {name: round(float(a * v), 4) for name, v in zip(FEATURES, direction, strict=True)},
        {
            "fitted_on": "emanual TV 483 q, stackfaq 1,249 q, doc2dial 600 turns (pairwise, corpora weighted equally)",
            "chunk_tokens": chunk_tokens,
            "candidate_budget": budget,
            "script": "benchmarks/tune/fit_reranker.py",
        },
    )
    print("weights:", weights.coefficients, "intercept", weights.intercept, flush=True)
    if write:
        DEFAULT_WEIGHTS_PATH.parent.mkdir(parents=True, exist_ok=True)
        weights.save(DEFAULT_WEIGHTS_PATH, FEATURES)
        print(f"wrote {DEFAULT_WEIGHTS_PATH}")


if __name__ == "__main__":
    main()
