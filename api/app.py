"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from api.errors import install_error_handlers
from api.limits import BodyLimitMiddleware
from api.metrics import HttpMetrics, StoreCollector
from api.ratelimit import make_rate_limiter
from api.routes import agent, auth, conversations, feedback, health, kb, ops, pages
from chat.events import make_event_bus
from core.settings import Settings, get_settings
from kb.documents import Enqueue
from kb.runtime import Runtime
from workers.queue import TaskQueue, queue_depth

log = logging.getLogger(__name__)

_JSON_LIMIT = 1 * 1024 * 1024


def _limit_for(settings: Settings) -> Callable[[str, str], int]:
    upload_limit = settings.max_upload_bytes * 4 + _JSON_LIMIT  # several files per request, each capped alone
    message_limit = settings.max_image_bytes + settings.max_audio_bytes + _JSON_LIMIT

    def limit(method: str, path: str) -> int:
        if path.startswith("/v1/kb/documents"):
            return upload_limit
        if path.startswith("/v1/conversations/") or path == "/v1/kb/search":
            return message_limit
        return _JSON_LIMIT

    return limit


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    enqueue: Enqueue | None = None,
    warm_up: bool = True,
) -> FastAPI:
    """Build the app. ``enqueue`` sends a document id to the ingest queue (default: the Celery task)."""
    settings = settings or get_settings()
    runtime = runtime or Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            # Load models off the event loop (uvicorn serves requests once this finishes; /readyz then checks deps).
            await asyncio.to_thread(partial(runtime.warm_up, generator=True))
        yield
        runtime.close()

    app = FastAPI(title="Bindesk", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.enqueue = enqueue or TaskQueue(settings).enqueue_ingest
    app.state.events = make_event_bus(settings.redis_url)
    app.state.rate_limiter = make_rate_limiter(settings.redis_url)
    registry = CollectorRegistry()

    registry.register(StoreCollector(settings, lambda: queue_depth(settings)))
    http_metrics = HttpMetrics(registry)
    app.state.metrics_registry = registry

    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limit_for=_limit_for(settings))

    @app.middleware("http")
    async def _observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        http_metrics.requests.labels(request.method, path, str(response.status_code)).inc()
        http_metrics.latency.labels(path).observe(time.perf_counter() - started)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    for module in (health, kb, conversations, agent, auth, feedback, ops, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=pages.WEB_DIR / "static"), name="static")
    return app
