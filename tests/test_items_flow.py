"""Line-level cancellation on real servers: every path on the time-skipping server (real 30-minute and
30-day timers, skipped), and the CLI, the REST API and the events a real receiver gets (amounts and items
exact) on the dev server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, CancelPath, Status
from tests.conftest import eventually, read_events, running_worker, settings_for
from tests.receiver import SECRET as WEBHOOK_SECRET
from tests.receiver import Receiver
from tests.support import CHECKOUT, ERP, MINUTE, PVT, Shop, place, reaches, service

DAY = 24 * 60 * MINUTE
ITEMS = [{"sku": "A1", "quantity": 2, "price": 3000}, {"sku": "B2", "quantity": 1, "price": 6990}]


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
    order_id = await shop.place(items=ITEMS)
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
    order_id = await shop.place(items=ITEMS, payment={"method": "card", "captured": True})
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
    order_id = await shop.place(items=ITEMS)
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


async def test_items_through_the_cli_and_the_rest_api_reach_a_real_receiver(
    dev_env: WorkflowEnvironment, tmp_path: Path, receiver: Receiver
) -> None:
    async with service(
        dev_env, tmp_path, grace_period_seconds=0, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET
    ) as svc:
        order_id = await place(svc.orders, items=ITEMS, payment={"method": "card", "captured": True})
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        cli = await svc.cli(
            "cancel", order_id, "--item", "A1:1", "--reason", "damaged", "--reason-code", "out-of-stock"
        )
        assert cli.returncode == 0 and "items canceled by the store" in cli.stdout, cli.stderr
        # Get order and list orders agree on what is left: 9990 of 12990, in 2 units of 3.
        got = (await svc.http.get(f"{PVT}/{order_id}", headers=ERP)).json()
        assert (got["value"], sum(item["quantity"] for item in got["items"])) == (9990, 2)

        async def listed() -> dict[str, Any]:
            page = (await svc.http.get(f"{PVT}?f_status=ready-for-handling", headers=ERP)).json()
            return next((row for row in page["list"] if row["orderId"] == order_id), {})

        row = await eventually(listed, lambda r: r.get("totalValue") == 9990)
        assert row["totalItems"] == 2
        again = {"orderId": order_id, "customerId": "c-42", "total": 12990}  # as placed: no conflict
        assert (await svc.http.post(PVT, json=again, headers=ERP)).status_code == 200
        bad = await svc.cli("cancel", order_id, "--item", "A1:5", "--reason", "x")
        assert bad.returncode == 1 and "items[0]: 5 of A1 asked, 1 left" in bad.stderr
        twice = {"items": [{"id": "A1", "quantity": 1}, {"id": "A1", "quantity": 1}]}
        duplicate = await svc.http.post(f"{PVT}/{order_id}/cancel-items", json=twice, headers=ERP)
        assert duplicate.status_code == 422 and "appears twice" in duplicate.text
        z9 = {"items": [{"id": "Z9", "quantity": 1}]}
        unknown = await svc.http.post(f"{PVT}/{order_id}/cancel-items", json=z9, headers=ERP)
        assert unknown.status_code == 409 and "items[0]: sku Z9" in unknown.json()["error"]["message"]
        url = f"{CHECKOUT}/{order_id}/user-cancel-items-request"
        b2 = {"items": [{"id": "B2", "quantity": 1}], "reason": "wrong size"}
        asked = await svc.http.post(url, json=b2, headers=svc.customer("c-42"))
        assert asked.status_code == 200, asked.text
        await reaches(svc.orders, order_id, Status.CANCELLATION_REQUESTED)
        assert (
            await svc.http.post(f"{PVT}/{order_id}/cancel", headers=ERP)
        ).status_code == 409  # items pending
        other = await svc.http.post(
            url, json={"items": [{"id": "B2", "quantity": 1}]}, headers=svc.customer("c-9")
        )
        assert other.status_code == 404
        state = await svc.orders.state(order_id)
        assert state.pending_request is not None and [i.sku for i in state.pending_request.items] == ["B2"]

        async def delivered() -> list[tuple[str, Any]]:
            with receiver.lock:
                done = [event for key, (_, event) in receiver.done.items() if key.startswith(f"{order_id}:")]
            return [(e["type"], e["data"].get("amount")) for e in done if e["type"] != "order.status-changed"]

        got = await eventually(delivered, lambda d: ("customer.notify", 3000) in d)
    assert ("payment.refund", 3000) in got and ("stock.release", None) in got
    assert ("store.decision-needed", None) in got
    assert sorted(key for key in receiver.tries(order_id) if "payment" in key) == [
        f"{order_id}:payment.refund:3"
    ]
