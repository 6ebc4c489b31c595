"""The graph store: document facts, conversation memory and graph expansion, per workspace.

:class:`SqlGraphStore` keeps the facts in ``kg_nodes`` / ``kg_edges`` (layout in :mod:`kg.persist`) and a
``networkx.MultiDiGraph`` of each workspace's document facts in memory, loaded on first use and brought up
to date on every call: it compares the workspace's change counter with the one it loaded and reloads only
the documents that changed, so facts written by another process (an ingest worker) show up on the next
call. Conversation memory is small and always read from the database, so any API process can serve any
turn of a conversation.

Transactions belong to the caller: writers add to the caller's session and do not commit. The
in-memory graph only ever holds committed facts (it reads through its own connection).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.workspaces import validate_workspace_id
from kg import persist
from kg.dictionary import EntityDictionary
from kg.docfacts import EdgeFact, NodeFact, document_facts
from kg.extract import extract_entities
from kg.followup import detect_followup
from kg.graph import WorkspaceGraph
from kg.memory import Mention, compute_focus
from kg.types import ChunkFacts, FocusEntity, TurnContext

CUSTOMER_MENTIONED = "mentioned"
BOT_ANSWERED = "answered"
TURN_MARKER = "turn"  # one per recorded customer turn, so a turn that names nothing still moves the focus on
_FULL_RELOAD_AFTER = 200  # more changed documents than this: reload the workspace instead


@runtime_checkable
class GraphStore(Protocol):
    """Everything Bindesk asks of the knowledge graph. Every method is scoped to one workspace."""

    def add_document(self, session: Session, workspace_id: str, document_id: str, chunks: Sequence[ChunkFacts]) -> None:
        """Replace the document's facts with those of ``chunks`` (idempotent; other documents untouched)."""
        ...

    def remove_document(self, session: Session, workspace_id: str, document_id: str) -> None:
        """Delete the document's facts (no-op when it has none)."""
        ...

    def record_turn(
        self,
        session: Session,
        workspace_id: str,
        conversation_id: str,
        turn_index: int,
        text: str,
        *,
        by_customer: bool = True,
    ) -> TurnContext:
        """Extract a turn's entities into the conversation's memory; return them and the focus after it."""
        ...

    def focus(self, session: Session, workspace_id: str, conversation_id: str) -> list[FocusEntity]:
        """The conversation's entities in focus after its latest recorded turn, best first."""
        ...

    def neighbours(
        self, session: Session, workspace_id: str, entity_keys: Sequence[str] | Mapping[str, float], limit: int
    ) -> list[tuple[str, float]]:
        """``(chunk_id, weight)`` of chunks mentioning the entities or their strongest co-occurring ones."""
        ...

    def forget_conversation(self, session: Session, workspace_id: str, conversation_id: str) -> None:
        """Delete the conversation's entity memory."""
        ...


