"""Pick the Embedder a deployment is configured for, once per process."""

from __future__ import annotations

import importlib
import threading

from core.errors import ModelUnavailable
from core.settings import Settings
from embed.protocol import Embedder

__all__ = ["EMBEDDER_FIELDS", "clear_embedder_cache", "get_embedder"]

# The settings an embedder is built from; settings that differ only elsewhere (data directory, ports, ...)
# share one embedder, so a process never loads the same weights twice.
EMBEDDER_FIELDS = (
    "embedder",
    "torch_threads",
    "embed_batch_size",
    "imagebind_checkpoint",
    "imagebind_device",
    "imagebind_dtype",
    "imagebind_config",
)

_cache: dict[str, Embedder] = {}
_lock = threading.Lock()


def get_embedder(settings: Settings) -> Embedder:
    """The process's Embedder for ``settings.embedder`` ("local" or "imagebind"), built once per settings.

    Building is cheap (no weights are read); call ``warm_up()`` on the result to load them. Settings that agree
    on :data:`EMBEDDER_FIELDS` share one embedder. The ImageBind backend is imported only when asked for.
    """
    key = settings.model_dump_json(include=set(EMBEDDER_FIELDS))
    with _lock:
        embedder = _cache.get(key)
        if embedder is None:
            embedder = _build(settings)
            _cache[key] = embedder
        return embedder


def clear_embedder_cache() -> None:
    """Forget the built embedders (tests that change settings)."""
    with _lock:
        _cache.clear()


def _build(settings: Settings) -> Embedder:
    if settings.embedder == "local":
        from embed.local import LocalEmbedder

        return LocalEmbedder(settings)
    if settings.embedder == "imagebind":
        try:
            backend = importlib.import_module("embed.imagebind.backend")
        except ImportError as exc:
            raise ModelUnavailable(f"the imagebind embedder cannot be imported: {exc}") from exc
        embedder: Embedder = backend.ImageBindEmbedder(settings)
        return embedder
    raise ModelUnavailable(f"unknown embedder {settings.embedder!r}; expected 'local' or 'imagebind'")
