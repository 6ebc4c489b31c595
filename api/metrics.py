"""Prometheus metrics. Figures that span processes (documents by status, ingest time, queue depth) are read
from the database and the broker at scrape time, so any API process reports the same numbers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from core.db import session_scope
from core.models import Document, DocumentStatus
from core.settings import Settings

log = logging.getLogger(__name__)

INGEST_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)


class StoreCollector(Collector):
    def __init__(self, settings: Settings, queue_depth: Callable[[], int | None]) -> None:
        self.settings = settings
        self.queue_depth = queue_depth

    def collect(self) -> Iterator[Metric]:
        docs = GaugeMetricFamily("bindesk_documents", "Knowledge-base documents by status", labels=["status"])
        ingest = HistogramMetricFamily("bindesk_ingest_seconds", "Seconds to index a document (last version)")
        try:
            with session_scope(self.settings) as session:
                counts = dict(
                    session.execute(select(Document.status, func.count()).group_by(Document.status)).tuples().all()
                )
                query = select(Document.ingest_seconds).where(Document.ingest_seconds.is_not(None))
                seconds = [float(s) for s in session.scalars(query) if s is not None]
        except Exception:
            log.exception("metrics: database unavailable")
            return
        for status in DocumentStatus:
            docs.add_metric([status.value], float(counts.get(status, 0)))
        buckets = [(str(b), float(sum(1 for s in seconds if s <= b))) for b in INGEST_BUCKETS]
        buckets.append(("+Inf", float(len(seconds))))
        ingest.add_metric([], buckets, sum_value=float(sum(seconds)))
        yield docs
        yield ingest
        depth = self.queue_depth()
        if depth is not None:
            queue = GaugeMetricFamily("bindesk_queue_depth", "Ingest tasks waiting in the broker")
            queue.add_metric([], float(depth))
            yield queue


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "bindesk_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
        )
        self.latency = Histogram(
            "bindesk_http_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
