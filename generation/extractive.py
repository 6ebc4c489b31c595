"""The default generator: a short answer made of the passages' own best-supported sentences.

No weights are needed. Each sentence of the top passages is scored against the question by IDF-weighted
lexical coverage (IDF over the candidate sentences, so words every sentence shares count for little) and,
when the caller passes an ``encode`` function (e.g. MiniLM), by cosine similarity; better-ranked passages
and earlier sentences get a mild prior. The best sentence comes first, then the sentences that continue its
paragraph ("E12: the tank is empty. Refill the tank and push it down until it clicks."), then others that
score close to it, up to ``max_sentences``; near-duplicates and boilerplate dropped, instruction-like
sentences never considered, and the answer is put back in reading order. Every sentence cites the passage it
came from.

What may be quoted at all, and what is known of each sentence, is :mod:`generation.candidates`'s part; what a
how-to question and a named error code ask of the sentences, :mod:`generation.steps_and_codes`'s.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from generation.answer_types import AnswerType, asked_type, states
from generation.candidates import Candidate, quotable_sentences
from generation.guardrails import (
    EMPTY_ANSWER,
    answer_pieces,
    assemble_answer,
    screen_request,
)
from generation.passage_order import code_entry, continuing, list_start, next_sentence, reading_order
from generation.protocol import Answer, AnswerSentence, GenerationRequest
from generation.steps_and_codes import about_code, entry_rank, fix_step, introduced_step, is_how_to, steps_weight
from generation.text import content_terms, question_terms
from kg.patterns import code_and_model_norms, error_code_norms

Encoder = Callable[[Sequence[str]], np.ndarray]
"""Texts -> one embedding row per text (any dimension; rows need not be normalised)."""


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
    # Sentences after the best one in its paragraph that join it before any other: 1 keeps MTRAG-UN's answer
    # F1 where it was (0.373 vs 0.370 without; 2 costs 0.012) and gives a manual's step or remedy its sequel.
    continuation: int = 1
    # A how-to question whose best sentence is an item of a list of steps gets the items after it too, up to
    # this many sentences in all: "Hold the Clean and Home buttons ..." is the step a customer cannot skip. So
    # does the entry of an error code the question names (its meaning, then its remedy), and a list an
    # introduction leads to (this many steps beside the introduction).
    max_steps: int = 8
    keep_ratio: float = 0.3  # a further sentence must score this share of the best one ...
    # ... or, in a how-to whose best sentence is no step, this share for a step of a list in the same document:
    # the introduction ("A guest network gives visitors ...") takes the question's rare words, the steps under
    # "Set up the guest network" only its common ones, and they are the answer.
    steps_keep_ratio: float = 0.2
    # ... and, from another document than the best one's, name a word of the question that the sentences before
    # it do not (beside the subject's name). Within one document a neighbouring section is kept: "turn it on"
    # and "turn it off" answered together beat a wrong pick between them.
    novelty: bool = True
    # A "how do I ..." question wants steps: an imperative sentence ("Hold the reset button ...", numbered or
    # not) counts this much more, and the second for one that introduces the steps for a word of the question
    # ("To descale: ...") or a step under a section heading naming one ("Setup steps": steps_and_codes).
    steps_boost: float = 1.3
    steps_header_boost: float = 2.0
    # A sentence that states the error code the question names ("E-12 means ...", "To fix E-12: ...") over one
    # under that code's heading that does not ("Hair or string is usually wrapped around it.").
    code_boost: float = 2.0
    # The code's surest entry (its table row, its fix steps for a how-to: ``steps_and_codes.entry_rank``) answers
    # first among the sentences naming it that score at least this share of the best of them.
    entry_floor: float = 0.5
    # A sentence that states the kind of fact the question asks for (a frequency for "how often", a duration for
    # "how long", a measurement, a price: :mod:`generation.answer_types`) over one that only shares its words:
    # "and how often should I do that?" repeated the descaling steps beside "about every 6 weeks".
    answer_type_boost: float = 2.0
    # ... and the best such sentence answers first when it scores at least this share of the best sentence.
    answer_type_floor: float = 0.15
    # Weight of a question word that names the passages' common subject (a word in all their titles:
    # "BrewMaster"): it says what they are all about, not which sentence answers.
    subject_weight: float = 0.3
    # Weight of a word the conversation's focus entities add and the question does not say ("cleaning schedule"
    # for "and how do I turn that off?"): it says what the question is about, the question's own words what it
    # asks, so "To turn a schedule off ..." beats "Open the Dustly app, tap your R5, then tap Schedule > Add."
    focus_weight: float = 0.5
    min_lexical: float = 0.01  # a sentence is citable when lexical coverage reaches this ...
    min_dense: float = 0.35  # ... or cosine similarity reaches this
    duplicate_overlap: float = 0.5  # content-word Jaccard at or above which a sentence repeats another
    min_words: int = 4
    max_words: int = 80
    max_chars: int = 900


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
        candidates = quotable_sentences(
            tuple(request.passages[: config.max_passages]), config.min_words, config.max_words
        )
        if not candidates:
            return EMPTY_ANSWER
        subject = _subject_terms(request)
        lexical, own = self._lexical_scores(request, candidates, subject)
        dense = self._dense_scores(request, candidates)
        asked_terms = frozenset(question_terms(request.question))
        steps_for = asked_terms if is_how_to(request.question) else None
        picked = self._select(
            candidates,
            lexical,
            own,
            dense,
            code_and_model_norms(request.question),
            asked_terms - subject,
            steps_for,
            error_code_norms(request.question),
            asked_type(request.question),
        )
        # A sentence that introduces what follows ("The warranty does not cover:") says nothing without it.
        picked = [c for c in picked if not c.text.endswith(":") or next_sentence(candidates, c) in picked]
        picked.sort(key=reading_order(picked))
        sentences = [AnswerSentence(text=c.text, citations=[c.passage]) for c in picked]
        return assemble_answer(sentences, self.config.max_chars)

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        return answer_pieces(self.stream_sentences(request))

    def stream_sentences(self, request: GenerationRequest) -> Iterator[AnswerSentence]:
        """The answer's sentences with their citations (all at once: selection needs every candidate)."""
        yield from self.generate(request).sentences

    def _query_weights(self, request: GenerationRequest, subject: frozenset[str]) -> dict[str, float]:
        weights: dict[str, float] = {}
        earlier = [text for role, text in request.history if role == "customer"]
        for age, text in enumerate(reversed(earlier), start=1):
            for term in content_terms(text):
                weights[term] = max(weights.get(term, 0.0), self.config.history_weight / age)
        for term in (t for e in request.focus_entities for t in content_terms(e)):
            weights[term] = max(weights.get(term, 0.0), self.config.focus_weight)
        for term in question_terms(request.question):
            weights[term] = 1.0
        for term in subject & weights.keys():
            weights[term] *= self.config.subject_weight
        return weights

    def _lexical_scores(
        self, request: GenerationRequest, candidates: Sequence[Candidate], subject: frozenset[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(relevance, own coverage): the IDF-weighted share of the query's words found in each sentence
        (own coverage), and that blended with the same share over the sentence's whole passage, so a sentence
        from the passage about the right product wins (relevance)."""
        weights = self._query_weights(request, subject)
        document_frequency = Counter(term for c in candidates for term in c.about)
        count = len(candidates)
        idf = {t: math.log((count + 1) / (document_frequency.get(t, 0) + 0.5)) for t in weights}
        total = sum(w * idf[t] for t, w in weights.items())
        if total <= 0:
            return np.zeros(count), np.zeros(count)

        def coverage(terms: frozenset[str]) -> float:
            return sum(w * idf[t] for t, w in weights.items() if t in terms) / total

        share = self.config.passage_weight
        own = np.array([coverage(c.about) for c in candidates])
        by_passage = {c.passage_terms: coverage(c.passage_terms) for c in candidates} if share > 0 else {}
        whole = np.array([by_passage.get(c.passage_terms, 0.0) for c in candidates])
        return (1 - share) * own + share * whole, own

    def _dense_scores(self, request: GenerationRequest, candidates: Sequence[Candidate]) -> np.ndarray | None:
        if self.encode is None or self.config.dense_weight <= 0:
            return None
        query = " ".join([request.question, *request.focus_entities])
        answering = [i for i, c in enumerate(candidates) if c.asked]
        texts = [query, *(c.text for c in candidates), *(candidates[i].asked for i in answering)]
        vectors = np.asarray(self.encode(texts), dtype=np.float32)
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        similarity = vectors[1:] @ vectors[0]
        own = similarity[: len(candidates)].copy()
        # An FAQ answer is as close to the question as the question it answers.
        own[answering] = np.maximum(own[answering], similarity[len(candidates) :])
        return np.clip(own, 0.0, 1.0)

    def _select(
        self,
        candidates: Sequence[Candidate],
        lexical: np.ndarray,
        own: np.ndarray,
        dense: np.ndarray | None,
        codes: frozenset[str] = frozenset(),
        asked: frozenset[str] = frozenset(),
        steps_for: frozenset[str] | None = None,
        error_codes: frozenset[str] = frozenset(),
        kind: AnswerType | None = None,
    ) -> list[Candidate]:
        """The answer's sentences. ``codes``: the codes and model numbers the question names ("E12", "R5"): a
        sentence about other ones only ("... causes error E50") is about something else, however many words it
        shares. ``error_codes``: the error codes among them: a sentence of the code's entry (stating it, after
        it on its line, or answering an FAQ question that names it) counts ``config.code_boost`` times more
        than one that only stands under its heading ("Hair or string is usually wrapped around it."); when
        there is one, the entry answers first and whole (its line, up to ``config.max_steps`` sentences: "my
        router blinks red and the app says E-21" got the red light's sentence and lost E-21's remedy), and only
        sentences naming the code join it; the product's model number, named everywhere, does not. For a how-to,
        the code's fix steps answer instead when it has some ("Fixing E-06": :mod:`generation.steps_and_codes`),
        joined only by sentences naming the code or under its heading. ``asked``:
        the question's own words but its subject's name; with ``config.novelty`` a sentence after the best one
        and its sequel, from another document, must name one of them that the answer does not yet.
        ``steps_for``: a how-to question's words (None for any other question): steps count more, and a list
        item answering it (first, or after an introduction) brings its list, from the first step (up to
        ``config.max_steps`` steps). ``kind``: the kind of fact the question asks for (a frequency, a duration
        ...: :mod:`generation.answer_types`); sentences stating one count ``config.answer_type_boost`` times more."""
        config = self.config
        stating = np.array([kind is not None and states(kind, c.text) for c in candidates], dtype=bool)
        scores = self._scores(candidates, lexical, own, dense, codes, steps_for, asked, error_codes, stating)
        order = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0]
        if not order:
            return []
        order, entry = self._leading(candidates, scores, order, error_codes, stating, steps_for is not None)
        best = scores[order[0]]
        first = candidates[order[0]]
        # A how-to's answer is the code's fix steps, as a list ("my machine shows E-06, what do I do?"), when it has
        # some; otherwise the code's entry, whole.
        fixing = entry is not None and steps_for is not None and fix_step(first, error_codes)
        on_code = entry is not None and not fixing
        steps = steps_for is not None and first.listed  # a how-to answered by an item of a list of steps
        limit = config.max_steps if steps or on_code else config.max_sentences
        if on_code:  # the entry whole, from its first sentence: the code's meaning, then its remedy
            picked = code_entry(candidates, first, error_codes, limit)
        elif steps:  # the list from its first step, when the best one is among the first ``limit``
            picked = continuing(candidates, list_start(candidates, first), limit - 1, True)[:limit]
            if first not in picked:
                picked = continuing(candidates, first, limit - 1, True)[:limit]
        else:
            picked = continuing(candidates, first, config.continuation)[:limit]
        for index in order[1:]:
            candidate = candidates[index]
            introduced = steps_for is not None and not steps and introduced_step(candidate, first, asked)
            if len(picked) >= limit or scores[index] < min(config.keep_ratio, config.steps_keep_ratio) * best:
                break
            if scores[index] < config.keep_ratio * best and not introduced:
                continue
            if on_code and not error_codes & candidate.error_codes:
                continue  # what the knowledge base says of that code answers; "espresso machine" elsewhere does not
            if fixing and not about_code(candidate, error_codes):
                continue  # nor another code's fix ("Fixing E-06" for "E-10 keeps coming back, how do I fix it?")
            if not self._adds(candidate, picked, asked):
                continue
            if introduced:
                # A how-to whose best sentence introduces the steps ("A guest network gives visitors ..."): the
                # list joins whole, from its first step, with as many steps as a list answering first (the
                # introduction and its sequel had cost "This guide sets up your Meshly M3 ..." its last two).
                steps, limit = True, len(picked) + config.max_steps
                following = continuing(candidates, list_start(candidates, candidate), config.max_steps - 1, True)
                picked += [c for c in following if c not in picked]
            else:
                picked.append(candidate)
        return picked

    def _leading(
        self,
        candidates: Sequence[Candidate],
        scores: np.ndarray,
        order: list[int],
        error_codes: frozenset[str],
        stating: np.ndarray,
        how_to: bool,
    ) -> tuple[list[int], int | None]:
        """``order`` with what must answer first brought to the front, and the named error code's entry sentence
        (None when there is none): a sentence stating the kind of fact asked for (``stating``, one flag per
        candidate), when it scores at least ``config.answer_type_floor`` of the best; before it, the code's entry
        (surest first: :func:`generation.steps_and_codes.entry_rank`, then the best scored), whatever else the
        question says."""
        typed = next((i for i in order if stating[i]), None)
        if typed is not None and scores[typed] >= self.config.answer_type_floor * scores[order[0]]:
            # "how often" is answered by a frequency first: carried words ("brew unit", the last answer's) made
            # "Rinse it under lukewarm water ..." outscore "Clean the brew unit once a week."
            order = [typed, *(i for i in order if i != typed)]
        naming = [
            i
            for i in order
            if error_codes & candidates[i].error_codes or (how_to and fix_step(candidates[i], error_codes))
        ]
        # The code's own entry before a sentence that lists it among others ("Many errors, such as E-04, E-06 and
        # E-07, can be fixed at home." outscored the table row "E-06 | Grinder blocked | ..." for "E-06").
        if naming:  # a much weaker sentence does not jump ahead: another product's table row naming the code
            floor = self.config.entry_floor * max(scores[i] for i in naming)
            naming = [i for i in naming if scores[i] >= floor]
        entry = min(naming, key=lambda i: entry_rank(candidates[i], error_codes, how_to)) if naming else None
        if entry is not None:
            order = [entry, *(i for i in order if i != entry)]
        return order, entry

    def _adds(self, candidate: Candidate, picked: Sequence[Candidate], asked: frozenset[str]) -> bool:
        """Whether ``candidate`` says something the ``picked`` sentences do not: not one of them nor a near
        duplicate, and, from another document, naming a word of the question they do not (``config.novelty``)."""
        covered = set().union(*(p.about for p in picked))
        elsewhere = candidate.document != picked[0].document
        if self.config.novelty and elsewhere and not (asked & candidate.about) - covered:
            return False
        duplicate = any(_jaccard(candidate.terms, p.terms) >= self.config.duplicate_overlap for p in picked)
        return candidate not in picked and not duplicate

    def _scores(
        self,
        candidates: Sequence[Candidate],
        lexical: np.ndarray,
        own: np.ndarray,
        dense: np.ndarray | None,
        codes: frozenset[str],
        steps_for: frozenset[str] | None,
        asked: frozenset[str],
        error_codes: frozenset[str],
        stating: np.ndarray | None = None,
    ) -> np.ndarray:
        """Each candidate's score: relevance times its priors (rank, position, steps, code, stating the kind of
        fact asked for: ``stating``, one flag per candidate), -1 when it cannot be quoted (see :meth:`_select`)."""
        config = self.config
        relevance = config.lexical_weight * lexical
        eligible = own >= config.min_lexical  # the sentence itself must share a word with the question ...
        if dense is not None:
            relevance = (relevance + config.dense_weight * dense) / (config.lexical_weight + config.dense_weight)
            eligible |= dense >= config.min_dense  # ... or the encoder must find it close
        else:
            relevance = relevance / max(config.lexical_weight, 1e-9)
        priors = np.array(
            [1.0 / (1.0 + config.rank_decay * c.rank) / (1.0 + config.position_decay * c.position) for c in candidates]
        )
        if steps_for is not None:
            priors *= np.array(
                [steps_weight(c, steps_for, asked, config.steps_header_boost, config.steps_boost) for c in candidates]
            )
        if codes:
            eligible &= np.array([not c.codes or bool(codes & c.codes) for c in candidates])
        if error_codes:
            priors *= np.array([config.code_boost if error_codes & c.error_codes else 1.0 for c in candidates])
        if stating is not None:
            priors *= np.where(stating, config.answer_type_boost, 1.0)
        return np.where(eligible, relevance * priors, -1.0)


def _subject_terms(request: GenerationRequest) -> frozenset[str]:
    """Words in the title of every passage (two or more): the product or service they are all about."""
    titles = [frozenset(content_terms(passage.title)) for passage in request.passages]
    return frozenset.intersection(*titles) if len(titles) >= 2 else frozenset()


def _jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)
