"""Rate limits on what anyone holding the public widget key can start: conversations and customer turns.

The widget key is in every page that embeds the widget, so it names a site, not a person. Without a limit one
script could open conversations and send photos and voice notes (an OCR or a Whisper run each) until the CPU
is gone for every tenant. Each limit counts events per workspace and client address in fixed windows
(``Settings.rate_limit_*``; 0 turns a limit off) and answers 429 ``too_many_requests`` with ``Retry-After``.

:class:`RedisRateLimiter` shares the counts between API processes (with ``BINDESK_REDIS_URL``, as live events
do); :class:`InProcessRateLimiter` serves the embedded single-process mode. A limiter that cannot reach its
store lets the request through (logged): a down Redis must not stop customers from being answered.
The client address is the connection's; behind a reverse proxy, uvicorn takes it from ``X-Forwarded-For``
for the proxies it trusts (``--forwarded-allow-ips``; 127.0.0.1 by default).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from fastapi import Request

from core.errors import TooManyRequests

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_seconds: int) -> int | None:
        """Count one event under ``key``. None while at most ``limit`` events fell in the current window of
        ``window_seconds``; otherwise the whole seconds until that window ends (the event still counts)."""
        ...


class InProcessRateLimiter:
    """Fixed-window counters in this process's memory (thread-safe; windows that ended are dropped)."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, int]] = {}  # key -> (window number, events in it)
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_seconds: int) -> int | None:
        now = self._clock()
        window = int(now // window_seconds)
        with self._lock:
            if len(self._counts) > 100_000:  # drop the keys of windows that have ended
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            seen_window, count = self._counts.get(key, (window, 0))
            count = count + 1 if seen_window == window else 1
            self._counts[key] = (window, count)
        return None if count <= limit else _seconds_left(now, window, window_seconds)


class RedisRateLimiter:
    """Fixed-window counters in Redis (``INCR`` + ``EXPIRE``), shared by every API process."""

    def __init__(self, url: str, prefix: str = "bindesk:ratelimit:", clock: Clock = time.time) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix = prefix
        self._clock = clock

    def hit(self, key: str, limit: int, window_seconds: int) -> int | None:
        now = self._clock()
        window = int(now // window_seconds)
        name = f"{self._prefix}{key}:{window}"
        try:
            pipe = self._redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, window_seconds + 1)
            count = int(pipe.execute()[0])
        except Exception as exc:
            log.warning("rate limit store unavailable, letting the request through: %s", exc)
            return None
        return None if count <= limit else _seconds_left(now, window, window_seconds)


def make_rate_limiter(redis_url: str) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else InProcessRateLimiter()


def enforce(request: Request, what: str, workspace_id: str, limit: int, window_seconds: int) -> None:
    """Count one ``what`` (e.g. "turn") by this client in ``workspace_id``; :class:`TooManyRequests` over
    ``limit`` per ``window_seconds``. ``limit`` 0: no limit."""
    if limit <= 0:
        return
    client = request.client.host if request.client else "unknown"
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.hit(f"{what}:{workspace_id}:{client}", limit, window_seconds)
    if wait is not None:
        raise TooManyRequests(
            f"too many {what}s from this address: at most {limit} per {window_seconds} s; try again in {wait} s",
            retry_after=wait,
        )


def _seconds_left(now: float, window: int, window_seconds: int) -> int:
    return max(1, int((window + 1) * window_seconds - now + 0.999))
