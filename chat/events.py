"""Live events (bot answers, agent replies, new escalations) delivered to browsers on any API process.

Channels: ``conversation:<id>`` (what the customer's widget and the agent's transcript view follow) and
``inbox:<workspace>`` (new and changed inbox items). :class:`RedisEventBus` fans out across processes with
Redis pub/sub; :class:`InProcessEventBus` serves the embedded single-process mode. Publishing is synchronous
(turns run in worker threads); subscribing is an async iterator (server-sent-event responses).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any, Protocol

log = logging.getLogger(__name__)

Event = dict[str, Any]


class EventBus(Protocol):
    def publish(self, channel: str, event: Event) -> None:
        """Deliver ``event`` (JSON-serialisable, with a ``type``) to current subscribers; never blocks long."""
        ...

    def subscribe(self, channel: str) -> AsyncIterator[Event]:
        """Events published on ``channel`` from now on, until the consumer stops iterating."""
        ...


def conversation_channel(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def inbox_channel(workspace_id: str) -> str:
    return f"inbox:{workspace_id}"


class InProcessEventBus:
    """Subscribers in this process only (the embedded default with one API process)."""

    def __init__(self, max_queue: int = 256) -> None:
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]]] = {}
        self._lock = threading.Lock()
        self._max_queue = max_queue

    def publish(self, channel: str, event: Event) -> None:
        with self._lock:
            targets = list(self._subscribers.get(channel, ()))
        for loop, queue in targets:
            try:
                loop.call_soon_threadsafe(_offer, queue, event)
            except RuntimeError:  # that subscriber's loop has closed
                continue

    async def subscribe(self, channel: str) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._max_queue)
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(entry)
        try:
            while True:
                yield await queue.get()
        finally:
            with self._lock:
                self._subscribers.get(channel, set()).discard(entry)


def _offer(queue: asyncio.Queue[Event], event: Event) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:  # a stalled client loses events rather than holding memory; it can reload
        log.warning("dropping an event for a slow subscriber")


class RedisEventBus:
    """Redis pub/sub: an event published by any process reaches subscribers on every process."""

    def __init__(self, url: str, prefix: str = "bindesk:") -> None:
        import redis

        self.url = url
        self.prefix = prefix
        self._client = redis.Redis.from_url(url, socket_timeout=5)

    def publish(self, channel: str, event: Event) -> None:
        try:
            self._client.publish(self.prefix + channel, json.dumps(event))
        except Exception:  # live updates are best effort; the data is already stored
            log.exception("could not publish an event on %s", channel)

    async def subscribe(self, channel: str) -> AsyncIterator[Event]:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url)
        pubsub = client.pubsub()
        await pubsub.subscribe(self.prefix + channel)
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30.0)
                if message is None:
                    continue
                try:
                    yield json.loads(message["data"])
                except (ValueError, TypeError):
                    log.warning("ignoring a malformed event on %s", channel)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()
            await client.aclose()


def make_event_bus(redis_url: str) -> EventBus:
    """Redis when configured (several API processes), in-process otherwise."""
    return RedisEventBus(redis_url) if redis_url else InProcessEventBus()
