"""`deliver_events` against a real webhook receiver on loopback: waves in order, kinds at once, a retry
that redelivers nothing its earlier attempts delivered, status events beside the effects that never hold
them up, and an event that can't be sent skipped rather than blocking the rest."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from temporalio.testing import ActivityEnvironment

from activities.delivery import DeliveryRefused, WebhookSink
from activities.order_activities import Delivery, OrderActivities
from domain.events import EventType, OrderEvent
from domain.models import StoreSettings
from tests.kit.receiver import SECRET, Receiver

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def event(kind: EventType, number: int | None = None) -> OrderEvent:
    if number is None:
        return OrderEvent.once(kind, "o-1", NOW, {})
    return OrderEvent.numbered(kind, "o-1", number, NOW, {})


STATUS_1 = event(EventType.ORDER_STATUS_CHANGED, 1)
STATUS_2 = event(EventType.ORDER_STATUS_CHANGED, 2)
PAYMENT = event(EventType.PAYMENT_VOID)
STOCK = event(EventType.STOCK_RELEASE)
CUSTOMER = event(EventType.CUSTOMER_NOTIFY)
COMPENSATION = Delivery(waves=[[STATUS_1, STATUS_2, PAYMENT, STOCK], [CUSTOMER]])


@pytest_asyncio.fixture
async def activities(receiver: Receiver) -> AsyncIterator[OrderActivities]:
    sink = WebhookSink({}, receiver.url, SECRET, timeout_seconds=0.5)
    yield OrderActivities(sink, StoreSettings())
    await sink.aclose()


def attempt(heartbeat_details: list[Any] | None = None) -> tuple[ActivityEnvironment, list[Any]]:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_details=heartbeat_details or [])
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    return env, beats


async def test_waves_go_in_order_and_each_kind_in_order(
    activities: OrderActivities, receiver: Receiver
) -> None:
    env, beats = attempt()
    await env.run(activities.deliver_events, COMPENSATION)
    keys = [a.key for a in receiver.attempts]
    assert sorted(keys) == sorted(e.id for e in COMPENSATION.events())
    assert keys.index(STATUS_1.id) < keys.index(STATUS_2.id)
    assert keys[-1] == CUSTOMER.id  # the second wave, once the first was delivered
    assert beats == []  # no heartbeat when everything went well


async def test_a_refusing_receiver_holds_back_neither_the_other_kinds_nor_the_retry(
    activities: OrderActivities, receiver: Receiver
) -> None:
    receiver.behaviour = lambda body, tries: "fail" if body["type"] == "payment.void" and tries == 1 else "ok"
    env, beats = attempt()
    with pytest.raises(DeliveryRefused, match=r"payment\.void.*HTTP 500"):
        await env.run(activities.deliver_events, COMPENSATION)
    first = {a.key for a in receiver.attempts}
    assert first == {STATUS_1.id, STATUS_2.id, PAYMENT.id, STOCK.id}  # stock went; the customer waits
    (progress,) = beats[-1]
    assert sorted(progress["delivered"]) == sorted([STATUS_1.id, STATUS_2.id, STOCK.id])

    retry, _ = attempt(heartbeat_details=[progress])
    await retry.run(activities.deliver_events, COMPENSATION)
    tries = receiver.tries("o-1")
    assert tries == {STATUS_1.id: 1, STATUS_2.id: 1, STOCK.id: 1, PAYMENT.id: 2, CUSTOMER.id: 1}


async def test_status_events_beside_the_effects_never_hold_them_up(
    activities: OrderActivities, receiver: Receiver
) -> None:
    receiver.behaviour = lambda body, tries: "fail" if body["type"] == "order.status-changed" else "ok"
    beside = Delivery(waves=[[PAYMENT, STOCK], [CUSTOMER]], alongside=[STATUS_1, STATUS_2])
    env, _ = attempt()
    report = await env.run(activities.deliver_events, beside)
    assert report.undelivered == [STATUS_1.id, STATUS_2.id]  # handed back, in order, to retry on their own
    assert set(receiver.done) == {PAYMENT.id, STOCK.id, CUSTOMER.id}


async def test_an_event_that_cannot_be_sent_is_reported_and_the_rest_go(
    activities: OrderActivities, receiver: Receiver
) -> None:
    broken = OrderEvent(id="o-1:customer.notify:\u00e9", type=EventType.CUSTOMER_NOTIFY, order_id="o-1",
                        occurred_at=NOW)  # fmt: skip
    env, _ = attempt()
    report = await env.run(activities.deliver_events, Delivery(waves=[[broken, STATUS_1, PAYMENT]]))
    assert [(failed.id, failed.type) for failed in report.failed] == [(broken.id, EventType.CUSTOMER_NOTIFY)]
    assert "can't" not in report.failed[0].error and report.failed[0].error
    assert set(receiver.done) == {STATUS_1.id, PAYMENT.id}
