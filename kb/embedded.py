"""The embedded vector service: a milvus-lite server owning ``<data_dir>/milvus``, started on demand.

Only one process may own a milvus-lite data directory, so every Bindesk process on the machine (API, workers,
CLI) talks to one server over loopback. ``bindesk up`` starts it for its lifetime; a CLI command run while
nothing is up starts its own for the duration of the command.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from core.settings import Settings
from retrieval.lite_server import MilvusLiteServer, wait_for_milvus

log = logging.getLogger(__name__)


def uses_embedded_milvus(settings: Settings) -> bool:
    return settings.milvus_uri == f"http://127.0.0.1:{settings.milvus_lite_port}"


def milvus_answers(settings: Settings, timeout: float = 2.0) -> bool:
    try:
        wait_for_milvus(settings.milvus_uri, timeout=timeout, token=settings.milvus_token)
        return True
    except Exception:
        return False


@contextmanager
def vector_service(settings: Settings) -> Iterator[MilvusLiteServer | None]:
    """Make sure the configured Milvus answers; start the embedded server if it is ours and not running.

    Yields the server this call started (stopped on exit), or None when one was already there or the URI
    points elsewhere (then it must answer, else :class:`core.errors.ServiceUnavailable`).
    """
    if milvus_answers(settings):
        yield None
        return
    if not uses_embedded_milvus(settings):
        wait_for_milvus(settings.milvus_uri, timeout=15, token=settings.milvus_token)
        yield None
        return
    server = MilvusLiteServer(
        settings.milvus_lite_dir, settings.milvus_lite_port, log_path=settings.data_dir / "milvus.log"
    )
    log.info("starting milvus-lite on %s (data in %s)", server.uri, settings.milvus_lite_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
