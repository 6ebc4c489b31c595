"""Each workspace's :class:`chat.vocabulary.KbVocabulary`, built from its chunks on first use and kept.

A voice turn asks for it (:func:`workspace_vocabulary`, handed to :func:`chat.inputs.normalise` by the turn) to
correct the transcript against the words the knowledge base uses. The vocabulary is rebuilt when the workspace's
chunks change, which a cheap aggregate over the chunk rows (count, versions, smallest and largest id) tells; the
check runs at most every ``check_interval_s`` seconds per workspace (0: on every call).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from chat.vocabulary import KbVocabulary
from core.models import Chunk

log = logging.getLogger(__name__)
_Ident = tuple[str, str]  # (database, workspace)


class VocabularyCache:
    """Workspace vocabularies by database and workspace. Shareable between threads."""

    def __init__(self, check_interval_s: float = 0.0) -> None:
        self.check_interval_s = check_interval_s
        self._lock = threading.Lock()
        self._locks: dict[_Ident, threading.Lock] = {}
        self._kept: dict[_Ident, tuple[tuple[Any, ...], KbVocabulary]] = {}
        self._checked_at: dict[_Ident, float] = {}

    def get(self, session: Session, workspace_id: str) -> KbVocabulary:
        """The vocabulary of the workspace's chunks as ``session`` sees them (empty when it has none)."""
        bind = session.get_bind()
        ident = (str(bind.engine.url) if isinstance(bind, Engine | Connection) else repr(bind), workspace_id)
        with self._lock:
            lock = self._locks.setdefault(ident, threading.Lock())
        with lock:
            kept = self._kept.get(ident)
            now = time.monotonic()
            if kept is not None and now - self._checked_at.get(ident, 0.0) < self.check_interval_s:
                return kept[1]
            signature = chunks_signature(session, workspace_id)
            self._checked_at[ident] = now
            if kept is None or kept[0] != signature:
                started = time.perf_counter()
                kept = (signature, build_vocabulary(session, workspace_id))
                self._kept[ident] = kept
                log.info(
                    "vocabulary of %s: %d words from %d chunks in %.0f ms",
                    workspace_id,
                    len(kept[1]),
                    kept[1].documents,
                    (time.perf_counter() - started) * 1000,
                )
            return kept[1]


def chunks_signature(session: Session, workspace_id: str) -> tuple[Any, ...]:
    """What changes when the workspace's chunks do: their count, summed versions, smallest and largest id."""
    row = session.execute(
        select(func.count(Chunk.id), func.sum(Chunk.version), func.min(Chunk.id), func.max(Chunk.id)).where(
            Chunk.workspace_id == workspace_id
        )
    ).one()
    return tuple(row)


def build_vocabulary(session: Session, workspace_id: str) -> KbVocabulary:
    """Every word of the workspace's chunks (text, document title and heading path), counted per chunk."""
    vocabulary = KbVocabulary()
    rows = session.execute(
        select(Chunk.text, Chunk.title, Chunk.heading_path)
        .where(Chunk.workspace_id == workspace_id)
        .execution_options(yield_per=500)
    )
    for text, title, heading_path in rows:
        vocabulary.add(" ".join([text or "", title or "", *(str(h) for h in heading_path or ())]))
    return vocabulary


_CACHE = VocabularyCache()


def workspace_vocabulary(session: Session, workspace_id: str) -> KbVocabulary:
    """The process's kept vocabulary of the workspace (see :class:`VocabularyCache`)."""
    return _CACHE.get(session, workspace_id)
