"""Celery tasks. Each is idempotent: running it twice, or after a crash, changes nothing more."""

from __future__ import annotations

import logging
from functools import lru_cache

from celery import Task

from core.settings import get_settings
from kb.indexing import index_document, mark_failed
from kb.runtime import Runtime
from workers.celery_app import INGEST_QUEUE, INGEST_TASK, celery_app

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    """The worker process's models, vector store and graph."""
    return Runtime(get_settings())


@celery_app.task(bind=True, name=INGEST_TASK, acks_late=True, queue=INGEST_QUEUE)
def ingest_document(self: Task, document_id: str) -> dict[str, object]:
    """Index one document by id. Failures that are not the document's fault (vector store or database down)
    are retried with backoff up to ``Settings.ingest_max_retries`` times, then the document ends ``failed``."""
    settings = get_settings()
    try:
        outcome = index_document(runtime(), document_id)
    except Exception as exc:
        retries = self.request.retries or 0
        if retries >= settings.ingest_max_retries:
            log.exception("giving up on document %s after %d retries", document_id, retries)
            mark_failed(runtime(), document_id, f"internal_error: gave up after {retries + 1} attempts: {exc}")
            return {"document_id": document_id, "status": "failed"}
        log.warning("document %s: %s; retrying", document_id, exc)
        raise self.retry(exc=exc, countdown=min(60, 2 ** (retries + 1))) from exc
    return {"document_id": outcome.document_id, "status": outcome.status, "chunks": outcome.chunks}
