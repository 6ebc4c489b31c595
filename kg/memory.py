"""Conversation entity memory: which entities a conversation is about now (pure logic, no database).

Every turn's entities are remembered with the turn index. The focus after turn ``t`` scores each entity by
recency (a constant decay per turn since it was last named), a little by repetition, and by type (a model
number or an error code identifies the problem; a topic only describes it). A specific entity is
superseded when a later turn names another one of the same type ("the other remote", a second model
number). Entities the latest customer turn named always come first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from kg.extract import SPECIFIC_TYPES
from kg.types import FocusEntity

TYPE_WEIGHT = {
    "product": 1.0,
    "model": 1.0,
    "error_code": 1.0,
    "setting": 0.9,
    "menu": 0.85,
    "order_number": 0.8,
    "serial_number": 0.8,
    "topic": 0.7,
    "email": 0.3,
    "phone": 0.3,
}
DEFAULT_DECAY = 0.6
SUPERSEDED_FACTOR = 0.5
BOT_MENTION_WEIGHT = 0.5  # the bot naming an entity keeps it alive, but less than the customer naming it
_MAX_SCORE = 1.2


@dataclass(frozen=True)
class Mention:
    """One entity named in one turn. ``by_customer`` is False for the bot's (or an agent's) own words."""

    key: str
    type: str
    value: str
    turn: int
    by_customer: bool = True


def compute_focus(
    mentions: Sequence[Mention],
    current_turn: int,
    *,
    decay: float = DEFAULT_DECAY,
    limit: int = 12,
    min_score: float = 0.05,
) -> list[FocusEntity]:
    """The entities in focus at ``current_turn``, best first (named in that turn first, then by score).

    Mentions after ``current_turn`` are ignored (a replayed turn sees the conversation as it was).
    """
    by_key: dict[str, list[Mention]] = defaultdict(list)
    latest_of_type: dict[str, int] = {}
    for m in mentions:
        if m.turn > current_turn:
            continue
        by_key[m.key].append(m)
        if m.by_customer and m.type in SPECIFIC_TYPES:
            latest_of_type[m.type] = max(latest_of_type.get(m.type, m.turn), m.turn)
    focus: list[FocusEntity] = []
    for key, ms in by_key.items():
        score, last_turn, mentioned = _score(ms, current_turn, decay, latest_of_type)
        if score >= min_score:
            latest = max(ms, key=lambda m: (m.turn, m.by_customer))
            focus.append(FocusEntity(key, latest.type, latest.value, round(score, 4), mentioned, last_turn))
    focus.sort(key=lambda f: (not f.mentioned, -f.score, f.key))
    return focus[:limit]


def _score(
    ms: list[Mention], current_turn: int, decay: float, latest_of_type: dict[str, int]
) -> tuple[float, int, bool]:
    best = 0.0
    for m in ms:
        weight = 1.0 if m.by_customer else BOT_MENTION_WEIGHT
        best = max(best, weight * decay ** (current_turn - m.turn))
    turns_named = len({m.turn for m in ms if m.by_customer})
    last_turn = max(m.turn for m in ms)
    kind = ms[-1].type
    score = best * (1.0 + 0.1 * min(max(turns_named - 1, 0), 2)) * TYPE_WEIGHT.get(kind, 0.7)
    last_customer_turn = max((m.turn for m in ms if m.by_customer), default=-1)
    if kind in SPECIFIC_TYPES and latest_of_type.get(kind, -1) > last_customer_turn:
        score *= SUPERSEDED_FACTOR
    mentioned = any(m.by_customer and m.turn == current_turn for m in ms)
    return min(score, _MAX_SCORE), last_turn, mentioned
