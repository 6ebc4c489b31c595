"""What a how-to question and a named error code ask of the extractive answer's sentences: which question is a
how-to, how much more a step counts for it, which sentence is a code's entry, which steps are a code's fix, and
which list an introduction leads to. Used by :class:`generation.extractive.ExtractiveGenerator`.
"""

from __future__ import annotations

import re

from generation.candidates import Candidate
from generation.text import stem
from kg.patterns import opening_codes

_HOW_TO = re.compile(
    r"\s*(?:(?:and|so|but|ok|okay|then|also)\s*,?\s+)?(?:how\s+(?:do|can|should|would|could|to|does\s+one)\b|what\s+(?:are\s+the\s+steps|do\s+i\s+do)\b|steps?\s+to\b)",
    re.IGNORECASE,
)
# After a first clause that says what is wrong, only the customer asking what they should do: "my machine shows
# E-06, what do I do?" ("..., how could that happen?" asks why, not for steps).
_LATER_HOW_TO = re.compile(
    r"\s*(?:so\s+|then\s+)?(?:how\s+(?:do|can|should)\s+(?:i|we)\b|what\s+(?:do|should|can)\s+(?:i|we)\s+do\b)",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[,.;:!?]")


def is_how_to(question: str) -> bool:
    """``question`` asks how to do something: "how do I descale it?", or, in a later clause, "my machine shows
    E-06, what do I do?"."""
    first, *later = _CLAUSE_END.split(question)
    return bool(_HOW_TO.match(first)) or any(_LATER_HOW_TO.match(clause) for clause in later)


# Asking for a remedy ("how do I fix E-10?") shares "fix" with every "Fixing E-NN" heading: no sign of which steps.
_REMEDY_WORDS = frozenset(stem(w) for w in "fix fixing solve resolve repair clear troubleshoot troubleshooting".split())


_STEPS_HEADER = re.compile(r"to\s+([^\W\d_]+)\b[^.:,]{0,80}[:,]", re.IGNORECASE)  # "To descale: ..."


def steps_weight(
    candidate: Candidate, question_terms: frozenset[str], asked: frozenset[str], header_boost: float, boost: float
) -> float:
    """How much more a sentence counts as an answer to a how-to: ``header_boost`` when it introduces the steps for
    a word of the question ("To descale: ...") or is a step of a list under a section heading that names one of
    ``asked`` (the question's words but its subject's and a remedy's: "1. Turn off your modem ..." under "Setup
    steps" for "how do I set up my Meshly M3?"), ``boost`` for any other imperative sentence, numbered or not."""
    text = candidate.text
    header = _STEPS_HEADER.match(text)
    if header and stem(header.group(1).lower()) in question_terms:
        return header_boost
    if candidate.imperative and candidate.listed and (candidate.section_terms & asked) - _REMEDY_WORDS:
        # The heading says what the steps do; a sentence elsewhere that names the same word ("The first setup
        # needs the app.") tells of it and outscored the steps whenever its passage ranked first.
        return header_boost
    return boost if header or candidate.imperative else 1.0


def entry_rank(candidate: Candidate, error_codes: frozenset[str], how_to: bool) -> int:
    """How surely ``candidate`` answers for one of ``error_codes``, lowest first: for a how-to, a step of the code's
    fix (:func:`fix_step`); then a sentence that opens with the code and names no other (a table row, "- E-21: no
    internet ..."); one that names no other code; one that lists the code among others."""
    if how_to and fix_step(candidate, error_codes):
        return 0
    alone = candidate.error_codes <= error_codes
    if alone and opening_codes(candidate.text) & error_codes:
        return 1
    return 2 if alone else 3


def fix_step(candidate: Candidate, error_codes: frozenset[str]) -> bool:
    """``candidate`` is a step (an imperative list item) under a heading that names one of ``error_codes`` and no
    other code ("Fixing E-06 (grinder blocked)"; not "Repairs for E-06 and E-09")."""
    named = candidate.heading_codes
    return candidate.listed and candidate.imperative and bool(named & error_codes) and named <= error_codes


def about_code(candidate: Candidate, error_codes: frozenset[str]) -> bool:
    """``candidate`` names one of ``error_codes`` or stands under a heading that does: what may join a code's
    entry or its fix steps in an answer."""
    return bool(error_codes & (candidate.error_codes | candidate.heading_codes))


def introduced_step(candidate: Candidate, first: Candidate, asked: frozenset[str]) -> bool:
    """Whether ``candidate`` is a step of a list in ``first``'s document under a section heading that names a word
    of the question ("Set up the guest network" for "how do I set up a guest network for visitors"): the steps an
    introduction leads to, not another section's list."""
    return candidate.listed and candidate.document == first.document and bool(candidate.section_terms & asked)
