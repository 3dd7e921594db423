"""Save histories of the main paths for the replay test: `python -m tests.record_histories VERSION`.

Run it after a deliberate, `workflow.patched`-guarded change to `OrderWorkflow`, naming the change
(`tests/histories/VERSION/`); the earlier versions' files stay, so the orders still open when the change
ships keep replaying."""

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
from orders.client import OrdersClient, workflow_id
from orders.connection import ensure_search_attributes
from tests.conftest import eventually, running_worker, settings_for

HISTORIES = Path(__file__).parent / "histories"
MINUTE, DAY = 60, 24 * 60 * 60

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


SCENARIOS: dict[str, tuple[dict[str, object], Scenario]] = {
    "canceled_inside_window": ({}, canceled_inside_window),
    "confirmed_after_window": ({"payment": {"captured": True}}, confirmed_after_window),
    "denied_then_invoiced": ({}, denied_then_invoiced),
    "store_two_steps": ({}, store_two_steps),
    "decision_timeout": ({}, decision_timeout),
    "store_defaults_from_settings": ({"grace_period_seconds": None}, canceled_inside_window),
}


async def record(directory: Path, name: str, overrides: dict[str, object], scenario: Scenario) -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=shutil.which("temporal-test-server"), data_converter=pydantic_data_converter
    )
    async with env:
        await ensure_search_attributes(env.client)
        settings = settings_for(Path(tempfile.mkdtemp()))
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
    (directory / f"{name}.json").write_text(history.to_json())
    print(f"saved {name}: {len(history.events)} events")


async def main(version: str) -> None:
    directory = HISTORIES / version
    if directory.exists():
        raise SystemExit(f"{directory} exists: saved histories are never overwritten, name a new version")
    directory.mkdir(parents=True)
    for name, (overrides, scenario) in SCENARIOS.items():
        await record(directory, name, overrides, scenario)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m tests.record_histories VERSION  (e.g. v3-short-name)")
    asyncio.run(main(sys.argv[1]))
