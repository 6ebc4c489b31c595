"""The facts one document asserts: chunk -> entity mentions and entity <-> entity co-occurrence (pure)."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kg.dictionary import EntityDictionary, Section, build_dictionary
from kg.extract import SPECIFIC_TYPES, extract_entities
from kg.types import ChunkFacts

MENTIONS = "mentions"
CO_OCCURS = "co_occurs"
HEADING_WEIGHT = 2.0  # a chunk whose title or heading names an entity is about it
MAX_COOCCURRING_PER_CHUNK = 12  # caps the pairs per chunk at 66


@dataclass(frozen=True)
class NodeFact:
    key: str
    kind: str
    label: str


@dataclass(frozen=True)
class EdgeFact:
    src: str
    dst: str
    relation: str
    weight: float


def chunk_key(chunk_id: str) -> str:
    return f"chunk:{chunk_id}"


def document_facts(
    chunks: Sequence[ChunkFacts], workspace_dictionary: EntityDictionary | None = None
) -> tuple[list[NodeFact], list[EdgeFact]]:
    """Entity nodes and the mention/co-occurrence edges of one document.

    Names are recognised with the workspace dictionary plus a dictionary of this document's own names
    (so a product the document introduces is recognised in all of its chunks). Mention weights count
    occurrences, a heading occurrence counting :data:`HEADING_WEIGHT`. Co-occurrence weights count the
    chunks two entities share, over the :data:`MAX_COOCCURRING_PER_CHUNK` strongest entities per chunk.
    """
    fallback = [workspace_dictionary] if workspace_dictionary is not None else []
    dictionary = build_dictionary((Section(c.text, c.title, tuple(c.heading_path)) for c in chunks), fallback=fallback)
    nodes: dict[str, NodeFact] = {}
    edges: list[EdgeFact] = []
    pairs: Counter[tuple[str, str]] = Counter()
    for chunk in chunks:
        weights = _chunk_entity_weights(chunk, dictionary, nodes)
        for key, weight in sorted(weights.items()):
            edges.append(EdgeFact(chunk_key(chunk.chunk_id), key, MENTIONS, weight))
        strongest = sorted(weights, key=lambda k: (nodes[k].kind not in SPECIFIC_TYPES, -weights[k], k))
        for a, b in itertools.combinations(sorted(strongest[:MAX_COOCCURRING_PER_CHUNK]), 2):
            pairs[(a, b)] += 1
    edges.extend(EdgeFact(a, b, CO_OCCURS, float(n)) for (a, b), n in sorted(pairs.items()))
    return list(nodes.values()), edges


def _chunk_entity_weights(
    chunk: ChunkFacts, dictionary: EntityDictionary, nodes: dict[str, NodeFact]
) -> dict[str, float]:
    weights: dict[str, float] = defaultdict(float)
    headings: Iterable[str] = dict.fromkeys(h for h in [chunk.title, *chunk.heading_path] if h)
    sources = [(h, HEADING_WEIGHT) for h in headings] + [(chunk.text, 1.0)]
    for text, weight in sources:
        for entity in extract_entities(text, dictionary):
            weights[entity.key] += weight
            nodes.setdefault(entity.key, NodeFact(entity.key, entity.type, entity.value))
    return weights
