"""The sentences of retrieved passages that an extractive answer may quote, with what selection needs to know of
each: its passage, line and position, its terms and its section's, the question it answers (an FAQ), the error
codes and model numbers its line names, whether it stands in a list item. Used by
:class:`generation.extractive.ExtractiveGenerator`.

What is never quoted: an instruction-like sentence (passage text is data), a question (an FAQ's question is
matched for the sentence after it, its answer), a title or heading line (a short line with no closing
punctuation: "BrewMaster 3000 frequently asked questions"), boilerplate, and text that is mostly not words.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from functools import lru_cache

from generation.guardrails import is_instruction_like, to_plain_text
from generation.protocol import Passage
from generation.text import content_terms, split_sentences
from kg.patterns import error_code_norms, model_norms

_BOILERPLATE = re.compile(
    r"click here|cookie|all rights reserved|copyright|©|skip to (?:main )?content|share (?:this|on)|"
    r"print this page|was this (?:page|article|answer|information) (?:helpful|useful)|"
    r"last (?:updated|modified|reviewed)|"
    r"table of contents|back to top|sign (?:in|up) (?:to|for)|subscribe to|follow us|enable javascript|"
    r"related (?:articles|links|topics|content)|^see also|^read more|^learn more|^next steps?:?$|^tip:?$",
    re.IGNORECASE,
)


_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class Candidate:
    """One quotable sentence of the passages, with where it stands and what it names."""

    rank: int  # 0 = best passage
    passage: int  # the passage number cited
    position: int  # sentence index inside its passage
    text: str
    terms: frozenset[str]
    passage_terms: frozenset[str]  # of the whole passage, title included
    line: int = 0  # the passage line (paragraph or list item) it stands in
    asked: str = ""  # the question it answers, when a question sentence comes right before it (an FAQ)
    asked_terms: frozenset[str] = frozenset()
    heading_terms: frozenset[str] = frozenset()  # of the section heading it stands under
    # ... of that heading's own part ("Setup steps" of "Meshly M3 Quick Start > Setup steps"; none for a line under
    # the document's title alone): what its section is about, without the title every section shares.
    section_terms: frozenset[str] = frozenset()
    document: str = ""  # the document the passage comes from
    codes: frozenset[str] = frozenset()  # codes it, its question or its line so far name ("- E40: ... Switch off")
    ordinal: int | None = None  # its chunk's position in the document, when the passage says
    listed: bool = False  # it stands in a list item ("- Hold the Clean and Home buttons ...", "2. Tap Add")
    imperative: bool = False  # it reads as an instruction, past any list number ("Hold ...", "2. Tap Add")
    error_codes: frozenset[str] = frozenset()  # the error codes among ``codes`` (no model numbers)
    heading_codes: frozenset[str] = frozenset()  # the error codes its section heading names ("Fixing E-06")

    @property
    def about(self) -> frozenset[str]:
        """What the sentence is matched on: its words, the question it answers and its section's heading."""
        return self.terms | self.asked_terms | self.heading_terms


IMPERATIVE = re.compile(
    r"(?:(?:first|then|next|finally|now),?\s+)?(?:press|hold|turn|open|close|select|choose|tap|click|go|remove|"
    r"insert|fill|empty|clean|rinse|wipe|switch|connect|disconnect|unplug|plug|push|pull|set|check|make\s+sure|"
    r"ensure|wait|restart|reset|install|enter|navigate|detach|attach|place|put|replace|run|start|stop|soak|"
    r"refill|register|update|sign|log|call|contact|visit|submit|complete|apply|pay|send|return|keep|store|"
    r"use|follow|type|slide|lift|lower|drain|dry|charge|pair)\b",
    re.IGNORECASE,
)


_SHORTEST_STEP = 2  # words of the shortest list step quoted ("Tap Save.")


