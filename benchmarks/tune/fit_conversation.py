"""Fit how much the conversation weighs in a turn's final order, on doc2dial's tuning half and MTRAG-UN's.

    .venv/bin/python -m benchmarks.tune.fit_conversation [--records /tmp/bindesk-d2d-tune.pkl]
        [--mtrag /tmp/bindesk-mtrag-turns.pkl] [--write]

Reads the candidates :mod:`benchmarks.tune.doc2dial_turns` collected through the product's turn path, and with
``--mtrag`` those :mod:`benchmarks.tune.mtrag_turns` collected on MTRAG-UN's tune half (its report half is
left out: ``bindesk eval conversation`` reports on it). doc2dial's follow-ups stay on one document; MTRAG's
conversations change subject, where the earlier turns' vote points the wrong way. The
reranker (fitted on single questions) orders a turn's candidates by this turn's words; the conversation's
evidence is then on each candidate as ``scores["history"]`` (the earlier turns' document vote) and as the
reranker's features against the conversation query (``conv.*``). A pairwise logistic model (candidate of the
gold document minus one of another document) fits the weights of those conversation features *beside* the
reranked score, on turns with history only. Figures are recall@1/@5 of the gold document (doc2dial) or of a
reference passage (MTRAG) on held-out conversations (2-fold by conversation), beside the order the records were
collected with. ``--write`` stores the weights in ``retrieval/calibration/conversation.json``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from benchmarks.tune.doc2dial_turns import TurnRecord
from benchmarks.tune.mtrag_answers import in_tune_half
from benchmarks.tune.mtrag_turns import TaskRecord
from benchmarks.tune.records import read_records
from retrieval.conversation import CONVERSATION_FEATURES, DEFAULT_PATH, conversation_features, conversation_shares
from retrieval.linear import LinearWeights
from retrieval.rerank import RERANK


@dataclass(frozen=True)
class Ranked:
    """One turn's reranker candidates as either collector kept them."""

    source: str  # "doc2dial" or "mtrag"
    conversation: str  # folds keep a conversation's turns together
    gold: frozenset[str]
    has_history: bool
    head: Sequence[tuple[str, dict[str, float]]]  # (unit, Hit.scores), in the order they were collected
    tail: Sequence[str]


def from_doc2dial(record: TurnRecord) -> Ranked:
    dialogue = record.turn_id.rsplit("_", 1)[0]
    return Ranked("doc2dial", dialogue, frozenset([record.gold]), record.has_history, record.head, record.tail)


def from_mtrag(record: TaskRecord) -> Ranked:
    return Ranked("mtrag", record.conversation_id, record.gold, record.has_history, record.head, record.tail)


def rows(record: Ranked) -> tuple[np.ndarray, np.ndarray]:
    """(features, base score) of the record's head: the conversation features and the reranked score."""
    scores = [s for _, s in record.head]
    feats = conversation_features(scores)
    x = np.array([[f[name] for name in CONVERSATION_FEATURES] for f in feats])
    base = np.array([s.get(RERANK, 0.0) for s in scores])
    return x, base


def ranked_units(record: Ranked, order: Sequence[int]) -> list[str]:
    units = [record.head[i][0] for i in order] + list(record.tail)
    return list(dict.fromkeys(units))


def recall(records: Sequence[Ranked], orders: Sequence[Sequence[int]]) -> tuple[float, float]:
    hits1 = hits5 = 0
    for record, order in zip(records, orders, strict=True):
        units = ranked_units(record, order)
        hits1 += bool(record.gold & set(units[:1]))
        hits5 += bool(record.gold & set(units[:5]))
    n = max(1, len(records))
    return hits1 / n, hits5 / n


