"""The in-process fixed-window limiter (the logic; the Redis one is tested against Redis)."""

from __future__ import annotations

from api.ratelimit import InProcessRateLimiter


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_events_past_the_limit_wait_for_the_next_window() -> None:
    clock = Clock(1_000_040.0)  # 20 s into a 60-s window (1,000,020 = 16,667 x 60)
    limiter = InProcessRateLimiter(clock)
    assert [limiter.hit("turn:ws:1.2.3.4", 3, 60) for _ in range(3)] == [None, None, None]
    assert limiter.hit("turn:ws:1.2.3.4", 3, 60) == 40  # seconds until the window ends
    clock.now += 39.5
    assert limiter.hit("turn:ws:1.2.3.4", 3, 60) == 1
    clock.now += 0.5  # the next window
    assert limiter.hit("turn:ws:1.2.3.4", 3, 60) is None


def test_each_key_counts_alone() -> None:
    limiter = InProcessRateLimiter(Clock(0.0))
    assert limiter.hit("turn:ws:1.2.3.4", 1, 60) is None
    assert limiter.hit("turn:ws:1.2.3.4", 1, 60) is not None
    assert limiter.hit("turn:ws:5.6.7.8", 1, 60) is None
    assert limiter.hit("turn:other:1.2.3.4", 1, 60) is None
