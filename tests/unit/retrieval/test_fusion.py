"""Reciprocal-rank fusion and group aggregation on hand-made ranked lists (pure logic, no services)."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from retrieval.fusion import aggregate, fuse_groups, reciprocal_rank_fusion, score_fusion
from tests.support.hits import text_hit as hit


def test_rrf_scores_follow_the_formula_and_keep_evidence() -> None:
    dense = [hit("a", 0.9), hit("b", 0.8), hit("c", 0.7)]
    sparse = [hit("c", 12.0), hit("a", 7.5)]
    fused = reciprocal_rank_fusion({"dense": dense, "sparse": sparse}, k=60)

    assert [h.chunk_id for h in fused] == ["a", "c", "b"]
    a = fused[0]
    assert a.score == pytest.approx(1 / 61 + 1 / 62)
    assert a.ranks == {"dense": 1, "sparse": 2}
    assert a.scores["dense"] == 0.9 and a.scores["sparse"] == 7.5
    assert a.scores["rrf"] == pytest.approx(a.score)
    b = fused[2]
    assert b.ranks == {"dense": 2} and "sparse" not in b.scores


def test_inputs_are_not_mutated() -> None:
    dense = [hit("a", 0.9)]
    reciprocal_rank_fusion({"dense": dense, "sparse": [hit("a", 3.0)]})
    assert dense[0].score == 0.9 and dense[0].ranks == {}


def test_weights_change_the_order() -> None:
    dense = [hit("a", 0.9), hit("b", 0.8)]
    sparse = [hit("b", 5.0), hit("a", 4.0)]
    even = reciprocal_rank_fusion({"dense": dense, "sparse": sparse})
    assert even[0].score == pytest.approx(even[1].score)
    sparse_heavy = reciprocal_rank_fusion({"dense": dense, "sparse": sparse}, weights={"sparse": 2})
    dense_heavy = reciprocal_rank_fusion({"dense": dense, "sparse": sparse}, weights={"dense": 2})
    assert sparse_heavy[0].chunk_id == "b"
    assert dense_heavy[0].chunk_id == "a"


def test_zero_weight_keeps_evidence_without_score() -> None:
    fused = reciprocal_rank_fusion({"dense": [hit("a", 0.9)], "graph": [hit("g", 0.0)]}, weights={"graph": 0})
    graph_only = next(h for h in fused if h.chunk_id == "g")
    assert graph_only.score == 0 and graph_only.ranks == {"graph": 1}


def test_a_duplicate_within_one_list_counts_once_at_its_best_rank() -> None:
    fused = reciprocal_rank_fusion({"dense": [hit("a", 0.9), hit("b", 0.5), hit("a", 0.4)]}, k=10)
    a = next(h for h in fused if h.chunk_id == "a")
    assert a.ranks == {"dense": 1}
    assert a.score == pytest.approx(1 / 11)


def test_ties_break_deterministically_and_limit_applies() -> None:
    first = reciprocal_rank_fusion({"x": [hit("b", 1), hit("a", 1)], "y": [hit("a", 1), hit("b", 1)]}, limit=1)
    second = reciprocal_rank_fusion({"y": [hit("a", 1), hit("b", 1)], "x": [hit("b", 1), hit("a", 1)]}, limit=1)
    assert len(first) == 1 and first[0].chunk_id == second[0].chunk_id == "a"


def test_k_must_be_positive() -> None:
    with pytest.raises(InvalidInput):
        reciprocal_rank_fusion({"dense": [hit("a", 1)]}, k=0)


def test_aggregate_max_sum_and_top2() -> None:
    hits = [hit("a1", 0.9, "A"), hit("b1", 0.8, "B"), hit("b2", 0.7, "B"), hit("b3", 0.6, "B"), hit("a2", 0.1, "A")]
    by_max = aggregate(hits, how="max")
    assert [g.key for g in by_max] == ["A", "B"]
    assert by_max[0].score == 0.9 and by_max[0].best.chunk_id == "a1"
    by_sum = aggregate(hits, how="sum")
    assert [g.key for g in by_sum] == ["B", "A"]
    assert by_sum[0].score == pytest.approx(2.1)
    by_top2 = aggregate(hits, how="top2")
    assert by_top2[0].key == "B" and by_top2[0].score == pytest.approx(1.5)
    assert [h.chunk_id for h in by_sum[0].hits] == ["b1", "b2", "b3"]


def test_aggregate_by_custom_key_with_limit() -> None:
    hits = [hit("a", 0.5), hit("b", 0.4), hit("c", 0.3)]
    groups = aggregate(hits, key=lambda h: h.chunk_id, limit=2)
    assert [g.key for g in groups] == ["a", "b"]


def test_score_fusion_normalises_each_list_and_keeps_margins() -> None:
    dense = [hit("a", 0.90), hit("b", 0.50), hit("c", 0.49)]
    sparse = [hit("b", 20.0), hit("c", 19.0), hit("a", 10.0)]
    fused = score_fusion({"dense": dense, "sparse": sparse})
    by_id = {h.chunk_id: h for h in fused}
    assert by_id["a"].score == pytest.approx(1.0 + 0.0)  # best dense, last BM25
    assert by_id["b"].score == pytest.approx((0.50 - 0.49) / 0.41 + 1.0)
    assert by_id["a"].scores["fused"] == by_id["a"].score
    assert by_id["c"].ranks == {"dense": 3, "sparse": 2}
    # RRF sees only ranks: b (2nd and 1st) beats a (1st and 3rd); score fusion sees a's clear dense lead.
    assert reciprocal_rank_fusion({"dense": dense, "sparse": sparse})[0].chunk_id == "b"
    assert score_fusion({"dense": dense, "sparse": sparse}, weights={"dense": 2.0})[0].chunk_id == "a"


def test_score_fusion_handles_flat_and_empty_lists() -> None:
    fused = score_fusion({"dense": [hit("a", 0.3), hit("b", 0.3)], "sparse": []})
    assert [h.score for h in fused] == [1.0, 1.0]


def test_fuse_groups_votes_once_per_group_with_its_best_chunk() -> None:
    dense = [hit("a1", 0.9, "A"), hit("a2", 0.8, "A"), hit("b1", 0.7, "B")]
    sparse = [hit("b2", 9.0, "B"), hit("a3", 1.0, "A")]
    groups = fuse_groups({"dense": dense, "sparse": sparse}, key=lambda h: h.document_id, method="rrf", rrf_k=60)
    assert [g.document_id for g in groups] == ["A", "B"]  # a tie, broken by best rank then chunk id
    a = next(g for g in groups if g.document_id == "A")
    assert a.ranks == {"dense": 1, "sparse": 2} and a.chunk_id == "a1"
    assert a.score == pytest.approx(1 / 61 + 1 / 62)
    with pytest.raises(InvalidInput):
        fuse_groups({"dense": dense}, key=lambda h: h.document_id, method="borda")  # type: ignore[arg-type]


def test_first_stage_fuses_text_by_score_and_photos_by_rank() -> None:
    from retrieval.fusion import first_stage_fusion

    # dense is far surer of "a" than of anything else; BM25 barely prefers "b" to "a": score fusion keeps
    # dense's margin, where RRF would see a tie.
    dense = [hit("a", 0.9), hit("b", 0.3), hit("c", 0.29)]
    sparse = [hit("b", 8.0), hit("a", 7.9), hit("c", 2.0)]
    text = first_stage_fusion({"dense": dense, "sparse": sparse}, rrf_k=60)
    assert text[0].chunk_id == "a" and "fused" in text[0].scores and "rrf" not in text[0].scores
    photo = first_stage_fusion({"dense": dense, "sparse": sparse, "visual": [hit("c", 0.5)]}, rrf_k=60)
    assert "rrf" in photo[0].scores and photo[0].chunk_id == "c"  # on every list: RRF puts it first
    assert len(first_stage_fusion({"dense": dense, "sparse": sparse}, rrf_k=60, limit=2)) == 2


def test_a_photos_own_text_counts_by_how_much_of_it_was_read() -> None:
    from retrieval.fusion import first_stage_fusion, ocr_text_weight

    # OCR text lists agree on "t"; the visual list puts product photo "p" first.
    lists = {"dense": [hit("t", 0.6)], "sparse": [hit("t", 5.0)], "visual": [hit("p", 0.8), hit("q", 0.7)]}
    stray = first_stage_fusion(lists, rrf_k=60, ocr_text_query="SALE 2x")  # an in-store shelf photo
    assert stray[0].chunk_id == "p"
    page = "Error E-104 Network cable unplugged. Check that the cable is connected to the router and to the TV."
    read = first_stage_fusion(lists, rrf_k=60, ocr_text_query=page)  # a photographed screen or page
    assert read[0].chunk_id == "t"
    typed = first_stage_fusion(lists, rrf_k=60)  # the customer's own words weigh fully
    assert typed[0].chunk_id == "t"
    assert ocr_text_weight("") == 0.0 and ocr_text_weight(page) == 1.0


def test_the_image_in_text_space_list_only_fills_in_for_photos() -> None:
    from retrieval.fusion import first_stage_fusion

    lists = {"visual": [hit("p", 0.8), hit("q", 0.7)], "image_dense": [hit("r", 0.9), hit("s", 0.8)]}
    fused = [h.chunk_id for h in first_stage_fusion(lists, rrf_k=60)]
    assert fused == ["p", "q", "r", "s"]  # at equal weights "r" would tie "p" for first
