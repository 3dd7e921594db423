"""The activities an order runs: deliver its events, and read the store's settings."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.delivery import EventSink, Undeliverable
from domain.events import FailedEvent, OrderEvent
from domain.models import StoreSettings

log = logging.getLogger(__name__)


class Delivery(BaseModel):
    """Events to deliver in one activity. `waves` go one after another (within a wave each kind of
    event in order, the kinds at once); `alongside` (status events) go in order beside the waves, and
    what of them a refusing receiver kept back is handed back rather than failing the effects."""

    waves: list[list[OrderEvent]] = []
    alongside: list[OrderEvent] = []
    # Set for a single attempt the workflow follows up itself: a failure carries what was delivered
    # (its details), so the follow-up skips it.
    progress_on_failure: bool = False
    # Status events that go once everything else has (every wave, and `alongside` all taken), stamped
    # with the time they go, never before `then_not_before`: a cancellation's `canceled`, which is true
    # the moment its last effect is done. If any of `alongside` was kept back they are not sent.
    then: list[OrderEvent] = []
    then_not_before: datetime | None = None

    def events(self) -> list[OrderEvent]:
        return [event for wave in self.waves for event in wave] + self.alongside + self.then


class DeliveryReport(BaseModel):
    undelivered: list[str] = []  # ids from `alongside` (and `then`) still to deliver, in order
    failed: list[FailedEvent] = []  # events no retry can deliver: recorded and skipped
    then_at: datetime | None = None  # when every one of `then` was delivered (their `occurred_at`)


class OrderActivities:
    def __init__(self, sink: EventSink, store_settings: StoreSettings) -> None:
        self._sink = sink
        self._store_settings = store_settings

    @activity.defn(name="deliver_events")
    async def deliver_events(self, batch: Delivery) -> DeliveryReport:
        """Perform side effects wave by wave; every kind of a wave is tried before a failure is raised,
        so one refusing receiver doesn't hold back the others. A retry skips what the attempts before it
        delivered (their last heartbeat); the sinks are idempotent by event id besides."""
        delivered, failed = _progress_before()
        beside = asyncio.ensure_future(self._in_order(batch.alongside, delivered, failed))
        failure: BaseException | None = None
        for wave in batch.waves:
            lanes: dict[str, list[OrderEvent]] = {}
            for event in wave:
                lanes.setdefault(event.type.kind, []).append(event)
            results = await asyncio.gather(
                *(self._in_order(lane, delivered, failed) for lane in lanes.values()), return_exceptions=True
            )
            failure = next((r for r in results if isinstance(r, BaseException)), None)
            if failure is not None:
                break
        beside_failure = (await asyncio.gather(beside, return_exceptions=True))[0]
        if failure is None and not batch.waves and isinstance(beside_failure, BaseException):
            failure = beside_failure  # nothing else to report: retry them, with backoff
        if failure is not None:
            progress = {"delivered": sorted(delivered), "failed": list(failed.values())}
            if batch.progress_on_failure:
                message = str(failure) or type(failure).__name__
                raise ApplicationError(message, progress, type=type(failure).__name__) from failure
            # Only on failure: it rides on the failed attempt, no extra call when all goes well.
            # (A local activity's retries run in this worker, which is given no details: they redeliver.)
            if not activity.info().is_local:
                activity.heartbeat(progress)
            raise failure
        if delivered:
            log.info("events delivered: %s", ", ".join(sorted(delivered)))
        undelivered = [e.id for e in batch.alongside if e.id not in delivered and e.id not in failed]
        then_at = await self._then(batch, delivered, failed) if not undelivered else None
        if then_at is None:
            undelivered += [e.id for e in batch.then]
        return DeliveryReport(undelivered=undelivered, failed=list(failed.values()), then_at=then_at)

    async def _then(
        self, batch: Delivery, delivered: set[str], failed: dict[str, FailedEvent]
    ) -> datetime | None:
        """`then`, stamped with the time they go; that time if every one of them was delivered."""
        if not batch.then:
            return None
        at = datetime.now(UTC)
        if batch.then_not_before is not None and at < batch.then_not_before:
            at = batch.then_not_before
        stamped = [event.model_copy(update={"occurred_at": at}) for event in batch.then]
        try:
            await self._in_order(stamped, delivered, failed)
        except Exception as err:  # a refusing receiver: the workflow sends them with the outbox
            log.warning("status events kept back: %s", err)
            return None
        return at if all(event.id in delivered for event in batch.then) else None

    async def _in_order(
        self, events: list[OrderEvent], delivered: set[str], failed: dict[str, FailedEvent]
    ) -> None:
        for event in events:
            if event.id in delivered or event.id in failed:
                continue
            try:
                await self._sink.deliver(event)
            except Undeliverable as err:
                log.error("event %s can't be delivered, skipped: %s", event.id, err)
                failed[event.id] = FailedEvent(id=event.id, type=event.type, error=str(err))
                continue
            delivered.add(event.id)

    @activity.defn(name="store_settings")
    async def store_settings(self) -> StoreSettings:
        """The store's grace period and decision timeout, for orders placed without them."""
        return self._store_settings

    def all(self) -> list[Any]:
        """The activities a worker registers."""
        return [self.deliver_events, self.store_settings]


def _progress_before() -> tuple[set[str], dict[str, FailedEvent]]:
    details = activity.info().heartbeat_details
    last = details[-1] if details else None
    if not isinstance(last, dict):
        return set(), {}
    delivered = {str(event_id) for event_id in last.get("delivered", [])}
    failed = [FailedEvent.model_validate(f) for f in last.get("failed", [])]
    return delivered, {f.id: f for f in failed}
