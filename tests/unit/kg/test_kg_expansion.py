"""Earlier turns as weighted extra queries, and the fusion that adds them (and graph candidates) to a turn's own."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from kg.expansion import (
    HISTORY_LIST,
    HistoryConfig,
    conversation_query,
    customer_texts,
    fuse_more,
    history_queries,
)
from retrieval.fusion import reciprocal_rank_fusion
from retrieval.protocol import Hit

HISTORY = [
    ("customer", "How do I turn on the AquaPure 300?"),
    ("bot", "Press the power key on the AquaPure 300 for two seconds."),
    ("customer", "How often do I change its cartridge?"),
    ("agent", "Every six months, or when the light turns red."),
]


def test_newest_turn_weighs_most_and_weights_decay_per_turn() -> None:
    config = HistoryConfig(turns=4, decay=0.5, bot_weight=1.0, context_turns=0)
    queries = history_queries(HISTORY, config)
    assert [text for text, _ in queries] == [text for _, text in reversed(HISTORY)]
    assert [w for _, w in queries] == pytest.approx([0.5, 0.25, 0.125, 0.0625])


def test_the_conversation_query_joins_the_last_earlier_turns_and_this_one() -> None:
    config = HistoryConfig(context_turns=2)
    joined = conversation_query(HISTORY, config, "and how do I reset it?")
    assert joined == f"{HISTORY[2][1]} {HISTORY[3][1]} and how do I reset it?"
    assert history_queries(HISTORY, config, "and how do I reset it?")[0] == (joined, config.context_weight)
    assert conversation_query([], config, "a first turn") == ""  # nothing earlier: no conversation to add
    assert conversation_query(HISTORY, HistoryConfig(context_turns=0), "x") == ""


def test_only_the_last_turns_count() -> None:
    queries = history_queries(HISTORY, HistoryConfig(turns=2, decay=0.5, context_turns=0))
    assert [text for text, _ in queries] == [HISTORY[3][1], HISTORY[2][1]]
    assert history_queries(HISTORY, HistoryConfig(turns=0, context_turns=0)) == []
    assert history_queries([], HistoryConfig()) == []


def test_bot_and_agent_turns_weigh_bot_weight_of_a_customer_turn() -> None:
    queries = dict(history_queries(HISTORY, HistoryConfig(turns=4, decay=1.0, bot_weight=0.25, context_turns=0)))
    assert queries[HISTORY[0][1]] == pytest.approx(1.0)
    assert queries[HISTORY[1][1]] == pytest.approx(0.25)  # bot
    assert queries[HISTORY[3][1]] == pytest.approx(0.25)  # agent


def test_empty_turns_are_skipped_and_a_repeated_text_counts_once_at_its_best_weight() -> None:
    history = [("customer", "reset the router"), ("bot", "   "), ("customer", "reset the router")]
    queries = history_queries(history, HistoryConfig(turns=4, decay=0.5, context_turns=0))
    assert queries == [("reset the router", pytest.approx(0.5))]


def test_conversation_query_joins_the_last_turns_and_this_one() -> None:
    config = HistoryConfig(turns=1, decay=0.5, context_turns=2, context_weight=2.0)
    queries = history_queries(HISTORY, config, "and how do I turn it off?")
    assert queries[0] == (f"{HISTORY[2][1]} {HISTORY[3][1]} and how do I turn it off?", 2.0)
    assert queries[1:] == [(HISTORY[3][1], pytest.approx(0.5))]
    assert history_queries([], config, "hello") == []  # nothing earlier: this turn's own query is enough


def test_unknown_role_is_rejected() -> None:
    with pytest.raises(InvalidInput):
        history_queries([("user", "hello")], HistoryConfig())


def test_customer_texts_keep_the_customer_turns_in_order() -> None:
    assert customer_texts(HISTORY) == [HISTORY[0][1], HISTORY[2][1]]


def _hit(chunk_id: str, score: float = 1.0, **ranks: int) -> Hit:
    return Hit(chunk_id, "doc-" + chunk_id, "f.md", "T", "", None, "text", chunk_id, score, ranks=dict(ranks))


def test_joining_lists_is_a_weighted_rrf_of_the_first_stage_and_the_extra_lists() -> None:
    first_stage = [_hit("a", 0.9), _hit("b", 0.5), _hit("c", 0.1)]  # any fusion's order and scale
    earlier = [_hit("d"), _hit("c")]
    graph = [_hit("b"), _hit("d")]
    added = fuse_more(first_stage, [(HISTORY_LIST, earlier, 0.6), ("graph", graph, 0.3)], k=60, limit=10)
    expected = reciprocal_rank_fusion(
        {"turn": first_stage, HISTORY_LIST: earlier, "graph": graph}, k=60, weights={HISTORY_LIST: 0.6, "graph": 0.3}
    )
    assert [h.chunk_id for h in added] == [h.chunk_id for h in expected]
    assert [h.score for h in added] == pytest.approx([h.score for h in expected])
    assert added[0].scores["conversation"] == added[0].score


def test_evidence_graph_keeps_its_rank_history_only_its_share() -> None:
    main = reciprocal_rank_fusion({"dense": [_hit("a", 0.8)]}, k=60)
    added = fuse_more(main, [(HISTORY_LIST, [_hit("d", dense=1)], 1.0), ("graph", [_hit("a", 0.7)], 0.5)], 60, 10)
    by_id = {h.chunk_id: h for h in added}
    assert by_id["a"].ranks == {"dense": 1, "graph": 1}
    assert by_id["a"].scores["graph"] == pytest.approx(0.7)
    assert by_id["a"].scores["dense"] == pytest.approx(0.8)  # the first stage's evidence stays
    # found only by an earlier turn: no retriever found it for this query, so no ranks
    assert by_id["d"].ranks == {}
    assert by_id["d"].scores[HISTORY_LIST] == pytest.approx(1.0 / 61)
    assert by_id["d"].scores["conversation"] == pytest.approx(by_id["d"].score)


def test_limit_and_inputs_untouched() -> None:
    main = reciprocal_rank_fusion({"dense": [_hit("a"), _hit("b")]}, k=60)
    before = [(h.chunk_id, h.score, dict(h.ranks)) for h in main]
    added = fuse_more(main, [(HISTORY_LIST, [_hit("b"), _hit("c")], 2.0)], k=60, limit=2)
    assert [h.chunk_id for h in added] == ["b", "c"]
    assert [(h.chunk_id, h.score, dict(h.ranks)) for h in main] == before


def test_weightless_list_keeps_the_first_stage_order() -> None:
    main = [_hit("a", 3.0), _hit("b", 2.0)]
    added = fuse_more(main, [(HISTORY_LIST, [_hit("b"), _hit("z")], 0.0)], k=60, limit=10)
    assert [h.chunk_id for h in added] == ["a", "b"]


def _chunk(chunk_id: str, document_id: str) -> Hit:
    return Hit(chunk_id, document_id, "f.md", "T", "", None, "text", chunk_id, 1.0)


def test_earlier_turns_choose_the_document_and_this_turn_the_section() -> None:
    # This turn's words rank the filter's "off" section first and the fan second; the earlier turn (about
    # the filter's cartridge) found the cartridge section. The filter's sections all gain, the "off" one stays first.
    first_stage = [_chunk("fan-off", "fan"), _chunk("filter-off", "filter"), _chunk("filter-cartridge", "filter")]
    earlier = [_chunk("filter-cartridge", "filter")]
    added = fuse_more(first_stage, [(HISTORY_LIST, earlier, 1.0)], k=60, limit=10)
    assert [h.chunk_id for h in added] == ["filter-off", "filter-cartridge", "fan-off"]
    assert added[0].scores[HISTORY_LIST] == pytest.approx(1.0 / 61)


def test_a_document_only_earlier_turns_found_enters_with_its_best_chunk() -> None:
    added = fuse_more([_chunk("a1", "a")], [(HISTORY_LIST, [_chunk("b2", "b"), _chunk("b1", "b")], 2.0)], 60, 10)
    assert [h.chunk_id for h in added] == ["b2", "a1"]


def test_a_small_vote_k_makes_the_conversations_document_win() -> None:
    # This turn's words slightly prefer the fan; the conversation is about the filter.
    first_stage = [_chunk("fan-off", "fan"), _chunk("filter-off", "filter")]
    conversation = [_chunk("filter-cartridge", "filter"), _chunk("fan-clean", "fan")]
    level = fuse_more(first_stage, [(HISTORY_LIST, conversation, 1.0)], k=60, limit=10)
    sharp = fuse_more(first_stage, [(HISTORY_LIST, conversation, 1.0)], k=60, limit=10, vote_k=10)
    assert level[0].score == pytest.approx(level[1].score)  # at k=60 the two documents end level
    assert sharp[0].chunk_id == "filter-off"
    assert sharp[0].score - sharp[1].score > 1e-3
