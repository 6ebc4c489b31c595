"""Value types the graph store takes and returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kg.extract import Entity


@dataclass(frozen=True)
class ChunkFacts:
    """What the graph needs of one indexed chunk: its id (``core.ids.chunk_id``) and its words."""

    chunk_id: str
    text: str
    title: str = ""
    heading_path: Sequence[str] = ()


@dataclass(frozen=True)
class FocusEntity:
    """An entity the conversation is about now.

    ``score`` is in (0, 1.2]: 1-ish for an entity named in the latest turn, decaying by a constant factor
    per turn since it was last named. ``mentioned`` is True when the latest recorded turn named it.
    """

    key: str
    type: str
    value: str
    score: float
    mentioned: bool
    last_turn: int


@dataclass(frozen=True)
class TurnContext:
    """What :meth:`GraphStore.record_turn` found: this turn's entities and the focus after it."""

    turn_index: int
    entities: list[Entity]
    focus: list[FocusEntity]
    is_followup: bool
    reasons: tuple[str, ...] = field(default=())

    @property
    def focus_weights(self) -> dict[str, float]:
        """Entity key -> focus score, the argument :meth:`GraphStore.neighbours` takes."""
        return {f.key: f.score for f in self.focus}
