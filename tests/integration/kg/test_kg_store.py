"""SqlGraphStore on real SQLite and PostgreSQL: incremental document facts, conversation focus across turns,
workspace isolation, and changes made by another process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import KgEdge, KgNode
from core.settings import Settings
from kg import ChunkFacts, SqlGraphStore, rewrite_query
from tests.integration.kg.conftest import OpenSession

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]

TV_MANUAL = [
    ChunkFacts(
        "tv-remote",
        "To turn off the TV with the Samsung Smart Remote, press and hold the power button. "
        "The UN55TU8000 turns off within two seconds.",
        "Turning the TV off",
        ("Samsung Smart Remote",),
    ),
    ChunkFacts(
        "tv-e101",
        "Error E-101 means the TV cannot reach the network. Go to Settings > General > Network > Reset Network "
        "and restart the UN55TU8000.",
        "Error E-101",
        ("Troubleshooting",),
    ),
    ChunkFacts(
        "tv-eco",
        "Auto Power Off switches the TV off after four hours without input. "
        "Settings > General > Eco Solution > Auto Power Off",
        "Eco Solution",
        ("Power saving",),
    ),
]
PHONE_MANUAL = [
    ChunkFacts(
        "ph-pair",
        "The Galaxy S10 pairs with the Samsung Smart Remote over Bluetooth. Error E-101 on the phone means "
        "the pairing timed out.",
        "Pairing",
        ("Galaxy S10",),
    ),
    ChunkFacts("ph-battery", "The SM-G973F battery lasts a day; Power saving mode extends it.", "Battery", ()),
]


def _doc_edges(session: Session, ws: str, document_id: str) -> list[tuple[str, str, str, float]]:
    rows = session.execute(
        select(KgEdge.src, KgEdge.dst, KgEdge.relation, KgEdge.weight)
        .where(KgEdge.workspace_id == ws, KgEdge.document_id == document_id)
        .order_by(KgEdge.src, KgEdge.dst, KgEdge.relation)
    )
    return [(src, dst, relation, weight) for src, dst, relation, weight in rows]


def test_document_facts_are_added_replaced_and_removed_per_document(
    db: OpenSession, make_workspace: Callable[[str], str]
) -> None:
    ws = make_workspace("")
    store = SqlGraphStore()
    with db() as s:
        store.add_document(s, ws, "tv", TV_MANUAL)
        store.add_document(s, ws, "phone", PHONE_MANUAL)
    with db() as s:
        phone_before = _doc_edges(s, ws, "phone")
        tv_before = _doc_edges(s, ws, "tv")
        assert phone_before and tv_before
        assert ("chunk:tv-e101", "entity:error_code:e101", "mentions") in [r[:3] for r in tv_before]
        # E-101 is in both documents: the graph finds it in both.
        hits = dict(store.neighbours(s, ws, ["entity:error_code:e101"], 10))
        assert {"tv-e101", "ph-pair"} <= set(hits)

    # Re-indexing the same document with the same chunks changes nothing (idempotent).
    with db() as s:
        store.add_document(s, ws, "tv", TV_MANUAL)
    with db() as s:
        assert _doc_edges(s, ws, "tv") == tv_before

    # Re-indexing with new content replaces the document's facts, and only them.
    with db() as s:
        store.add_document(s, ws, "tv", TV_MANUAL[:1])
    with db() as s:
        assert _doc_edges(s, ws, "phone") == phone_before
        assert {r[0] for r in _doc_edges(s, ws, "tv") if r[2] == "mentions"} == {"chunk:tv-remote"}
        hits = dict(store.neighbours(s, ws, ["entity:error_code:e101"], 10))
        assert "tv-e101" not in hits and "ph-pair" in hits

    with db() as s:
        store.remove_document(s, ws, "tv")
    with db() as s:
        assert _doc_edges(s, ws, "tv") == []
        assert _doc_edges(s, ws, "phone") == phone_before
        hits = dict(store.neighbours(s, ws, ["entity:product:galaxy s10", "entity:error_code:e101"], 10))
        assert set(hits) <= {"ph-pair", "ph-battery"} and "ph-pair" in hits
        # Entities only the removed document named are gone from kg_nodes; shared ones stay.
        keys = set(s.scalars(select(KgNode.key).where(KgNode.workspace_id == ws)))
        assert "entity:model:un55tu8000" not in keys
        assert "entity:error_code:e101" in keys


def test_three_turn_conversation_keeps_the_subject_when_turn_three_names_nothing(
    db: OpenSession, make_workspace: Callable[[str], str]
) -> None:
    ws = make_workspace("")
    store = SqlGraphStore()
    with db() as s:
        store.add_document(s, ws, "tv", TV_MANUAL)
        store.add_document(s, ws, "phone", PHONE_MANUAL)
    turns = ["My UN55TU8000 keeps showing E-101", "I already restarted the router", "and how do I turn it off again?"]
    history: list[str] = []
    for index, text in enumerate(turns):
        with db() as s:
            ctx = store.record_turn(s, ws, "conv-1", index, text)
        if index < len(turns) - 1:
            history.append(text)
    assert ctx.entities == [] and ctx.is_followup
    focus = {f.key: f for f in ctx.focus}
    assert "entity:model:un55tu8000" in focus and "entity:error_code:e101" in focus
    assert not any(f.mentioned for f in ctx.focus)
    with db() as s:
        assert store.focus(s, ws, "conv-1") == ctx.focus
        query = rewrite_query(turns[-1], ctx.focus, history)
        assert "UN55TU8000" in query
        hits = [chunk for chunk, _ in store.neighbours(s, ws, ctx.focus_weights, 3)]
    # The graph candidates are the TV's chunks about that model and error, not the phone's.
    assert hits[0] in {"tv-e101", "tv-remote"} and "ph-battery" not in hits


def test_recording_a_turn_again_replaces_it_and_email_is_stored_masked(
    db: OpenSession, make_workspace: Callable[[str], str]
) -> None:
    ws = make_workspace("")
    store = SqlGraphStore()
    text = "My SM-G973F order 778899, reply to jane.doe@example.com"
    with db() as s:
        first = store.record_turn(s, ws, "conv-2", 0, text)
    with db() as s:
        again = store.record_turn(s, ws, "conv-2", 0, text)
        edges = s.scalar(
            select(func.count())
            .select_from(KgEdge)
            .where(KgEdge.workspace_id == ws, KgEdge.conversation_id == "conv-2")
        )
        labels = list(s.scalars(select(KgNode.label).where(KgNode.workspace_id == ws)))
        keys = list(s.scalars(select(KgNode.key).where(KgNode.workspace_id == ws)))
    assert {e.type for e in first.entities} >= {"model", "order_number", "email"}
    assert again.focus == first.focus
    assert edges == len({e.key for e in first.entities}) + 1  # one edge per entity and the turn marker
    assert not any("jane" in x or "doe@" in x for x in labels + keys)
    assert "j***@example.com" in labels
    with db() as s:
        store.forget_conversation(s, ws, "conv-2")
    with db() as s:
        assert store.focus(s, ws, "conv-2") == []
        assert not list(s.scalars(select(KgNode.key).where(KgNode.workspace_id == ws, KgNode.kind == "email")))


def test_workspaces_do_not_see_each_others_facts_or_conversations(
    db: OpenSession, make_workspace: Callable[[str], str]
) -> None:
    ws_a, ws_b = make_workspace("a"), make_workspace("b")
    store = SqlGraphStore()
    with db() as s:
        store.add_document(s, ws_a, "same-doc-id", TV_MANUAL)
        store.add_document(s, ws_b, "same-doc-id", PHONE_MANUAL)
        store.record_turn(s, ws_a, "same-conv", 0, "My UN55TU8000 shows E-101")
    tv_chunks, phone_chunks = {c.chunk_id for c in TV_MANUAL}, {c.chunk_id for c in PHONE_MANUAL}
    with db() as s:
        hits_b = [c for c, _ in store.neighbours(s, ws_b, ["entity:error_code:e101"], 10)]
        assert hits_b[0] == "ph-pair" and set(hits_b) <= phone_chunks
        assert store.focus(s, ws_b, "same-conv") == []
        assert "UN55TU8000" not in {e.value for e in store.dictionary(s, ws_b)}
        # Removing the document in one workspace leaves the other's document of the same id alone.
        store.remove_document(s, ws_b, "same-doc-id")
    with db() as s:
        hits_a = [c for c, _ in store.neighbours(s, ws_a, ["entity:error_code:e101"], 10)]
        assert hits_a[0] == "tv-e101" and set(hits_a) <= tv_chunks
        assert store.neighbours(s, ws_b, ["entity:error_code:e101"], 10) == []


_CHILD = """
import json, sys
from core.db import session_scope
from core.settings import get_settings
from kg import ChunkFacts, SqlGraphStore
op, ws, doc, chunks = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
store = SqlGraphStore()
with session_scope(get_settings()) as s:
    if op == "add":
        store.add_document(s, ws, doc, [ChunkFacts(c["id"], c["text"], c["title"]) for c in chunks])
    else:
        store.remove_document(s, ws, doc)
