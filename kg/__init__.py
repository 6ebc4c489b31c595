"""The knowledge graph: entities from documents and conversation turns, conversation focus, graph expansion.

Public API:

- :func:`kg.extract.extract_entities`, :class:`kg.extract.Entity`, :class:`kg.extract.EntityDictionary`
- :class:`kg.store.GraphStore` (protocol) and :class:`kg.store.SqlGraphStore` (the default)
- :func:`kg.followup.detect_followup`, :func:`kg.followup.rewrite_query`
- value types in :mod:`kg.types`: :class:`ChunkFacts`, :class:`FocusEntity`, :class:`TurnContext`
"""

from kg.extract import Entity, EntityDictionary, extract_entities, redact
from kg.followup import detect_followup, is_followup, rewrite_query
from kg.store import GraphStore, SqlGraphStore
from kg.types import ChunkFacts, FocusEntity, TurnContext

__all__ = [
    "ChunkFacts",
    "Entity",
    "EntityDictionary",
    "FocusEntity",
    "GraphStore",
    "SqlGraphStore",
    "TurnContext",
    "detect_followup",
    "extract_entities",
    "is_followup",
    "redact",
    "rewrite_query",
]
