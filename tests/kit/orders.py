"""The order the tests place, through the project's client or over HTTP as the ERP does, and `Shop`:
orders on the time-skipping server, whose clock the test skips."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic.alias_generators import to_camel
from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.testing import WorkflowEnvironment

from domain.events import EventType
from domain.lifecycle import Action, Status
from domain.models import OrderInput
from domain.state import OrderState
from orders.client import OrdersClient
from orders.settings import Settings
from tests.kit.api import ERP, PVT
from tests.kit.polling import eventually
from tests.kit.worker import read_events
from workflows.names import workflow_id

MINUTE, HOUR, DAY = 60, 60 * 60, 24 * 60 * 60
TOTAL = 12990
# Two lines of different skus, 129.90 in all: what the item-cancellation tests take apart.
TWO_LINES = [{"sku": "A1", "quantity": 2, "price": 3000}, {"sku": "B2", "quantity": 1, "price": 6990}]
# What undoing a whole order's payment and stock delivers (the customer's notice aside).
PAYMENT_AND_STOCK = frozenset(
    {
        EventType.PAYMENT_VOID,
        EventType.PAYMENT_REFUND,
        EventType.STOCK_RELEASE,
        EventType.STORE_RESTOCK_NEEDED,
    },
)


def lines_for(total: int) -> list[dict[str, Any]]:
    """Two A1 at half the total each, and one B7 for an odd cent: lines that add up to `total`."""
    lines = [{"sku": "A1", "quantity": 2, "price": total // 2}]
    return lines + ([{"sku": "B7", "quantity": 1, "price": total % 2}] if total % 2 else [])


def order_input(**overrides: Any) -> OrderInput:
    """The order a test places unless it says otherwise: customer c-42's two A1 for 129.90, a fresh id,
    the store's durations. `overrides` replace fields by the workflow input's names (`customer_id`,
    `grace_period_seconds`, `payment_approved`, `items`...); a `total` without `items` brings lines that
    add up to it."""
    total = overrides.get("total", TOTAL)
    body = {"order_id": f"o-{uuid.uuid4().hex[:10]}", "customer_id": "c-42", "total": total}
    return OrderInput.model_validate(body | {"items": lines_for(total)} | overrides)


def rest_body(order: OrderInput) -> dict[str, Any]:
    """`order` as the REST API takes it: VTEX's camelCase names, the customer as `clientProfileData`."""
    fields = order.model_dump(mode="json", exclude_none=True)
    client = fields.pop("client", None)
    body = {to_camel(name): value for name, value in fields.items()}
    if client is not None:
        body["clientProfileData"] = {to_camel(name): value for name, value in client.items()}
    return body


async def place(door: OrdersClient | httpx.AsyncClient, **overrides: Any) -> str:
    """Place `order_input(**overrides)` and return its id: through the project's client, or over HTTP
    (an `httpx` client on the API's base URL) as the ERP places it, which must answer 201 Created."""
    order = order_input(**overrides)
    if isinstance(door, OrdersClient):
        assert (await door.place(order)).created
    else:
        response = await door.post(PVT, json=rest_body(order), headers=ERP)
        assert response.status_code == 201, response.text
    return order.order_id


async def reaches(orders: OrdersClient, order_id: str, status: Status, timeout: float = 15) -> OrderState:
    return await eventually(lambda: orders.state(order_id), lambda s: s.status is status, timeout=timeout)


@dataclass
class Shop:
    """A worker on the time-skipping server: commands stamped with its clock, the clock skipped."""

    orders: OrdersClient
    settings: Settings
    env: WorkflowEnvironment

    async def send(self, order_id: str, action: Action, **payload: Any) -> OrderState:
        # Stamp commands with the server's skipped clock, as a client's clock agrees with a real server's.
        payload.setdefault("requested_at", (await self.env.get_current_time()).isoformat())
        result = await self.orders.send(order_id, action, payload, update_timeout=30)
        assert result.state is not None
        return result.state

    async def reaches(self, order_id: str, status: Status) -> OrderState:
        return await reaches(self.orders, order_id, status)

    async def skip(self, seconds: int) -> None:
        await self.env.sleep(seconds)

    async def skip_until_timer_fires(self, order_id: str) -> None:
        """With no worker, the test server stops skipping once a fired timer awaits a workflow task."""
        sleeping = asyncio.create_task(self.env.sleep(31 * MINUTE))
        handle = self.orders.temporal.get_workflow_handle(workflow_id(order_id))

        async def fired() -> bool:
            history = await handle.fetch_history()
            return any(e.event_type == HistoryEventType.EVENT_TYPE_TIMER_FIRED for e in history.events)

        await eventually(fired, bool)
        sleeping.cancel()

    async def final(self, order_id: str) -> OrderState:
        handle = self.orders.temporal.get_workflow_handle(workflow_id(order_id), result_type=OrderState)
        return await handle.result()

    def effects(self, order_id: str) -> Counter[str]:
        return Counter(e["type"] for e in read_events(self.settings.event_log) if e["order_id"] == order_id)
