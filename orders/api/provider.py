"""Temporal, connected lazily: `OrdersProvider` holds the API's one `OrdersClient`, connecting on first
use, and `provider_of` finds it from a request.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import Request

from orders.client import OrdersClient
from orders.errors import TemporalUnavailable
from orders.settings import Settings

CONNECT_TIMEOUT_SECONDS = 5.0


class OrdersProvider:
    """The `OrdersClient`, connected on first use, so the API starts (and /readyz answers 503) while
    Temporal is still coming up, and reconnects once it is there."""

    RETRY_INTERVAL = 1.0  # after a failed attempt, answer 503 at once for this long

    def __init__(self, settings: Settings, orders: OrdersClient | None) -> None:
        self._settings = settings
        self._orders = orders
        self._lock = asyncio.Lock()
        self._failed: tuple[float, str] | None = None

    async def get(self) -> OrdersClient:
        if self._orders is not None:
            return self._orders
        async with self._lock:
            if self._orders is not None:
                return self._orders
            if self._failed and time.monotonic() - self._failed[0] < self.RETRY_INTERVAL:
                raise TemporalUnavailable(self._failed[1])
            try:
                self._orders = await asyncio.wait_for(
                    OrdersClient.connect(self._settings), CONNECT_TIMEOUT_SECONDS
                )
            except TimeoutError:
                self._failed = (time.monotonic(), "can't reach Temporal: connecting timed out")
                raise TemporalUnavailable(self._failed[1]) from None
            except TemporalUnavailable as err:
                self._failed = (time.monotonic(), str(err))
                raise
            self._failed = None
            return self._orders


def provider_of(request: Request) -> OrdersProvider:
    provider: OrdersProvider = request.app.state.orders
    return provider
