"""Session-scoped models for the embed tests: each loads once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from embed.local import LocalEmbedder
from embed.text import MiniLMTextEncoder
from embed.vision import EfficientNetVisualEncoder
from kb.runtime import Models


@pytest.fixture(scope="session")
def local_embedder(models: Models, tmp_path_factory: pytest.TempPathFactory) -> LocalEmbedder:
    """The session's local embedder (shared with the other suites' ``models`` when it is the local one)."""
    embedder = models.embedder
    if not isinstance(embedder, LocalEmbedder):  # BINDESK_EMBEDDER points elsewhere: build our own
        settings = Settings(data_dir=Path(tmp_path_factory.mktemp("embed")), embedder="local")
        embedder = LocalEmbedder(settings)
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="session")
def text_encoder(local_embedder: LocalEmbedder) -> MiniLMTextEncoder:
    return local_embedder.text_encoder


@pytest.fixture(scope="session")
def visual_encoder(local_embedder: LocalEmbedder) -> EfficientNetVisualEncoder:
    return local_embedder.visual_encoder
