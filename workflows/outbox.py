"""An order's outbox: its events delivered in order, in batches, without holding up its decisions.

Runs inside the workflow (deterministic: `workflow.*` only). Status events queue here and go in one
activity per batch; a cancellation's effects go in one activity of their own with the queued status
events beside them, so an order canceled in its window costs one activity. Events the order made by
itself (nobody waits on its workflow task) get one short local attempt first. A cancellation's first
attempt is an activity of its own: when it fails, the workflow is told (`on_slow`, which shows the order
in `cancel` to visibility) and the rest goes as an activity that retries with backoff.

Each delivery belongs to the trace of the commands whose events it carries (`workflows.trace_context`).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from opentelemetry.context import Context

    from activities.order_activities import Delivery, DeliveryReport, OrderActivities
    from domain.effects import Compensation
    from domain.events import EventType, FailedEvent, OrderEvent
    from domain.order import Order
    from workflows import trace_context
    from workflows.trace_context import on_behalf_of

# Deliveries retry until the receiver accepts, backing off exponentially up to once a minute.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(seconds=60)
)
DELIVERY_TIMEOUT = timedelta(seconds=30)  # per delivery in sequence
# A local delivery gets one short attempt: while it runs, the workflow task (and any command waiting for
# it) waits. Retries then go as an activity.
ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)
LOCAL_DELIVERY_TIMEOUT = timedelta(seconds=5)


class Outbox:
    def __init__(self, order: Callable[[], Order], on_failure: Callable[[], None]) -> None:
        self._order = order
        self._on_failure = on_failure
        self._queue: list[OrderEvent] = []
        # The traces of the commands whose events are queued (none when tracing is off).
        self._senders: list[Context] = []
        self._awaited = False  # a command queued some of it: deliver as an activity, not locally
        self._task: asyncio.Task[None] | None = None

    def add(self, events: list[OrderEvent], *, awaited: bool) -> None:
        self._queue.extend(events)
        self._awaited |= awaited
        if sender := trace_context.sender():
            self._senders = trace_context.merged(self._senders, [sender])
        _log_moves(events)

    def empty(self) -> bool:
        return not self._queue

    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Deliver what is queued, in the background (the run loop calls it, so a cancellation decided
        in the same workflow task can take the queue along with its effects)."""
        if self._queue and not self.busy():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._queue:
            batch, local = list(self._queue), not self._awaited
            senders, self._senders = self._senders, []
            self._awaited = False
            del self._queue[: len(batch)]
            with on_behalf_of(senders):
                report = await self._deliver(in_waves(batch), local=local)
            held_back = set(report.undelivered)
            self._queue[:0] = [event for event in batch if event.id in held_back]
            if held_back:
                self._senders = trace_context.merged(senders, self._senders)

    async def compensate(
        self, compensation: Compensation, on_slow: Callable[[], None], then: list[OrderEvent]
    ) -> datetime | None:
        """Payment and stock at once, then the customer; the status events queued so far go beside them
        unless a batch is already on its way (they must arrive in order), and `then` (the `canceled`
        status event) once all of them are delivered. One attempt first; if it fails, `on_slow()`, then
        what it didn't deliver goes as an activity that retries with backoff. Returns when `then` went
        (None: not sent, the workflow sends it itself)."""
        beside: list[OrderEvent] = []
        senders = list(self._senders)  # the command that canceled queued its status event
        if self.busy():
            then = []  # a batch before them is on its way: in order, after it
        else:
            beside, self._queue, self._awaited, self._senders = self._queue, [], False, []
        with on_behalf_of(senders):
            return await self._compensate(compensation, on_slow, then, beside)

    async def _compensate(
        self,
        compensation: Compensation,
        on_slow: Callable[[], None],
        then: list[OrderEvent],
        beside: list[OrderEvent],
    ) -> datetime | None:
        batch = Delivery(
            waves=compensation.waves(),
            alongside=beside,
            then=then,
            then_not_before=workflow.now(),
            progress_on_failure=True,
        )
        try:
            report = await self._deliver(batch, local=False, retry_policy=ONE_ATTEMPT)
        except ActivityError as err:
            on_slow()
            delivered = self._progress(err, batch)
            beside = [event for event in beside if event.id not in delivered]
            batch = batch.model_copy(update={"alongside": beside, "progress_on_failure": False})
            report = await self._deliver(batch, local=False)
        held_back = set(report.undelivered)
        self._queue[:0] = [event for event in beside if event.id in held_back]
        if report.then_at is not None:
            _log_moves(then)  # delivered with the effects: the workflow does not queue them
        return report.then_at

    def _progress(self, err: ActivityError, batch: Delivery) -> set[str]:
        """What a failed attempt delivered (effects recorded) and could never deliver (recorded as
        failed), from its failure's details (none if it timed out); returns their ids."""
        cause = err.cause
        details = cause.details if isinstance(cause, ApplicationError) else ()
        progress = details[0] if details and isinstance(details[0], dict) else {}
        order = self._order()
        delivered = {str(event_id) for event_id in progress.get("delivered", [])}
        for event in batch.events():
            if event.id in delivered:
                order.record_effect(event)
        failed = [FailedEvent.model_validate(f) for f in progress.get("failed", [])]
        for failure in failed:
            order.record_failure(failure)
        if failed:
            self._on_failure()
        return delivered | {failure.id for failure in failed}

    async def _deliver(
        self, batch: Delivery, *, local: bool, retry_policy: RetryPolicy = DELIVERY_RETRY
    ) -> DeliveryReport:
        """One activity for the batch, skipping effects already delivered; a local attempt first when
        `local`, then (if that fails) an activity that retries with backoff, off the workflow task."""
        order = self._order()
        done = set(order.state.effects) | {failed.id for failed in order.state.failed_events}
        waves = [pending for wave in batch.waves if (pending := [e for e in wave if e.id not in done])]
        batch = batch.model_copy(update={"waves": waves})
        if not batch.events():
            return DeliveryReport()
        summary = ", ".join(event.type.value for event in batch.events())
        report: DeliveryReport | None = None
        if local:
            report = await self._local_attempt(batch, summary)
        if report is None:
            report = await workflow.execute_activity_method(
                OrderActivities.deliver_events,
                batch,
                start_to_close_timeout=_timeout(batch),
                retry_policy=retry_policy,
                summary=summary,
            )
        held_back = set(report.undelivered)
        for failure in report.failed:
            workflow.logger.error("event %s skipped: %s", failure.id, failure.error)
            order.record_failure(failure)
        if report.failed:
            self._on_failure()
        failed = {failure.id for failure in report.failed}
        for event in batch.events():
            if event.id not in held_back and event.id not in failed:
                order.record_effect(event)
        return report

    @staticmethod
    async def _local_attempt(batch: Delivery, summary: str) -> DeliveryReport | None:
        try:
            return await workflow.execute_local_activity_method(
                OrderActivities.deliver_events,
                batch,
                start_to_close_timeout=LOCAL_DELIVERY_TIMEOUT,
                retry_policy=ONE_ATTEMPT,
                summary=summary,
            )
        # A local activity's failure comes unwrapped: the sink's error, or the timeout.
        except (ActivityError, ApplicationError, ActivityTimeout):
            return None  # a receiver refused: retries go as an activity, with backoff


