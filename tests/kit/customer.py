"""What the customer pages' tests (and `python -m tests.customer_screenshots`) share: a real worker and
the API (with the pages) on loopback, customer tokens and guest links, and orders in each situation a
customer meets: inside the window, past it, waiting for the store."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from temporalio.client import Client

from domain.lifecycle import Action, Status
from orders.api import create_app
from orders.client import OrdersClient
from orders.customer import links
from orders.settings import Settings
from tests.kit.api import SECRET, credentials_file, serving
from tests.kit.orders import place
from tests.kit.polling import eventually
from tests.kit.worker import running_worker, settings_for

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
REQUEST_ID = re.compile(r'name="request_id" value="([^"]+)"')
ITEMS = [{"sku": "A1", "quantity": 2, "price": 3000}, {"sku": "B7", "quantity": 1, "price": 6990}]


def token(customer: str, expires_in: float = 3600, secret: str = SECRET, **claims: Any) -> str:
    now = int(time.time())
    return jwt.encode({"sub": customer, "iat": now, "exp": int(now + expires_in), **claims}, secret, "HS256")


def sign_in_path(customer: str, **claims: Any) -> str:
    return f"/my-orders/sign-in?token={token(customer, **claims)}"


def customer_id() -> str:
    return f"m-{uuid.uuid4().hex[:8]}"


def form_value(pattern: re.Pattern[str], html: str) -> str:
    found = pattern.search(html)
    assert found, f"no {pattern.pattern} on the page"
    return found.group(1)


@dataclass
class Shop:
    url: str
    orders: OrdersClient
    settings: Settings

    async def place(self, customer: str, grace: int = 1800, **extra: Any) -> str:
        """Customer `customer`'s order with this shop's lines (tests.kit.orders.place)."""
        fields = {"customer_id": customer, "total": 12990, "items": ITEMS, "grace_period_seconds": grace}
        return await place(self.orders, **(fields | extra))

    async def reaches(self, order_id: str, status: Status, timeout: float = 15) -> None:
        async def current() -> Status:
            return (await self.orders.state(order_id)).status

        await eventually(current, lambda s: s is status, timeout=timeout)

    async def past_window(self, customer: str, **extra: Any) -> str:
        order_id = await self.place(customer, grace=0, **extra)
        await self.reaches(order_id, Status.READY_FOR_HANDLING)
        return order_id

    async def pending(self, customer: str, reason: str = "changed my mind", **extra: Any) -> str:
        """Past its window, with the customer's request waiting for the store."""
        order_id = await self.past_window(customer, **extra)
        asked = {"actor": "customer", "sender": customer, "reason": reason, "reason_code": "changed-mind"}
        result = await self.orders.send(order_id, Action.REQUEST_CANCELLATION, asked)
        assert result.state is not None and result.state.status is Status.CANCELLATION_REQUESTED
        return order_id

    def guest_path(self, order_id: str, customer: str, ttl: timedelta = links.DEFAULT_TTL) -> str:
        url, _ = links.mint(self.settings, order_id, customer, ttl, datetime.now(UTC))
        return url.removeprefix(self.settings.base_url)


@asynccontextmanager
async def shop_service(client: Client, directory: Path, **overrides: Any) -> AsyncIterator[Shop]:
    """A worker on its own task queue and the API (with the pages) on a loopback port."""
    settings = settings_for(
        directory, customer_token_secret=SECRET, api_credentials=credentials_file(directory), **overrides
    )
    async with running_worker(client, settings) as orders, serving(create_app(settings, orders)) as url:
        settings.public_url = url  # where the links it mints point: known once it serves
        yield Shop(url, orders, settings)
