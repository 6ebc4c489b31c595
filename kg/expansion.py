"""Expanding a turn's retrieval with the conversation: earlier turns as extra queries, graph candidates,
and the weighted reciprocal-rank fusion that joins them to the turn's own lists (pure logic; the caller
runs the searches). Used by :func:`chat.evidence.gather_evidence`; tuned with
``benchmarks/tune/doc2dial_rewrite.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import InvalidInput
from retrieval.protocol import Hit

CONVERSATION_FUSED = "conversation"  # the joined score in ``Hit.scores``
HISTORY_LIST = "history"  # the earlier turns' lists in the fusion, and their share in ``Hit.scores``

ROLES = frozenset({"customer", "bot", "agent"})


@dataclass(frozen=True)
class HistoryConfig:
    """How earlier turns add candidates to a turn's retrieval; tuned on doc2dial's tuning half
    (``benchmarks/tune/doc2dial_rewrite.py --grid``).

    Each of the last ``turns`` earlier turns (customer, bot and agent alike) is retrieved on its own, and
    its first-stage list joins the fusion at ``decay ** age`` (age 1 = the turn just before this one),
    times ``bot_weight`` for a bot's or an agent's turn. The graph neighbours of the focus entities join
    at ``graph_weight``. The conversation query (the last ``context_turns`` earlier turns and this one,
    joined) joins at ``context_weight``. The rewritten query's own fused list weighs 1.0 (:func:`fuse_more`).
    """

    # Tuned on doc2dial's tuning half (document recall, benchmarks/tune/doc2dial_rewrite.py --grid): the
    # conversation query carries the context; per-turn lists added nothing beside it (R@1 0.602-0.617 with
    # four of them vs 0.615-0.620 without) and cost two searches each, so they are off by default.
    turns: int = 0
    decay: float = 0.7
    bot_weight: float = 1.0
    graph_weight: float = 0.15  # neutral on doc2dial (R@1 0.620 vs 0.623, R@5 0.928 vs 0.927): few named entities there
    # Earlier turns in the conversation query (0: none). Measured through the product's turn path on
    # doc2dial's tuning half (benchmarks/tune/doc2dial_turns.py, 586 turns): the conversation query alone
    # ranks the gold document first for 0.608 / 0.640 / 0.654 / 0.676 of turns at 2 / 3 / 4 / 6 turns.
    context_turns: int = 6
    context_weight: float = 1.0  # the conversation query's lists, beside the rewritten query's 1.0
    # RRF constant of the document votes: smaller than the fusion's 60, so that the document the conversation
    # is about clearly wins over the next one (60 leaves them almost level: R@1 0.607 vs 0.623 at 10).
    vote_k: float = 10.0
    # A turn that changes the subject (:func:`chat.evidence.changes_subject`: dense and BM25 both rank its own best
    # chunk in their top ``shift_agreement``, the conversation's document is not among its own best
    # ``shift_depth``, and it does not point back) keeps this share of the conversation's weights. Set by hand
    # on a trial conversation (RESULTS.md: doc2dial, which never changes document, measures what it costs).
    # The documents the bot's latest answer cited vote like the conversation query's list, at this weight
    # (:func:`chat.evidence.gather_evidence`): "how do I turn that off?" after the schedule's answer means the
    # schedule, though a long pairing answer two turns before dominates the joined conversation query. Set by
    # hand on that trial conversation; the replayed data sets have no citations of ours, so none measures it.
    answer_weight: float = 1.0
    topic_change_weight: float = 0.1
    shift_agreement: int = 2
    shift_depth: int = 3


DEFAULT_HISTORY = HistoryConfig()


def history_queries(
    history: Sequence[tuple[str, str]], config: HistoryConfig = DEFAULT_HISTORY, turn_text: str = ""
) -> list[tuple[str, float]]:
    """``(text, fusion weight)`` of the extra retrieval queries the conversation adds to this turn's.

    ``history`` is the conversation before this turn, oldest first, as ``(role, text)`` with role in
    :data:`ROLES`; ``turn_text`` is this turn's words. First the conversation query (the last
    ``context_turns`` earlier turns and ``turn_text`` joined, oldest first), then each of the last
    ``turns`` earlier turns, newest first. Empty turns are skipped without ageing the rest; a text that
    occurs twice keeps its larger weight only (retrieving it twice would count it twice).
    """
    for role, _ in history:
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r} in the history; expected one of {sorted(ROLES)}")
    spoken = [(role, text.strip()) for role, text in history if text.strip()]
    out: dict[str, float] = {}
    joined = conversation_query(history, config, turn_text)
    if joined and config.context_weight > 0:
        out[joined] = config.context_weight
    kept = spoken[-config.turns :] if config.turns > 0 else []
    for age, (role, text) in enumerate(reversed(kept), start=1):
        weight = config.decay**age * (1.0 if role == "customer" else config.bot_weight)
        if weight > out.get(text, 0.0):
            out[text] = weight
    return [(text, weight) for text, weight in out.items() if weight > 0]


def conversation_query(
    history: Sequence[tuple[str, str]], config: HistoryConfig = DEFAULT_HISTORY, turn_text: str = ""
) -> str:
    """The last ``context_turns`` non-empty earlier turns and ``turn_text`` joined, oldest first; empty when
    there are no earlier turns (a first turn has no conversation to add) or ``context_turns`` is 0."""
    spoken = [text.strip() for _, text in history if text.strip()]
    if config.context_turns <= 0 or not spoken:
        return ""
    return " ".join([*spoken[-config.context_turns :], turn_text.strip()]).strip()


def customer_texts(history: Sequence[tuple[str, str]]) -> list[str]:
    """The customer's earlier turns, oldest first: what :func:`rewrite_query` takes as ``history``."""
    return [text for role, text in history if role == "customer" and text.strip()]


