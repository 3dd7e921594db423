"""Order modifications on real servers (docs/modifications.md): the payment wait on the time-skipping
server (approved, denied, lapsed after the real 2 days, dropped by a cancellation), then on the dev server
the REST API (answers valid against VTEX's schema), the CLI, the console over HTTP, and the events a real
webhook receiver gets, with exact amounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, Actor, Status
from domain.state import Lapse, ModificationStatus
from tests.kit.api import ERP, STORE, service
from tests.kit.console import console_service, csrf_of, sign_in
from tests.kit.orders import MINUTE, Shop, place, reaches
from tests.kit.polling import eventually
from tests.kit.receiver import SECRET as WEBHOOK_SECRET
from tests.kit.receiver import Receiver
from tests.kit.vtex_schema import VtexSchema
from tests.kit.worker import read_events, running_worker, settings_for

DAY = 24 * 60 * MINUTE
CHANGES = "/api/order-system/orders/{orderId}/changes"
ITEMS = [{"sku": "A1", "quantity": 2, "price": 3000}, {"sku": "B2", "quantity": 1, "price": 6990}]
ADD_C3 = {"add": {"items": [{"sku": "C3", "quantity": 1, "price": 1500}]}, "reason": "a cable"}


@pytest_asyncio.fixture
async def shop(time_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Shop]:
    settings = settings_for(tmp_path)
    async with running_worker(time_env.client, settings) as orders:
        yield Shop(orders, settings, time_env)


def effects(settings: Any, order_id: str) -> list[tuple[str, Any]]:
    """Each effect delivered to the order's event log, with its amount (a notice: its message)."""
    return [
        (e["type"], e["data"].get("message") if e["type"] == "customer.notify" else e["data"].get("amount"))
        for e in read_events(settings.event_log)
        if e["order_id"] == order_id and e["type"] != "order.status-changed"
    ]


async def _now(value: Any) -> Any:
    return value


async def ready(shop: Shop, **overrides: Any) -> str:
    order_id = await place(shop.orders, items=ITEMS, **overrides)
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)
    return order_id


async def test_a_higher_value_waits_and_applies_once_the_difference_is_paid(shop: Shop) -> None:
    order_id = await ready(shop)
    waiting = await shop.send(order_id, Action.MODIFY_ORDER, actor="store", **ADD_C3)
    (made,) = waiting.modifications
    assert made.status is ModificationStatus.WAITING_PAYMENT and waiting.remaining_total == 12990
    await shop.skip(DAY)  # within the 2 days
    paid = await shop.send(
        order_id, Action.APPROVE_MODIFICATION_PAYMENT, actor="erp", modification_id=made.id
    )
    assert paid.remaining_total == 14490 and [line.sku for line in paid.lines] == ["A1", "B2", "C3"]
    await shop.skip(2 * DAY)  # its deadline passes: nothing happens
    got = await eventually(lambda: _now(effects(shop.settings, order_id)), lambda e: len(e) == 3)
    assert got == [
        ("payment.authorize", 1500),
        ("stock.reserve", None),
        ("customer.notify", "order-modified"),
    ]
    state = await shop.orders.state(order_id)
    assert (
        state.modifications[0].status is ModificationStatus.APPLIED
        and state.status is Status.READY_FOR_HANDLING
    )


async def test_a_denied_payment_lapses_the_modification(shop: Shop) -> None:
    order_id = await ready(shop)
    made = (await shop.send(order_id, Action.MODIFY_ORDER, actor="erp", **ADD_C3)).modifications[0]
    denied = await shop.send(
        order_id, Action.DENY_MODIFICATION_PAYMENT, actor="system", modification_id=made.id, reason="declined"
    )
    assert denied.remaining_total == 12990 and denied.modifications[0].lapsed_because is Lapse.PAYMENT_DENIED
    got = await eventually(lambda: _now(effects(shop.settings, order_id)), lambda e: len(e) == 3)
    assert got == [
        ("payment.authorize", 1500),
        ("store.modification-lapsed", 1500),
        ("customer.notify", "modification-lapsed"),
    ]


