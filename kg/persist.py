"""How the graph sits in ``kg_nodes`` / ``kg_edges`` (SQLAlchemy; SQLite and PostgreSQL).

Rows:
- entity nodes: ``kg_nodes(key="entity:<type>:<norm>", kind=<type>, label=<value as written>)``;
- document facts: ``kg_edges`` with ``document_id`` set; ``src="chunk:<chunk id>"`` for mentions (the chunk
  itself lives in ``chunks``; no node row), entity keys on both ends for co-occurrence;
- conversation memory: ``kg_edges(src="conversation:<id>", relation="mentioned"|"answered",
  conversation_id, turn)``;
- bookkeeping under the key ``meta:version``: one node row (it makes creating the counter race-free),
  one ``version`` edge whose ``weight`` counts committed document changes in the workspace, and one
  ``changed`` edge per document (``dst="document:<id>"``, ``weight`` = the version of its last change).

Writers bump the version with one atomic ``UPDATE ... SET weight = weight + 1``: the row lock orders
concurrent writers, so versions are handed out in commit order and a reader that has seen version ``v``
learns every later change by asking for ``changed`` rows above ``v``. Writers never touch in-memory
graphs; readers (possibly in another process) catch up on their next call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, exists, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from core.models import KgEdge, KgNode
from kg.docfacts import EdgeFact, NodeFact

VERSION_KEY = "meta:version"
VERSION = "version"
CHANGED = "changed"
_BATCH = 500


def document_marker(document_id: str) -> str:
    return f"document:{document_id}"


def insert_nodes(session: Session, workspace_id: str, nodes: Iterable[NodeFact]) -> None:
    """Insert the nodes that do not exist yet (an existing node keeps its label)."""
    # Sorted by key: concurrent writers then take the unique-index locks in the same order (no deadlock).
    unique = {n.key: n for n in nodes}
    rows = [
        {
            "workspace_id": workspace_id,
            "key": key,
            "kind": unique[key].kind,
            "label": unique[key].label[:500],
            "attrs": {},
        }
        for key in sorted(unique)
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    for i in range(0, len(rows), _BATCH):
        batch = rows[i : i + _BATCH]
        if dialect == "postgresql":
            pg_stmt = postgresql.insert(KgNode).on_conflict_do_nothing(index_elements=["workspace_id", "key"])
            session.execute(pg_stmt, batch)
        elif dialect == "sqlite":
            lite_stmt = sqlite.insert(KgNode).on_conflict_do_nothing(index_elements=["workspace_id", "key"])
            session.execute(lite_stmt, batch)
        else:  # other databases: look up, then insert the rest
            have = set(
                session.scalars(
                    select(KgNode.key).where(
                        KgNode.workspace_id == workspace_id, KgNode.key.in_([r["key"] for r in batch])
                    )
                )
            )
            missing = [r for r in batch if r["key"] not in have]
            if missing:
                session.execute(insert(KgNode), missing)


def insert_edges(session: Session, workspace_id: str, edges: Sequence[EdgeFact], **owner: Any) -> None:
    """Insert edges owned by ``document_id=...`` or ``conversation_id=..., turn=...``."""
    rows = [
        {"workspace_id": workspace_id, "src": e.src, "dst": e.dst, "relation": e.relation, "weight": e.weight, **owner}
        for e in edges
    ]
    # Core executemany on the session's connection: the ORM bulk path costs several times more per row.
    connection = session.connection()
    for i in range(0, len(rows), _BATCH):
        connection.execute(insert(KgEdge), rows[i : i + _BATCH])


def document_entity_keys(session: Session, workspace_id: str, document_id: str) -> set[str]:
    """Entity keys the document's facts point at (before they are deleted, for orphan clean-up)."""
    rows = session.execute(
        select(KgEdge.src, KgEdge.dst).where(KgEdge.workspace_id == workspace_id, KgEdge.document_id == document_id)
    )
    return {k for src, dst in rows for k in (src, dst) if k.startswith("entity:")}


def delete_document_edges(session: Session, workspace_id: str, document_id: str) -> None:
    session.execute(delete(KgEdge).where(KgEdge.workspace_id == workspace_id, KgEdge.document_id == document_id))


def delete_orphan_nodes(session: Session, workspace_id: str, keys: Iterable[str]) -> None:
    """Delete the entity nodes among ``keys`` that no edge of the workspace points at any more."""
    edge = aliased(KgEdge)
    key_list = sorted(keys)
    for i in range(0, len(key_list), _BATCH):
        batch = key_list[i : i + _BATCH]
        referenced = exists().where(
            edge.workspace_id == workspace_id, or_(edge.src == KgNode.key, edge.dst == KgNode.key)
        )
        session.execute(
            delete(KgNode)
            .where(KgNode.workspace_id == workspace_id, KgNode.key.in_(batch), ~referenced)
            .execution_options(synchronize_session=False)
        )


