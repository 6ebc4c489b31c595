"""Answer generation from retrieved passages.

Every backend gets the same :class:`GenerationRequest` and must return an :class:`Answer` whose every
sentence is traceable to at least one passage it cites. Passage text is data, never instructions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Passage:
    number: int  # 1-based; what the answer cites as [n]
    chunk_id: str
    document_id: str
    source: str
    title: str
    page: int | None
    text: str
    score: float
    heading: str = ""  # the section it stands under ("Switching the AquaPure 300 off"), when the document has one
    ordinal: int | None = None  # the chunk's position in its document, when known: answers keep reading order


@dataclass(frozen=True)
class GenerationRequest:
    question: str  # the customer's turn (text, transcript and OCR text folded in)
    history: list[tuple[str, str]]  # earlier turns as (role, text), oldest first; role customer|bot|agent
    passages: list[Passage]  # best first
    focus_entities: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: list[int]  # passage numbers


@dataclass(frozen=True)
class Answer:
    text: str  # plain text, no HTML, no citation markers
    sentences: list[AnswerSentence]
    cited: list[int]  # passage numbers cited anywhere, in order of first use

    @property
    def grounded(self) -> bool:
        return bool(self.cited) and all(s.citations for s in self.sentences)


@runtime_checkable
class Generator(Protocol):
    name: str

    def warm_up(self) -> None: ...

    def generate(self, request: GenerationRequest) -> Answer: ...

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Plain-text pieces of the answer as they are produced; joined they equal ``generate().text``."""
        ...


@runtime_checkable
class SentenceStreamer(Protocol):
    """Optional extension (all built-in backends have it): stream whole sentences *with* their citations, so a
    caller can show text as it comes and still hold the citations. The sentences are those of
    ``generate().sentences``; ``guardrails.assemble_answer(sentences)`` rebuilds the :class:`Answer`."""

    def stream_sentences(self, request: GenerationRequest) -> Iterator[AnswerSentence]: ...
