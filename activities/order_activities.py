"""The activities an order runs: deliver one event, and read the store's settings."""

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

    @activity.defn(name="store_settings")
    async def store_settings(self) -> StoreSettings:
        """The store's grace period and decision timeout, for orders placed without them."""
        return self._store_settings
