"""The decision policy's timers on the time-skipping server (real 30-day, 3-day and 1-hour timers,
skipped): reminders before the decision deadline, a reminder due while no worker ran, a window
extended, the payment timeout and denial, and a decision deadline extended then passing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, CancelPath, Status
from domain.spans import spoken_span
from orders.errors import CommandRejected
from tests.kit.history import quiet
from tests.kit.orders import DAY, HOUR, MINUTE, Shop, place
from tests.kit.polling import eventually
from tests.kit.worker import read_events, running_worker, settings_for
from workflows.names import workflow_id


@pytest_asyncio.fixture
async def shop(time_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Shop]:
    settings = settings_for(tmp_path)
    async with running_worker(time_env.client, settings) as orders:
        yield Shop(orders, settings, time_env)


def reminders(shop: Shop, order_id: str) -> list[dict[str, Any]]:
    return [
        e for e in read_events(shop.settings.event_log)
        if e["order_id"] == order_id and e["type"] == "store.decision-reminder"
    ]  # fmt: skip


async def requested_after_window(shop: Shop, **overrides: Any) -> tuple[str, datetime]:
    order_id = await place(shop.orders, **overrides)
    await shop.skip(31 * MINUTE)
    await shop.reaches(order_id, Status.READY_FOR_HANDLING)
    state = await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="customer", reason="late")
    assert state.decision_deadline is not None
    return order_id, state.decision_deadline


async def test_reminders_come_7_days_1_day_and_1_hour_before_a_30_day_deadline(shop: Shop) -> None:
    order_id, deadline = await requested_after_window(shop)
    for offset, count in ((7 * DAY, 1), (DAY, 2), (HOUR, 3)):
        await shop.skip(int((deadline - await shop.env.get_current_time()).total_seconds()) - offset + 60)
        sent = await eventually(lambda: _now(reminders(shop, order_id)), lambda r, n=count: len(r) == n)
        assert sent[-1]["data"]["reminder_offset_seconds"] == offset
        assert 0 < offset - sent[-1]["data"]["time_left_seconds"] <= 120  # sent when due, not early
    await shop.skip(2 * HOUR)
    final_deadline_passed = await shop.final(order_id)
    assert final_deadline_passed.cancellation is not None
    assert final_deadline_passed.cancellation.path is CancelPath.DECISION_TIMEOUT
    assert [e["data"]["reminder_offset_seconds"] for e in reminders(shop, order_id)] == [7 * DAY, DAY, HOUR]
    ids = [e["id"] for e in reminders(shop, order_id)]
    assert len(set(ids)) == 3 and all(i.rsplit(":", 1)[1].isdigit() for i in ids)


async def test_a_reminder_due_while_no_worker_ran_is_sent_once_when_it_comes_back(
    time_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    unsticky = {"max_cached_workflows": 0}  # the test server's stopped clock never times out a sticky queue
    async with running_worker(time_env.client, settings, **unsticky) as orders:
        shop = Shop(orders, settings, time_env)
        order_id, deadline = await requested_after_window(shop)
        await eventually(lambda: _now(shop.effects(order_id)), lambda e: e["store.decision-needed"] == 1)
        # An activity left in flight would hold the test server's clock until it timed out.
        await quiet(shop.orders.temporal.get_workflow_handle(workflow_id(order_id)))
    # No worker: the 7-day reminder comes due, and the clock stops a minute past it.
    until_then = deadline - timedelta(days=7) - await shop.env.get_current_time()
    sleeping = await skip_past_a_timer_with_no_worker(shop, order_id, int(until_then.total_seconds()) + 60)
    assert reminders(shop, order_id) == []
    for _ in range(2):  # back, gone again, back: the reminder was sent once
        async with running_worker(time_env.client, settings, **unsticky):
            await eventually(lambda: _now(reminders(shop, order_id)), lambda r: len(r) == 1)
            await sleeping
            await asyncio.sleep(0.5)
    sent = reminders(shop, order_id)
    assert len(sent) == 1 and sent[0]["data"]["reminder_offset_seconds"] == 7 * DAY
    assert sent[0]["data"]["time_left_seconds"] <= 7 * DAY


async def skip_past_a_timer_with_no_worker(shop: Shop, order_id: str, seconds: int) -> asyncio.Task[None]:
    """Skip `seconds`; with no worker the server stops at the first timer to fire (its workflow task
    waits), and goes on to the end once a worker has taken that task."""
    handle = shop.orders.temporal.get_workflow_handle(workflow_id(order_id))

    async def timers_fired() -> int:
        events = (await handle.fetch_history()).events
        return sum(e.event_type == EventType.EVENT_TYPE_TIMER_FIRED for e in events)

    before = await timers_fired()
    sleeping = asyncio.create_task(shop.env.sleep(seconds))
    await eventually(timers_fired, lambda fired: fired > before, timeout=30)
    return sleeping


async def test_an_extended_window_cancels_at_once_a_request_made_after_the_old_deadline(shop: Shop) -> None:
    order_id = await place(shop.orders)
    await shop.skip(20 * MINUTE)
    state = await shop.send(order_id, Action.EXTEND_GRACE_PERIOD, actor="store", seconds=HOUR)
    assert state.grace_deadline is not None and state.grace_period_seconds == 90 * MINUTE
    await shop.skip(20 * MINUTE)  # 40 minutes in: past the old 30-minute deadline, inside the new one
    assert (await shop.orders.state(order_id)).status is Status.WINDOW_TO_CANCEL
    asked = await shop.send(order_id, Action.REQUEST_CANCELLATION, actor="customer", reason="changed my mind")
    assert asked.status in (Status.CANCEL, Status.CANCELED)
    final = await shop.final(order_id)
    assert final.cancellation is not None and final.cancellation.path is CancelPath.INSIDE_WINDOW
    extended = [e for e in final.timeline if e.action is Action.EXTEND_GRACE_PERIOD]
    assert [(e.from_status, e.to_status, e.actor) for e in extended] == [
        (Status.WINDOW_TO_CANCEL, Status.WINDOW_TO_CANCEL, "store")
    ]


async def test_extensions_move_only_later_within_a_year_and_in_their_status(shop: Shop) -> None:
    order_id = await place(shop.orders)
    now = await shop.env.get_current_time()
    for until, code in ((now - timedelta(minutes=1), "not-later"), (now + timedelta(days=400), "too-far")):
        with pytest.raises(CommandRejected) as refused:
            await shop.send(order_id, Action.EXTEND_GRACE_PERIOD, actor="store", until=until.isoformat())
        assert refused.value.code == code
    with pytest.raises(CommandRejected) as wrong_status:
        await shop.send(order_id, Action.EXTEND_DECISION_DEADLINE, actor="store", seconds=HOUR)
    assert wrong_status.value.code == "no-pending-request"
    with pytest.raises(CommandRejected) as customer:
        await shop.send(order_id, Action.EXTEND_GRACE_PERIOD, actor="customer", seconds=HOUR)
    assert customer.value.code == "forbidden-actor"
    with pytest.raises(CommandRejected) as both:
        await shop.send(
            order_id, Action.EXTEND_GRACE_PERIOD, actor="store", seconds=60, until=now.isoformat()
        )
    assert both.value.code == "malformed" and "exactly one" in both.value.reason
    state = await shop.orders.state(order_id)
    assert state.grace_period_seconds == 30 * MINUTE  # nothing changed


async def test_an_order_whose_payment_never_comes_is_canceled_by_the_system(shop: Shop) -> None:
    order_id = await place(shop.orders, payment_approved=False)
    await shop.skip(3 * DAY + MINUTE)
    final = await shop.final(order_id)
    assert final.status is Status.CANCELED and final.cancellation is not None
    assert (final.cancellation.path, final.cancellation.requested_by) == (
        CancelPath.PAYMENT_TIMEOUT,
        "system",
    )
    assert final.cancellation.reason == "the payment did not arrive within 3 days"
    quick = await place(shop.orders, payment_approved=False, payment_timeout_seconds=5400)
    await shop.skip(2 * 3600)
    reason = (await shop.final(quick)).cancellation
    assert reason is not None and reason.reason == "the payment did not arrive within 1 hour 30 minutes"
    effects = shop.effects(order_id)
    assert effects["payment.void"] == effects["payment.refund"] == 0  # nothing to void
    assert effects["stock.release"] == 1 and effects["customer.notify"] == 1


async def test_a_payment_denial_cancels_at_once_and_a_paid_order_refuses_it(shop: Shop) -> None:
    pending = await place(shop.orders, payment_approved=False)
    state = await shop.send(pending, Action.DENY_PAYMENT, actor="system", reason="card declined")
    assert state.status in (Status.CANCEL, Status.CANCELED)
    final = await shop.final(pending)
    assert final.cancellation is not None and final.cancellation.path is CancelPath.PAYMENT_DENIED
    assert final.cancellation.reason == "card declined" and shop.effects(pending)["payment.void"] == 0
    paid = await place(shop.orders)
    with pytest.raises(CommandRejected) as refused:
        await shop.send(paid, Action.DENY_PAYMENT, actor="erp", reason="late notice")
    assert refused.value.code == "already-approved"
    with pytest.raises(CommandRejected) as store:
        await shop.send(paid, Action.DENY_PAYMENT, actor="store")
    assert store.value.code == "forbidden-actor"


async def test_a_decision_deadline_extended_then_passing_cancels_then(shop: Shop) -> None:
    order_id, deadline = await requested_after_window(shop)
    state = await shop.send(order_id, Action.EXTEND_DECISION_DEADLINE, actor="store", seconds=7 * DAY)
    assert state.decision_deadline == deadline + timedelta(days=7)
    await shop.skip(31 * DAY)  # past the old deadline: still waiting for the store
    assert (await shop.orders.state(order_id)).status is Status.CANCELLATION_REQUESTED
    await shop.skip(7 * DAY)
    final = await shop.final(order_id)
    assert final.cancellation is not None and final.cancellation.path is CancelPath.DECISION_TIMEOUT
    assert final.cancellation.decided_at == deadline + timedelta(days=7)
    assert final.cancellation.reason == "the store did not decide within 37 days"  # what it had


async def _now(value: Any) -> Any:
    return value


def test_spans_are_said_in_the_two_largest_units() -> None:
    said = [spoken_span(s) for s in (0, 1, 45, 90, 5400, 86400, 129600, 88200, 88201, 30 * 86400)]
    assert said == [
        "0 seconds", "1 second", "45 seconds", "1 minute 30 seconds", "1 hour 30 minutes", "1 day",
        "1 day 12 hours", "1 day 30 minutes", "1 day 30 minutes", "30 days",
    ]  # fmt: skip
