"""Record a history of every main path for the replay test: `python -m tests.record_histories`.

Before the first release it rewrites `tests/histories/1.0/` (no order exists outside tests). After it, a
change to `OrderWorkflow` follows docs/versioning.md: record the new code's histories under a new name
(`python -m tests.record_histories 1.1`) and keep the old ones, so open orders keep replaying."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, Status
from domain.models import OrderInput
from orders.client import OrdersClient
from orders.connection import ensure_search_attributes
from tests.conftest import eventually, running_worker, settings_for
from tests.receiver import SECRET, Receiver
from workflows.names import workflow_id

HISTORIES = Path(__file__).parent / "histories"
CURRENT = "1.1"  # the version the code in workflows/ is; histories of released versions are kept
MINUTE, DAY = 60, 24 * 60 * 60
ITEMS = [{"sku": "A1", "quantity": 2, "price": 3000}, {"sku": "B2", "quantity": 1, "price": 6990}]

Scenario = Callable[[OrdersClient, WorkflowEnvironment, str], Awaitable[None]]


async def send(
    orders: OrdersClient, env: WorkflowEnvironment, order_id: str, action: Action, **body: object
) -> None:
    body.setdefault("requested_at", (await env.get_current_time()).isoformat())
    await orders.send(order_id, action, body, update_timeout=30)


async def after_window(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await env.sleep(31 * MINUTE)
    await eventually(lambda: orders.state(order_id), lambda s: s.status is Status.READY_FOR_HANDLING)


async def canceled_inside_window(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await send(orders, env, order_id, Action.REQUEST_CANCELLATION, actor="customer", reason="changed my mind")


async def confirmed_after_window(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await after_window(orders, env, order_id)
    await send(orders, env, order_id, Action.REQUEST_CANCELLATION, actor="customer", reason="late")
    await send(orders, env, order_id, Action.CONFIRM_CANCELLATION, actor="store")


async def denied_then_invoiced(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await after_window(orders, env, order_id)
    await send(orders, env, order_id, Action.START_HANDLING, actor="store")
    await send(orders, env, order_id, Action.REQUEST_CANCELLATION, actor="customer")
    await send(orders, env, order_id, Action.DENY_CANCELLATION, actor="store", reason="already shipped")
    await orders.send(
        order_id, Action.START_HANDLING, {"actor": "store"}, as_signal=True
    )  # refused, recorded
    await send(orders, env, order_id, Action.INVOICE, actor="erp", invoice_number="NF-1", value=5000)
    await send(orders, env, order_id, Action.INVOICE, actor="erp", invoice_number="NF-2", value=7990)


async def store_two_steps(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await after_window(orders, env, order_id)
    await send(orders, env, order_id, Action.REQUEST_CANCELLATION, actor="store")
    await send(orders, env, order_id, Action.REQUEST_CANCELLATION, actor="store")


async def decision_timeout(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await after_window(orders, env, order_id)
    await send(orders, env, order_id, Action.REQUEST_CANCELLATION, actor="customer")
    await env.sleep(31 * DAY)


async def approved_then_canceled(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await send(orders, env, order_id, Action.APPROVE_PAYMENT, actor="erp")
    await send(orders, env, order_id, Action.REQUEST_CANCELLATION, actor="erp", sender="app-1", reason="x")


async def canceled_before_payment(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await send(orders, env, order_id, Action.REQUEST_CANCELLATION, actor="customer", sender="c-1")


async def refused_and_malformed_signals(
    orders: OrdersClient, env: WorkflowEnvironment, order_id: str
) -> None:
    handle = env.client.get_workflow_handle(workflow_id(order_id))
    await handle.signal("request_cancellation", {"actor": "customer", "request_id": "r\u00e9-1"})
    await handle.signal("start_handling", {"actor": "store", "request_id": "early"})
    await handle.signal("invoice", "not an object")
    await after_window(orders, env, order_id)
    await send(orders, env, order_id, Action.INVOICE, actor="erp", invoice_number="NF-1", value=12990)


async def payment_timeout(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await env.sleep(3 * DAY + MINUTE)


async def payment_denied(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await send(orders, env, order_id, Action.DENY_PAYMENT, actor="system", reason="card declined")


async def window_extended(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await env.sleep(20 * MINUTE)
    await send(orders, env, order_id, Action.EXTEND_GRACE_PERIOD, actor="store", seconds=60 * MINUTE)
    await env.sleep(20 * MINUTE)
    await send(
        orders, env, order_id, Action.REQUEST_CANCELLATION, actor="customer", reason_code="changed-mind"
    )


async def decision_deadline_extended(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await after_window(orders, env, order_id)
    await send(
        orders, env, order_id, Action.REQUEST_CANCELLATION, actor="customer", reason_code="found-cheaper"
    )
    await send(orders, env, order_id, Action.EXTEND_DECISION_DEADLINE, actor="store", seconds=7 * DAY)
    await env.sleep(38 * DAY)


async def items_canceled(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    await send(
        orders, env, order_id, Action.CANCEL_ITEMS, actor="customer", items=[{"sku": "A1", "quantity": 1}]
    )
    await after_window(orders, env, order_id)
    await send(
        orders, env, order_id, Action.CANCEL_ITEMS, actor="customer", items=[{"sku": "B2", "quantity": 1}]
    )
    await send(orders, env, order_id, Action.CONFIRM_CANCELLATION, actor="store")
    await send(orders, env, order_id, Action.INVOICE, actor="erp", invoice_number="NF-1", value=3000)


async def receiver_refuses_at_first(orders: OrdersClient, env: WorkflowEnvironment, order_id: str) -> None:
    """The local attempt at a status event fails; the activity after it delivers."""
    await after_window(orders, env, order_id)
    await send(orders, env, order_id, Action.START_HANDLING, actor="store")
    await send(orders, env, order_id, Action.INVOICE, actor="erp", invoice_number="NF-1", value=12990)


SCENARIOS: dict[str, tuple[dict[str, object], Scenario]] = {
    "canceled_inside_window": ({}, canceled_inside_window),
    "confirmed_after_window": ({"payment": {"captured": True}}, confirmed_after_window),
    "denied_then_invoiced": ({}, denied_then_invoiced),
    "store_two_steps": ({}, store_two_steps),
    "decision_timeout": ({}, decision_timeout),
    "store_defaults_from_settings": ({"grace_period_seconds": None}, canceled_inside_window),
    "approved_then_canceled": ({"payment_approved": False}, approved_then_canceled),
    "canceled_before_payment": ({"payment_approved": False}, canceled_before_payment),
    "refused_and_malformed_signals": ({}, refused_and_malformed_signals),
    "receiver_refuses_at_first": ({"webhook": "refuse-first"}, receiver_refuses_at_first),
    # The compensation's first attempt fails: visibility is shown `cancel`, the rest retries.
    "compensation_refused_at_first": ({"webhook": "refuse-first"}, canceled_inside_window),
    "payment_timeout": ({"payment_approved": False}, payment_timeout),
    "payment_denied": ({"payment_approved": False}, payment_denied),
    "window_extended": ({}, window_extended),
    "decision_deadline_extended": ({}, decision_deadline_extended),
    "items_canceled": ({"items": ITEMS}, items_canceled),
}


async def record(directory: Path, name: str, overrides: dict[str, object], scenario: Scenario) -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=shutil.which("temporal-test-server"), data_converter=pydantic_data_converter
    )
    overrides = dict(overrides)
    receiver = Receiver()
    if overrides.pop("webhook", None) == "refuse-first":
        receiver.behaviour = lambda event, attempt: "fail" if attempt == 1 else "ok"
    receiver.start()
    async with env:
        await ensure_search_attributes(env.client)
        settings = settings_for(Path(tempfile.mkdtemp()), webhook_url=receiver.url, webhook_secret=SECRET)
        async with running_worker(env.client, settings) as orders:
            order_id = f"replay-{name}"
            body = {"order_id": order_id, "customer_id": "c-1", "total": 12990, "items": []} | overrides
            order = OrderInput.model_validate(body)
            if (
                "grace_period_seconds" in overrides
            ):  # place it as the raw CLI would: the store's settings fill in
                await env.client.start_workflow(
                    "OrderWorkflow", order, id=workflow_id(order_id), task_queue=settings.task_queue
                )
            else:
                await orders.place(order)
            await scenario(orders, env, order_id)
            handle: WorkflowHandle = env.client.get_workflow_handle(workflow_id(order_id))
            await handle.result()
            history = await handle.fetch_history()
    receiver.stop()
    (directory / f"{name}.json").write_text(history.to_json())
    print(f"saved {name}: {len(history.events)} events")


async def main(version: str) -> None:
    directory = HISTORIES / version
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for name, (overrides, scenario) in SCENARIOS.items():
        await record(directory, name, overrides, scenario)


if __name__ == "__main__":
    if len(sys.argv) > 2:
        raise SystemExit(f"usage: python -m tests.record_histories [VERSION]  (default {CURRENT})")
    asyncio.run(main(sys.argv[1] if len(sys.argv) == 2 else CURRENT))