async def test_no_payment_within_two_days_lapses_it_by_the_order_s_own_timer(shop: Shop) -> None:
    order_id = await ready(shop)
    await shop.send(order_id, Action.MODIFY_ORDER, actor="store", **ADD_C3)
    await shop.skip(2 * DAY + MINUTE)

    async def lapsed() -> Any:
        return (await shop.orders.state(order_id)).modifications[0]

    found = await eventually(lapsed, lambda m: m.status is ModificationStatus.LAPSED)
    assert found.lapsed_because is Lapse.PAYMENT_TIMEOUT and found.settled_by is Actor.SYSTEM
    got = await eventually(lambda: _now(effects(shop.settings, order_id)), lambda e: len(e) == 3)
    assert [kind for kind, _ in got] == ["payment.authorize", "store.modification-lapsed", "customer.notify"]
    # The order goes on as it was: a new modification is taken.
    again = await shop.send(
        order_id,
        Action.MODIFY_ORDER,
        actor="store",
        remove={"items": [{"sku": "A1", "quantity": 1}]},
        reason="r",
    )
    assert again.remaining_total == 9990


async def test_canceling_the_order_while_one_waits_drops_it_and_undoes_only_what_the_order_holds(
    shop: Shop,
) -> None:
    order_id = await ready(shop, payment={"method": "card", "captured": True})
    await shop.send(
        order_id,
        Action.MODIFY_ORDER,
        actor="store",
        remove={"items": [{"sku": "B2", "quantity": 1}]},
        reason="r",
    )
    await shop.send(order_id, Action.MODIFY_ORDER, actor="store", **ADD_C3)
    await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="customer", reason="too slow")
    await shop.skip(
        DAY
    )  # within its 2 days the store confirms: the order is canceled, the modification dropped
    await shop.send(order_id, Action.CONFIRM_CANCELLATION, actor="store")
    final = await shop.final(order_id)
    assert final.status is Status.CANCELED
    assert final.modifications[1].lapsed_because is Lapse.ORDER_CANCELED
    got = effects(shop.settings, order_id)
    refunds = [amount for kind, amount in got if kind == "payment.refund"]
    assert refunds == [6990, 6000] and sum(refunds) == 12990  # the difference asked for never given back
    assert [kind for kind, _ in got].count("payment.authorize") == 1
    assert ("store.modification-lapsed", 1500) not in got  # the cancellation says it all


