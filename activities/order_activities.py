"""The activities an order runs: deliver events, and read the store's settings."""

from __future__ import annotations

import asyncio

from temporalio import activity

from activities.delivery import EventSink
from domain.events import OrderEvent
from domain.models import StoreSettings


class OrderActivities:
    def __init__(self, sink: EventSink, store_settings: StoreSettings) -> None:
        self._sink = sink
        self._store_settings = store_settings

    @activity.defn(name="deliver_event")
    async def deliver_event(self, event: OrderEvent) -> None:
        """Perform one side effect. Raising makes Temporal retry with capped exponential backoff."""
        await self._sink.deliver(event)

    @activity.defn(name="deliver_events")
    async def deliver_events(self, waves: list[list[OrderEvent]]) -> None:
        """Perform side effects wave by wave: a wave starts once the one before it is delivered; within
        a wave each kind's events go in order and the kinds at once. Every kind of a wave is tried
        before a failure is raised, so one refusing receiver doesn't hold back the others. A retry skips
        what the attempts before it delivered (their last heartbeat); the sinks are idempotent by event
        id besides, should a delivery's success be lost."""
        delivered: set[str] = set(_delivered_before())
        for wave in waves:
            lanes: dict[str, list[OrderEvent]] = {}
            for event in wave:
                if event.id not in delivered:
                    lanes.setdefault(event.type.kind, []).append(event)
            deliveries = (self._deliver_in_order(lane, delivered) for lane in lanes.values())
            results = await asyncio.gather(*deliveries, return_exceptions=True)
            failures = [result for result in results if isinstance(result, BaseException)]
            if failures:
                # Only on failure: it rides on the failed attempt, no extra call when all goes well.
                # (A local activity's retries run in this worker, which is given no details: they redeliver.)
                if not activity.info().is_local:
                    activity.heartbeat(sorted(delivered))
                raise failures[0]

    async def _deliver_in_order(self, events: list[OrderEvent], delivered: set[str]) -> None:
        for event in events:
            await self._sink.deliver(event)
            delivered.add(event.id)

    @activity.defn(name="store_settings")
    async def store_settings(self) -> StoreSettings:
        """The store's grace period and decision timeout, for orders placed without them."""
        return self._store_settings


def _delivered_before() -> list[str]:
    details = activity.info().heartbeat_details
    return [str(event_id) for event_id in details[0]] if details and isinstance(details[0], list) else []