def bump_version(session: Session, workspace_id: str, document_id: str) -> int:
    """Count one more change in the workspace and record that ``document_id`` changed at it.

    Call it last in the writing transaction and commit soon after: until the commit, other writers of
    the same workspace wait on the counter row (which is what keeps versions in commit order).
    """
    counter = and_(KgEdge.workspace_id == workspace_id, KgEdge.src == VERSION_KEY, KgEdge.relation == VERSION)
    bumped = session.execute(update(KgEdge).where(counter).values(weight=KgEdge.weight + 1))
    if getattr(bumped, "rowcount", 0) == 0:
        try:
            with session.begin_nested():
                # The unique node key makes a concurrent first writer wait for us, then fail here.
                session.execute(
                    insert(KgNode),
                    [
                        {
                            "workspace_id": workspace_id,
                            "key": VERSION_KEY,
                            "kind": "meta",
                            "label": "graph version",
                            "attrs": {},
                        }
                    ],
                )
                session.execute(
                    insert(KgEdge),
                    [
                        {
                            "workspace_id": workspace_id,
                            "src": VERSION_KEY,
                            "dst": VERSION_KEY,
                            "relation": VERSION,
                            "weight": 1.0,
                        }
                    ],
                )
        except IntegrityError:
            session.execute(update(KgEdge).where(counter).values(weight=KgEdge.weight + 1))
    version = int(session.scalar(select(KgEdge.weight).where(counter)) or 0)
    marker = document_marker(document_id)
    session.execute(
        delete(KgEdge).where(
            KgEdge.workspace_id == workspace_id,
            KgEdge.src == VERSION_KEY,
            KgEdge.relation == CHANGED,
            KgEdge.dst == marker,
        )
    )
    insert_edges(session, workspace_id, [EdgeFact(VERSION_KEY, marker, CHANGED, float(version))])
    return version


def read_version(conn: Connection | Session, workspace_id: str) -> int:
    """The committed change count of the workspace's document facts (0 before the first change)."""
    value = conn.scalar(
        select(KgEdge.weight).where(
            KgEdge.workspace_id == workspace_id, KgEdge.src == VERSION_KEY, KgEdge.relation == VERSION
        )
    )
    return int(value or 0)


def changed_documents(conn: Connection | Session, workspace_id: str, since: int) -> list[str]:
    """Documents whose facts changed after version ``since``."""
    rows = conn.scalars(
        select(KgEdge.dst).where(
            KgEdge.workspace_id == workspace_id,
            KgEdge.src == VERSION_KEY,
            KgEdge.relation == CHANGED,
            KgEdge.weight > since,
        )
    )
    return [dst.removeprefix("document:") for dst in rows]


def document_edges(conn: Connection | Session, workspace_id: str, document_id: str | None = None) -> list[Any]:
    """Rows ``(id, src, dst, relation, weight, document_id)`` of one document's facts, or of all documents."""
    query = select(KgEdge.id, KgEdge.src, KgEdge.dst, KgEdge.relation, KgEdge.weight, KgEdge.document_id).where(
        KgEdge.workspace_id == workspace_id
    )
    if document_id is None:
        query = query.where(KgEdge.document_id.is_not(None))
    else:
        query = query.where(KgEdge.document_id == document_id)
    return list(conn.execute(query))


def entity_nodes(
    conn: Connection | Session, workspace_id: str, keys: Iterable[str] | None = None
) -> dict[str, tuple[str, str]]:
    """``key -> (kind, label)`` for the given entity keys, or for every entity node of the workspace."""
    base = select(KgNode.key, KgNode.kind, KgNode.label).where(KgNode.workspace_id == workspace_id)
    if keys is None:
        return {k: (kind, label) for k, kind, label in conn.execute(base.where(KgNode.key.like("entity:%")))}
    key_list = sorted(set(keys))
    found: dict[str, tuple[str, str]] = {}
    for i in range(0, len(key_list), _BATCH):
        for k, kind, label in conn.execute(base.where(KgNode.key.in_(key_list[i : i + _BATCH]))):
            found[k] = (kind, label)
    return found


def conversation_key(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def replace_turn(
    session: Session,
    workspace_id: str,
    conversation_id: str,
    turn: int,
    relations: Sequence[str],
    edges: Sequence[EdgeFact],
) -> None:
    """Store one turn's edges, replacing those of ``relations`` an earlier attempt of the same turn stored."""
    session.execute(
        delete(KgEdge).where(
            KgEdge.workspace_id == workspace_id,
            KgEdge.conversation_id == conversation_id,
            KgEdge.turn == turn,
            KgEdge.relation.in_(list(relations)),
        )
    )
    insert_edges(session, workspace_id, edges, conversation_id=conversation_id, turn=turn)


def conversation_mentions(session: Session, workspace_id: str, conversation_id: str) -> list[Any]:
    """Rows ``(dst, relation, turn, kind, label)`` of the conversation's memory, oldest turn first."""
    query = (
        select(KgEdge.dst, KgEdge.relation, KgEdge.turn, KgNode.kind, KgNode.label)
        .outerjoin(KgNode, and_(KgNode.workspace_id == KgEdge.workspace_id, KgNode.key == KgEdge.dst))
        .where(KgEdge.workspace_id == workspace_id, KgEdge.conversation_id == conversation_id)
        .order_by(KgEdge.turn, KgEdge.id)
    )
    return list(session.execute(query))


def delete_conversation(session: Session, workspace_id: str, conversation_id: str) -> set[str]:
    """Delete a conversation's memory; returns the entity keys it pointed at."""
    keys = set(
        session.scalars(
            select(KgEdge.dst).where(KgEdge.workspace_id == workspace_id, KgEdge.conversation_id == conversation_id)
        )
    )
    session.execute(
        delete(KgEdge).where(KgEdge.workspace_id == workspace_id, KgEdge.conversation_id == conversation_id)
    )
    return keys
