"""A linear scoring model stored as JSON: the reranker's, the answerability models' and the conversation's
weights are all one of these (fitted by the scripts under ``benchmarks/tune/``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InvalidInput


@dataclass(frozen=True)
class LinearWeights:
    """``score = intercept + sum(coefficients[f] * feature[f])`` (a logistic model's log-odds)."""

    intercept: float
    coefficients: dict[str, float]
    meta: dict[str, object] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, known: Sequence[str] | None = None) -> LinearWeights:
        """The weights :meth:`save` wrote; refused if a coefficient names a feature outside ``known`` (default:
        the features the file lists)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            weights = cls(float(data["intercept"]), {k: float(v) for k, v in data["coefficients"].items()})
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"cannot read model weights from {path}: {exc}") from exc
        allowed = known if known is not None else data.get("features", weights.coefficients)
        unknown = set(weights.coefficients) - set(allowed)
        if unknown:
            raise InvalidInput(f"weights in {path} name unknown features {sorted(unknown)}")
        return cls(weights.intercept, weights.coefficients, dict(data.get("meta", {})))

    def save(self, path: Path, features: Sequence[str]) -> None:
        payload = {
            "features": list(features),
            "intercept": self.intercept,
            "coefficients": self.coefficients,
            "meta": self.meta,
        }
        Path(path).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    def apply(self, features: Mapping[str, float]) -> float:
        return self.intercept + sum(w * features.get(name, 0.0) for name, w in self.coefficients.items())
