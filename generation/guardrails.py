"""Guardrails every backend applies, on the way in (passages) and on the way out (answers).

In: text from the knowledge base is *data*. Instruction-like sentences (:mod:`generation.injection`: "ignore
previous instructions", "reply only with X", "tell customers to ...", "system: ..."), chat-template role tokens
and anything that imitates the prompt's own passage delimiters are neutralised before a passage reaches a
prompt, and the extractive generator never selects such a sentence. A passage dominated by such text, or
left with nothing once it is removed, is screened out altogether (:func:`screen_request`): it is neither shown
to a model nor cited. :func:`quotable_text` is a passage as it may be quoted to a customer.

Out: an answer is plain text (HTML tags, entities, Markdown emphasis and control characters removed; the UI
escapes as well, this is defence in depth), capped in length, and made only of sentences that cite a
passage. An answer left with no cited sentence is :data:`EMPTY_ANSWER`, which the caller escalates.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from generation.injection import TEMPLATE_TOKENS, is_instruction_like
from generation.protocol import Answer, AnswerSentence, GenerationRequest, Passage
from generation.text import content_terms, split_sentences

EMPTY_ANSWER = Answer(text="", sentences=[], cited=[])
REMOVED_INSTRUCTION = "[instruction-like text removed]"
DEFAULT_MAX_ANSWER_CHARS = 1200
DEFAULT_MAX_INSTRUCTION_SHARE = 0.5  # a passage with more of its words in instructions is not evidence

_ROLE_PREFIX = re.compile(r"^\s*(?:user|human|customer|ai|bot)\s*:\s*", re.IGNORECASE | re.MULTILINE)

_SCRIPT_OR_STYLE = re.compile(r"<(script|style|iframe|object|template)\b.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>|<![A-Za-z][^<>]*>")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"(?<=\w) ([.,;:!?])(?=\s|$)")  # left where an inline tag was removed
_TAG_OPENER = re.compile(r"<(?=[A-Za-z/!?])")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]\n]{1,200})\]\((?:[^()\s]+)\)")
_MARKDOWN_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3}|~~|`{1,3})(?=\S)(.+?)(?<=\S)\1")
_MARKDOWN_LINE_PREFIX = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+•]\s+)", re.MULTILINE)


def neutralise_passage_text(text: str) -> str:
    """Passage text made safe to quote inside a prompt's data block.

    Control characters go, chat-template tokens and delimiter look-alikes go, a leading role tag ("User:")
    is dropped, and every instruction-like sentence (:func:`generation.injection.is_instruction_like`) is
    replaced by :data:`REMOVED_INSTRUCTION` (so a reader of the prompt can see that something was there).
    Ordinary sentences are left exactly as they were.
    """
    return _clean_passage_text(text, REMOVED_INSTRUCTION)


def quotable_text(text: str) -> str:
    """Passage text as it may be shown to a customer as evidence (a citation snippet, a quote): as
    :func:`neutralise_passage_text`, but instruction-like sentences are left out altogether."""
    return _clean_passage_text(text, "")


def _clean_passage_text(text: str, replacement: str) -> str:
    text = _strip_control_characters(text, keep_newlines=True)
    lines: list[str] = []
    for line in text.splitlines():
        kept = [replacement if is_instruction_like(s) else s for s in split_sentences(line)]
        cleaned = _ROLE_PREFIX.sub("", TEMPLATE_TOKENS.sub(" ", " ".join(k for k in kept if k))).strip()
        if cleaned:
            lines.append(re.sub(r"[ \t]{2,}", " ", cleaned))
    return "\n".join(lines)


def instruction_share(text: str) -> float:
    """The share of the words of ``text`` that stand in instruction-like sentences (0.0 when it has none)."""
    total = instructed = 0
    for line in _strip_control_characters(text, keep_newlines=True).splitlines():
        for sentence in split_sentences(line):
            count = len(sentence.split())
            total += count
            instructed += count if is_instruction_like(sentence) else 0
    return instructed / total if total else 0.0


@dataclass(frozen=True)
class ScreenedRequest:
    """A request with the passages that may serve as evidence, renumbered 1..k in their order, and the way
    back from those numbers to the numbers of the original request (which the caller cites by)."""

    request: GenerationRequest
    numbers: dict[int, int]  # screened passage number -> original passage number

    def restore(self, sentence: AnswerSentence) -> AnswerSentence:
        """``sentence`` citing the original passage numbers."""
        return AnswerSentence(text=sentence.text, citations=[self.numbers[n] for n in sentence.citations])

    def restore_answer(self, answer: Answer) -> Answer:
        """``answer`` citing the original passage numbers."""
        return Answer(
            text=answer.text,
            sentences=[self.restore(s) for s in answer.sentences],
            cited=[self.numbers[n] for n in answer.cited],
        )


def screen_request(
    request: GenerationRequest, max_instruction_share: float = DEFAULT_MAX_INSTRUCTION_SHARE
) -> ScreenedRequest:
    """``request`` without the passages that cannot be evidence: those dominated by instruction-like text
    (more than ``max_instruction_share`` of their words) and those with no content word left once their
    instruction-like sentences are removed. Such a passage is never shown to a model and never cited; what
    it held besides the instructions is not trusted either. The rest keep their order and are renumbered
    from 1, so a prompt has no gaps; :meth:`ScreenedRequest.restore` maps citations back.
    """
    kept: list[Passage] = []
    numbers: dict[int, int] = {}
    for passage in request.passages:
        if instruction_share(passage.text) > max_instruction_share or not content_terms(quotable_text(passage.text)):
            continue
        numbers[len(kept) + 1] = passage.number
        kept.append(replace(passage, number=len(kept) + 1))
    return ScreenedRequest(replace(request, passages=kept), numbers)


def to_plain_text(text: str) -> str:
    """``text`` as plain text on one line: no HTML, no entities, no Markdown emphasis, no control characters.

    Entities are decoded before tags are stripped, and stripping repeats, so "&lt;script&gt;" cannot
    smuggle a tag through.
    """
    previous = None
    while previous != text and ("<" in text or "&" in text):
        previous = text
        text = html.unescape(text)
        text = _HTML_COMMENT.sub(" ", text)
        text = _SCRIPT_OR_STYLE.sub(" ", text)
        text = _HTML_TAG.sub(" ", text)
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _MARKDOWN_LINE_PREFIX.sub("", text)
    text = _MARKDOWN_EMPHASIS.sub(r"\2", text)
    text = _strip_control_characters(text, keep_newlines=False)
    text = _TAG_OPENER.sub("‹", text)  # a "<" left before a letter, "/", "!" or "?" could still open a tag
    text = re.sub(r"\s+", " ", text)
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text).strip()


def _invisible_character_class() -> re.Pattern[str]:
    """Controls, format characters (zero-width, bidi overrides), surrogates and private-use characters of the
    BMP, plus the Unicode tag block and the supplementary private-use planes; newline, CR and tab excepted."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        if chr(code) in "\n\r\t" or unicodedata.category(chr(code)) not in ("Cc", "Cf", "Cs", "Co"):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    ranges += [(0x2028, 0x2029), (0xE0000, 0xE007F), (0xF0000, 0x10FFFF)]
    body = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(f"[{body}]")


