"""How the conversation weighs in a turn's final order, after the reranker.

The reranker (:mod:`retrieval.rerank`) was fitted on single questions and orders a turn's candidates by the
turn's own words. In a conversation the earlier turns say which document the customer is talking about; that
evidence sits on each candidate as

- ``history``: the earlier turns' document vote (``Hit.scores["history"]``, :func:`kg.expansion.fuse_more`),
  relative to the best among the candidates; ``history_top``: 1 for the candidates of the document with the
  best vote;
- ``conv_sentence_max``, ``conv_coverage``, ``conv_title_coverage``: the reranker's own features computed
  against the conversation query (the last earlier turns and this one, joined), read from
  ``Hit.scores["conv.<feature>"]``.

:func:`conversation_shares` gives each candidate ``sum(weight * feature)`` (a
:class:`retrieval.linear.LinearWeights` with no intercept), which the reranker adds to its reranked log-odds to
order the candidates of a turn that has earlier turns; a first turn keeps the reranker's order. The weights are
fitted on the tune halves of doc2dial (follow-ups on one document) and MTRAG-UN (conversations that change
subject, where the earlier turns' vote points the wrong way: fitted on doc2dial alone, the vote weighed four
times as much) by ``benchmarks/tune/fit_conversation.py`` and stored in ``retrieval/calibration/conversation.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from retrieval.linear import LinearWeights

CONVERSATION_FEATURES = ("history", "history_top", "conv_sentence_max", "conv_coverage", "conv_title_coverage")
HISTORY_SCORE = "history"  # kg.expansion.HISTORY_LIST: the earlier turns' share in ``Hit.scores``
CONVERSATION_PREFIX = "conv."  # the reranker's features against the conversation query, in ``Hit.scores``
DEFAULT_PATH = Path(__file__).parent / "calibration" / "conversation.json"


def conversation_features(scores: Sequence[Mapping[str, float]]) -> list[dict[str, float]]:
    """One row per candidate (``Hit.scores`` of each, best first): the :data:`CONVERSATION_FEATURES`, each in
    [0, 1]; a missing score reads as 0."""
    best_history = max((s.get(HISTORY_SCORE, 0.0) for s in scores), default=0.0)
    rows = []
    for s in scores:
        history = s.get(HISTORY_SCORE, 0.0)
        rows.append(
            {
                "history": history / best_history if best_history > 0 else 0.0,
                "history_top": float(best_history > 0 and history >= best_history),
                "conv_sentence_max": s.get(f"{CONVERSATION_PREFIX}sentence_max", 0.0),
                "conv_coverage": s.get(f"{CONVERSATION_PREFIX}coverage", 0.0),
                "conv_title_coverage": s.get(f"{CONVERSATION_PREFIX}title_coverage", 0.0),
            }
        )
    return rows


def load_conversation_weights(path: Path = DEFAULT_PATH) -> LinearWeights:
    """Weights of :data:`CONVERSATION_FEATURES`, in units of the reranked log-odds; a coefficient naming any
    other feature is refused."""
    return LinearWeights.load(path, known=CONVERSATION_FEATURES)


def conversation_shares(weights: LinearWeights, scores: Sequence[Mapping[str, float]]) -> list[float]:
    """What the conversation adds to each candidate's reranked log-odds (``scores`` as in
    :func:`conversation_features`)."""
    return [weights.apply(row) for row in conversation_features(scores)]
