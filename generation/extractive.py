"""The default generator: a short answer made of the passages' own best-supported sentences.

No weights are needed. Each sentence of the top passages is scored against the question by IDF-weighted
lexical coverage (IDF over the candidate sentences, so words every sentence shares count for little) and,
when the caller passes an ``encode`` function (e.g. MiniLM), by cosine similarity; better-ranked passages
and earlier sentences get a mild prior. The best sentence and up to ``max_sentences - 1`` more that score
close to it are kept, near-duplicates and boilerplate dropped, instruction-like sentences never considered,
and the answer is put back in reading order. Every sentence cites the passage it came from.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from generation.guardrails import (
    EMPTY_ANSWER,
    answer_pieces,
    assemble_answer,
    is_instruction_like,
    screen_request,
    to_plain_text,
)
from generation.protocol import Answer, AnswerSentence, GenerationRequest, Passage
from generation.text import content_terms, split_sentences

Encoder = Callable[[Sequence[str]], np.ndarray]
"""Texts -> one embedding row per text (any dimension; rows need not be normalised)."""

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
class ExtractiveConfig:
    """How sentences are scored and picked.

    Defaults: tuned on half of the MTRAG-UN answerable tasks (benchmarks/tune/mtrag_answers.py), except
    ``rank_decay``, which MTRAG cannot measure (its reference passages are an unranked set of gold passages)
    and is kept as a mild prior for retrieval's order. ``passage_weight`` tuned to 0 there (every MTRAG
    passage is relevant); raise it when retrieved chunks often come from neighbouring products.
    """

    max_sentences: int = 3  # at most this many sentences in the answer (1-3 keeps it short)
    max_passages: int = 5  # only the top passages are read
    lexical_weight: float = 1.0
    dense_weight: float = 1.0  # used only when an encoder is given
    history_weight: float = 0.3  # weight of words from earlier customer turns relative to the question's
    passage_weight: float = 0.0  # share of lexical relevance that comes from the whole passage (title included)
    rank_decay: float = 0.1  # score / (1 + rank_decay * passage rank)
    position_decay: float = 0.05  # score / (1 + position_decay * sentence index in its passage)
    question_penalty: float = 0.2  # a sentence that is itself a question is rarely an answer
    keep_ratio: float = 0.3  # a further sentence must score this share of the best one
    min_lexical: float = 0.01  # a sentence is citable when lexical coverage reaches this ...
    min_dense: float = 0.35  # ... or cosine similarity reaches this
    duplicate_overlap: float = 0.5  # content-word Jaccard at or above which a sentence repeats another
    min_words: int = 4
    max_words: int = 80
    max_chars: int = 900


@dataclass(frozen=True)
class _Candidate:
    rank: int  # 0 = best passage
    passage: int  # the passage number cited
    position: int  # sentence index inside its passage
    text: str
    terms: frozenset[str]
    passage_terms: frozenset[str]  # of the whole passage, title included


class ExtractiveGenerator:
    """Answers by selecting passage sentences; see the module docstring. ``encode`` is optional."""

    name = "extractive"

    def __init__(self, encode: Encoder | None = None, config: ExtractiveConfig | None = None) -> None:
        self.encode = encode
        self.config = config or ExtractiveConfig()

    def warm_up(self) -> None:
        """Nothing to load; the encoder belongs to the caller."""

    def generate(self, request: GenerationRequest) -> Answer:
        """The answer, citing ``request``'s passage numbers; passages that cannot be evidence (dominated by
        instruction-like text, see :func:`generation.guardrails.screen_request`) are never read."""
        screened = screen_request(request)
        return screened.restore_answer(self._generate(screened.request))

    def _generate(self, request: GenerationRequest) -> Answer:
        config = self.config
        candidates = _candidates(tuple(request.passages[: config.max_passages]), config.min_words, config.max_words)
        if not candidates:
            return EMPTY_ANSWER
        lexical, own = self._lexical_scores(request, candidates)
        dense = self._dense_scores(request, candidates)
        picked = self._select(candidates, lexical, own, dense)
        picked.sort(key=lambda c: (c.rank, c.position))
        sentences = [AnswerSentence(text=c.text, citations=[c.passage]) for c in picked]
        return assemble_answer(sentences, self.config.max_chars)

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        return answer_pieces(self.stream_sentences(request))

    def stream_sentences(self, request: GenerationRequest) -> Iterator[AnswerSentence]:
        """The answer's sentences with their citations (all at once: selection needs every candidate)."""
        yield from self.generate(request).sentences

    def _query_weights(self, request: GenerationRequest) -> dict[str, float]:
        weights: dict[str, float] = {}
        earlier = [text for role, text in request.history if role == "customer"]
        for age, text in enumerate(reversed(earlier), start=1):
            for term in content_terms(text):
                weights[term] = max(weights.get(term, 0.0), self.config.history_weight / age)
        for text in [request.question, *request.focus_entities]:
            for term in content_terms(text):
                weights[term] = 1.0
        return weights

    def _lexical_scores(
        self, request: GenerationRequest, candidates: Sequence[_Candidate]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(relevance, own coverage): the IDF-weighted share of the query's words found in each sentence
        (own coverage), and that blended with the same share over the sentence's whole passage, so a sentence
        from the passage about the right product wins (relevance)."""
        weights = self._query_weights(request)
        document_frequency = Counter(term for c in candidates for term in c.terms)
        count = len(candidates)
        idf = {t: math.log((count + 1) / (document_frequency.get(t, 0) + 0.5)) for t in weights}
        total = sum(w * idf[t] for t, w in weights.items())
        if total <= 0:
            return np.zeros(count), np.zeros(count)

        def coverage(terms: frozenset[str]) -> float:
            return sum(w * idf[t] for t, w in weights.items() if t in terms) / total

        share = self.config.passage_weight
        own = np.array([coverage(c.terms) for c in candidates])
        by_passage = {c.passage_terms: coverage(c.passage_terms) for c in candidates} if share > 0 else {}
        whole = np.array([by_passage.get(c.passage_terms, 0.0) for c in candidates])
        return (1 - share) * own + share * whole, own

    def _dense_scores(self, request: GenerationRequest, candidates: Sequence[_Candidate]) -> np.ndarray | None:
        if self.encode is None or self.config.dense_weight <= 0:
            return None
        query = " ".join([request.question, *request.focus_entities])
        vectors = np.asarray(self.encode([query, *(c.text for c in candidates)]), dtype=np.float32)
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)

    def _select(
        self, candidates: Sequence[_Candidate], lexical: np.ndarray, own: np.ndarray, dense: np.ndarray | None
    ) -> list[_Candidate]:
        config = self.config
        relevance = config.lexical_weight * lexical
        eligible = own >= config.min_lexical  # the sentence itself must share a word with the question ...
        if dense is not None:
            relevance = (relevance + config.dense_weight * dense) / (config.lexical_weight + config.dense_weight)
            eligible |= dense >= config.min_dense  # ... or the encoder must find it close
        else:
            relevance = relevance / max(config.lexical_weight, 1e-9)
        priors = np.array(
            [
                1.0
                / (1.0 + config.rank_decay * c.rank)
                / (1.0 + config.position_decay * c.position)
                * (config.question_penalty if c.text.endswith("?") else 1.0)
                for c in candidates
            ]
        )
        scores = np.where(eligible, relevance * priors, -1.0)
        order = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0]
        if not order:
            return []
        best = scores[order[0]]
        picked: list[_Candidate] = []
        for index in order:
            if len(picked) >= config.max_sentences or scores[index] < config.keep_ratio * best:
                break
            candidate = candidates[index]
            if not any(_jaccard(candidate.terms, p.terms) >= config.duplicate_overlap for p in picked):
                picked.append(candidate)
        return picked


def _jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


@lru_cache(maxsize=256)
def _candidates(passages: tuple[Passage, ...], min_words: int, max_words: int) -> tuple[_Candidate, ...]:
    """Every sentence of ``passages`` that could be quoted: not instruction-like, not boilerplate, a sane length.
    (Cached: the same passages are often asked about again within a conversation.)"""
    candidates: list[_Candidate] = []
    for rank, passage in enumerate(passages):
        quotable = []
        passage_terms = set(content_terms(passage.title))
        for position, raw in enumerate(split_sentences(passage.text)):
            if is_instruction_like(raw):
                continue  # passage text is data: a sentence addressed to the assistant is never repeated
            text = to_plain_text(raw)
            terms = frozenset(content_terms(text))
            passage_terms |= terms
            if terms and _quotable(text, min_words, max_words):
                quotable.append((position, text, terms))
        frozen = frozenset(passage_terms)
        candidates += [_Candidate(rank, passage.number, pos, text, terms, frozen) for pos, text, terms in quotable]
    return tuple(candidates)


def _quotable(text: str, min_words: int, max_words: int) -> bool:
    word_count = len(text.split())
    if not min_words <= word_count <= max_words:
        return False
    letters = len(_LETTER.findall(text))
    if letters < 0.5 * len(text) or _BOILERPLATE.search(text):
        return False
    return not re.fullmatch(r"\S*(?:https?://|www\.)\S*", text)
