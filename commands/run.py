"""Long-running processes: the API, a worker, and ``up`` (all of it on one machine)."""

from __future__ import annotations

import logging
from pathlib import Path

from chat.views import AGENT_FALLBACK_NAME
from core.db import migrate, session_scope
from core.logging import leave_logging_to_celery
from core.models import ApiKey, Role
from core.settings import Settings
from core.workspaces import DEFAULT_WORKSPACE, create_key
from kb.embedded import vector_service
from workers.process import WorkerProcess, stop_cleanly_on_sigterm, worker_argv

log = logging.getLogger(__name__)


def run_serve(settings: Settings) -> int:
    """The API in this process (uvicorn), on ``settings.host:settings.port``."""
    import uvicorn

    from api.app import create_app

    migrate(settings)
    load_embedder(settings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", access_log=False)
    return 0


def run_worker(settings: Settings, concurrency: int | None = None) -> int:
    """A Celery worker in this process, consuming the ingest queue."""
    from workers.tasks import celery_app

    migrate(settings)
    leave_logging_to_celery()
    celery_app.worker_main(worker_argv(concurrency or settings.worker_concurrency))
    return 0


def run_up(settings: Settings) -> int:
    """Database migrated, vector server, one worker, and the API in the foreground; Ctrl-C or SIGTERM stops all."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    load_embedder(settings)  # before anything starts: a bad checkpoint leaves nothing running
    migrate(settings)
    _first_run_keys(settings)
    stop_cleanly_on_sigterm("worker and vector server")
    try:
        with vector_service(settings):
            _warn_if_indexed_by_another_embedder(settings)
            worker = WorkerProcess(settings, settings.data_dir / "worker.log").start()
            log.info("worker started (log: %s)", settings.data_dir / "worker.log")
            try:
                log.info(
                    "Bindesk on http://%s:%d  (widget /widget, inbox /agent, console /ops)",
                    settings.host,
                    settings.port,
                )
                return run_serve(settings)
            finally:
                worker.stop()
    finally:
        log.info("stopped: API, worker and vector server")


def _warn_if_indexed_by_another_embedder(settings: Settings) -> None:
    """Say so when documents are indexed but absent from this embedder's collection (the embedder was switched)."""
    from kb.runtime import Runtime, workspaces_missing_vectors

    runtime = Runtime(settings)
    try:
        missing = workspaces_missing_vectors(runtime)
    finally:
        runtime.close()  # the API opens its own connection; this check's is not needed past here
    if missing:
        log.warning(
            "workspaces %s have indexed documents but no vectors in the %s embedder's collection (indexed with "
            "another embedder?): search finds nothing there until `bindesk reindex --workspace W` "
            "has run (with the API stopped or not)",
            ", ".join(missing),
            settings.embedder,
        )


def load_embedder(settings: Settings) -> None:
    """Load the configured embedder's weights in this process, or raise the error a person can act on.

    The API would load them in its lifespan anyway (``get_embedder`` caches per settings, so that is then a no-op);
    doing it first turns a missing or mismatching ImageBind checkpoint into one line and a non-zero exit
    (:class:`core.errors.ModelUnavailable` / ``CheckpointMismatch``) instead of a failed ASGI startup.
    """
    from embed.factory import get_embedder

    embedder = get_embedder(settings)
    embedder.warm_up()
    log.info("embedder %s ready (%d-d vectors)", embedder.name, embedder.dense_dim)


def _first_run_keys(settings: Settings) -> None:
    """On a brand-new data directory, create one key per role so the pages can be used at once.

    The secrets are printed and written to ``<data_dir>/initial-keys.txt`` (mode 0600), once; only their
    hashes are in the database.
    """
    with session_scope(settings) as session:
        if session.query(ApiKey).count():
            return
        lines = []
        for role in (Role.OPS, Role.AGENT, Role.WIDGET):
            # An agent key's name is what customers see beside its replies.
            name = AGENT_FALLBACK_NAME if role == Role.AGENT else f"first {role.value} key"
            _, secret = create_key(session, DEFAULT_WORKSPACE, role, name=name)
            lines.append(f"{role.value}\t{secret}")
    path = Path(settings.data_dir) / "initial-keys.txt"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    log.info("first run: created keys for workspace %r (also in %s):\n%s", DEFAULT_WORKSPACE, path, "\n".join(lines))
