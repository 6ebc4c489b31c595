"""Offline entity extraction: knowledge-base dictionary + identifier patterns + noun phrases.

    >>> [(e.type, e.value) for e in extract_entities("My UN55TU8000 shows E-101, mail me at jo@x.org")]
    [('model', 'UN55TU8000'), ('error_code', 'E-101'), ('email', 'j***@x.org')]

No model is downloaded or loaded: everything here is regular expressions, a word list and a dictionary
built from the workspace's own documents (:func:`kg.dictionary.build_dictionary`).

Personal data: e-mail addresses and phone numbers come back already masked in ``value`` and ``norm``
(``start``/``end`` still point at the original text, so a caller can redact it with :func:`redact`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg import patterns
from kg.dictionary import DictionaryEntry, EntityDictionary, Section, build_dictionary
from kg.patterns import mask_email, mask_phone, redact
from kg.text import norm_phrase, noun_phrases
from retrieval.text_features import frame_spans

__all__ = [
    "ENTITY_TYPES",
    "SPECIFIC_TYPES",
    "DictionaryEntry",
    "Entity",
    "EntityDictionary",
    "Section",
    "build_dictionary",
    "entity_key",
    "extract_entities",
    "mask_email",
    "mask_phone",
    "redact",
]

ENTITY_TYPES = (
    "product",
    "model",
    "error_code",
    "setting",
    "menu",
    "order_number",
    "serial_number",
    "email",
    "phone",
    "topic",
)
# Types that identify one thing (as opposed to ``topic``, a subject): they carry across turns longest.
SPECIFIC_TYPES = frozenset({"product", "model", "error_code", "order_number", "serial_number"})

# Lower wins when candidates overlap: personal data first (so it is always masked), then identifiers with
# a cue word, then knowledge-base names, then bare patterns, then noun phrases.
_PRIORITY = {
    "email": 0,
    "phone": 1,
    "order_number": 2,
    "serial_number": 2,
    "error_code": 3,
    "dictionary": 4,
    "model": 5,
    "menu": 6,
    "topic": 9,
}
_MAX_NORM_CHARS = 200  # keeps "entity:<type>:<norm>" inside the 300-character key column
# A capitalised name followed by a short code or number: "Galaxy S10", "Series 7", "iPhone 12".
_PRODUCT_NAME = re.compile(r"\b[A-Za-z]*[A-Z][a-z]+\s+(?:[A-Z]{0,3}\d{1,4}[A-Za-z]{0,3})\b")


@dataclass(frozen=True)
class Entity:
    """One mention. ``norm`` is the canonical form shared by every spelling ("E101" and "e-101")."""

    type: str
    value: str
    norm: str
    start: int
    end: int

    @property
    def key(self) -> str:
        """The graph node key of the entity this mention refers to."""
        return entity_key(self.type, self.norm)


def entity_key(type: str, norm: str) -> str:
    """``entity:<type>:<norm>``: the node key in ``kg_nodes`` / ``kg_edges``."""
    return f"entity:{type}:{norm[:_MAX_NORM_CHARS]}"


def extract_entities(text: str, dictionary: EntityDictionary | None = None) -> list[Entity]:
    """The entities mentioned in ``text``, in order of appearance, without overlaps.

    Where candidates overlap, the more specific one wins (see ``_PRIORITY``), then the longer one.
    A mention may repeat an entity already found earlier in the text; callers that need distinct
    entities deduplicate on :attr:`Entity.key`.
    """
    if not text:
        return []
    ranked = [(_PRIORITY[c.type], c) for c in patterns.identifiers(text)]
    if dictionary is not None:
        ranked += [(_PRIORITY["dictionary"], c) for c in dictionary.find(text)]
    ranked.sort(key=lambda r: (r[0], r[1].start - r[1].end, r[1].start))
    chosen = _non_overlapping([c for _, c in ranked])
    # Noun phrases come from what the names and identifiers left: blank their spans so a phrase never
    # swallows half a name ("samsung smart remote button" -> the name, then "button").
    blanked = list(text)
    for c in chosen:
        blanked[c.start : c.end] = "," * (c.end - c.start)
    # Nor is a word of the question's frame a topic: "long" in "how long is the warranty?" (it would be carried
    # into the next turns' queries and weigh in the answer's sentence choice).
    for start, end in frame_spans(text):
        blanked[start:end] = "," * (end - start)
    for start, end in noun_phrases("".join(blanked)):
        norm = norm_phrase(text[start:end])
        if norm:
            kind = "product" if _PRODUCT_NAME.search(text[start:end]) else "topic"
            chosen.append(patterns.Candidate(kind, text[start:end], norm, start, end))
    chosen.sort(key=lambda c: c.start)
    return [Entity(c.type, c.value, c.norm[:_MAX_NORM_CHARS], c.start, c.end) for c in chosen]


def _non_overlapping(ranked: list[patterns.Candidate]) -> list[patterns.Candidate]:
    taken: list[tuple[int, int]] = []
    chosen: list[patterns.Candidate] = []
    for cand in ranked:
        if any(cand.start < end and start < cand.end for start, end in taken):
            continue
        taken.append((cand.start, cand.end))
        chosen.append(cand)
    return chosen
