"""Fit how much the conversation weighs in a turn's final order, on doc2dial's tuning half.

    .venv/bin/python -m benchmarks.tune.fit_conversation [--records /tmp/bindesk-d2d-tune.pkl] [--write]

Reads the candidates :mod:`benchmarks.tune.doc2dial_turns` collected through the product's turn path. The
reranker (fitted on single questions) orders a turn's candidates by this turn's words; the conversation's
evidence is then on each candidate as ``scores["history"]`` (the earlier turns' document vote) and as the
reranker's features against the conversation query (``conv.*``). A pairwise logistic model (candidate of the
gold document minus one of another document) fits the weights of those conversation features *beside* the
reranked score, on turns with history only. Figures are document recall@1/@5 on held-out dialogues (2-fold by
dialogue), beside the shipped order from the same records. ``--write`` stores the weights in
``retrieval/calibration/conversation.json``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from benchmarks.tune.doc2dial_turns import TurnRecord
from benchmarks.tune.records import read_records
from retrieval.conversation import CONVERSATION_FEATURES, DEFAULT_PATH, conversation_features, conversation_shares
from retrieval.linear import LinearWeights
from retrieval.rerank import RERANK


def rows(record: TurnRecord) -> tuple[np.ndarray, np.ndarray]:
    """(features, base score) of the record's head: the conversation features and the reranked score."""
    scores = [s for _, s in record.head]
    feats = conversation_features(scores)
    x = np.array([[f[name] for name in CONVERSATION_FEATURES] for f in feats])
    base = np.array([s.get(RERANK, 0.0) for s in scores])
    return x, base


def ranked_units(record: TurnRecord, order: Sequence[int]) -> list[str]:
    units = [record.head[i][0] for i in order] + record.tail
    return list(dict.fromkeys(units))


def recall(records: Sequence[TurnRecord], orders: Sequence[Sequence[int]]) -> tuple[float, float]:
    hits1 = hits5 = 0
    for record, order in zip(records, orders, strict=True):
        units = ranked_units(record, order)
        hits1 += record.gold in units[:1]
        hits5 += record.gold in units[:5]
    n = max(1, len(records))
    return hits1 / n, hits5 / n


def fit(records: Sequence[TurnRecord], c: float) -> np.ndarray:
    """Pairwise logistic weights over [reranked score, conversation features...], no intercept."""
    xs, ys, ws = [], [], []
    for record in records:
        x, base = rows(record)
        full = np.column_stack([base, x])
        labels = np.array([unit == record.gold for unit, _ in record.head])
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


def order_with(record: TurnRecord, weights: LinearWeights | None) -> list[int]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=Path, default=Path(tempfile.gettempdir()) / "bindesk-d2d-tune.pkl")
    parser.add_argument("--c", type=float, default=1.0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    records: list[TurnRecord] = read_records(args.records, TurnRecord)
    later = [r for r in records if r.has_history]
    dialogues = sorted({r.turn_id.rsplit("_", 1)[0] for r in records})
    fold_of = {d: n % 2 for n, d in enumerate(dialogues)}

    def fold(r: TurnRecord) -> int:
        return fold_of[r.turn_id.rsplit("_", 1)[0]]

    shipped = [order_with(r, None) for r in records]
    held_out: list[list[int]] = [[] for _ in records]
    for k in (0, 1):
        weights = as_weights(fit([r for r in later if fold(r) != k], args.c))
        print(f"fold {k} weights: {weights.coefficients}")
        for i, r in enumerate(records):
            if fold(r) == k:
                held_out[i] = order_with(r, weights)
    idx_later = [i for i, r in enumerate(records) if r.has_history]
    print(f"{len(records)} turns ({len(later)} with history), document recall@1 / @5:")
    for label, orders in (("shipped order", shipped), ("with conversation weights (held out)", held_out)):
        a = recall(records, orders)
        h = recall([records[i] for i in idx_later], [orders[i] for i in idx_later])
        print(f"  {label:38s} all {a[0]:.3f} / {a[1]:.3f}   with history {h[0]:.3f} / {h[1]:.3f}")
    fitted_on = f"doc2dial tuning half, {len(later)} turns with history ({args.records.name})"
    final = as_weights(fit(later, args.c), fitted_on)
    print(f"fitted on all: {final.coefficients}")
    if args.write:
        final.save(DEFAULT_PATH, CONVERSATION_FEATURES)
        print(f"wrote {DEFAULT_PATH}")


if __name__ == "__main__":
    main()
