"""Line-level cancellation on the time-skipping server: every path, with the real 30-minute and 30-day
timers skipped (tests/e2e/test_items_doors.py takes the same lines through the CLI and the REST API)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, CancelPath, Status
from tests.kit.orders import DAY, MINUTE, TWO_LINES, Shop, place
from tests.kit.polling import eventually
from tests.kit.worker import read_events, running_worker, settings_for


@pytest_asyncio.fixture
async def shop(time_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Shop]:
    settings = settings_for(tmp_path)
    async with running_worker(time_env.client, settings) as orders:
        yield Shop(orders, settings, time_env)


def effects(settings: Any, order_id: str) -> list[tuple[str, Any, Any]]:
    return [
        (e["type"], e["data"].get("amount"), e["data"].get("items"))
        for e in read_events(settings.event_log)
        if e["order_id"] == order_id and e["type"] != "order.status-changed"
    ]


def lines(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"sku": sku, "quantity": quantity} for sku, quantity in pairs]


async def _now(value: Any) -> Any:
    return value


async def test_inside_the_window_items_go_at_once_and_the_order_goes_on(shop: Shop) -> None:
    order_id = await place(shop.orders, items=TWO_LINES)
    state = await shop.send(order_id, Action.CANCEL_ITEMS, actor="customer", items=lines(("A1", 1)))
    assert state.status is Status.WINDOW_TO_CANCEL and state.remaining_total == 9990
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)
    got = await eventually(lambda: _now(effects(shop.settings, order_id)), lambda e: len(e) == 3)
    one = [{"sku": "A1", "quantity": 1, "price": 3000}]
    assert got == [("payment.void", 3000, one), ("stock.release", None, one), ("customer.notify", 3000, one)]


async def test_a_customers_item_request_after_the_window_is_applied_when_the_store_lets_it_time_out(
    shop: Shop,
) -> None:
    order_id = await place(shop.orders, items=TWO_LINES, payment={"method": "card", "captured": True})
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)
    await shop.send(order_id, Action.START_HANDLING, actor="store")
    asked = await shop.send(order_id, Action.CANCEL_ITEMS, actor="customer", items=lines(("B2", 1)))
    assert asked.status is Status.CANCELLATION_REQUESTED
    await shop.skip(31 * DAY)
    state = await shop.reaches(order_id, Status.HANDLING)  # back where it was, the items canceled
    assert state.remaining_total == 6000 and state.cancellation is None
    kinds = [kind for kind, _, _ in effects(shop.settings, order_id)]
    assert kinds.count("payment.refund") == 1 and kinds.count("store.restock-needed") == 1


async def test_confirmed_denied_and_last_items(shop: Shop) -> None:
    order_id = await place(shop.orders, items=TWO_LINES)
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)
    await shop.send(order_id, Action.CANCEL_ITEMS, actor="customer", items=lines(("A1", 2)))
    denied = await shop.send(order_id, Action.DENY_CANCELLATION, actor="store", reason="packed")
    assert denied.status is Status.READY_FOR_HANDLING and denied.remaining_total == 12990
    await shop.send(order_id, Action.CANCEL_ITEMS, actor="customer", items=lines(("A1", 2)))
    confirmed = await shop.send(order_id, Action.CONFIRM_CANCELLATION, actor="store")
    assert confirmed.status is Status.READY_FOR_HANDLING and confirmed.remaining_total == 6990
    last = await shop.send(order_id, Action.CANCEL_ITEMS, actor="store", items=lines(("B2", 1)))
    assert last.status in (Status.CANCEL, Status.CANCELED)
    final = await shop.final(order_id)
    assert final.cancellation is not None and final.cancellation.path is CancelPath.AFTER_CONFIRMATION
    refunds = [amount for kind, amount, _ in effects(shop.settings, order_id) if kind == "payment.void"]
    assert sorted(refunds) == [6000, 6990] and sum(refunds) == 12990  # never more than the total
