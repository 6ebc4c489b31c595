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

:class:`ConversationWeights` gives each candidate ``sum(weight * feature)``, which the reranker adds to its
reranked log-odds to order the candidates of a turn that has earlier turns; a first turn keeps the reranker's
order. The weights are fitted on doc2dial's
tuning half by ``benchmarks/tune/fit_conversation.py`` and stored in ``retrieval/calibration/conversation.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.errors import InvalidInput

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


@dataclass(frozen=True)
class ConversationWeights:
    """Weights of :data:`CONVERSATION_FEATURES`, in units of the reranked log-odds."""

    coefficients: dict[str, float]

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> ConversationWeights:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            coefficients = {str(k): float(v) for k, v in data["coefficients"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput(f"cannot read conversation weights from {path}: {exc}") from exc
        unknown = set(coefficients) - set(CONVERSATION_FEATURES)
        if unknown:
            raise InvalidInput(f"conversation weights in {path} name unknown features {sorted(unknown)}")
        return cls(coefficients)

    def save(self, path: Path, fitted_on: str) -> None:
        payload = {
            "features": list(CONVERSATION_FEATURES),
            "coefficients": self.coefficients,
            "meta": {"fitted_on": fitted_on, "script": "benchmarks/tune/fit_conversation.py"},
        }
        Path(path).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    def adjustments(self, scores: Sequence[Mapping[str, float]]) -> list[float]:
        """What the conversation adds to each candidate's reranked log-odds (``scores`` as in
        :func:`conversation_features`)."""
        return [
            sum(w * row.get(name, 0.0) for name, w in self.coefficients.items())
            for row in conversation_features(scores)
        ]
