"""Citations for generated text: map the model's [n] markers, or attribute by lexical support, or drop.

Used by the generative backends (t5, openai) and by the data converter that adds [n] markers to reference
answers. A sentence is kept only when it can name a passage that supports it:

* it carries [n] markers naming passages of the request, and at least one of them shares a minimum of its
  content words (``min_marked_support``; stops a bare "HACKED [1]"), or
* it carries none, and some passage covers at least ``min_support`` of its content words; the best-covering
  passage (the better-ranked one on a tie) is cited.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from generation.guardrails import DEFAULT_MAX_ANSWER_CHARS, AnswerBuilder, neutralise_passage_text, to_plain_text
from generation.protocol import Answer, AnswerSentence, Passage
from generation.text import cited_numbers, content_terms, split_complete_sentences, strip_citation_markers

DEFAULT_MIN_SUPPORT = 0.5
DEFAULT_MIN_MARKED_SUPPORT = 0.2


@dataclass(frozen=True)
class Support:
    number: int
    share: float  # share of the sentence's distinct content words found in the passage


class PassageTerms:
    """Distinct content words of each passage (after neutralisation), for lexical support checks."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.numbers = [p.number for p in passages]
        self._terms = {p.number: set(content_terms(f"{p.title}\n{neutralise_passage_text(p.text)}")) for p in passages}

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


def ground_sentence(
    raw: str,
    passages: PassageTerms,
    *,
    min_support: float = DEFAULT_MIN_SUPPORT,
    min_marked_support: float = DEFAULT_MIN_MARKED_SUPPORT,
) -> AnswerSentence | None:
    """``raw`` (one generated sentence, markers and all) as a cited plain-text sentence, or None if unsupported."""
    text = to_plain_text(strip_citation_markers(raw))
    if not text:
        return None
    terms = set(content_terms(text))
    marked = [n for n in cited_numbers(raw) if n in passages.numbers]
    if marked and (not terms or max(passages.support(terms, n) for n in marked) >= min_marked_support):
        return AnswerSentence(text=text, citations=marked)
    best = passages.best(terms)
    if best is not None and best.share >= min_support:
        return AnswerSentence(text=text, citations=[best.number])
    return None


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
    ) -> None:
        self._passages = PassageTerms(passages)
        self._builder = AnswerBuilder(max_chars)
        self._buffer = ""
        self._min_support = min_support
        self._min_marked_support = min_marked_support

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
                raw, self._passages, min_support=self._min_support, min_marked_support=self._min_marked_support
            )
            kept = self._builder.add(grounded) if grounded is not None else None
            if kept is not None:
                accepted.append(kept)
        return accepted


def ground_text(text: str, passages: Sequence[Passage], *, max_chars: int = DEFAULT_MAX_ANSWER_CHARS) -> Answer:
    """The grounded :class:`Answer` for a finished generated ``text``."""
    grounder = StreamingGrounder(passages, max_chars=max_chars)
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
