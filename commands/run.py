"""Long-running processes: the API, a worker, and ``up`` (all of it on one machine)."""

from __future__ import annotations

import logging
from pathlib import Path

from core.db import migrate, session_scope
from core.models import ApiKey, Role
from core.settings import Settings
from core.workspaces import DEFAULT_WORKSPACE, create_key
from kb.embedded import vector_service
from workers.process import WorkerProcess, worker_argv

log = logging.getLogger(__name__)


def run_serve(settings: Settings) -> int:
    """The API in this process (uvicorn), on ``settings.host:settings.port``."""
    import uvicorn

    from api.app import create_app

    migrate(settings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", access_log=False)
    return 0


def run_worker(settings: Settings, concurrency: int | None = None) -> int:
    """A Celery worker in this process, consuming the ingest queue."""
    from workers.tasks import celery_app

    migrate(settings)
    celery_app.worker_main(worker_argv(concurrency or settings.worker_concurrency))
    return 0


def run_up(settings: Settings) -> int:
    """Database migrated, vector server, one worker, and the API in the foreground; Ctrl-C stops all."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings)
    _first_run_keys(settings)
    with vector_service(settings):
        worker = WorkerProcess(settings, settings.data_dir / "worker.log").start()
        log.info("worker started (log: %s)", settings.data_dir / "worker.log")
        try:
            log.info(
                "Bindesk on http://%s:%d  (widget /widget, inbox /agent, console /ops)", settings.host, settings.port
            )
            return run_serve(settings)
        finally:
            worker.stop()


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
            _, secret = create_key(session, DEFAULT_WORKSPACE, role, name=f"first {role.value} key")
            lines.append(f"{role.value}\t{secret}")
    path = Path(settings.data_dir) / "initial-keys.txt"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    log.info("first run: created keys for workspace %r (also in %s):\n%s", DEFAULT_WORKSPACE, path, "\n".join(lines))
