"""Logging set-up shared by every entry point: one line per record, UTC timestamps."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str = "INFO", *, add_handler: bool = True) -> None:
    """Idempotent: calling it twice does not duplicate handlers. ``add_handler=False`` sets the levels only,
    for a process whose root logger already writes somewhere (a Celery worker: a second stderr handler there
    was captured by Celery's stdout redirect and printed every line twice)."""
    root = logging.getLogger()
    if add_handler and not any(getattr(h, "_bindesk", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._bindesk = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # Libraries that are chatty at INFO.
    for noisy in ("httpx", "sentence_transformers", "faster_whisper", "RapidOCR", "pymilvus", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def leave_logging_to_celery() -> None:
    """Remove the handler :func:`configure_logging` added, before this process becomes a Celery worker: Celery
    writes every record itself and captures stderr, so ours would print each line a second time."""
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "_bindesk", False)]