class SqlGraphStore:
    """:class:`GraphStore` on the relational database, with a per-process in-memory graph.

    One instance per process (the API lifespan, a worker). ``check_interval_s`` > 0 skips the change
    check for that long after the previous one (a knob for very hot paths; 0 checks on every call).
    """

    def __init__(self, check_interval_s: float = 0.0) -> None:
        self.check_interval_s = check_interval_s
        self._graphs: dict[tuple[str, str], WorkspaceGraph] = {}
        self._checked_at: dict[tuple[str, str], float] = {}
        self._locks: dict[tuple[str, str], threading.RLock] = {}
        self._registry_lock = threading.Lock()

    # --- documents -----------------------------------------------------------------------------
    def add_document(self, session: Session, workspace_id: str, document_id: str, chunks: Sequence[ChunkFacts]) -> None:
        validate_workspace_id(workspace_id)
        _require(document_id, "document_id")
        nodes, edges = document_facts(chunks, self.dictionary(session, workspace_id))
        old_keys = persist.document_entity_keys(session, workspace_id, document_id)
        persist.delete_document_edges(session, workspace_id, document_id)
        persist.insert_nodes(session, workspace_id, nodes)
        persist.insert_edges(session, workspace_id, edges, document_id=document_id)
        persist.delete_orphan_nodes(session, workspace_id, old_keys - {n.key for n in nodes})
        persist.bump_version(session, workspace_id, document_id)

    def remove_document(self, session: Session, workspace_id: str, document_id: str) -> None:
        validate_workspace_id(workspace_id)
        _require(document_id, "document_id")
        old_keys = persist.document_entity_keys(session, workspace_id, document_id)
        persist.delete_document_edges(session, workspace_id, document_id)
        persist.delete_orphan_nodes(session, workspace_id, old_keys)
        persist.bump_version(session, workspace_id, document_id)

    # --- conversations -------------------------------------------------------------------------
    def record_turn(
        self,
        session: Session,
        workspace_id: str,
        conversation_id: str,
        turn_index: int,
        text: str,
        *,
        by_customer: bool = True,
    ) -> TurnContext:
        """Remember the entities of turn ``turn_index`` (recording the same turn again replaces it).

        ``by_customer=False`` records the bot's (or an agent's) reply of that turn: its entities keep
        the conversation's subject alive at a lower weight and never count as named by the customer.
        """
        validate_workspace_id(workspace_id)
        _require(conversation_id, "conversation_id")
        if turn_index < 0:
            raise InvalidInput("turn_index must be >= 0")
        entities = extract_entities(text, self.dictionary(session, workspace_id))
        persist.insert_nodes(session, workspace_id, [NodeFact(e.key, e.type, e.value) for e in entities])
        source = persist.conversation_key(conversation_id)
        relation = CUSTOMER_MENTIONED if by_customer else BOT_ANSWERED
        distinct = list(dict.fromkeys(e.key for e in entities))
        edges = [EdgeFact(source, key, relation, 1.0) for key in distinct]
        relations = [relation]
        if by_customer:
            edges.append(EdgeFact(source, source, TURN_MARKER, 1.0))
            relations.append(TURN_MARKER)
        persist.replace_turn(session, workspace_id, conversation_id, turn_index, relations, edges)
        focus = self._focus_at(session, workspace_id, conversation_id, turn_index)
        followup = detect_followup(text, entities)
        return TurnContext(turn_index, entities, focus, followup.is_followup, followup.reasons)

    def focus(self, session: Session, workspace_id: str, conversation_id: str) -> list[FocusEntity]:
        validate_workspace_id(workspace_id)
        return self._focus_at(session, workspace_id, conversation_id, None)

    def forget_conversation(self, session: Session, workspace_id: str, conversation_id: str) -> None:
        """Delete the conversation's memory (and entity nodes only it pointed at)."""
        validate_workspace_id(workspace_id)
        keys = persist.delete_conversation(session, workspace_id, conversation_id)
        persist.delete_orphan_nodes(session, workspace_id, keys)

    def _focus_at(
        self, session: Session, workspace_id: str, conversation_id: str, turn: int | None
    ) -> list[FocusEntity]:
        rows = persist.conversation_mentions(session, workspace_id, conversation_id)
        mentions = [
            Mention(
                key=dst,
                type=kind or dst.split(":", 2)[1],
                value=label or dst.split(":", 2)[-1],
                turn=t,
                by_customer=relation == CUSTOMER_MENTIONED,
            )
            for dst, relation, t, kind, label in rows
            if relation != TURN_MARKER
        ]
        if not mentions:
            return []
        current = turn if turn is not None else max(row[2] for row in rows)
        return compute_focus(mentions, current)

    # --- graph reads ---------------------------------------------------------------------------
    def neighbours(
        self, session: Session, workspace_id: str, entity_keys: Sequence[str] | Mapping[str, float], limit: int
    ) -> list[tuple[str, float]]:
        """Graph candidates for retrieval fusion, best first; ``entity_keys`` may carry focus weights."""
        validate_workspace_id(workspace_id)
        weights = dict(entity_keys) if isinstance(entity_keys, Mapping) else dict.fromkeys(entity_keys, 1.0)
        if not weights or limit <= 0:
            return []
        with self._graph(session, workspace_id) as graph:
            return graph.neighbours(weights, limit)

    def dictionary(self, session: Session, workspace_id: str) -> EntityDictionary:
        """The workspace's entity dictionary (names its documents use), kept with the in-memory graph."""
        with self._graph(session, workspace_id) as graph:
            return graph.dictionary()

    @contextmanager
    def _graph(self, session: Session, workspace_id: str) -> Iterator[WorkspaceGraph]:
        bind = session.get_bind()
        ident = (str(bind.engine.url) if isinstance(bind, Engine | Connection) else repr(bind), workspace_id)
        with self._registry_lock:
            graph = self._graphs.setdefault(ident, WorkspaceGraph(workspace_id))
            lock = self._locks.setdefault(ident, threading.RLock())
        with lock:
            now = time.monotonic()
            if graph.version is None or now - self._checked_at.get(ident, 0.0) >= self.check_interval_s:
                self._refresh(session, graph)
                self._checked_at[ident] = now
            yield graph

    def _refresh(self, session: Session, graph: WorkspaceGraph) -> None:
        with _committed_reader(session) as conn:
            ws = graph.workspace_id
            version = persist.read_version(conn, ws)
            if graph.version == version:
                return
            changed = None if graph.version is None else persist.changed_documents(conn, ws, graph.version)
            if changed is None or len(changed) > _FULL_RELOAD_AFTER:
                graph.clear()
                rows = persist.document_edges(conn, ws)
                graph.add_rows(rows, persist.entity_nodes(conn, ws))
            else:
                for document_id in changed:
                    graph.remove_document(document_id)
                    rows = persist.document_edges(conn, ws, document_id)
                    keys = {k for r in rows for k in (r[1], r[2]) if k.startswith("entity:")}
                    graph.add_rows(rows, persist.entity_nodes(conn, ws, keys))
            graph.version = version


@contextmanager
def _committed_reader(session: Session) -> Iterator[Connection | Session]:
    """A connection that sees only committed rows: a fresh one from the engine, unless the session is
    bound to a single connection (then that connection, which is all there is)."""
    bind = session.get_bind()
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            yield conn
    else:
        yield session


def _require(value: str, name: str) -> None:
    if not value or not isinstance(value, str):
        raise InvalidInput(f"{name} must be a non-empty string")
