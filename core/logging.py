"""Logging set-up shared by every entry point: one line per record, UTC timestamps."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str = "INFO") -> None:
    """Idempotent: calling it twice does not duplicate handlers."""
    root = logging.getLogger()
    if any(getattr(h, "_bindesk", False) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._bindesk = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries that are chatty at INFO.
    for noisy in ("httpx", "sentence_transformers", "faster_whisper", "RapidOCR", "pymilvus", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
