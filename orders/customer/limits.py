"""Rate limits (docs/customer-pages.md): how many pages and how many commands one signed-in visitor may
ask for in a minute, keyed by who the session is for (signing in again starts no new count), and a
session with nobody signed in, counted in this API process's memory (each process counts its own; a
restart forgets). The two are kept apart, so a flood of anonymous visitors can't push a customer's
count out of memory.

Numbers are in docs/customer-pages.md; they sit well above what a person (or the page's own refresh)
asks for and well below what would load Temporal.
"""

from __future__ import annotations

import time
from collections import deque

READS_PER_MINUTE = 120  # pages and the live refresh (every 2 s is 30 a minute)
COMMANDS_PER_MINUTE = 10  # forms sent
WINDOW = 60.0
MAX_TRACKED = 10_000  # keys remembered at once; the least recently seen are forgotten first


class RateLimit:
    def __init__(self, per_window: int, window: float = WINDOW, max_tracked: int = MAX_TRACKED) -> None:
        self.per_window, self.window, self.max_tracked = per_window, window, max_tracked
        self._seen: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float | None = None) -> float:
        """0 and counted when `key` may go on now; else the seconds until it may (and not counted)."""
        now = time.monotonic() if now is None else now
        seen = self._seen.pop(key, None) or deque()
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        self._seen[key] = seen  # most recently seen last
        if len(seen) >= self.per_window:
            return seen[0] + self.window - now
        seen.append(now)
        while len(self._seen) > self.max_tracked:
            del self._seen[next(iter(self._seen))]
        return 0.0


class Limits:
    """A limit's two pools: signed-in visitors by who they are, the others by their session."""

    def __init__(self, per_window: int) -> None:
        self.signed_in, self.anonymous = RateLimit(per_window), RateLimit(per_window)

    def wait(self, key: str, *, signed_in: bool) -> float:
        return (self.signed_in if signed_in else self.anonymous).wait(key)
