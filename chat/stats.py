"""The figures that tell whether the bot helps, by day: conversations, answered without a human, escalations
by reason, thumbs up/down, reopened after resolution, median answer latency."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.conversations import aware
from core.models import Conversation, Feedback, Message


def daily_stats(session: Session, workspace_id: str, days: int = 30, today: date | None = None) -> dict[str, Any]:
    today = today or datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    conversations = list(
        session.scalars(
            select(Conversation).where(Conversation.workspace_id == workspace_id, Conversation.created_at >= since)
        )
    )
    bot_messages = list(
        session.scalars(
            select(Message).where(
                Message.workspace_id == workspace_id, Message.role == "bot", Message.created_at >= since
            )
        )
    )
    feedback = list(
        session.scalars(select(Feedback).where(Feedback.workspace_id == workspace_id, Feedback.created_at >= since))
    )
    answered_by_conv: set[str] = {m.conversation_id for m in bot_messages if m.decision == "answer"}
    by_day: dict[date, dict[str, Any]] = {first + timedelta(days=i): _empty_day() for i in range(days)}
    for c in conversations:
        day = by_day.get(_day(c.created_at))
        if day is None:
            continue
        day["conversations"] += 1
        if c.escalated_at is None and c.id in answered_by_conv:
            day["answered_without_human"] += 1
        if c.escalated_at is not None:
            day["escalated"] += 1
            day["escalated_by_reason"][c.escalation_reason or "unknown"] += 1
        if c.reopened_count:
            day["reopened"] += 1
    latencies: dict[date, list[float]] = defaultdict(list)
    for m in bot_messages:
        if m.latency_ms is not None:
            latencies[_day(m.created_at)].append(m.latency_ms)
    for f in feedback:
        day = by_day.get(_day(f.created_at))
        if day is not None:
            day["thumbs_up" if f.rating > 0 else "thumbs_down"] += 1
    rows = []
    for d, day in sorted(by_day.items()):
        values = latencies.get(d, [])
        day["median_answer_ms"] = round(statistics.median(values), 1) if values else None
        day["escalated_by_reason"] = dict(day["escalated_by_reason"])
        rows.append({"date": d.isoformat(), **day})
    return {"days": rows, "totals": _totals(rows, [m.latency_ms for m in bot_messages if m.latency_ms is not None])}


def _empty_day() -> dict[str, Any]:
    return {
        "conversations": 0,
        "answered_without_human": 0,
        "escalated": 0,
        "escalated_by_reason": Counter(),
        "thumbs_up": 0,
        "thumbs_down": 0,
        "reopened": 0,
    }


def _day(moment: datetime) -> date:
    value = aware(moment)
    assert value is not None
    return value.astimezone(UTC).date()


def _totals(rows: list[dict[str, Any]], latencies: list[float]) -> dict[str, Any]:
    total = {
        k: sum(r[k] for r in rows)
        for k in ("conversations", "answered_without_human", "escalated", "thumbs_up", "thumbs_down", "reopened")
    }
    reasons: Counter[str] = Counter()
    for r in rows:
        reasons.update(r["escalated_by_reason"])
    rated = total["thumbs_up"] + total["thumbs_down"]
    total["escalated_by_reason"] = dict(reasons)
    total["deflection_rate"] = (
        round(total["answered_without_human"] / total["conversations"], 3) if total["conversations"] else None
    )
    total["thumbs_up_rate"] = round(total["thumbs_up"] / rated, 3) if rated else None
    total["median_answer_ms"] = round(statistics.median(latencies), 1) if latencies else None
    return total
