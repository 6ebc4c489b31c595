"""Where the candidate sentences stand, for the extractive generator: a sentence's sequel in its paragraph or
list (across the edge into the document's next chunk, which chunking may have split off), a list's first step, an
error code's whole entry, and the order an answer is read in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from generation.candidates import Candidate


def reading_order(picked: Sequence[Candidate]) -> Callable[[Candidate], tuple[int, int, int]]:
    """Sort key for the answer: documents in the order of their best-ranked sentence, and within a document
    the order its chunks have there (retrieval's rank when the passages do not say): "E-12 means the side
    brush is stuck." before "To fix E-12: ...", whichever chunk ranked first."""
    first: dict[str, int] = {}
    for candidate in sorted(picked, key=lambda c: c.rank):
        first.setdefault(candidate.document, candidate.rank)
    # Chunk order only where every picked chunk of the document has one (a rank and an ordinal do not compare).
    ordered = {c.document for c in picked} - {c.document for c in picked if c.ordinal is None}

    def key(c: Candidate) -> tuple[int, int, int]:
        within = c.ordinal if c.document in ordered and c.ordinal is not None else c.rank
        return first[c.document], within, c.position

    return key


def continuing(
    candidates: Sequence[Candidate], first: Candidate, limit: int, across_items: bool = False
) -> list[Candidate]:
    """``first`` and up to ``limit`` quotable sentences right after it in its paragraph (stopping at a gap): a
    manual's answer is a step and what follows it, an error code's meaning and its remedy. With
    ``across_items``, the list items after it join too, until one starts another code's entry ("- E21: ..."),
    also across the edge into the document's next chunk when that is among the passages (chunking splits long
    lists: "1. Turn off your modem" and "3. Plug the main router into power" stood in different chunks)."""
    run = [first]
    while len(run) <= limit and (candidate := next_sentence(candidates, run[-1])) is not None:
        last = run[-1]
        crossing = candidate.passage != last.passage
        next_item = across_items and last.listed and candidate.listed and (crossing or candidate.line == last.line + 1)
        if not (
            (not crossing and candidate.line == last.line) or (next_item and candidate.error_codes <= first.error_codes)
        ):
            break
        run.append(candidate)
    return run


def next_sentence(candidates: Sequence[Candidate], last: Candidate) -> Candidate | None:
    """The quotable sentence after ``last`` in its passage, or, when ``last`` ends its passage, the first of the
    document's next chunk (by ordinal) in the same section, when that is among the passages (a repeat of ``last``
    that chunk overlap put there is skipped); None at a gap or a new section."""
    following = [c for c in candidates if c.passage == last.passage and c.position > last.position]
    if following:
        after = min(following, key=lambda c: c.position)
        return after if after.position == last.position + 1 else None
    if last.ordinal is None:
        return None
    opening = sorted(
        (c for c in candidates if c.document == last.document and c.ordinal == last.ordinal + 1),
        key=lambda c: c.position,
    )
    if opening and opening[0].text == last.text:  # chunks overlap by a few tokens
        opening = opening[1:] if len(opening) > 1 and opening[1].position == opening[0].position + 1 else []
    return opening[0] if opening and opening[0].position <= 1 and same_section(opening[0], last) else None


def same_section(one: Candidate, other: Candidate) -> bool:
    """Both stand under the same (named) heading: a list continues into the next chunk only within its section."""
    return bool(one.heading_terms) and one.heading_terms == other.heading_terms


def code_entry(
    candidates: Sequence[Candidate], first: Candidate, error_codes: frozenset[str], limit: int
) -> list[Candidate]:
    """The sentences of ``first``'s entry ("- E-21: no internet from the modem. ... Restart the modem ... If E-21
    stays, contact ..."): its line, in order and however they score (the remedy shares no word with "the app
    says E-21"), at most ``limit``, ``first`` among them. Chunking may split a long entry: the line that ends the
    chunk before ``first``'s, or starts the one after, joins when it names the code too. Other sentences that
    merely mention the code (an FAQ's other answers) are not the entry."""

    lines: dict[int, list[int]] = {}  # each passage's line numbers
    for c in candidates:
        lines.setdefault(c.passage, []).append(c.line)
    first_lines = lines[first.passage]

    def edge(candidate: Candidate) -> bool:
        if candidate.document != first.document or first.ordinal is None or candidate.ordinal is None:
            return False
        own = lines[candidate.passage]
        after = candidate.ordinal == first.ordinal + 1 and candidate.line == min(own) and first.line == max(first_lines)
        before = (
            candidate.ordinal == first.ordinal - 1 and candidate.line == max(own) and first.line == min(first_lines)
        )
        return bool(error_codes & candidate.error_codes) and (after or before)

    same = [c for c in candidates if (c.passage, c.line) == (first.passage, first.line) or edge(c)]
    entry: list[Candidate] = []
    for candidate in sorted(same, key=reading_order(same)):
        if candidate.text not in {c.text for c in entry}:  # chunks that overlap repeat a sentence
            entry.append(candidate)
    kept = entry[:limit]
    return kept if any(c.text == first.text for c in kept) else [*entry[: limit - 1], first]


def list_start(candidates: Sequence[Candidate], item: Candidate) -> Candidate:
    """The first step of ``item``'s list: the items on the lines right before it in its passage and, where its
    list opens the passage, at the end of the document's previous chunk when that is among the passages."""
    by_line = {(c.passage, c.line): c for c in reversed(candidates)}  # each line's first sentence
    start = item
    while (previous := by_line.get((start.passage, start.line - 1)) or chunk_before(candidates, start)) is not None:
        if not previous.listed:
            break
        start = previous
    return start


def chunk_before(candidates: Sequence[Candidate], start: Candidate) -> Candidate | None:
    """The first sentence of the last line of the chunk before ``start``'s, when ``start`` opens its passage."""
    if start.ordinal is None or start.position != 0:
        return None
    before = [c for c in candidates if c.document == start.document and c.ordinal == start.ordinal - 1]
    before = [c for c in before if same_section(c, start)]
    if not before:
        return None
    last_line = max(c.line for c in before)
    return min((c for c in before if c.line == last_line), key=lambda c: c.position)