def fuse_more(
    hits: Sequence[Hit],
    lists: Sequence[tuple[str, Sequence[Hit], float]],
    k: float,
    limit: int,
    vote_k: float | None = None,
) -> list[Hit]:
    """Join more ranked lists to the turn's own fused list by weighted reciprocal-rank fusion.

    ``hits`` is the first stage (:func:`kb.search.retrieve`, however it fuses): one list of weight 1.0, a
    chunk at rank ``r`` getting ``1 / (k + r)``. Each of ``lists`` is ``(name, hits, weight)``:

    - a :data:`HISTORY_LIST` (an earlier turn's results) votes for *documents*: its documents, ranked by
      their best chunk, give ``weight / (vote_k + document rank)`` (``vote_k`` defaults to ``k``) to every
      candidate chunk of theirs, and a
      document no candidate came from enters with its best chunk. The earlier turns say which document the
      conversation is about; which section of it answers is left to this turn's own words, so "and how do
      I turn it off?" after a question about the cartridge finds the "turn off" section, not the cartridge.
    - any other list (``graph``) votes for chunks: ``weight / (k + rank)`` to each of its chunks.

    Rank-based, so it holds whatever scale the first stage's scores have. The result (cut at ``limit``)
    carries the joined score as ``score`` and ``scores["conversation"]``. Evidence: the first stage's ranks
    and scores stay; a ``graph`` list adds its rank and score like any retriever; the earlier turns' share
    goes to ``scores["history"]`` only (their ranks belong to other queries, and the reranker counts the
    retrievers that found a hit). A chunk only the extra lists found starts with empty evidence.
    """
    fused: dict[str, Hit] = {}
    for rank, hit in enumerate(hits, start=1):
        if hit.chunk_id not in fused:
            fused[hit.chunk_id] = dataclasses.replace(
                hit, score=1.0 / (k + rank), ranks=dict(hit.ranks), scores=dict(hit.scores)
            )
    document_shares: dict[str, float] = {}
    for name, ranked, weight in lists:
        if weight <= 0:
            continue
        if name == HISTORY_LIST:
            best = {h.document_id: h for h in reversed(ranked)}  # each document's first (best) chunk
            for rank, document_id in enumerate(dict.fromkeys(h.document_id for h in ranked), start=1):
                share = weight / ((k if vote_k is None else vote_k) + rank)
                document_shares[document_id] = document_shares.get(document_id, 0.0) + share
                if not any(h.document_id == document_id for h in fused.values()):
                    first = best[document_id]
                    fused[first.chunk_id] = dataclasses.replace(first, score=0.0, ranks={}, scores={})
            continue
        seen: set[str] = set()
        for rank, hit in enumerate(ranked, start=1):
            if hit.chunk_id in seen:
                continue
            seen.add(hit.chunk_id)
            merged = fused.get(hit.chunk_id)
            if merged is None:
                merged = dataclasses.replace(hit, score=0.0, ranks={}, scores={})
                fused[hit.chunk_id] = merged
            merged.score += weight / (k + rank)
            merged.ranks[name] = rank
            merged.scores[name] = hit.score
    for hit in fused.values():
        share = document_shares.get(hit.document_id, 0.0)
        if share:
            hit.score += share
            hit.scores[HISTORY_LIST] = share
    out = sorted(fused.values(), key=lambda h: (-h.score, min(h.ranks.values(), default=10**6), h.chunk_id))
    for hit in out:
        hit.scores[CONVERSATION_FUSED] = hit.score
    return out[:limit]
