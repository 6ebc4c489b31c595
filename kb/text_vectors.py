"""Recently embedded query texts, shared by the retrievers and the reranker of a process.

Embedding is most of a text retrieval's cost on a CPU, and one turn used to embed the same text more than once:
the first stage embeds the query and the reranker embeds it again; the conversation query is retrieved and then
compared with the candidates' sentences; an earlier turn is retrieved again on each of the next few turns. Those
all go through :data:`TEXT_VECTORS` (per embedder object, so another model never answers from this cache).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from embed.protocol import Embedder, Vectors


class TextVectors:
    """Recently embedded texts per embedder, most recent ``size`` kept. Shareable between threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._by_embedder: weakref.WeakKeyDictionary[Embedder, OrderedDict[str, Any]] = weakref.WeakKeyDictionary()

    def get(self, embedder: Embedder, texts: Sequence[str]) -> Vectors:
        """``texts`` embedded by ``embedder`` (float32 rows, in order), from the cache where they were seen."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            cache = self._by_embedder.setdefault(embedder, OrderedDict())
            missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            computed = embedder.embed_texts(missing)
            with self._lock:
                for text, vector in zip(missing, computed, strict=True):
                    cache[text] = vector
        with self._lock:
            out = []
            for text in texts:
                vector = cache.get(text)
                if vector is None:  # evicted meanwhile by another thread's turn
                    vector = embedder.embed_texts([text])[0]
                cache[text] = vector
                cache.move_to_end(text)
                out.append(vector)
            while len(cache) > self.size:
                cache.popitem(last=False)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)


TEXT_VECTORS = TextVectors(size=512)