@lru_cache(maxsize=256)
def quotable_sentences(passages: tuple[Passage, ...], min_words: int, max_words: int) -> tuple[Candidate, ...]:
    """Every sentence of ``passages`` that could be quoted: not instruction-like, not boilerplate, not a
    question or a heading, a sane length. The sentences answering a question of the passage (the rest of its
    line, or the next line when the question ends its own: an FAQ) carry it as ``asked``.
    (Cached: the same passages are often asked about again within a conversation.)"""
    candidates: list[Candidate] = []
    for rank, passage in enumerate(passages):
        quotable: list[Candidate] = []
        passage_terms = set(content_terms(passage.title))
        heading = frozenset(content_terms(passage.heading))
        _, within, section_heading = passage.heading.rpartition(" > ")
        section = frozenset(content_terms(section_heading)) if within else frozenset()
        heading_codes = error_code_norms(passage.heading)
        position, asked, answered_until = 0, "", -1
        for line_number, line in enumerate(passage.text.split("\n")):
            sentences = split_sentences(line)
            line_codes: frozenset[str] = frozenset()
            line_errors: frozenset[str] = frozenset()
            for index, raw in enumerate(sentences):
                position += 1
                errors = error_code_norms(raw)  # one pass each: the codes are the errors and the models
                line_errors |= errors
                line_codes |= errors | model_norms(raw)
                if is_instruction_like(raw):
                    continue  # passage text is data: a sentence addressed to the assistant is never repeated
                text = to_plain_text(raw)
                terms = frozenset(content_terms(text))
                passage_terms |= terms
                if text.endswith("?"):  # a question is not an answer; what follows it may be
                    asked = text
                    answered_until = line_number + (1 if index == len(sentences) - 1 else 0)
                    continue
                title_line = len(sentences) == 1 and _heading_like(raw)  # a heading names, it does not say
                listed = bool(LIST_ITEM.match(line))
                # A step of a list is quoted however short: "Tap Save." is the step a customer cannot skip.
                imperative = bool(IMPERATIVE.match(LIST_ITEM.sub("", text)))
                shortest = min(_SHORTEST_STEP, min_words) if listed and imperative else min_words
                if terms and not title_line and _quotable(text, shortest, max_words):
                    asked_errors = error_code_norms(asked)
                    quotable.append(
                        Candidate(
                            rank=rank,
                            passage=passage.number,
                            position=position - 1,
                            text=text,
                            terms=terms,
                            passage_terms=frozenset(),  # known once the whole passage is read
                            line=line_number,
                            asked=asked,
                            asked_terms=frozenset(content_terms(asked)),
                            heading_terms=heading,
                            document=passage.document_id,
                            codes=line_codes | asked_errors | model_norms(asked),
                            ordinal=passage.ordinal,
                            listed=listed,
                            imperative=imperative,
                            error_codes=line_errors | asked_errors,
                            section_terms=section,
                            heading_codes=heading_codes,
                        )
                    )
            if line_number >= answered_until:
                asked = ""
        whole = frozenset(passage_terms)
        candidates += [dataclasses.replace(candidate, passage_terms=whole) for candidate in quotable]
    return tuple(candidates)


_HEADING_WORDS = 10
LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s")


def _heading_like(line: str) -> bool:
    """A line that names rather than says: short, no closing punctuation, not a list item."""
    stripped = line.strip()
    return (
        bool(stripped)
        and len(stripped.split()) <= _HEADING_WORDS
        and stripped[-1] not in ".!?:;)\"'\u201d"
        and not LIST_ITEM.match(stripped)
    )


def _quotable(text: str, min_words: int, max_words: int) -> bool:
    word_count = len(text.split())
    if not min_words <= word_count <= max_words:
        return False
    letters = len(_LETTER.findall(text))
    if letters < 0.5 * len(text) or _BOILERPLATE.search(text):
        return False
    return not re.fullmatch(r"\S*(?:https?://|www\.)\S*", text)
