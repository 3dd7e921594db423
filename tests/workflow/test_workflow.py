"""OrderWorkflow on the time-skipping test server: every path of docs/lifecycle.md with the real 30-minute
grace period and 30-day decision timer, checked through status, timeline and the side effects delivered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import COMMANDS, Action, Status
from domain.state import OrderState
from orders.client import OrdersClient
from orders.errors import CommandRejected
from tests.kit.orders import DAY, MINUTE, PAYMENT_AND_STOCK, Shop, place
from tests.kit.polling import eventually
from tests.kit.worker import read_events, running_worker, settings_for
from workflows.names import workflow_id
from workflows.order_workflow import OrderWorkflow


def test_every_command_is_a_signal_and_an_update_with_a_validator() -> None:
    definition = workflow._Definition.from_class(OrderWorkflow)
    assert definition is not None
    names = {action.value for action in COMMANDS}
    assert set(definition.signals) == names
    assert set(definition.updates) == names
    assert all(update.validator is not None for update in definition.updates.values())


@pytest_asyncio.fixture
async def shop(time_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Shop]:
    settings = settings_for(tmp_path)
    async with running_worker(time_env.client, settings) as orders:
        yield Shop(orders, settings, time_env)


def path(state: OrderState) -> list[str]:
    return [e.to_status.value for e in state.timeline if not e.refused]


def assert_compensated_once(shop: Shop, order_id: str, payment: str, stock: str) -> None:
    effects = shop.effects(order_id)
    assert effects[payment] == 1 and effects[stock] == 1 and effects["customer.notify"] >= 1, effects
    assert sum(effects[kind] for kind in PAYMENT_AND_STOCK) == 2, effects


async def test_inside_the_window_a_request_cancels_at_once(shop: Shop) -> None:
    order_id = await place(shop.orders)
    await shop.skip(10 * MINUTE)
    state = await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="customer", reason="changed my mind")
    assert state.status in (Status.CANCEL, Status.CANCELED)
    final = await shop.final(order_id)
    assert final.status is Status.CANCELED
    assert path(final) == ["window-to-cancel", "cancel", "canceled"]
    assert final.cancellation is not None and final.cancellation.requested_by == "customer"
    assert final.cancellation.reason == "changed my mind" and final.cancellation.canceled_at is not None
    assert_compensated_once(shop, order_id, "payment.void", "stock.release")
    assert shop.effects(order_id)["order.status-changed"] == 3


async def test_after_the_window_the_store_confirms(shop: Shop) -> None:
    order_id = await place(shop.orders, payment={"method": "credit-card", "captured": True})
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)
    state = await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="customer", reason="late")
    assert state.status is Status.CANCELLATION_REQUESTED
    assert state.decision_deadline is not None and state.pending_request is not None
    await eventually(lambda: _async(shop.effects(order_id)), lambda e: e["store.decision-needed"] == 1)

    await shop.send(order_id, Action.CONFIRM_CANCELLATION, actor="store")
    final = await shop.final(order_id)
    assert path(final) == [
        "window-to-cancel", "ready-for-handling", "cancellation-requested", "cancel", "canceled",
    ]  # fmt: skip
    assert final.cancellation is not None and final.cancellation.confirmed_by == "store"
    assert_compensated_once(shop, order_id, "payment.refund", "stock.release")


async def test_denied_then_invoiced_leaves_payment_and_stock_alone(shop: Shop) -> None:
    order_id = await place(shop.orders)
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)
    await shop.send(order_id, Action.START_HANDLING, actor="store")
    await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="customer", reason="too slow")
    state = await shop.send(order_id, Action.DENY_CANCELLATION, actor="store", reason="already shipped")
    assert state.status is Status.HANDLING
    assert (
        state.cancellation_requests[0].denied
        and state.cancellation_requests[0].deny_reason == "already shipped"
    )

    await shop.send(order_id, Action.INVOICE, actor="erp", invoice_number="NF-1", value=12990)
    final = await shop.final(order_id)
    assert final.status is Status.INVOICED and final.invoiced_value == 12990
    effects = shop.effects(order_id)
    assert not PAYMENT_AND_STOCK & set(effects), effects
    assert effects["customer.notify"] == 1  # the denial, with its reason
    denial = [e for e in read_events(shop.settings.event_log) if e["type"] == "customer.notify"]
    assert denial[0]["data"]["reason"] == "already shipped"


async def test_the_store_cancels_in_two_steps_after_handling_started(shop: Shop) -> None:
    order_id = await place(shop.orders)
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)
    await shop.send(order_id, Action.START_HANDLING, actor="store")
    first = await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="store", reason="out of stock")
    assert first.status is Status.CANCELLATION_REQUESTED
    second = await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="store")
    assert second.status in (Status.CANCEL, Status.CANCELED)
    final = await shop.final(order_id)
    assert final.status is Status.CANCELED
    assert_compensated_once(shop, order_id, "payment.void", "store.restock-needed")
    assert shop.effects(order_id)["store.decision-needed"] == 0  # the store asked itself


async def test_the_store_not_deciding_within_30_days_cancels(shop: Shop) -> None:
    order_id = await place(shop.orders)
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)
    await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="customer")
    await shop.skip(30 * DAY + MINUTE)
    final = await shop.final(order_id)
    assert final.status is Status.CANCELED
    assert final.cancellation is not None and final.cancellation.requested_by == "system"
    assert [e.action for e in final.timeline][-2:] == [Action.DECISION_TIMEOUT, Action.COMPENSATED]
    assert_compensated_once(shop, order_id, "payment.void", "stock.release")


async def test_a_partially_invoiced_order_cannot_be_canceled(shop: Shop) -> None:
    order_id = await place(shop.orders)
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)
    state = await shop.send(order_id, Action.INVOICE, actor="erp", invoice_number="NF-1", value=5000)
    assert state.status is Status.HANDLING and state.partially_invoiced and not state.cancellation_allowed
    with pytest.raises(CommandRejected, match="partially invoiced orders can't be canceled") as refused:
        await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="customer")
    assert refused.value.code == "partially-invoiced"
    await shop.send(order_id, Action.INVOICE, actor="erp", invoice_number="NF-2", value=7990)
    final = await shop.final(order_id)
    assert final.status is Status.INVOICED and [i.invoice_number for i in final.invoices] == ["NF-1", "NF-2"]
    assert not PAYMENT_AND_STOCK & set(shop.effects(order_id))


async def test_invoicing_declines_a_pending_request(shop: Shop) -> None:
    order_id = await place(shop.orders)
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)
    await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="customer", request_id="r-1")
    await shop.send(order_id, Action.INVOICE, actor="erp", invoice_number="NF-1", value=12990)
    final = await shop.final(order_id)
    assert final.status is Status.INVOICED
    request = final.cancellation_requests[0]
    assert request.id == "r-1" and request.denied and request.deny_reason == "the order was invoiced"
    assert shop.effects(order_id)["customer.notify"] == 1


async def test_payment_pending_then_approved_starts_the_window_then(shop: Shop) -> None:
    order_id = await place(shop.orders, payment_approved=False)
    await shop.skip(2 * 60 * MINUTE)
    state = await shop.orders.state(order_id)
    assert state.status is Status.PAYMENT_PENDING and state.grace_deadline is None
    state = await shop.send(order_id, Action.APPROVE_PAYMENT)
    assert state.status is Status.WINDOW_TO_CANCEL
    assert state.grace_deadline == state.payment_approved_at + timedelta(minutes=30)
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)


async def test_a_repeated_request_id_changes_nothing(shop: Shop) -> None:
    order_id = await place(shop.orders)
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)
    first = await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="customer", request_id="r-1")
    again = await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="customer", request_id="r-1")
    assert again.timeline == first.timeline and again.cancellation_requests == first.cancellation_requests
    await shop.orders.send(order_id, Action.REQUEST_CANCELLATION, {"actor": "customer", "request_id": "r-1"},
                           as_signal=True)  # fmt: skip
    await shop.send(order_id, Action.DENY_CANCELLATION, actor="store", reason="no", request_id="d-1")
    await shop.orders.send(order_id, Action.REQUEST_CANCELLATION, {"actor": "customer", "request_id": "r-1"},
                           as_signal=True)  # fmt: skip
    state = await shop.orders.state(order_id)
    assert state.status is Status.READY_FOR_HANDLING and len(state.cancellation_requests) == 1
    assert shop.effects(order_id)["store.decision-needed"] == 1


async def test_a_refused_update_leaves_no_event_in_history(shop: Shop) -> None:
    order_id = await place(shop.orders)
    handle = shop.orders.temporal.get_workflow_handle(workflow_id(order_id))
    with pytest.raises(CommandRejected) as refused:
        await shop.send(order_id, Action.START_HANDLING, actor="store")
    assert refused.value.code == "OMS003"
    with pytest.raises(WorkflowUpdateFailedError) as malformed:  # past the client's own check
        await handle.execute_update("deny_cancellation", {"actor": "store"})
    assert "reason: Field required" in str(malformed.value.cause)
    history = await handle.fetch_history()
    # The test server records a workflow task per rejected update (the real server doesn't; see
    # test_devserver), but never the update itself.
    assert not [e for e in history.events if "UPDATE" in EventType.Name(e.event_type)]
    state = await shop.orders.state(order_id)
    assert state.status is Status.WINDOW_TO_CANCEL and len(state.timeline) == 1


async def test_a_refused_signal_is_recorded_in_the_timeline_and_changes_nothing(shop: Shop) -> None:
    order_id = await place(shop.orders)
    await shop.orders.send(
        order_id, Action.START_HANDLING, {"actor": "store", "request_id": "s-1"}, as_signal=True
    )
    handle = shop.orders.temporal.get_workflow_handle(workflow_id(order_id))
    await handle.signal("deny_cancellation", {"actor": "nobody"})
    state = await eventually(
        lambda: shop.orders.state(order_id), lambda s: sum(e.refused for e in s.timeline) == 2
    )
    refused = [e for e in state.timeline if e.refused]
    assert refused[0].request_id == "s-1" and "ready for handling" in refused[0].note
    assert "actor" in refused[1].note
    assert state.status is Status.WINDOW_TO_CANCEL


@pytest.mark.parametrize("stamped_inside_the_window", [False, True])
async def test_a_worker_down_across_the_deadline_does_not_auto_approve_a_late_request(
    time_env: WorkflowEnvironment, tmp_path: Path, stamped_inside_the_window: bool
) -> None:
    settings = settings_for(tmp_path)
    shop = Shop(OrdersClient(time_env.client, settings), settings, time_env)
    order_id = await place(shop.orders)
    # No sticky queue: the test server, its clock stopped, would never time out a dead worker's one.
    unsticky = {"max_cached_workflows": 0}
    async with running_worker(time_env.client, settings, **unsticky):
        # Let the placement event land, then query: the worker leaves no task behind.
        await eventually(lambda: _async(read_events(settings.event_log)), lambda events: len(events) == 1)
        placed_at = (await shop.orders.state(order_id)).placed_at

    await shop.skip_until_timer_fires(order_id)  # no worker runs across the deadline
    requested_at = (
        placed_at + timedelta(minutes=29) if stamped_inside_the_window else await time_env.get_current_time()
    )
    command = {"actor": "customer", "requested_at": requested_at.isoformat()}
    await shop.orders.send(order_id, Action.REQUEST_CANCELLATION, command, as_signal=True)

    async with running_worker(time_env.client, settings, **unsticky):
        if stamped_inside_the_window:
            assert (await shop.final(order_id)).status is Status.CANCELED
            assert_compensated_once(shop, order_id, "payment.void", "stock.release")
        else:
            state = await shop.reaches(order_id, Status.CANCELLATION_REQUESTED)
            assert path(state) == ["window-to-cancel", "ready-for-handling", "cancellation-requested"]
            assert not PAYMENT_AND_STOCK & set(shop.effects(order_id))


async def _async(value: Any) -> Any:
    return value