def fit(records: Sequence[Ranked], c: float) -> np.ndarray:
    """Pairwise logistic weights over [reranked score, conversation features...], no intercept; each turn
    weighs the same whatever its number of pairs."""
    xs, ys, ws = [], [], []
    for record in records:
        x, base = rows(record)
        full = np.column_stack([base, x])
        labels = np.array([unit in record.gold for unit, _ in record.head])
        pos, neg = full[labels], full[~labels]
        if not len(pos) or not len(neg):
            continue
        diff = (pos[:, None, :] - neg[None, :, :]).reshape(-1, full.shape[1])
        xs += [diff, -diff]
        ys += [np.ones(len(diff)), np.zeros(len(diff))]
        ws += [np.full(len(diff), 1.0 / len(diff))] * 2
    clf = LogisticRegression(C=c, fit_intercept=False, max_iter=5000)
    clf.fit(np.concatenate(xs), np.concatenate(ys), sample_weight=np.concatenate(ws) * len(records))
    return np.asarray(clf.coef_[0])


def order_with(record: Ranked, weights: LinearWeights | None) -> list[int]:
    """The head's order with ``weights`` for the conversation (None: as collected)."""
    if weights is None or not record.has_history:
        return list(range(len(record.head)))
    scores = [s for _, s in record.head]
    shares = conversation_shares(weights, scores)
    adjusted = [s.get(RERANK, 0.0) + a for s, a in zip(scores, shares, strict=True)]
    return sorted(range(len(record.head)), key=lambda i: -adjusted[i])


def as_weights(coef: np.ndarray, fitted_on: str = "") -> LinearWeights:
    """Scale so that the reranked score keeps weight 1 (the conversation adds to it, in its units); no
    intercept (it would move every candidate alike)."""
    base = float(coef[0]) if coef[0] > 1e-6 else 1.0
    return LinearWeights(
        0.0,
        {name: round(float(v) / base, 4) for name, v in zip(CONVERSATION_FEATURES, coef[1:], strict=True)},
        {"fitted_on": fitted_on, "script": "benchmarks/tune/fit_conversation.py"} if fitted_on else {},
    )


def load(d2d_path: Path, mtrag_path: Path | None) -> list[Ranked]:
    records = [from_doc2dial(r) for r in read_records(d2d_path, TurnRecord)]
    if mtrag_path is not None:
        tasks = read_records(mtrag_path, TaskRecord, TurnRecord)
        # Tasks with no reference passage (unanswerable) have nothing to rank first.
        records += [from_mtrag(t) for t in tasks if t.head and t.gold and in_tune_half(t.conversation_id)]
    return records


def report(records: Sequence[Ranked], orders: Sequence[Sequence[int]], label: str) -> None:
    for source in sorted({r.source for r in records}):
        idx = [i for i, r in enumerate(records) if r.source == source]
        later = [i for i in idx if records[i].has_history]
        a = recall([records[i] for i in idx], [orders[i] for i in idx])
        h = recall([records[i] for i in later], [orders[i] for i in later])
        print(f"  {label:34s} {source:8s} all {a[0]:.3f} / {a[1]:.3f}   with history {h[0]:.3f} / {h[1]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=Path, default=Path(tempfile.gettempdir()) / "bindesk-d2d-tune.pkl")
    parser.add_argument("--mtrag", type=Path, default=None)
    parser.add_argument("--c", type=float, default=1.0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    records = load(args.records, args.mtrag)
    later = [r for r in records if r.has_history]
    conversations = sorted({r.conversation for r in records})
    fold_of = {d: n % 2 for n, d in enumerate(conversations)}
    held_out: list[list[int]] = [[] for _ in records]
    for k in (0, 1):
        weights = as_weights(fit([r for r in later if fold_of[r.conversation] != k], args.c))
        print(f"fold {k} weights: {weights.coefficients}")
        for i, r in enumerate(records):
            if fold_of[r.conversation] == k:
                held_out[i] = order_with(r, weights)
    counts = {s: sum(r.source == s for r in later) for s in sorted({r.source for r in records})}
    print(f"{len(records)} turns ({counts} with history), recall@1 / @5 of the gold:")
    report(records, [order_with(r, None) for r in records], "as collected")
    report(records, held_out, "fitted weights (held out)")
    fitted_on = ", ".join(f"{s} tune half {n} turns with history" for s, n in counts.items())
    final = as_weights(fit(later, args.c), fitted_on)
    print(f"fitted on all: {final.coefficients}")
    if args.write:
        final.save(DEFAULT_PATH, CONVERSATION_FEATURES)
        print(f"wrote {DEFAULT_PATH}")


if __name__ == "__main__":
    main()
