"""A value of a closed class (a light's colour) that the customer names and the evidence does not.

"And a solid orange one?" after a question about the LED: the passages list blue, yellow and red lights, the
conversation's words are all there, so answerability is high, and the best sentence was "Solid blue: online and
working normally." (an answer about a neighbouring value, given with confidence). When the turn names members
of a class, the best passages name other members of it and none of those the turn names, the knowledge base
says nothing about that value: the turn is escalated rather than answered about its neighbour.

Colours only: days and months come in ranges ("Monday to Friday" answers "on Sunday?"), colours do not.
"""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.text_features import words

COLOURS = frozenset("red orange yellow green blue purple pink white black grey cyan magenta turquoise brown".split())
_SAME = {"gray": "grey", "amber": "orange", "violet": "purple"}
# The turn must be about a light: "The display stays black" or "white vinegar" name a colour, not a light's.
_LIGHTS = frozenset(
    "light lights led leds lamp indicator symbol icon ring blink blinks blinking flash flashes flashing glow glows "
    "glowing pulse pulses pulsing solid lit".split()
)


def _colours(found: list[str]) -> set[str]:
    return {_SAME.get(w, w) for w in found} & COLOURS


def unstated_value(said: str, passages: Sequence[str]) -> str | None:
    """Why the evidence does not answer ``said`` ("orange: the passages name blue, red, yellow"), or None when
    ``said`` names no light's colour (a colour and a word for a light: "solid", "blinks", "LED"), the passages
    name none, or they name one that ``said`` names ("amber" is orange, "gray" grey)."""
    said_words = words(said)
    asked = _colours(said_words)
    if not asked or not _LIGHTS.intersection(said_words):
        return None
    stated = set().union(*(_colours(words(p)) for p in passages)) if passages else set()
    if not stated or asked & stated:
        return None
    return f"{', '.join(sorted(asked))}: the passages name {', '.join(sorted(stated))}"
