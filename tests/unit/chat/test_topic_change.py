"""When a turn leaves the conversation's subject (chat.evidence.changes_subject), on hand-made rankings."""

from __future__ import annotations

from chat.evidence import changes_subject
from kg.expansion import DEFAULT_HISTORY, HISTORY_LIST
from retrieval.protocol import Hit
from tests.support.hits import text_hit


def own(*found: tuple[str, int, int]) -> list[Hit]:
    """The turn's own fused list: (document, dense rank, BM25 rank) per chunk, best first."""
    hits = []
    for position, (document, dense, sparse) in enumerate(found):
        hit = text_hit(f"{document}-{position}", 1.0 / (position + 1), document)
        hit.ranks = {"dense": dense, "sparse": sparse}
        hits.append(hit)
    return hits


CONVERSATION_ON_APP = [(HISTORY_LIST, [text_hit("app-0", 1.0, "app"), text_hit("schedule-0", 0.5, "schedule")], 1.0)]
BATTERY = own(("faq", 2, 1), ("warranty", 1, 2), ("quick-start", 3, 4), ("app", 6, 8))


def test_own_words_that_clearly_find_another_document_change_the_subject() -> None:
    assert changes_subject("How long does the battery last?", BATTERY, CONVERSATION_ON_APP, DEFAULT_HISTORY)


def test_the_conversation_keeps_the_subject_when_the_turn_points_back_or_is_unsure() -> None:
    history = DEFAULT_HISTORY
    # Points back: "it" is what the conversation was about, whatever its words find.
    assert not changes_subject("How long does it last?", BATTERY, CONVERSATION_ON_APP, history)
    assert not changes_subject("and the battery?", BATTERY, CONVERSATION_ON_APP, history)
    # The retrievers disagree on the turn's best chunk: no clear other subject.
    unsure = own(("faq", 7, 1), ("warranty", 1, 2), ("quick-start", 3, 4))
    assert not changes_subject("How long does the battery last?", unsure, CONVERSATION_ON_APP, history)
    # The conversation's document is among the turn's own best: the same subject.
    near = own(("faq", 1, 1), ("app", 2, 3), ("quick-start", 3, 4))
    assert not changes_subject("How long does the battery last?", near, CONVERSATION_ON_APP, history)
    # A first turn has no conversation to leave.
    assert not changes_subject("How long does the battery last?", BATTERY, [], history)
