"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import RuntimeDep, SettingsDep
from core.db import ping

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process answers. Says nothing about its dependencies (that is /readyz)."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep, settings: SettingsDep) -> JSONResponse:
    """503 while the database or the vector store cannot answer."""
    checks: dict[str, str] = {}
    # The store is reached inside the probe: its first use connects and prepares the collection, which may fail.
    for name, probe in (("database", lambda: ping(settings)), ("vector_store", lambda: runtime.store.ping())):
        try:
            await asyncio.wait_for(asyncio.to_thread(probe), timeout=5)
            checks[name] = "ok"
        except Exception as exc:
            # Unauthenticated route: the reason's class only; the message (hosts, users, paths) goes to the log.
            log.warning("readiness: %s unavailable: %s", name, exc)
            checks[name] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    body: dict[str, object] = {"status": "ready" if ready else "not_ready", "checks": checks}
    if not ready:
        body["error"] = {"code": "service_unavailable", "message": "; ".join(f"{k} {v}" for k, v in checks.items())}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
