"""Citations for generated text: map the model's [n] markers, or attribute by lexical support, or drop.

Used by the generative backends (t5, openai) and by the data converter that adds [n] markers to reference
answers. A sentence is kept only when it can name a passage that supports it *substantively*:

* it carries [n] markers naming passages of the request, and those passages hold at least
  ``min_shared_terms`` of its distinct content words and at least ``min_marked_support`` of them, or
* it carries none, and some passage holds at least ``min_shared_terms`` and ``min_support`` of its content
  words; the best-covering passage (the better-ranked one on a tie) is cited;

and, when the question is known, the sentence or a passage it cites shares a content word with the question
(or the customer's earlier turns or the focus entities). A sentence whose content is one word repeated from
a passage ("HACKED [1]"), one that reads as an instruction (:func:`generation.injection.is_instruction_like`),
or one that gives an e-mail or web address its passages do not contain is never grounded. Support is
measured against the passages as neutralised for the prompt, so instruction-like text supports nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from generation.guardrails import DEFAULT_MAX_ANSWER_CHARS, AnswerBuilder, neutralise_passage_text, to_plain_text
from generation.injection import CONTACT, is_instruction_like
from generation.protocol import Answer, AnswerSentence, GenerationRequest, Passage
from generation.text import cited_numbers, content_terms, split_complete_sentences, strip_citation_markers

DEFAULT_MIN_SUPPORT = 0.5
DEFAULT_MIN_MARKED_SUPPORT = 0.2
DEFAULT_MIN_SHARED_TERMS = 2  # one word in common is a coincidence (or an echo), not support


@dataclass(frozen=True)
class Support:
    number: int
    share: float  # share of the sentence's distinct content words found in the passage


class PassageTerms:
    """Distinct content words of each passage (after neutralisation), for lexical support checks, and the
    content words of the question's context (empty when the question is not known)."""

    def __init__(self, passages: Sequence[Passage], context: Sequence[str] = ()) -> None:
        self.numbers = [p.number for p in passages]
        texts = {p.number: f"{p.title}\n{neutralise_passage_text(p.text)}" for p in passages}
        self._terms = {number: set(content_terms(text)) for number, text in texts.items()}
        self._contacts = {number: {_contact(c) for c in CONTACT.findall(text)} for number, text in texts.items()}
        self.question = {term for text in context for term in content_terms(text)}

    def shared(self, terms: set[str], numbers: Sequence[int]) -> set[str]:
        """The words of ``terms`` that the passages ``numbers`` hold between them."""
        found: set[str] = set()
        for number in numbers:
            found |= terms & self._terms.get(number, set())
        return found

    def support(self, terms: set[str], number: int) -> float:
        if not terms:
            return 0.0
        return len(terms & self._terms.get(number, set())) / len(terms)

    def best(self, terms: set[str]) -> Support | None:
        """The passage covering most of ``terms``; ties go to the earlier (better-ranked) passage."""
        best: Support | None = None
        for number in self.numbers:
            share = self.support(terms, number)
            if share > 0 and (best is None or share > best.share):
                best = Support(number, share)
        return best

    def relates(self, terms: set[str], numbers: Sequence[int]) -> bool:
        """Whether the sentence (``terms``) or one of the passages it cites shares a word with the question's
        context; always true when that context is unknown or has no content word."""
        if not self.question or terms & self.question:
            return True
        return any(self._terms.get(number, set()) & self.question for number in numbers)

    def contacts_known(self, text: str, numbers: Sequence[int]) -> bool:
        """Whether every e-mail or web address in ``text`` appears in one of the passages ``numbers``."""
        known = set().union(*(self._contacts.get(n, set()) for n in numbers)) if numbers else set()
        return all(_contact(contact) in known for contact in CONTACT.findall(text))


def _contact(found: str) -> str:
    return found.lower().rstrip(".,;:!?)'\"")


def question_context(request: GenerationRequest) -> list[str]:
    """What an answer sentence should relate to: the question, the customer's earlier turns, the focus."""
    return [request.question, *(text for role, text in request.history if role == "customer"), *request.focus_entities]


