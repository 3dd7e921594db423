"""The ways a cancellation reaches an order, each measured the same way.

A path places an order and decides its cancellation: `decide` returns once the caller can see the
decision (the order's `state` shows `cancel`/`canceled`, or the baseline's run has ended canceled).
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import httpx
from temporalio.client import Client

from bench.baseline import BASELINE_TASK_QUEUE, BASELINE_WORKFLOW
from bench.cluster import ERP_HEADERS
from domain.lifecycle import Action, Status
from domain.models import OrderInput
from domain.wire import Item
from orders.client import OrdersClient
from orders.errors import TemporalUnavailable
from workflows.names import workflow_id

# Long enough that every cancellation lands inside the window.
GRACE_SECONDS = 3600
DECIDED = (Status.CANCEL, Status.CANCELED)
CANCEL = {"actor": "erp", "reason": "bench"}
PVT = "/api/oms/pvt/orders"
POLL_SECONDS = 0.002


class NotDecided(Exception):
    pass


class Path(Protocol):
    name: str
    label: str
    decided_at_close: bool

    def workflow_id(self, key: str) -> str: ...

    async def place(self, key: str) -> None: ...

    async def decide(self, key: str) -> None: ...


def order_input(key: str, grace_seconds: int = GRACE_SECONDS) -> OrderInput:
    return OrderInput(
        order_id=key,
        customer_id="bench",
        total=12990,
        items=[Item(sku="A1", quantity=2, price=6495)],
        payment_approved=True,
        grace_period_seconds=grace_seconds,
    )


async def until_decided(orders: OrdersClient, key: str, timeout: float = 60) -> None:
    """Query `state` until it shows the decision. The first query usually does already: Temporal
    answers a query only after the workflow task the signal started has completed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            if (await orders.state(key)).status in DECIDED:
                return
        except TemporalUnavailable:  # no answer within the client's timeout: a worker far behind
            pass
        if loop.time() > deadline:
            raise NotDecided(key)
        await asyncio.sleep(POLL_SECONDS)


class Baseline:
    name = "baseline"
    label = "baseline (raw Temporal)"
    decided_at_close = True

    def __init__(self, client: Client) -> None:
        self.client = client
        self.queued = 0

    def workflow_id(self, key: str) -> str:
        return f"bench-{key}"

    async def place(self, key: str) -> None:
        await self.client.start_workflow(
            BASELINE_WORKFLOW, GRACE_SECONDS, id=self.workflow_id(key), task_queue=BASELINE_TASK_QUEUE
        )

    async def decide(self, key: str) -> None:
        handle = self.client.get_workflow_handle(self.workflow_id(key))
        await handle.signal("cancel")
        if await handle.result() != "canceled":
            raise NotDecided(key)


class ClientUpdate:
    name = "client_update"
    label = "client, update"
    decided_at_close = False

    def __init__(self, orders: OrdersClient) -> None:
        self.orders = orders
        self.queued = 0  # updates no worker answered in time (sent as signals instead)

    def workflow_id(self, key: str) -> str:
        return workflow_id(key)

    async def place(self, key: str) -> None:
        if not (await self.orders.place(order_input(key))).created:
            raise RuntimeError(f"order {key} existed already")

    async def decide(self, key: str) -> None:
        result = await self.orders.send(key, Action.REQUEST_CANCELLATION, CANCEL)
        if result.state is None:
            self.queued += 1
            await until_decided(self.orders, key)
        elif result.state.status not in DECIDED:
            raise NotDecided(f"{key}: {result.state.status}")


class ClientSignal(ClientUpdate):
    name = "client_signal"
    label = "client, signal"

    async def decide(self, key: str) -> None:
        await self.orders.send(key, Action.REQUEST_CANCELLATION, CANCEL, as_signal=True)
        await until_decided(self.orders, key)


class Rest(ClientUpdate):
    name = "rest"
    label = "REST API"

    def __init__(self, orders: OrdersClient, http: httpx.AsyncClient) -> None:
        super().__init__(orders)
        self.http = http

    async def place(self, key: str) -> None:
        body: dict[str, Any] = {
            "orderId": key,
            "customerId": "bench",
            "total": 12990,
            "items": [{"sku": "A1", "quantity": 2, "price": 6495}],
            "gracePeriodSeconds": GRACE_SECONDS,
        }
        response = await self.http.post(PVT, json=body, headers=ERP_HEADERS)
        if response.status_code != 201:
            raise RuntimeError(f"placing {key}: HTTP {response.status_code} {response.text[:200]}")

    async def decide(self, key: str) -> None:
        response = await self.http.post(f"{PVT}/{key}/cancel", json={"reason": "bench"}, headers=ERP_HEADERS)
        if response.status_code == 202:  # no worker answered in time: queued as a signal
            self.queued += 1
            await until_decided(self.orders, key)
        elif response.status_code != 200:
            raise NotDecided(f"{key}: HTTP {response.status_code} {response.text[:200]}")
