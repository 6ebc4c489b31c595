"""Ops figures."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from api.deps import OpsPrincipal, SessionDep
from chat.stats import daily_stats

router = APIRouter(prefix="/v1/ops", tags=["ops"])


@router.get("/stats")
def stats(principal: OpsPrincipal, session: SessionDep, days: int = Query(default=30, ge=1, le=365)) -> dict[str, Any]:
    return daily_stats(session, principal.workspace_id, days=days)
