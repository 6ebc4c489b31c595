"""The entity dictionary: names the knowledge base itself uses, matched in any text.

Built from the workspace's documents (headings, menu paths, model numbers, recurring capitalised names)
and open to explicit additions (a product catalogue). Matching is on word boundaries, case-insensitive and
plural-insensitive, longest entry first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from kg import patterns
from kg.text import STOPWORDS, VERBS, norm_word, tokens

# Last words that make a capitalised name a setting or a menu rather than a product.
_SETTING_HEADS = frozenset({"mode", "setting", "settings", "option", "options", "level", "timer", "saver", "lock"})
_MENU_HEADS = frozenset({"menu", "menus", "screen", "tab", "panel", "page", "hub"})
_MAX_ENTRY_WORDS = 8
# "Samsung Smart Remote", "Auto Power Off", "Galaxy S10": capitalised words, optionally joined by "of"/"and".
_NAME = re.compile(r"(?:[A-Z][\w'’+-]*|[0-9]+[A-Za-z]\w*)(?:\s+(?:(?:of|and|for|&)\s+)?(?:[A-Z][\w'’+-]*|\d+\w*)){1,4}")


@dataclass(frozen=True)
class DictionaryEntry:
    type: str
    value: str  # the display form, as the knowledge base writes it
    norm: str


@dataclass(frozen=True)
class Section:
    """What the dictionary builder reads from one chunk of the knowledge base."""

    text: str
    title: str = ""
    heading_path: Sequence[str] = ()


def _norm_tokens(text: str) -> tuple[str, ...]:
    return tuple(norm_word(t.text) for t in tokens(text))


class EntityDictionary:
    """Known names by their normal-form word sequence. A name keeps the type it was first added with.

    ``fallback`` dictionaries are consulted after this one's own entries without being copied (a
    document's own names layered over the workspace's).
    """

    def __init__(self, entries: Iterable[DictionaryEntry] = (), fallback: Sequence[EntityDictionary] = ()) -> None:
        self._entries: dict[tuple[str, ...], DictionaryEntry] = {}
        self._by_first: dict[str, int] = {}  # first word -> longest entry length starting with it (an upper bound)
        self._fallback = tuple(fallback)
        for entry in entries:
            self.add(entry.value, entry.type, entry.norm)

    def add(self, value: str, type: str, norm: str | None = None) -> None:
        """Register ``value`` as an entity of ``type`` (no-op for an empty or over-long name).

        ``norm`` is the canonical form the entity's graph key uses, when it is not simply the words of
        ``value`` normalised (model numbers, menu paths).
        """
        words = _norm_tokens(value)
        if not words or len(words) > _MAX_ENTRY_WORDS or words in self._entries:
            return
        self._entries[words] = DictionaryEntry(type=type, value=value.strip(), norm=norm or " ".join(words))
        self._by_first[words[0]] = max(self._by_first.get(words[0], 0), len(words))

    def discard(self, value: str, type: str | None = None) -> None:
        """Forget ``value`` (only if registered with ``type``, when given)."""
        words = _norm_tokens(value)
        entry = self._entries.get(words)
        if entry is not None and (type is None or entry.type == type):
            del self._entries[words]

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and self._lookup(_norm_tokens(value)) is not None

    def __iter__(self) -> Iterator[DictionaryEntry]:
        return iter(self._entries.values())

    def _lookup(self, words: tuple[str, ...]) -> DictionaryEntry | None:
        entry = self._entries.get(words)
        if entry is None:
            for other in self._fallback:
                entry = other._lookup(words)
                if entry is not None:
                    break
        return entry

    def _longest(self, first: str) -> int:
        return max([self._by_first.get(first, 0), *(other._longest(first) for other in self._fallback)])

    def find(self, text: str) -> list[patterns.Candidate]:
        """Every dictionary name in ``text``, longest match first at each position, non-overlapping."""
        toks = tokens(text)
        words = [norm_word(t.text) for t in toks]
        found: list[patterns.Candidate] = []
        i = 0
        while i < len(toks):
            for n in range(min(self._longest(words[i]), len(toks) - i), 0, -1):
                entry = self._lookup(tuple(words[i : i + n]))
                if entry is not None:
                    found.append(
                        patterns.Candidate(entry.type, entry.value, entry.norm, toks[i].start, toks[i + n - 1].end)
                    )
                    i += n
                    break
            else:
                i += 1
        return found


def _name_type(name: str) -> str | None:
    """The type of a recurring capitalised name, or None when it is not worth a dictionary entry."""
    words = name.split()
    lowered = [w.lower() for w in words]
    if lowered[0] in STOPWORDS or lowered[0] in VERBS:
        return None
    if lowered[-1] in _SETTING_HEADS:
        return "setting"
    if lowered[-1] in _MENU_HEADS:
        return "menu"
    # A digit or an inner capital ("Galaxy S10", "SmartThings") marks a product name.
    if any(any(c.isdigit() for c in w) or any(c.isupper() for c in w[1:]) for w in words):
        return "product"
    return "topic"


def build_dictionary(
    sections: Iterable[Section], min_name_count: int = 2, fallback: Sequence[EntityDictionary] = ()
) -> EntityDictionary:
    """A dictionary from the knowledge base.

    - model numbers (pattern) -> ``model``;
    - menu paths ("Settings > General > Network") -> ``menu`` for the path and its inner steps,
      ``setting`` for its last step;
    - capitalised multi-word names seen at least ``min_name_count`` times -> ``setting`` / ``menu`` /
      ``product`` / ``topic`` by their form;
    - headings of up to eight words -> ``topic``.

    ``fallback`` dictionaries (the workspace's) are consulted after the new one's own entries.
    """
    dictionary = EntityDictionary(fallback=fallback)
    names: Counter[str] = Counter()
    headings: set[str] = set()
    for section in sections:
        texts = [section.text, section.title, *section.heading_path]
        for text in texts:
            for cand in patterns.models(text):
                dictionary.add(cand.value, "model", cand.norm)
            for cand in patterns.menu_paths(text):
                dictionary.add(cand.value, "menu", cand.norm)
                steps = cand.value.split(" > ")
                dictionary.add(steps[-1], "setting")
                for step in steps[:-1]:
                    dictionary.add(step, "menu")
            for m in _NAME.finditer(text):
                # "The Galaxy S10" at a sentence start is the name "Galaxy S10".
                words = m.group().split()
                while words and words[0].lower() in STOPWORDS:
                    words = words[1:]
                if len(words) >= 2:
                    names[" ".join(words)] += 1
        headings.update(h.strip() for h in [section.title, *section.heading_path] if h.strip())
    for name, count in names.most_common():
        if count < min_name_count:
            break
        kind = _name_type(name)
        if kind is not None:
            dictionary.add(name, kind)
    for heading in sorted(headings):
        if len(heading.split()) <= _MAX_ENTRY_WORDS:
            dictionary.add(heading, "topic")
    return dictionary
