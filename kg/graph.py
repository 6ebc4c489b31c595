"""One workspace's document graph in memory (networkx), and graph expansion of focus entities.

Nodes: ``chunk:<id>`` (attribute ``document_id``) and ``entity:<type>:<norm>`` (``kind``, ``label``).
Edges are keyed by their ``kg_edges.id``: ``mentions`` (chunk -> entity, weight = occurrences) and
``co_occurs`` (entity -> entity, stored once per pair and document, weight = shared chunks).
Not thread-safe by itself: :class:`kg.store.SqlGraphStore` holds the lock.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx

from kg.dictionary import EntityDictionary
from kg.docfacts import CO_OCCURS, MENTIONS

NEIGHBOURS_PER_ENTITY = 3  # strongest co-occurring entities followed from each focus entity
NEIGHBOUR_FACTOR = 0.35  # a chunk reached through a neighbour counts this much of a direct mention
BACKOFF_FACTOR = 0.5  # "smart remote" not in the graph: "remote" is, at this discount


class WorkspaceGraph:
    def __init__(self, workspace_id: str) -> None:
        self.workspace_id = workspace_id
        self.graph: nx.MultiDiGraph = nx.MultiDiGraph()
        self.version: int | None = None  # None: never loaded
        self._document_edges: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
        # Kept in step with the entity nodes, so that a refresh never rebuilds it from scratch.
        self._dictionary = EntityDictionary()
        # Read-side memo, dropped on every change: a focus entity such as "TV" is mentioned by hundreds of
        # chunks, and walking its edges again on every turn was most of the graph's share of a turn.
        self._mentions: dict[str, dict[str, float]] = {}
        self._chunk_count: int | None = None

    # --- loading -------------------------------------------------------------------------------
    def _changed(self) -> None:
        self._mentions.clear()
        self._chunk_count = None

    def clear(self) -> None:
        self._changed()
        self.graph.clear()
        self._document_edges.clear()
        self._dictionary = EntityDictionary()

    def add_rows(self, rows: Iterable[Any], nodes: Mapping[str, tuple[str, str]]) -> None:
        """Add ``(id, src, dst, relation, weight, document_id)`` rows; ``nodes`` gives entity kinds and labels."""
        g = self.graph
        self._changed()
        for edge_id, src, dst, relation, weight, document_id in rows:
            for key in (src, dst):
                if key not in g:
                    self._add_node(key, nodes, document_id)
            g.add_edge(src, dst, key=edge_id, relation=relation, weight=float(weight), document_id=document_id)
            self._document_edges[document_id].append((src, dst, edge_id))

    def _add_node(self, key: str, nodes: Mapping[str, tuple[str, str]], document_id: str) -> None:
        if key.startswith("chunk:"):
            self.graph.add_node(key, kind="chunk", document_id=document_id)
            return
        # A node row can be missing (removed as an orphan while another writer added an edge to it):
        # its key still says what it is.
        kind, label = nodes.get(key) or (key.split(":", 2)[1], key.split(":", 2)[-1])
        self.graph.add_node(key, kind=kind, label=label)
        if _in_dictionary(kind, label):
            self._dictionary.add(label, kind, key.split(":", 2)[2])

    def remove_document(self, document_id: str) -> None:
        """Drop a document's edges, then the nodes nothing points at any more."""
        touched: set[str] = set()
        self._changed()
        for src, dst, edge_id in self._document_edges.pop(document_id, []):
            if self.graph.has_edge(src, dst, key=edge_id):
                self.graph.remove_edge(src, dst, key=edge_id)
            touched.update((src, dst))
        orphans = [n for n in touched if n in self.graph and self.graph.degree(n) == 0]
        for node in orphans:
            data = self.graph.nodes[node]
            if _in_dictionary(data["kind"], data.get("label", "")):
                self._dictionary.discard(data["label"], data["kind"])
        self.graph.remove_nodes_from(orphans)

    # --- reading -------------------------------------------------------------------------------
    @property
    def documents(self) -> set[str]:
        return set(self._document_edges)

    def chunks_of(self, entity: str) -> dict[str, float]:
        """Chunk key -> mention weight for the chunks that mention ``entity`` (do not modify the result)."""
        memo = self._mentions.get(entity)
        if memo is not None:
            return memo
        found: dict[str, float] = defaultdict(float)
        if entity in self.graph:
            for src, _, data in self.graph.in_edges(entity, data=True):
                if data["relation"] == MENTIONS:
                    found[src] += data["weight"]
        self._mentions[entity] = found = dict(found)
        return found

    def co_occurring(self, entity: str) -> Counter[str]:
        """Entity key -> summed co-occurrence weight (over documents) with ``entity``."""
        assoc: Counter[str] = Counter()
        if entity in self.graph:
            for _, other, data in self.graph.out_edges(entity, data=True):
                if data["relation"] == CO_OCCURS:
                    assoc[other] += data["weight"]
            for other, _, data in self.graph.in_edges(entity, data=True):
                if data["relation"] == CO_OCCURS:
                    assoc[other] += data["weight"]
        return assoc

    def resolve(self, key: str) -> tuple[str, float] | None:
        """The node for ``key``, or for a shorter topic ending the same way, with the discount to apply."""
        if key in self.graph:
            return key, 1.0
        norm = key.rpartition(":")[2]
        words = norm.split()
        for n in range(len(words) - 1, 0, -1):
            shorter = f"entity:topic:{' '.join(words[-n:])}"
            if shorter in self.graph:
                return shorter, BACKOFF_FACTOR
        return None

    def neighbours(self, weights: Mapping[str, float], limit: int) -> list[tuple[str, float]]:
        """Chunk ids ranked by how strongly they mention the weighted entities or their neighbours.

        A chunk's score adds, over the focus entities it mentions, focus weight x IDF x (1 + log mentions),
        and a :data:`NEIGHBOUR_FACTOR` share of the same for the :data:`NEIGHBOURS_PER_ENTITY` entities
        co-occurring most with each focus entity. Chunks naming several focus entities therefore win.
        """
        if self._chunk_count is None:
            self._chunk_count = sum(1 for _, d in self.graph.nodes(data="kind") if d == "chunk")
        n_chunks = max(1, self._chunk_count)
        scores: dict[str, float] = defaultdict(float)
        for key, weight in weights.items():
            resolved = self.resolve(key)
            if resolved is None or weight <= 0:
                continue
            node, discount = resolved
            self._spread(node, weight * discount, n_chunks, scores)
            assoc = self.co_occurring(node)
            strongest = assoc.most_common(NEIGHBOURS_PER_ENTITY)
            top = strongest[0][1] if strongest else 1.0
            for other, strength in strongest:
                if other not in weights:
                    self._spread(other, weight * discount * NEIGHBOUR_FACTOR * strength / top, n_chunks, scores)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [(chunk.removeprefix("chunk:"), round(score, 6)) for chunk, score in ranked]

    def _spread(self, entity: str, weight: float, n_chunks: int, scores: dict[str, float]) -> None:
        chunks = self.chunks_of(entity)
        if not chunks:
            return
        idf = math.log(1.0 + n_chunks / len(chunks))
        for chunk, mentions in chunks.items():
            scores[chunk] += weight * idf * (1.0 + math.log(max(mentions, 1.0)))

    def dictionary(self) -> EntityDictionary:
        """The workspace's names: every entity its documents mention except personal data and one-word
        topics (a single common noun is better found by the noun-phrase chunker)."""
        return self._dictionary


def _in_dictionary(kind: str, label: str) -> bool:
    if kind in ("chunk", "email", "phone"):
        return False
    return kind != "topic" or " " in label.strip()
