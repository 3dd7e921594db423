"""What the console's tests (and `python -m tests.console_screenshots`) share: a real worker and the API
(with the console) on loopback, console accounts, orders waiting for the store, and signing in over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from domain.lifecycle import Action, Actor, Status
from orders.api import create_app
from orders.client import OrdersClient
from orders.console.users import UsersFile
from orders.queue import pending_requests
from orders.settings import Settings
from tests.kit.api import serving
from tests.kit.orders import place, reaches
from tests.kit.polling import eventually
from tests.kit.worker import running_worker, settings_for

PASSWORD = "correct-horse-battery-staple"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Console:
    url: str
    orders: OrdersClient
    settings: Settings
    users: UsersFile

    def add_user(self, name: str, role: Actor = Actor.STORE, password: str = PASSWORD) -> str:
        self.users.add(name, role, password, replace=True)
        return name

    async def pending(
        self,
        customer: str = "c-42",
        reason: str = "changed my mind",
        code: str = "changed-mind",
        **extra: Any,
    ) -> str:
        """An order past its window with the customer's request waiting for the store, in the queue."""
        order_id = await place(self.orders, customer_id=customer, grace_period_seconds=0, **extra)
        await self.reaches(order_id, Status.READY_FOR_HANDLING)
        request = {"actor": "customer", "reason": reason, "reason_code": code, "sender": customer}
        result = await self.orders.send(order_id, Action.REQUEST_CANCELLATION, request)
        assert result.state is not None and result.state.status is Status.CANCELLATION_REQUESTED
        await self.queued(order_id)
        return order_id

    async def queued(self, order_id: str, present: bool = True) -> None:
        """Wait until visibility's queue shows (or no longer shows) the order."""

        async def ids() -> set[str]:
            return {row.order_id for row in await pending_requests(self.orders.temporal)}

        await eventually(ids, lambda found: (order_id in found) is present, timeout=15)

    async def reaches(self, order_id: str, status: Status) -> None:
        await reaches(self.orders, order_id, status)


@asynccontextmanager
async def console_service(client: Client, directory: Path, **overrides: Any) -> AsyncIterator[Console]:
    """A worker on its own task queue and the API (with the console) on a loopback port."""
    settings = settings_for(directory, **overrides)
    async with running_worker(client, settings) as orders, serving(create_app(settings, orders)) as url:
        yield Console(url, orders, settings, UsersFile(settings.console_users_file))


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    page = await http.get("/console/signin")
    form = {"username": name, "password": password, "csrf": csrf_of(page.text), "next": "/console/"}
    return await http.post("/console/signin", data=form)
