"""The local backend keeps the Embedder contract (the same check the ImageBind backend runs)."""

from __future__ import annotations

import pytest

from embed.local import LocalEmbedder
from tests.unit.embed.contract import check_embedder_contract

pytestmark = pytest.mark.slow


def test_local_embedder_keeps_the_embedder_contract(local_embedder: LocalEmbedder) -> None:
    check_embedder_contract(local_embedder)


def test_local_embedder_dimensions(local_embedder: LocalEmbedder) -> None:
    assert local_embedder.name == "local"
    assert local_embedder.dense_dim == 384
    assert local_embedder.visual_dim == 1280
    assert local_embedder.max_text_tokens == 256
