"""Fixtures of the chat tests: worlds with a small knowledge base, driven through the HTTP API (chatworld.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack

import pytest

from kb.runtime import Models
from tests.integration.chat.chatworld import ChatWorld, KbFile, build_chat_world

MakeChatWorld = Callable[..., ChatWorld]


@pytest.fixture(scope="module")
def make_chat_world(
    tmp_path_factory: pytest.TempPathFactory, milvus_uri: str, models: Models
) -> Iterator[MakeChatWorld]:
    """``make(kb, settings_overrides=None, own_generator=False) -> ChatWorld``, once or more per module: each call
    a fresh workspace with ``kb`` (file name, bytes) uploaded and indexed, on the session's vector server and
    models. ``own_generator``: the generator is the one the world's settings choose (``generator``, ``t5_*``,
    ``openai_*`` overrides), beside the session's embedder, OCR and speech models. Clients close with the module."""
    with ExitStack() as stack:

        def make(
            kb: Sequence[KbFile],
            settings_overrides: Mapping[str, object] | None = None,
            own_generator: bool = False,
        ) -> ChatWorld:
            root = tmp_path_factory.mktemp("chat-world")
            return build_chat_world(stack, root, milvus_uri, models, kb, settings_overrides, own_generator)

        yield make
