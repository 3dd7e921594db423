"""The report counts (orders.report) and says what reading every order says (bench.report_reading, the
report as 1.0 built it), on one small set of orders that takes every path, and orders placed by 1.0."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from bench.report_reading import report_by_reading
from domain.lifecycle import Action, Status
from domain.models import OrderInput
from domain.reasons import BUILT_IN
from domain.visibility import MEMO_KEY
from orders.client import OrdersClient
from orders.counts import KthSmallest
from orders.report import Report, build_report, percentile, rank
from tests.kit.polling import eventually
from tests.kit.worker import running_worker, settings_for
from workflows.names import WORKFLOW_TYPE, workflow_id
from workflows.search_attributes import CANCEL_PATH, CANCELED_BY, CUSTOMER_ID, ORDER_STATUS, REASON_CODE

HOUR = 3600
ITEMS = [{"sku": "A1", "quantity": 2, "price": 1000}, {"sku": "B2", "quantity": 1, "price": 3000}]


async def send(orders: OrdersClient, order_id: str, action: Action, **payload: Any) -> None:
    result = await orders.send(order_id, action, payload, update_timeout=30)
    assert not result.queued


async def reaches(orders: OrdersClient, order_id: str, status: Status) -> None:
    await eventually(lambda: orders.state(order_id), lambda s: s.status is status, timeout=30)


def as_1_0_left_it(
    customer: str, n: int, status: str, memo: dict[str, Any], **attributes: str
) -> dict[str, Any]:
    """What visibility holds of an order placed by 1.0: its keywords and its memo, none of the report's
    attributes. Started on a task queue no worker polls, so nothing changes it."""
    pairs = [SearchAttributePair(ORDER_STATUS, status), SearchAttributePair(CUSTOMER_ID, customer)]
    keys = {"CancelPath": CANCEL_PATH, "CanceledBy": CANCELED_BY, "ReasonCode": REASON_CODE}
    pairs += [SearchAttributePair(keys[name], value) for name, value in attributes.items()]
    return {
        "id": workflow_id(f"{customer}-v10-{n}"),
        "task_queue": f"nobody-{uuid.uuid4().hex[:6]}",
        "search_attributes": TypedSearchAttributes(pairs),
        "memo": {MEMO_KEY: {"value": 5000, "currency": "BRL"} | memo},
    }


def decision(asked: datetime, seconds: float, outcome: str) -> dict[str, Any]:
    decided = asked + timedelta(seconds=seconds)
    return {"requested_at": asked.isoformat(), "decided_at": decided.isoformat(), "outcome": outcome,
            "actor": "customer", "reason_code": "other"}  # fmt: skip


async def test_the_counted_report_says_what_reading_every_order_says(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    customer = f"c-rep-{uuid.uuid4().hex[:8]}"  # other tests share the dev server: the report is scoped
    since = datetime.now(UTC) - timedelta(seconds=5)
    settings = settings_for(tmp_path, grace_period_seconds=0)
    async with running_worker(dev_env.client, settings) as orders:

        async def place(name: str, grace: int = 0, **fields: Any) -> str:
            order_id = f"{customer}-{name}"
            body = {"order_id": order_id, "customer_id": customer, "total": 5000, "items": ITEMS}
            await orders.place(OrderInput.model_validate(body | {"grace_period_seconds": grace} | fields))
            if not grace and fields.get("payment_approved", True):
                await reaches(orders, order_id, Status.READY_FOR_HANDLING)
            return order_id

        async def inside_window() -> None:
            order_id = await place("inside", grace=HOUR)
            await send(
                orders, order_id, Action.REQUEST_CANCELLATION, actor="customer", reason_code="changed-mind"
            )

        async def store_inside_window() -> None:
            order_id = await place("store", grace=HOUR)
            await send(orders, order_id, Action.REQUEST_CANCELLATION, actor="erp", reason_code="out-of-stock")

        async def payment_denied() -> None:
            order_id = await place("payment", grace=HOUR, payment_approved=False)
            await send(orders, order_id, Action.DENY_PAYMENT, actor="system", reason="declined")

        async def confirmed(name: str, denials: int) -> None:
            order_id = await place(name)
            for _ in range(denials):
                await send(
                    orders,
                    order_id,
                    Action.REQUEST_CANCELLATION,
                    actor="customer",
                    reason_code="found-cheaper",
                )
                await send(orders, order_id, Action.DENY_CANCELLATION, actor="store", reason="no",
                           reason_code="made-to-order")  # fmt: skip
            await send(orders, order_id, Action.REQUEST_CANCELLATION, actor="customer")
            await send(orders, order_id, Action.CONFIRM_CANCELLATION, actor="store")

        async def denied() -> None:
            order_id = await place("denied")
            await send(
                orders,
                order_id,
                Action.REQUEST_CANCELLATION,
                actor="customer",
                reason_code="ordered-by-mistake",
            )
            await send(orders, order_id, Action.DENY_CANCELLATION, actor="store", reason="shipped",
                       reason_code="already-shipped")  # fmt: skip

        async def items_only() -> None:
            order_id = await place("items", grace=HOUR)
            await send(
                orders, order_id, Action.CANCEL_ITEMS, actor="customer", items=[{"sku": "A1", "quantity": 1}]
            )

        async def items_decided() -> None:
            order_id = await place("items-late")
            await send(
                orders, order_id, Action.CANCEL_ITEMS, actor="customer", items=[{"sku": "B2", "quantity": 1}]
            )
            await send(orders, order_id, Action.CONFIRM_CANCELLATION, actor="store")

        async def timed_out() -> None:
            order_id = await place("timeout", decision_timeout_seconds=2)
            await send(orders, order_id, Action.REQUEST_CANCELLATION, actor="customer")
            await reaches(orders, order_id, Status.CANCELED)

        async def untouched() -> None:
            await place("kept", grace=HOUR)

        asked = datetime.now(UTC) - timedelta(hours=2)
        placed_by_1_0 = [
            as_1_0_left_it(customer, 1, "canceled",
                           {"decisions": [decision(asked, 600.25, "canceled")], "denied": 1},
                           CancelPath="after-confirmation", CanceledBy="customer", ReasonCode="changed-mind"),
            as_1_0_left_it(customer, 2, "window-to-cancel", {"items_canceled": 1}),
            as_1_0_left_it(customer, 3, "canceled", {}, CanceledBy="store", ReasonCode="fraud-suspected"),
        ]  # fmt: skip
        await asyncio.gather(
            inside_window(), store_inside_window(), payment_denied(), confirmed("confirmed", 0),
            confirmed("twice-denied", 2), denied(), items_only(), items_decided(), timed_out(), untouched(),
            *(dev_env.client.start_workflow(WORKFLOW_TYPE, {}, **row) for row in placed_by_1_0),
        )  # fmt: skip
        only = f'CustomerId = "{customer}"'

        async def both() -> tuple[Report, Report]:
            counted = await build_report(dev_env.client, since, BUILT_IN, only=only)
            read = await report_by_reading(dev_env.client, since, BUILT_IN, only=only)
            return counted, read

        def settled(pair: tuple[Report, Report]) -> bool:  # visibility catches up a moment later
            counted, read = pair
            same = counted.model_dump(exclude={"until"}) == read.model_dump(exclude={"until"})
            return same and read.placed == 13 and read.canceled == 8 and read.decisions == 8

        counted, _ = await eventually(both, settled, timeout=60, every=0.5)
    assert counted.canceled_by_path == {
        "inside-window": 3, "after-confirmation": 3, "decision-timeout": 1, "payment-timeout": 0,
        "payment-denied": 1, "items-only": 3,
    }  # fmt: skip
    assert (counted.requests_denied, counted.decisions) == (4, 8)
    assert counted.by_actor == {"customer": 4, "erp": 1, "system": 2, "store": 1}
    assert counted.decision_seconds_p50 is not None and counted.decision_seconds_p90 == 600.25


async def test_the_kth_smallest_found_by_counting_is_the_one_sorting_finds() -> None:
    """Thousands of decision times, spread out, bunched, many the same to the microsecond: the ranks the
    report asks for, found by counting and reading a few, equal the sorted values'."""
    rng = random.Random(24)
    spread = [round(rng.lognormvariate(8, 3), 6) for _ in range(1500)]
    bunched = [round(3600 + rng.random(), 6) for _ in range(800)] + [0.0] * 300 + [86400.0] * 600
    for values in (spread, bunched, [42.5], [7.0, 7.0, 1.5]):
        asked: list[int] = []

        async def within(lo: float, hi: float, values: list[float] = values, asked: list[int] = asked) -> int:
            asked.append(1)
            return sum(lo < v <= hi for v in values)

        async def between(
            lo: float, hi: float, limit: int | None, values: list[float] = values
        ) -> list[float]:
            found = [v for v in values if lo < v <= hi]
            return found[:limit] if limit is not None else found

        ranks = KthSmallest(len(values), within, between)
        for fraction in (0.5, 0.9, 0.99, 1.0, 0.0001):
            assert await ranks.find(rank(len(values), fraction)) == percentile(values, fraction)
        assert len(asked) < 80, len(asked)  # counts asked, all ranks together
