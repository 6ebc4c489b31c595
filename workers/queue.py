"""What the broker holds: queue depth for metrics and readiness, read without consuming anything."""

from __future__ import annotations

import logging
from functools import cached_property

from celery import Celery
from sqlalchemy import create_engine, text

from core.settings import Settings
from workers.celery_app import INGEST_QUEUE, INGEST_TASK, make_celery

log = logging.getLogger(__name__)


class TaskQueue:
    """Sends work to the workers through the broker named in ``settings`` (not the process-wide app), so an API
    built for one configuration never talks to another's broker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def _app(self) -> Celery:
        return make_celery(self.settings)

    def enqueue_ingest(self, document_id: str) -> None:
        """Send the ingest task; raises (kombu's ``OperationalError``) within about a second when the broker
        cannot be reached. The outcome lives on the document's row, so no task result is kept or awaited: with
        a result wanted, Celery first subscribes to the result backend and, that being down too, retries for
        20 s before it gives up."""
        self._app.send_task(INGEST_TASK, args=[document_id], queue=INGEST_QUEUE, ignore_result=True)


def queue_depth(settings: Settings) -> int | None:
    """Ingest tasks waiting (not yet taken by a worker); None if the broker cannot be read."""
    url = settings.broker_url
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_timeout=2)
            return int(client.llen(INGEST_QUEUE))
        if url.startswith("sqla+"):
            engine = create_engine(url.removeprefix("sqla+"))
            try:
                with engine.connect() as conn:
                    row = conn.execute(
                        text(
                            "SELECT count(*) FROM kombu_message m JOIN kombu_queue q ON m.queue_id = q.id "
                            "WHERE q.name = :name AND m.visible"
                        ),
                        {"name": INGEST_QUEUE},
                    ).scalar()
                    return int(row or 0)
            finally:
                engine.dispose()
    except Exception as exc:  # a missing table simply means nothing was ever queued
        log.debug("queue depth unavailable: %s", exc)
        return 0 if "no such table" in str(exc) else None
    return None