async def test_rest_cli_and_a_real_receiver(
    dev_env: WorkflowEnvironment, tmp_path: Path, receiver: Receiver
) -> None:
    vtex = VtexSchema()
    async with service(
        dev_env, tmp_path, grace_period_seconds=0, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET
    ) as svc:
        svc.http.event_hooks["response"] = [vtex.hook]
        order_id = await place(svc.orders, items=ITEMS, payment={"method": "card", "captured": True})
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)

        # The CLI: a preview, then a lower value applied at once.
        preview = await svc.cli(
            "modify", order_id, "--remove", "A1:1", "--add", "C3:1:10.00", "--reason", "swap", "--preview"
        )
        assert preview.returncode == 0, preview.stderr
        assert "Value:   BRL 129.90 -> BRL 109.90 (-BRL 20.00)" in preview.stdout
        assert (await svc.orders.state(order_id)).modifications == []  # a preview changes nothing
        done = await svc.cli(
            "modify", order_id, "--remove", "A1:1", "--add", "C3:1:10.00", "--reason", "swap"
        )
        assert done.returncode == 0 and "order modified" in done.stdout, done.stderr
        assert (
            f"Modification {order_id}-m1: BRL 129.90 -> BRL 109.90; BRL 20.00 voided or refunded"
            in done.stdout
        )

        async def listed() -> dict[str, Any]:  # List orders reads the memo: the modified value, no worker
            page = (
                await svc.http.get("/api/oms/pvt/orders?f_customer=c-42&per_page=100", headers=ERP)
            ).json()
            return next((row for row in page["list"] if row["orderId"] == order_id), {})

        row = await eventually(listed, lambda r: r.get("totalValue") == 10990)
        assert row["totalItems"] == 3
        bad = await svc.cli("modify", order_id, "--remove", "A1:5", "--reason", "x")
        assert bad.returncode == 1 and "remove.items[0]: 5 of A1 asked, 1 left" in bad.stderr
        usage = await svc.cli("modify", order_id, "--add", "C3:0:1.00", "--reason", "x")
        assert usage.returncode == 2 and "quantity" in usage.stderr

        # REST: a higher value waits; the CLI approves it as the erp.
        changes = CHANGES.format(orderId=order_id)
        higher = {
            "reason": "a bigger size",
            "replace": [
                {
                    "from": {"items": [{"id": "B2", "quantity": 1}]},
                    "to": {"items": [{"id": "B3", "quantity": 1, "price": 8990}]},
                }
            ],
        }
        waiting = await svc.http.patch(changes, json=higher, headers=STORE)
        assert waiting.status_code == 202 and waiting.json()["status"] == "waiting-payment", waiting.text
        assert waiting.json()["totalChangeValue"] == 2000
        change_id = waiting.json()["requestId"]
        second = await svc.http.patch(changes, json=higher, headers=STORE)
        assert (
            second.status_code == 400
            and f"modification {change_id} is waiting" in second.json()["error"]["message"]
        )
        paid = await svc.cli("approve-modification-payment", order_id, change_id, "--as", "erp")
        assert paid.returncode == 0 and "the difference was paid" in paid.stdout, paid.stderr
        got = (await svc.http.get(f"/api/oms/pvt/orders/{order_id}", headers=ERP)).json()
        assert got["value"] == 12990 and {i["id"]: i["quantity"] for i in got["items"]} == {
            "A1": 1,
            "C3": 1,
            "B3": 1,
        }
        status = await svc.cli("status", order_id)
        assert f"{change_id}: removed B2 x 1; added B3 x 1: +BRL 20.00, applied" in status.stdout

        # Bad input over REST: 400, the field named, nothing changed.
        for body, named in (
            ({"reason": "x", "add": {"items": [{"id": "C9", "quantity": 1}]}}, "add.items[0].price"),
            ({"reason": "x", "remove": {"items": [{"id": "A1", "quantity": 0}]}}, "remove.items.0.quantity"),
            (
                {"reason": "x", "remove": {"items": [{"id": "A1", "quantity": 1.5}]}},
                "remove.items.0.quantity",
            ),
            (
                {"reason": "x", "add": {"items": [{"id": "C9", "quantity": 1, "price": -1}]}},
                "add.items.0.price",
            ),
            ({"add": {"items": [{"id": "A1", "quantity": 1}]}}, "reason"),
            ({"reason": "x"}, "an empty modification"),
        ):
            refused = await svc.http.patch(changes, json=body, headers=STORE)
            assert refused.status_code == 400 and named in refused.json()["error"]["message"], refused.text
        other = await svc.cli("approve-modification-payment", order_id, "elsewhere-m1", "--as", "erp")
        assert other.returncode == 1 and "no modification of the order is waiting" in other.stderr
        assert len((await svc.orders.state(order_id)).modifications) == 2

        # What the receiver got, signatures checked on every delivery: each effect once, exact amounts.
        async def delivered() -> list[tuple[str, Any, Any]]:
            with receiver.lock:
                done = sorted(
                    (at, key, event)
                    for key, (at, event) in receiver.done.items()
                    if key.startswith(f"{order_id}:")
                )
            said = [
                (event["type"], event["data"])
                for _, _, event in done
                if event["type"] != "order.status-changed"
            ]
            return [
                (kind, data.get("amount"), [i["sku"] for i in data.get("items", [])]) for kind, data in said
            ]

        got_events = await eventually(delivered, lambda d: len(d) == 8, timeout=30)
        assert sorted(got_events, key=str) == sorted(
            [
                ("payment.refund", 2000, ["A1"]),  # the lines given back, priced
                ("stock.release", None, ["A1"]),
                ("stock.reserve", None, ["C3"]),
                ("customer.notify", None, []),
                ("payment.authorize", 2000, ["B3"]),
                ("stock.release", None, ["B2"]),
                ("stock.reserve", None, ["B3"]),
                ("customer.notify", None, []),
            ],
            key=str,
        )
        assert all(count == 1 for count in receiver.tries(order_id).values())  # each effect once
    assert ("PATCH", "/api/order-system/orders/{orderId}/changes", 202) in vtex.seen


