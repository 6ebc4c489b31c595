"""The shared cache of embedded query texts (kb.text_vectors): one turn embeds each text once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embed.protocol import Vectors
from kb.text_vectors import TextVectors


class CountingEmbedder:
    """A text encoder that records what it was asked to embed (only ``embed_texts`` is used by the cache)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset
        self.asked: list[str] = []

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        self.asked.extend(texts)
        return np.array([[len(t) + self.offset, 1.0] for t in texts], dtype=np.float32)


def test_a_text_seen_before_is_not_embedded_again_and_rows_keep_the_order_asked() -> None:
    cache, embedder = TextVectors(size=8), CountingEmbedder()
    first = cache.get(embedder, ["pair the remote", "reset"])  # type: ignore[arg-type]
    second = cache.get(embedder, ["reset", "pair the remote", "reset"])  # type: ignore[arg-type]
    assert embedder.asked == ["pair the remote", "reset"]
    assert second.dtype == np.float32 and second.shape == (3, 2)
    np.testing.assert_array_equal(second[1], first[0])
    np.testing.assert_array_equal(second[0], second[2])


def test_each_embedder_has_its_own_vectors() -> None:
    cache, one, other = TextVectors(size=8), CountingEmbedder(), CountingEmbedder(offset=100.0)
    a = cache.get(one, ["reset"])  # type: ignore[arg-type]
    b = cache.get(other, ["reset"])  # type: ignore[arg-type]
    assert other.asked == ["reset"] and a[0, 0] != b[0, 0]


def test_the_least_recently_used_text_is_forgotten_past_the_size() -> None:
    cache, embedder = TextVectors(size=2), CountingEmbedder()
    for text in ("a", "b", "a", "c"):  # "b" is the least recently used when "c" arrives
        cache.get(embedder, [text])  # type: ignore[arg-type]
    cache.get(embedder, ["a", "c", "b"])  # type: ignore[arg-type]
    assert embedder.asked == ["a", "b", "c", "b"]


def test_no_texts_gives_no_rows() -> None:
    assert cache_rows(TextVectors(size=2).get(CountingEmbedder(), [])) == 0  # type: ignore[arg-type]


def cache_rows(vectors: Vectors) -> int:
    return int(vectors.shape[0])
