"""The decision policy through its doors, on the dev server: reason codes, extensions, payment denial and
the pending queue in the `orders` CLI and the REST API; the report over a few hundred orders with known
outcomes (exact counts); the business metrics on the worker's Prometheus endpoint."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, CancelPath, Status
from domain.reasons import BUILT_IN
from orders.client import OrdersClient
from orders.connection import metrics_runtime
from orders.queue import pending_requests
from orders.report import build_report
from tests.kit.api import CHECKOUT, ERP, PVT, STORE, service
from tests.kit.cli import in_thread
from tests.kit.history import all_runs
from tests.kit.orders import place, reaches
from tests.kit.polling import eventually
from tests.kit.processes import free_port
from tests.kit.worker import running_worker, settings_for
from workflows import order_workflow
from workflows.names import workflow_id


async def test_reason_codes_extensions_and_payment_denial_through_the_cli(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with service(dev_env, tmp_path, grace_period_seconds=0, decision_timeout_seconds=3600) as svc:
        listed = await svc.cli("reasons", "--use", "deny", "--codes")
        assert listed.stdout.split() == ["already-shipped", "made-to-order", "other"]
        order_id = await place(svc.orders)
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        wrong = await svc.cli(
            "cancel", order_id, "--as", "customer", "--reason", "x", "--reason-code", "fraud"
        )
        assert wrong.returncode == 2 and "changed-mind" in wrong.stderr and "fraud" in wrong.stderr
        asked = await svc.cli("cancel", order_id, "--as", "customer", "--reason", "too slow",
                              "--reason-code", "delivery-too-slow", "--sender", "c-42")  # fmt: skip
        assert asked.returncode == 0, asked.stderr
        pending = await svc.cli("pending", "--json")
        row = next(r for r in json.loads(pending.stdout) if r["order_id"] == order_id)
        assert (row["reason_code"], row["reason_label"], row["urgent"]) == (
            "delivery-too-slow", "Delivery takes too long", True  # one hour to decide: under 24 h
        )  # fmt: skip
        shown = await svc.cli("pending")
        assert any(line.startswith(order_id) and "! " in line for line in shown.stdout.splitlines())

        extended = await svc.cli("extend", order_id, "--decision", "2d", "--reason", "asked the carrier")
        assert extended.returncode == 0, extended.stderr
        state = await svc.orders.state(order_id)
        assert state.decision_deadline is not None and state.pending_request is not None
        assert state.decision_deadline - state.pending_request.requested_at == timedelta(hours=49)
        # The queue reads visibility: it shows the new deadline, and no longer marks the request urgent.
        pending = await svc.cli("pending", "--json")
        row = next(r for r in json.loads(pending.stdout) if r["order_id"] == order_id)
        assert (row["decision_deadline"], row["urgent"]) == (state.decision_deadline.isoformat(), False), row
        both = await svc.cli("extend", order_id, "--decision", "1d", "--window-until", "2030-01-01T00:00:00Z")
        assert both.returncode == 2 and "exactly one of" in both.stderr
        # Both forms of one deadline: the command's own model refuses it, as a usage error.
        pair = await svc.cli(
            "extend", order_id, "--decision", "1d", "--decision-until", "2030-01-01T00:00:00Z"
        )
        assert pair.returncode == 2 and "exactly one of until" in pair.stderr, pair.stderr
        until = state.pending_request.requested_at + timedelta(hours=50)
        moved = await svc.cli("extend", order_id, "--decision-until", until.strftime("%Y-%m-%dT%H:%M:%SZ"))
        assert moved.returncode == 0, moved.stderr
        assert (await svc.orders.state(order_id)).decision_deadline == until.replace(microsecond=0)
        late_window = await svc.cli("extend", order_id, "--window", "1h")
        assert late_window.returncode == 1 and "only while it is open" in late_window.stderr

        denied = await svc.cli(
            "deny", order_id, "--reason", "left the warehouse", "--reason-code", "already-shipped"
        )
        assert denied.returncode == 0, denied.stderr
        request = (await svc.orders.state(order_id)).cancellation_requests[-1]
        assert (request.deny_reason_code, request.deny_reason_label) == ("already-shipped", "Already shipped")

        unpaid = await place(svc.orders, payment_approved=False)
        gateway = await svc.cli("deny-payment", unpaid, "--reason", "card declined")
        assert gateway.returncode == 0, gateway.stderr
        final = await reaches(svc.orders, unpaid, Status.CANCELED)
        assert final.cancellation is not None and final.cancellation.path is CancelPath.PAYMENT_DENIED


async def test_payment_denial_and_extensions_through_the_rest_api(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with service(dev_env, tmp_path) as svc:
        order_id = await place(svc.orders)
        body = {"seconds": 3600, "reason": "customer asked for time"}
        extended = await svc.http.post(f"{PVT}/{order_id}/extend-grace-period", json=body, headers=STORE)
        assert extended.status_code == 200, extended.text
        assert (await svc.orders.state(order_id)).grace_period_seconds == 1800 + 3600
        both = await svc.http.post(
            f"{PVT}/{order_id}/extend-grace-period",
            json={"seconds": 60, "until": "2027-01-01T00:00:00Z"},
            headers=STORE,
        )
        assert both.status_code == 422 and "exactly one" in both.text
        past = await svc.http.post(
            f"{PVT}/{order_id}/extend-grace-period", json={"until": "2020-01-01T00:00:00Z"}, headers=STORE
        )
        assert past.status_code == 409 and past.json()["error"]["code"] == "not-later"
        paid = await svc.http.post(f"{PVT}/{order_id}/payment-denied", json={"reason": "late"}, headers=ERP)
        assert paid.status_code == 409 and paid.json()["error"]["code"] == "already-approved"

        unpaid = f"{order_id}-unpaid"
        body = {"orderId": unpaid, "customerId": "c-9", "total": 5000, "paymentApproved": False,
                "paymentTimeoutSeconds": 7200}  # fmt: skip
        placed = await svc.http.post(PVT, json=body, headers=ERP)
        assert placed.status_code == 201, placed.text
        assert (await svc.orders.state(unpaid)).payment_timeout_seconds == 7200
        by_store = await svc.http.post(f"{PVT}/{unpaid}/payment-denied", headers=STORE)
        assert by_store.status_code == 403, by_store.text
        denied = await svc.http.post(
            f"{PVT}/{unpaid}/payment-denied", json={"reason": "declined"}, headers=ERP
        )
        assert denied.status_code == 200, denied.text
        await reaches(svc.orders, unpaid, Status.CANCELED)


async def test_the_pending_queue_needs_no_worker(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    async with service(dev_env, tmp_path, grace_period_seconds=0) as svc:
        order_id = await place(svc.orders, customer_id="c-queue")
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        await svc.orders.send(order_id, Action.REQUEST_CANCELLATION, {"actor": "customer", "reason": "r"})
        await eventually(
            lambda: svc.cli("pending", "--customer", "c-queue"), lambda done: order_id in done.stdout
        )
    queued = await svc.cli("pending", "--customer", "c-queue", "--json")  # the worker is gone
    assert queued.returncode == 0 and [r["order_id"] for r in json.loads(queued.stdout)] == [order_id]


async def test_the_report_counts_a_few_hundred_orders_exactly(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, grace_period_seconds=0)
    started = datetime.now(UTC) - timedelta(seconds=1)
    customer = f"c-{uuid.uuid4().hex[:8]}"  # other tests share the dev server: the report is scoped to it
    async with running_worker(dev_env.client, settings) as orders:
        plan: dict[str, list[str]] = {"inside": [], "confirmed": [], "denied": [], "payment": [], "kept": []}
        counts = {"inside": 60, "confirmed": 40, "denied": 30, "payment": 20, "kept": 50}
        limiter = asyncio.Semaphore(16)

        async def one(kind: str, n: int) -> None:
            async with limiter:
                order_id = f"{customer}-{kind}-{n}"
                grace = 3600 if kind == "inside" else 0
                await place(orders, order_id=order_id, customer_id=customer, grace_period_seconds=grace,
                            payment_approved=kind != "payment")  # fmt: skip
                if kind == "inside":
                    await send(
                        orders,
                        order_id,
                        Action.REQUEST_CANCELLATION,
                        actor="customer",
                        reason_code="changed-mind",
                    )
                elif kind == "payment":
                    await send(orders, order_id, Action.DENY_PAYMENT, actor="erp", reason="declined")
                elif kind in ("confirmed", "denied"):
                    await reaches(orders, order_id, Status.READY_FOR_HANDLING, timeout=60)
                    await send(
                        orders,
                        order_id,
                        Action.REQUEST_CANCELLATION,
                        actor="customer",
                        reason_code="ordered-by-mistake",
                    )
                    if kind == "confirmed":
                        await send(orders, order_id, Action.CONFIRM_CANCELLATION, actor="store")
                    else:
                        await send(
                            orders,
                            order_id,
                            Action.DENY_CANCELLATION,
                            actor="store",
                            reason="no",
                            reason_code="made-to-order",
                        )
                plan[kind].append(order_id)

        await asyncio.gather(*(one(kind, n) for kind, count in counts.items() for n in range(count)))

        async def report() -> Any:
            return await build_report(dev_env.client, started, BUILT_IN, only=f'CustomerId = "{customer}"')

        def complete(figures: Any) -> bool:  # visibility catches up with the orders a moment later
            counted = (figures.placed, figures.canceled, figures.requests_denied, figures.decisions)
            return counted == (200, 120, 30, 70)

        exact = await eventually(report, complete, timeout=60, every=0.5)
    assert (exact.placed, exact.canceled, exact.requests_denied) == (200, 120, 30)
    assert exact.canceled_by_path == {
        "inside-window": 60, "after-confirmation": 40, "decision-timeout": 0, "payment-timeout": 0,
        "payment-denied": 20, "items-only": 0,
    }  # fmt: skip
    assert exact.by_reason == {"changed-mind": 60, "ordered-by-mistake": 40, "payment-problem": 20}
    assert exact.by_actor == {"customer": 100, "erp": 20}
    assert exact.by_shopify_reason == {"customer": 100, "declined": 20}
    assert exact.decision_seconds_p50 is not None and exact.decision_seconds_p90 is not None
    assert sum(len(ids) for ids in plan.values()) == 200


async def send(orders: OrdersClient, order_id: str, action: Action, **payload: Any) -> None:
    result = await orders.send(order_id, action, payload, update_timeout=30)
    assert not result.queued


async def test_the_business_metrics_are_on_the_workers_prometheus_endpoint(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    port = free_port()
    client = await Client.connect(
        dev_env.client.service_client.config.target_host,
        data_converter=pydantic_data_converter,
        runtime=metrics_runtime(port, host="127.0.0.1"),
    )
    settings = settings_for(tmp_path, grace_period_seconds=0)
    async with running_worker(client, settings) as orders:
        canceled, denied = await place(orders), await place(orders)
        for order_id in (canceled, denied):
            await reaches(orders, order_id, Status.READY_FOR_HANDLING)
            await send(
                orders, order_id, Action.REQUEST_CANCELLATION, actor="customer", reason_code="found-cheaper"
            )
        await send(orders, canceled, Action.CONFIRM_CANCELLATION, actor="store")
        await send(
            orders,
            denied,
            Action.DENY_CANCELLATION,
            actor="store",
            reason="no",
            reason_code="already-shipped",
        )
        await reaches(orders, canceled, Status.CANCELED)
        lines = await place(orders, items=[{"sku": "A1", "quantity": 2, "price": 6495}])
        await reaches(orders, lines, Status.READY_FOR_HANDLING)
        await send(orders, lines, Action.CANCEL_ITEMS, actor="store", items=[{"sku": "A1", "quantity": 1}],
                   reason_code="out-of-stock")  # fmt: skip

        async def scrape() -> str:
            async with httpx.AsyncClient() as http:
                return (await http.get(f"http://127.0.0.1:{port}/metrics")).text

        text = await eventually(
            scrape,
            lambda t: all(
                name in t
                for name in ("orders_cancellations", "orders_requests_denied", "orders_item_cancellations")
            ),
        )
    assert (
        "orders_cancellations{" in text
        and 'path="after-confirmation"' in text
        and 'reason_code="found-cheaper"' in text
    )
    assert "orders_requests_denied{" in text and 'reason_code="already-shipped"' in text
    assert any(
        line.startswith("orders_item_cancellations{") and 'reason_code="out-of-stock"' in line
        for line in text.splitlines()
    ), text
    assert "orders_decision_seconds_bucket" in text and 'le="60"' in text


async def test_the_worker_refuses_a_malformed_reason_catalogue_in_one_line(tmp_path: Path) -> None:
    catalogue = tmp_path / "reasons.toml"
    catalogue.write_text('[customer.changed-mind]\nen = "Changed my mind"\n', encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "ORDERS_"))}
    done = await in_thread(sys.executable, "worker.py", env=base | {"ORDERS_REASONS": str(catalogue)})
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "ORDERS_REASONS" in lines[0] and "line 1" in lines[0] and "needs a label for pt-BR" in lines[0]


async def test_reason_codes_through_the_rest_api(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    async with service(dev_env, tmp_path, grace_period_seconds=0) as svc:
        order_id = await place(svc.orders)
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        url = f"{CHECKOUT}/{order_id}/user-cancel-request"
        wrong = await svc.http.post(url, json={"reasonCode": "fraud-suspected"}, headers=svc.customer("c-42"))
        assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "reason-code"
        assert "changed-mind" in wrong.json()["error"]["message"]
        body = {"reason": "a better price", "reasonCode": "found-cheaper"}
        asked = await svc.http.post(url, json=body, headers=svc.customer("c-42"))
        assert asked.status_code == 200, asked.text
        order = (await svc.http.get(f"{PVT}/{order_id}", headers=ERP)).json()
        pending = order["cancellationData"]
        assert (pending["reasonCode"], pending["reasonLabel"]) == (
            "found-cheaper",
            "Found it cheaper elsewhere",
        )
        deny = {
            "cancellationRequestId": asked.json()["receipt"],
            "denyReason": "shipped",
            "reasonCode": "already-shipped",
        }
        denied = await svc.http.post(f"{PVT}/{order_id}/deny-cancellation-request", json=deny, headers=STORE)
        assert denied.status_code == 200, denied.text
        state = await svc.orders.state(order_id)
        assert state.cancellation_requests[-1].deny_reason_code == "already-shipped"
        text_only = await svc.http.post(f"{PVT}/{order_id}/cancel", json={"reason": "fraud"}, headers=ERP)
        assert text_only.status_code == 200
        order = (await svc.http.get(f"{PVT}/{order_id}", headers=ERP)).json()
        assert order["cancellationData"]["reasonCode"] == "other"  # text-only callers: other


async def test_an_order_that_continued_as_new_is_listed_counted_and_reported_once(
    dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each run of an order is a workflow execution in visibility: only its current one is the order."""
    monkeypatch.setattr(order_workflow, "COMMANDS_PER_RUN", 3)  # read by the in-process worker's runs
    customer, since = f"c-can-{uuid.uuid4().hex[:6]}", datetime.now(UTC) - timedelta(minutes=1)
    settings = settings_for(tmp_path)
    async with running_worker(dev_env.client, settings) as orders:
        order_id = await place(orders, customer_id=customer, grace_period_seconds=0)
        await reaches(orders, order_id, Status.READY_FOR_HANDLING)
        handle = dev_env.client.get_workflow_handle(workflow_id(order_id))
        for _ in range(7):  # refused signals (the payment is approved) count as commands all the same
            await handle.signal(Action.APPROVE_PAYMENT.value, {"actor": "store"})
        await send(orders, order_id, Action.START_HANDLING, actor="store")
        await eventually(lambda: all_runs(dev_env.client, order_id), lambda runs: len(runs) >= 2)

        def once(found: list[Any]) -> bool:
            return [(s.order_id, s.status) for s in found] == [(order_id, Status.HANDLING)]

        await eventually(lambda: orders.list_orders(customer_id=customer), once, timeout=30)
        assert await orders.count(customer_id=customer) == 1
        report = await build_report(dev_env.client, since, BUILT_IN, only=f'CustomerId = "{customer}"')
        assert report.placed == 1


async def test_a_short_queue_holds_the_soonest_deadlines_of_all_pending_requests(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """Visibility lists orders newest placed first; the queue's limit must keep the soonest deadlines."""
    customer = f"c-soon-{uuid.uuid4().hex[:6]}"
    async with running_worker(dev_env.client, settings_for(tmp_path, grace_period_seconds=0)) as orders:
        placed = []
        for days in (2, 9, 5, 7):  # the oldest order has the soonest deadline
            order_id = await place(orders, customer_id=customer, decision_timeout_seconds=days * 86400)
            await reaches(orders, order_id, Status.READY_FOR_HANDLING)
            await send(orders, order_id, Action.REQUEST_CANCELLATION, actor="customer")
            placed.append(order_id)

        async def queue() -> list[str]:
            rows = await pending_requests(dev_env.client, customer_id=customer, limit=2)
            return [row.order_id for row in rows]

        await eventually(
            lambda: pending_requests(dev_env.client, customer_id=customer), lambda r: len(r) == 4
        )
        assert await queue() == [placed[0], placed[2]]  # 2 days, then 5