def _log_moves(events: list[OrderEvent]) -> None:
    """A line for each change of status: what staff look for when an order did not do what they expected
    (docs/observability.md, "Logs")."""
    for event in events:
        if event.type is EventType.ORDER_STATUS_CHANGED:
            workflow.logger.info(
                "order %s: %s -> %s by %s",
                event.order_id,
                event.data.get("from_status") or "placed",
                event.data.get("to_status"),
                event.data.get("actor"),
            )


def in_waves(batch: list[OrderEvent]) -> Delivery:
    """A batch as the order's receivers get it: what moves payment or stock (items canceled, an order
    modified) before the customer is told of it; status events beside, in order, never holding the rest up."""
    status = [e for e in batch if e.type is EventType.ORDER_STATUS_CHANGED]
    undo = [e for e in batch if e.type in UNDO]
    notices = [e for e in batch if e.type is EventType.CUSTOMER_NOTIFY]
    others = [e for e in batch if e not in status and e not in undo and e not in notices]
    waves = [undo + others, notices] if undo else [others + notices]
    return Delivery(waves=[wave for wave in waves if wave], alongside=status)


UNDO = {
    EventType.PAYMENT_VOID,
    EventType.PAYMENT_REFUND,
    EventType.STOCK_RELEASE,
    EventType.STORE_RESTOCK_NEEDED,
    EventType.STOCK_RESERVE,  # a modification's added quantities, reserved before the customer is told
}


def _timeout(batch: Delivery) -> timedelta:
    """Each delivery in sequence gets the time one delivery gets (a wave's kinds go at once), so a slow
    receiver can't time a batch out forever, and a batch lost with its worker is retried soon."""
    steps = sum(max(Counter(event.type.kind for event in wave).values()) for wave in batch.waves)
    return DELIVERY_TIMEOUT * (max(steps, len(batch.alongside), 1) + len(batch.then))
