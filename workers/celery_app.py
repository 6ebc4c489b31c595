"""The Celery application.

Reliability settings (DESIGN.md): late acknowledgement, prefetch 1, redelivery of a task whose worker died
(``task_reject_on_worker_lost``), bounded retries in the task itself. Models load once per worker process in
``worker_process_init``, never at import. Tasks carry a document id, never the payload.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from core.logging import configure_logging
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

INGEST_QUEUE = "bindesk-ingest"
INGEST_TASK = "bindesk.ingest_document"


def make_celery(settings: Settings) -> Celery:
    app = Celery("bindesk", broker=settings.broker_url, backend=settings.result_backend, include=["workers.tasks"])
    transport_options: dict[str, Any] = {}
    # kombu's SQLAlchemy transport hands every transport option to create_engine(), which refuses any it does not
    # know (so sending a task fails): the embedded SQLite broker gets none (it polls once a second, and redelivers
    # unacknowledged tasks on restart rather than after a visibility timeout).
    if not settings.broker_url.startswith("sqla"):
        transport_options["visibility_timeout"] = settings.queue_visibility_timeout
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=INGEST_QUEUE,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=24 * 3600,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_track_started=True,
    )
    return app


celery_app = make_celery(get_settings())


@worker_process_init.connect
def _load_models(**_: Any) -> None:
    """Each worker process loads its models once, before taking a task."""
    from workers.tasks import runtime

    configure_logging(add_handler=False)  # Celery's handler already writes the worker's records
    try:
        runtime().warm_up()
    except Exception:  # a broken model must not kill the pool in a loop; tasks report it per document
        log.exception("model warm-up failed; tasks will retry loading")
