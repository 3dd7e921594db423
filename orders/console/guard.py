"""How much password checking a sign-in may cause (docs/console.md, "Security"), and who is asking.

Argon2 is slow on purpose: each check takes a good part of a second of CPU on several threads. Without a
bound, a flood of sign-ins (names that don't exist cost the same) starved the API on the same cores.
`PasswordChecks` runs at most `concurrency` checks at once in this API process and lets one client hold
at most `per_client` of them, running or waiting; a check waits its turn at most `WAIT_SECONDS`, and a
sign-in that can't get one is answered 429 with `Retry-After`, unjudged (it counts as no attempt). The
checks run in threads of their own at a lower priority than the event loop's, so what does run yields
the cores to the API's other answers (docs/performance.md, "Sign-in flood").

The client is the address the connection came from: behind a reverse proxy that is the proxy, unless its
address is in ORDERS_TRUSTED_PROXIES, when the API believes its `X-Forwarded-For` (`orders/api/app.py`).
An IPv6 client is its /64 network, which one host usually has whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TypeVar

from fastapi import Request

WAIT_SECONDS = 2.0  # the longest a sign-in waits for its turn before it is answered 429
QUEUE_PER_SLOT = 8  # waiting checks per running one; more are answered 429 at once
RETRY_AFTER_SECONDS = 5
PER_CLIENT = 2  # one person signs in once; a second check covers a double click
CHECK_NICENESS = 10  # below the event loop's 0: the API's other answers come first
T = TypeVar("T")


def default_concurrency() -> int:
    """A quarter of the cores, at least one: each Argon2 check computes 4 lanes in parallel
    (`pwdlib`'s defaults), so one check keeps up to 4 cores busy."""
    return max(1, (os.cpu_count() or 1) // 4)


class Busy(Exception):
    """No turn for this password check now; nothing was judged."""

    def __init__(self, retry_after: int = RETRY_AFTER_SECONDS) -> None:
        super().__init__("Too many sign-ins at once. Try again in a few seconds.")
        self.retry_after = retry_after


def _lower_priority() -> None:
    """Run this thread (and the Argon2 lane threads it starts, which inherit it) at a lower priority
    than the event loop's, so a busy check yields the cores to the API's other answers."""
    with contextlib.suppress(AttributeError, OSError):  # per-thread niceness is Linux's
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CHECK_NICENESS)


class PasswordChecks:
    def __init__(self, concurrency: int | None = None, per_client: int = PER_CLIENT) -> None:
        self.concurrency = concurrency or default_concurrency()
        self.per_client = per_client
        self.max_waiting = QUEUE_PER_SLOT * self.concurrency
        self._slots = asyncio.Semaphore(self.concurrency)
        self._waiting = 0
        self._held: Counter[str] = Counter()  # checks per client, running or waiting
        self._threads = ThreadPoolExecutor(
            self.concurrency, thread_name_prefix="password-check", initializer=_lower_priority
        )

    async def check(self, client: str, work: Callable[[], T]) -> T:
        """`work` (a password check) run in one of this bound's low-priority threads, in `client`'s turn;
        `Busy` when there is none to be had soon."""
        async with self.turn(client):
            return await asyncio.get_running_loop().run_in_executor(self._threads, work)

    @asynccontextmanager
    async def turn(self, client: str) -> AsyncIterator[None]:
        """A slot to check one password in, for `client`; `Busy` when there is none to be had soon.
        Decided before the first await, so simultaneous requests can't all pass the same count."""
        if self._held[client] >= self.per_client or self._waiting >= self.max_waiting:
            raise Busy()
        self._held[client] += 1
        try:
            self._waiting += 1
            try:
                async with asyncio.timeout(WAIT_SECONDS):
                    await self._slots.acquire()
            except TimeoutError:
                raise Busy() from None
            finally:
                self._waiting -= 1
            try:
                yield
            finally:
                self._slots.release()
        finally:
            self._held[client] -= 1
            if not self._held[client]:
                del self._held[client]


def client_of(request: Request) -> str:
    """Who is signing in, as far as this process can tell: the peer's address (the proxy's own, unless
    trusted), an IPv6 one as its /64."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