"""


def _start_other_process(
    settings: Settings, op: str, ws: str, doc: str, chunks: list[dict[str, str]]
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BINDESK_DATABASE_URL": settings.database_url, "BINDESK_DATA_DIR": str(settings.data_dir)}
    return subprocess.Popen([sys.executable, "-c", _CHILD, op, ws, doc, json.dumps(chunks)], cwd=REPO, env=env)


def _other_process(settings: Settings, op: str, ws: str, doc: str, chunks: list[dict[str, str]]) -> None:
    assert _start_other_process(settings, op, ws, doc, chunks).wait(timeout=180) == 0


def test_a_change_made_by_another_process_is_seen_on_the_next_call(
    db: OpenSession, make_workspace: Callable[[str], str], kg_settings: Settings
) -> None:
    ws = make_workspace("")
    store = SqlGraphStore()
    with db() as s:
        store.add_document(s, ws, "tv", TV_MANUAL)
        assert {c for c, _ in store.neighbours(s, ws, ["entity:model:qn65q80t"], 5)} == set()  # graph now loaded

    new_doc = [{"id": "qn-wifi", "text": "The QN65Q80T connects to Wi-Fi in the Network menu.", "title": "QN65Q80T"}]
    _other_process(kg_settings, "add", ws, "qled", new_doc)
    with db() as s:
        # First the chunk naming the model; after it, chunks reached through what co-occurs with it.
        assert next(c for c, _ in store.neighbours(s, ws, ["entity:model:qn65q80t"], 5)) == "qn-wifi"
        # The other process's names join this process's dictionary: a customer turn now recognises them.
        ctx = store.record_turn(s, ws, "conv-3", 0, "does the qn65q80t do wifi?")
        assert "entity:model:qn65q80t" in {e.key for e in ctx.entities}
        wifi = ["entity:topic:wi-fi", "entity:menu:network"]
        assert "qn-wifi" in {c for c, _ in store.neighbours(s, ws, wifi, 9)}

    _other_process(kg_settings, "remove", ws, "qled", [])
    with db() as s:
        assert store.neighbours(s, ws, ["entity:model:qn65q80t"], 5) == []
        assert "qn-wifi" not in {c for c, _ in store.neighbours(s, ws, wifi, 9)}


def test_two_processes_writing_the_same_workspace_at_once_both_land(
    db: OpenSession, make_workspace: Callable[[str], str], kg_settings: Settings
) -> None:
    ws = make_workspace("")
    store = SqlGraphStore()
    with db() as s:
        assert store.neighbours(s, ws, ["entity:error_code:e101"], 5) == []  # loaded, empty
    # Both documents name E-101 and the Samsung Smart Remote, so both writers insert the same new nodes.
    children = [
        _start_other_process(kg_settings, "add", ws, f"doc{i}", [{"id": f"c{i}", "text": text, "title": "E-101"}])
        for i, text in enumerate(
            [
                "E-101 on the UN55TU8000: re-pair the Samsung Smart Remote.",
                "E-101 on the QN65Q80T: the Samsung Smart Remote battery is low.",
            ]
        )
    ]
    assert [child.wait(timeout=180) for child in children] == [0, 0]
    with db() as s:
        assert {c for c, _ in store.neighbours(s, ws, ["entity:error_code:e101"], 5)} == {"c0", "c1"}
        version = s.scalar(
            select(KgEdge.weight).where(
                KgEdge.workspace_id == ws, KgEdge.src == "meta:version", KgEdge.relation == "version"
            )
        )
        assert version == 2.0
        nodes = s.scalar(
            select(func.count())
            .select_from(KgNode)
            .where(KgNode.workspace_id == ws, KgNode.key == "entity:error_code:e101")
        )
        assert nodes == 1