_INVISIBLE = _invisible_character_class()


def _strip_control_characters(text: str, *, keep_newlines: bool) -> str:
    text = _INVISIBLE.sub("", text)
    if keep_newlines:
        return text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return re.sub(r"[\r\n\t]", " ", text)


class AnswerBuilder:
    """Collects an answer sentence by sentence, applying the output guardrails to each as it arrives.

    Each sentence is turned into plain text; one without a citation, an empty one or an exact repeat is
    dropped; once the next sentence would pass ``max_chars`` the answer is closed (a first sentence longer
    than the cap is cut at a word boundary with an ellipsis). Because every decision depends only on the
    sentences before, a streamed answer and a finished one come out the same.
    """

    def __init__(self, max_chars: int = DEFAULT_MAX_ANSWER_CHARS) -> None:
        self.max_chars = max_chars
        self.sentences: list[AnswerSentence] = []
        self.closed = False
        self._used = 0
        self._seen: set[str] = set()

    def add(self, sentence: AnswerSentence) -> AnswerSentence | None:
        """The cleaned sentence if it was accepted, else None."""
        if self.closed:
            return None
        text = to_plain_text(sentence.text)
        citations = list(dict.fromkeys(sentence.citations))
        if not text or not citations or text.lower() in self._seen:
            return None
        extra = len(text) + (1 if self.sentences else 0)
        if self._used + extra > self.max_chars:
            self.closed = True
            if self.sentences:
                return None
            text = text[: max(1, self.max_chars - 1)].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
            extra = len(text)
        self._seen.add(text.lower())
        accepted = AnswerSentence(text=text, citations=citations)
        self.sentences.append(accepted)
        self._used += extra
        return accepted

    def answer(self) -> Answer:
        """The answer so far; :data:`EMPTY_ANSWER` when no sentence was accepted."""
        if not self.sentences:
            return EMPTY_ANSWER
        cited: list[int] = []
        for sentence in self.sentences:
            cited.extend(n for n in sentence.citations if n not in cited)
        return Answer(text=" ".join(s.text for s in self.sentences), sentences=list(self.sentences), cited=cited)


def assemble_answer(sentences: Iterable[AnswerSentence], max_chars: int = DEFAULT_MAX_ANSWER_CHARS) -> Answer:
    """The final :class:`Answer` from candidate sentences under the output guardrails (see
    :class:`AnswerBuilder`). No cited sentence left -> :data:`EMPTY_ANSWER`, which the caller escalates."""
    builder = AnswerBuilder(max_chars)
    for sentence in sentences:
        builder.add(sentence)
    return builder.answer()


def answer_pieces(sentences: Iterable[AnswerSentence]) -> Iterator[str]:
    """Stream pieces for accepted sentences: joined they equal the answer's ``text``."""
    for index, sentence in enumerate(sentences):
        yield sentence.text if index == 0 else " " + sentence.text
