"""Whole flows on the official dev server: effects delivered to a real HTTP receiver on loopback, and
listing by `OrderStatus`. (The README's `temporal` CLI examples run in tests/test_readme.py.)"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, Status
from domain.models import OrderInput
from orders.errors import CommandRejected
from tests.kit.history import quiet
from tests.kit.polling import eventually
from tests.kit.receiver import SECRET, Receiver
from tests.kit.worker import running_worker, settings_for
from workflows.names import workflow_id


def refusing_each_first_attempt(receiver: Receiver) -> Receiver:
    """The merchant's endpoint answers 500 to the first attempt of every event."""
    receiver.behaviour = lambda event, attempt: "fail" if attempt == 1 else "ok"
    return receiver


def accepted(receiver: Receiver, order_id: str) -> list[dict[str, Any]]:
    with receiver.lock:
        return [event for key, (_, event) in receiver.done.items() if key.startswith(f"{order_id}:")]


async def test_a_whole_flow_delivers_signed_effects_once(
    dev_env: WorkflowEnvironment, tmp_path: Path, receiver: Receiver
) -> None:
    refusing_each_first_attempt(receiver)
    settings = settings_for(tmp_path, webhook_url=receiver.url, webhook_secret=SECRET, grace_period_seconds=2)
    async with running_worker(dev_env.client, settings) as orders:
        order_id = uuid.uuid4().hex[:10]
        await orders.place(
            OrderInput(order_id=order_id, customer_id="c-7", total=5000, payment={"captured": True})
        )
        await eventually(lambda: orders.state(order_id), lambda s: s.status is Status.READY_FOR_HANDLING)

        requested = await orders.send(
            order_id, Action.REQUEST_CANCELLATION, {"actor": "customer", "reason": "late"}
        )
        assert requested.state is not None and requested.state.status is Status.CANCELLATION_REQUESTED
        listed = await eventually(
            lambda: orders.list_orders(status=Status.CANCELLATION_REQUESTED, customer_id="c-7"),
            lambda found: [o.order_id for o in found] == [order_id],
        )
        assert listed[0].customer_id == "c-7"

        await orders.send(order_id, Action.CONFIRM_CANCELLATION, {"actor": "store"})
        final = await eventually(
            lambda: orders.state(order_id), lambda s: s.status is Status.CANCELED, timeout=30
        )
        await eventually(
            lambda: orders.list_orders(status=Status.CANCELED, customer_id="c-7"), lambda f: len(f) == 1
        )
        # Status events queue behind each other; each takes a refused attempt and a retry here.
        await eventually(
            lambda: _async(accepted(receiver, order_id)), lambda done: len(done) == 9, timeout=60
        )

    types = [event["type"] for event in accepted(receiver, order_id)]
    for effect in ("payment.refund", "stock.release", "customer.notify", "store.decision-needed"):
        assert types.count(effect) == 1, types
    assert types.count("order.status-changed") == 5
    assert all(attempt.signed for attempt in receiver.attempts)  # both signatures, every attempt
    assert all(tries == 2 for tries in receiver.tries(order_id).values())  # one 500, then accepted
    # Event ids carry no caller text: the decision-needed event is numbered, not named after the request.
    numbered = [e for e in final.effects if e.startswith(f"{order_id}:store.decision-needed:")]
    assert len(numbered) == 1 and numbered[0].rsplit(":", 1)[1].isdigit(), final.effects
    assert sorted(final.effects) == sorted(
        [
            *numbered,
            *(f"{order_id}:{effect}" for effect in ("payment.refund", "stock.release", "customer.notify")),
        ]
    )
    assert not any(requested.request_id in effect for effect in final.effects)
    payment = next(e for e in accepted(receiver, order_id) if e["type"] == "payment.refund")
    assert payment["data"] == {"amount": 5000, "currency": "BRL", "method": "credit-card"}


async def test_a_refused_update_leaves_no_event_in_history(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    async with running_worker(dev_env.client, settings) as orders:
        order_id = uuid.uuid4().hex[:10]
        await orders.place(OrderInput(order_id=order_id, customer_id="c-8", total=100))
        handle = dev_env.client.get_workflow_handle(workflow_id(order_id))
        await eventually(lambda: orders.state(order_id), lambda s: s.status is Status.WINDOW_TO_CANCEL)
        before = await quiet(handle)
        for _ in range(3):
            with pytest.raises(CommandRejected, match="handling can start only"):
                await orders.send(order_id, Action.START_HANDLING, {"actor": "store"})
        assert len((await handle.fetch_history()).events) == before


async def _async(value: Any) -> Any:
    return value


async def test_an_order_placed_while_no_worker_runs_has_its_window_from_placement(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    order_id = uuid.uuid4().hex[:10]
    async with running_worker(dev_env.client, settings) as orders:
        pass  # a worker came and went: the task queue exists, nobody polls it
    await orders.place(OrderInput(order_id=order_id, customer_id="c-9", total=100))
    started = (await dev_env.client.get_workflow_handle(workflow_id(order_id)).describe()).start_time
    await asyncio.sleep(0.5)  # the worker returns later than the order was placed
    async with running_worker(dev_env.client, settings) as orders:
        state = await eventually(
            lambda: orders.state(order_id), lambda s: s.status is Status.WINDOW_TO_CANCEL
        )
    assert state.placed_at == state.payment_approved_at == started
