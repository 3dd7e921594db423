"""The queue as every open console page polls it: one visibility read per filter per second at most,
however many people have the page open (`QueueCache`), so twenty staff polling every 2 s cost what one
does. A full page load always reads afresh (and refreshes the cache); an action clears it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from orders.queue import PendingRequest

TTL = 1.0  # seconds a read serves the polls (docs/console.md: how soon a change shows)
MAX_KEYS = 64

Key = tuple[str, str]  # (customer, reason code) filters
Read = Callable[[], Awaitable[list[PendingRequest]]]


class QueueCache:
    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._entries: dict[Key, tuple[float, list[PendingRequest]]] = {}
        self._locks: dict[Key, asyncio.Lock] = {}

    async def fresh(self, key: Key, read: Read) -> list[PendingRequest]:
        """Read now, and let the polls use it."""
        began = time.monotonic()
        rows = await read()
        self._store(key, began, rows)
        return rows

    async def recent(self, key: Key, read: Read) -> list[PendingRequest]:
        """A read at most `ttl` old; concurrent polls of one filter share one read."""
        hit = self._entries.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            hit = self._entries.get(key)
            if hit and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
            return await self.fresh(key, read)

    def clear(self) -> None:
        self._entries.clear()

    def _store(self, key: Key, at: float, rows: list[PendingRequest]) -> None:
        self._entries[key] = (at, rows)
        while len(self._entries) > MAX_KEYS:
            oldest = min(self._entries, key=lambda k: self._entries[k][0])
            del self._entries[oldest]
            self._locks.pop(oldest, None)