def ground_sentence(
    raw: str,
    passages: PassageTerms,
    *,
    min_support: float = DEFAULT_MIN_SUPPORT,
    min_marked_support: float = DEFAULT_MIN_MARKED_SUPPORT,
    min_shared_terms: int = DEFAULT_MIN_SHARED_TERMS,
) -> AnswerSentence | None:
    """``raw`` (one generated sentence, markers and all) as a cited plain-text sentence, or None if it is not
    grounded (see the module docstring)."""
    text = to_plain_text(strip_citation_markers(raw))
    if not text or is_instruction_like(text):
        return None
    terms = set(content_terms(text))
    needed = max(1, min_shared_terms)
    marked = [n for n in cited_numbers(raw) if n in passages.numbers]
    citations: list[int] = []
    shared = passages.shared(terms, marked)
    if marked and len(shared) >= needed and len(shared) / len(terms) >= min_marked_support:
        citations = [n for n in marked if passages.shared(terms, [n])]
    else:
        best = passages.best(terms)
        if best is not None and best.share >= min_support and len(passages.shared(terms, [best.number])) >= needed:
            citations = [best.number]
    if not citations or not passages.relates(terms, citations) or not passages.contacts_known(text, citations):
        return None
    return AnswerSentence(text=text, citations=citations)


class StreamingGrounder:
    """Grounds generated text fed in pieces; whole text fed at once gives the same sentences.

    ``feed`` returns the sentences accepted so far that were completed by the piece; ``finish`` flushes
    the last one. ``answer()`` is the :class:`Answer` made of everything accepted.
    """

    def __init__(
        self,
        passages: Sequence[Passage],
        *,
        max_chars: int = DEFAULT_MAX_ANSWER_CHARS,
        min_support: float = DEFAULT_MIN_SUPPORT,
        min_marked_support: float = DEFAULT_MIN_MARKED_SUPPORT,
        min_shared_terms: int = DEFAULT_MIN_SHARED_TERMS,
        context: Sequence[str] = (),
    ) -> None:
        """``context``: the texts a sentence must relate to (:func:`question_context`); empty skips that check."""
        self._passages = PassageTerms(passages, context)
        self._builder = AnswerBuilder(max_chars)
        self._buffer = ""
        self._min_support = min_support
        self._min_marked_support = min_marked_support
        self._min_shared_terms = min_shared_terms

    def feed(self, piece: str) -> list[AnswerSentence]:
        complete, self._buffer = split_complete_sentences(self._buffer + piece)
        return self._accept(complete)

    def finish(self) -> list[AnswerSentence]:
        rest, self._buffer = self._buffer.strip(), ""
        return self._accept([rest] if rest else [])

    def answer(self) -> Answer:
        return self._builder.answer()

    def _accept(self, raw_sentences: list[str]) -> list[AnswerSentence]:
        accepted = []
        for raw in raw_sentences:
            grounded = ground_sentence(
                raw,
                self._passages,
                min_support=self._min_support,
                min_marked_support=self._min_marked_support,
                min_shared_terms=self._min_shared_terms,
            )
            kept = self._builder.add(grounded) if grounded is not None else None
            if kept is not None:
                accepted.append(kept)
        return accepted


def ground_text(
    text: str,
    passages: Sequence[Passage],
    *,
    max_chars: int = DEFAULT_MAX_ANSWER_CHARS,
    context: Sequence[str] = (),
) -> Answer:
    """The grounded :class:`Answer` for a finished generated ``text`` (``context`` as for StreamingGrounder)."""
    grounder = StreamingGrounder(passages, max_chars=max_chars, context=context)
    grounder.feed(text)
    grounder.finish()
    return grounder.answer()


def stream_grounded(pieces: Iterator[str], grounder: StreamingGrounder) -> Iterator[AnswerSentence]:
    """The accepted sentences of generated ``pieces``, each as soon as it is complete; together they are
    ``grounder.answer().sentences``."""
    for piece in pieces:
        yield from grounder.feed(piece)
    yield from grounder.finish()


def add_citation_markers(answer: str, passages: Sequence[Passage], *, min_support: float = DEFAULT_MIN_SUPPORT) -> str:
    """``answer`` with a [n] marker after each sentence that a passage supports (for training targets).

    Sentences no passage supports are kept unmarked: a fine-tuned model learns that such text gets no
    citation, and the guardrail then drops it at answer time.
    """
    terms = PassageTerms(passages)
    out = []
    complete, rest = split_complete_sentences(answer)
    for sentence in [*complete, rest.strip()] if rest.strip() else complete:
        bare = strip_citation_markers(sentence)
        best = terms.best(set(content_terms(bare)))
        if best is None or best.share < min_support:
            out.append(bare)
        elif bare[-1] in ".!?":
            out.append(f"{bare[:-1]} [{best.number}]{bare[-1]}")
        else:
            out.append(f"{bare} [{best.number}]")
    return " ".join(out)
