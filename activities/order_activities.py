"""The activities an order runs: deliver events, and read the store's settings."""

from __future__ import annotations

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
    async def deliver_events(self, events: list[OrderEvent]) -> None:
        """Perform side effects in order. A retry starts over: every sink is idempotent by event id."""
        for event in events:
            await self._sink.deliver(event)

    @activity.defn(name="store_settings")
    async def store_settings(self) -> StoreSettings:
        """The store's grace period and decision timeout, for orders placed without them."""
        return self._store_settings
