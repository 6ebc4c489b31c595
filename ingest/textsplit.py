"""Splitting text into sentences, and (only when one sentence is longer than the budget) into smaller pieces."""

from __future__ import annotations

import re
from collections.abc import Callable

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace and a likely
# sentence start. Abbreviations that end in a period are rejoined afterwards.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-Ý])")
_ABBREVIATIONS = re.compile(
    r"(\b(e\.g|i\.e|etc|vs|approx|incl|no|nr|fig|figs|ref|p|pp|vol|ch|sec|art|dr|mr|mrs|ms|st|inc|ltd|co)\.|\b[A-Z]\.)$",
    re.I,
)

CountTokens = Callable[[str], int]


def sentences(text: str) -> list[str]:
    """Sentences of one paragraph, in order; joining them with spaces gives the paragraph back (spacing aside)."""
    parts = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    merged: list[str] = []
    for part in parts:
        if merged and _ABBREVIATIONS.search(merged[-1]):
            merged[-1] = f"{merged[-1]} {part}"
        else:
            merged.append(part)
    return merged


def hard_split(text: str, budget: int, count: CountTokens) -> list[str]:
    """Pieces of ``text`` that each count at most ``budget`` tokens: whole words where possible, characters
    for a single word longer than the budget (a URL, a hash, a run of digits). ``count`` excludes any fixed
    per-text overhead (special tokens)."""
    pieces: list[str] = []
    current: list[str] = []
    for word in text.split():
        if count(word) > budget:
            if current:
                pieces.append(" ".join(current))
                current = []
            pieces.extend(_split_word(word, budget, count))
            continue
        candidate = " ".join([*current, word])
        if current and count(candidate) > budget:
            pieces.append(" ".join(current))
            current = [word]
        else:
            current.append(word)
    if current:
        pieces.append(" ".join(current))
    return pieces


def _split_word(word: str, budget: int, count: CountTokens) -> list[str]:
    pieces = []
    while word:
        low, high = 1, len(word)
        while low < high:  # the longest prefix that fits
            middle = (low + high + 1) // 2
            if count(word[:middle]) <= budget:
                low = middle
            else:
                high = middle - 1
        pieces.append(word[:low])
        word = word[low:]
    return pieces