async def test_the_console_modifies_an_order_and_decides_its_payment(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with console_service(dev_env.client, tmp_path) as console:
        console.add_user("alice")
        console.add_user("erin", Actor.ERP)
        order_id = await place(console.orders, grace_period_seconds=0, total=12990)  # A1 2 x 64.95
        await console.reaches(order_id, Status.READY_FOR_HANDLING)
        async with httpx.AsyncClient(base_url=console.url) as alice:
            await sign_in(alice, "alice")
            page = (await alice.get(f"/console/orders/{order_id}")).text
            assert 'aria-label="Modify order"' in page and "Remove of A1" in page
            form = {
                "csrf": csrf_of(page),
                "request_id": "m-form-1",
                "line_sku": ["A1"],
                "line_remove": ["1"],
                "add_sku": "C3",
                "add_quantity": "2",
                "add_price": "40.00",
                "details": "swap one for two",
            }
            done = await alice.post(f"/console/orders/{order_id}/modify-order", data=form)
            shown = (await alice.get(done.headers["location"])).text
            assert "Order modification waiting for the difference to be paid." in shown, shown[:3000]
            again = await alice.post(f"/console/orders/{order_id}/modify-order", data=form)  # resubmitted
            assert again.status_code == 303
            state = await console.orders.state(order_id)
            assert len(state.modifications) == 1 and state.modifications[0].sender == "alice"
            assert (
                "Waiting for the customer&#39;s payment until" in shown
                or "Waiting for the customer's payment until" in shown
            )
            assert 'aria-label="Approve modification payment"' not in shown  # the store can't
            empty = {"csrf": csrf_of(shown), "request_id": "m-form-2", "details": "nothing"}
            refused = await alice.post(f"/console/orders/{order_id}/cancel-modification", data=empty)
            flash = (await alice.get(refused.headers["location"])).text
            assert "Refused: invalid cancel_modification: modification_id" in flash, flash[
                flash.find("flash") :
            ][:500]
        # The payment is the gateway's to settle (erp or system), never a console button: erp accounts are
        # read-only there (docs/console.md, "Roles"). The erp's backend approves it; the page shows it.
        await console.orders.send(
            order_id,
            Action.APPROVE_MODIFICATION_PAYMENT,
            {"actor": "erp", "sender": "erin", "modification_id": f"{order_id}-m1"},
        )
        async with httpx.AsyncClient(base_url=console.url) as erin:
            await sign_in(erin, "erin")
            page = (await erin.get(f"/console/orders/{order_id}")).text
            assert 'aria-label="Approve modification payment"' not in page
            assert "the difference was paid: order modified" in page  # in the timeline
            assert "Value now: BRL 144.95 (placed at BRL 129.90)." in page
        state = await console.orders.state(order_id)
        assert state.remaining_total == 14495 and state.modifications[0].settled_by_sender == "erin"


async def test_rest_settles_a_change_s_payment_and_keys_are_each_caller_s_own(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with service(dev_env, tmp_path, grace_period_seconds=0) as svc:
        order_id = await place(svc.orders, items=ITEMS)
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        changes = CHANGES.format(orderId=order_id)
        higher = {"reason": "a cable too", "add": {"items": [{"id": "C3", "quantity": 1, "price": 1500}]}}

        first = (await svc.http.patch(changes, json=higher, headers=STORE)).json()
        denied = await svc.http.post(f"{changes}/{first['requestId']}/payment-denied", headers=ERP)
        assert denied.status_code == 200 and denied.json()["status"] == "lapsed", denied.text
        second = (await svc.http.patch(changes, json=higher, headers=STORE)).json()
        store_may_not = await svc.http.post(
            f"{changes}/{second['requestId']}/payment-approved", headers=STORE
        )
        assert store_may_not.status_code == 403  # the payment is the gateway's word: erp or system
        paid = await svc.http.post(f"{changes}/{second['requestId']}/payment-approved", headers=ERP)
        assert paid.status_code == 200 and paid.json()["status"] == "applied", paid.text
        assert (await svc.orders.state(order_id)).remaining_total == 12990 + 1500

        # One Idempotency-Key from two callers is two requests; a retry gets its own caller's change.
        lower = {"reason": "no cable", "remove": {"items": [{"id": "C3", "quantity": 1}]}}
        key = {"Idempotency-Key": "same-key"}
        mine = (await svc.http.patch(changes, json=lower, headers=STORE | key)).json()
        theirs = await svc.http.patch(changes, json=higher, headers=ERP | key)
        assert theirs.status_code == 202 and theirs.json()["requestId"] != mine["requestId"], theirs.text
        again = (await svc.http.patch(changes, json=lower, headers=STORE | key)).json()
        assert again["requestId"] == mine["requestId"]
