"""The ways a cancellation reaches an order, each measured the same way.

A path places an order and decides its cancellation: `decide` returns once the caller can see the
decision (the order's `state` shows `cancel`/`canceled`, its items canceled, or the floor's update has
answered). Every order is placed with the same two lines, so a whole order and one item compare alike.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path as FsPath
from typing import Any, Protocol

import httpx
from temporalio.client import Client

from bench.baseline import BASELINE_TASK_QUEUE, FLOOR_UPDATE, FLOOR_WORKFLOW
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
LINES: list[dict[str, Any]] = [
    {"sku": "A1", "quantity": 2, "price": 6495},
    {"sku": "B2", "quantity": 1, "price": 3000},
]
TOTAL = sum(int(line["price"]) * int(line["quantity"]) for line in LINES)
CANCEL_ONE_ITEM = {"actor": "erp", "reason": "bench", "items": [{"sku": "A1", "quantity": 1}]}
ITEMS_CANCELED = "items-canceled"
# A modification (docs/modifications.md) of the same order: one A1 less (a lower value, applied at once),
# or a third line (a higher value: it waits until the payment of the difference is approved).
MODIFY_LOWER = {"actor": "store", "reason": "bench", "remove": {"items": [{"sku": "A1", "quantity": 1}]}}
MODIFY_HIGHER = {
    "actor": "store",
    "reason": "bench",
    "add": {"items": [{"sku": "C3", "quantity": 1, "price": 1500}]},
}
ORDER_MODIFIED = "order-modified"
PVT = "/api/oms/pvt/orders"
POLL_SECONDS = 0.002


class NotDecided(Exception):
    pass


class Path(Protocol):
    name: str
    label: str
    closes: bool  # the run closes once its effects are delivered (an item cancellation's goes on)

    def workflow_id(self, key: str) -> str: ...

    async def place(self, key: str) -> None: ...

    async def decide(self, key: str) -> None: ...


def order_input(key: str, grace_seconds: int = GRACE_SECONDS) -> OrderInput:
    return OrderInput(
        order_id=key,
        customer_id="bench",
        total=TOTAL,
        items=[Item.model_validate(line) for line in LINES],
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


class Floor:
    """The floor (`bench.baseline.FloorWorkflow`): started as orders are; its cancellation an update
    that answers at once, its effects one activity, after which its run closes."""

    name = "floor"
    label = "floor (timer, update, 1 activity)"
    closes = True

    def __init__(self, client: Client) -> None:
        self.client = client
        self.queued = 0

    def workflow_id(self, key: str) -> str:
        return f"bench-floor-{key}"

    async def place(self, key: str) -> None:
        await self.client.start_workflow(
            FLOOR_WORKFLOW, GRACE_SECONDS, id=self.workflow_id(key), task_queue=BASELINE_TASK_QUEUE
        )

    async def decide(self, key: str) -> None:
        handle = self.client.get_workflow_handle(self.workflow_id(key))
        if await handle.execute_update(FLOOR_UPDATE, result_type=str) != "cancel":
            raise NotDecided(key)


class ClientUpdate:
    name = "client_update"
    label = "client, update"
    closes = True

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
            "total": TOTAL,
            "items": LINES,
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


class ClientItems(ClientUpdate):
    """One item (one A1 of two A1 and one B2) canceled inside the window, as an update: the order goes on,
    so its run doesn't close; its effects are done when the customer's notice is in the event log."""

    name = "client_items"
    label = "client, update, one item"
    closes = False
    notice = ITEMS_CANCELED  # the customer's notice: the last event of the decision

    def __init__(self, orders: OrdersClient, event_log: FsPath) -> None:
        super().__init__(orders)
        self.event_log = event_log
        self._offset = 0
        self._notified: set[str] = set()

    async def decide(self, key: str) -> None:
        result = await self.orders.send(key, Action.CANCEL_ITEMS, CANCEL_ONE_ITEM)
        if result.state is None:
            raise NotDecided(f"{key}: no worker answered")
        if result.state.canceled_items.get("A1") != 1:
            raise NotDecided(f"{key}: {result.state.canceled_items}")

    async def wait_effects(self, keys: list[str], timeout: float = 120) -> None:
        """Until every order in `keys` has its item notice in the worker's event log (the last wave)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        wanted = set(keys)
        while not wanted <= self._notified:
            if loop.time() > deadline:
                raise NotDecided(f"{len(wanted - self._notified)} item cancellations without effects")
            await asyncio.sleep(0.05)
            self._read()

    def _read(self) -> None:
        if not self.event_log.exists():
            return
        with self.event_log.open("rb") as log:
            log.seek(self._offset)
            chunk = log.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.splitlines():
            if self.notice.encode() in line:
                event = json.loads(line)
                if event.get("data", {}).get("message") == self.notice:
                    self._notified.add(event["order_id"])


class ClientModify(ClientItems):
    """A modification that lowers the order's value (one A1 less), as an update, on an order past its window
    (placed without one): applied at once, the difference voided, the stock released, the customer told;
    the order goes on."""

    name = "client_modify"
    label = "client, update, a modification (lower value)"
    notice = ORDER_MODIFIED

    async def place(self, key: str) -> None:
        if not (await self.orders.place(order_input(key, grace_seconds=0))).created:
            raise RuntimeError(f"order {key} existed already")

    async def decide(self, key: str) -> None:
        result = await self.orders.send(key, Action.MODIFY_ORDER, MODIFY_LOWER)
        if result.state is None or result.state.remaining_total != TOTAL - 6495:
            raise NotDecided(
                f"{key}: {result.state.remaining_total if result.state else 'no worker answered'}"
            )


class ClientModifyPaid(ClientModify):
    """A modification that raises it (a third line): it waits, the difference asked for, and applies when
    the erp approves its payment (a second update); its payment timer is started, then canceled."""

    name = "client_modify_paid"
    label = "client, update, a modification (higher value, paid)"

    async def decide(self, key: str) -> None:
        asked = await self.orders.send(key, Action.MODIFY_ORDER, MODIFY_HIGHER)
        waiting = asked.state.waiting_modification if asked.state else None
        if waiting is None:
            raise NotDecided(f"{key}: no modification waits")
        paid = {"actor": "erp", "modification_id": waiting.id}
        result = await self.orders.send(key, Action.APPROVE_MODIFICATION_PAYMENT, paid)
        if result.state is None or result.state.remaining_total != TOTAL + 1500:
            raise NotDecided(f"{key}: the modification was not applied")
