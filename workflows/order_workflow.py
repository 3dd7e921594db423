"""`OrderWorkflow`: one order's life, from payment approval to invoiced or canceled.

A thin shell over `domain.order.Order`: it gives the order the time, turns its deadlines into durable
timers, runs its events as activities, and keeps the `OrderStatus` search attribute current.

Commands (SPEC §4) are each a signal and an update of the same name: approve_payment,
request_cancellation, confirm_cancellation, deny_cancellation, start_handling, invoice.
An update's validator refuses what the lifecycle refuses, so a refused update leaves no trace in
history; a refused signal is recorded in the order's timeline so its sender can see why.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from activities.order_activities import OrderActivities
    from domain.events import OrderEvent
    from domain.lifecycle import Action, Outcome, Refuse, Status
    from domain.models import (
        Command,
        MalformedCommand,
        OrderInput,
        OrderState,
        StoreSettings,
        parse_command,
    )
    from domain.order import Order
    from workflows.search_attributes import CUSTOMER_ID, ORDER_STATUS

# Deliveries retry until the receiver accepts, backing off exponentially up to once a minute.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(seconds=60)
)
DELIVERY_TIMEOUT = timedelta(seconds=30)
# A local delivery gets one short attempt: while it runs, the workflow task (and any command waiting for it)
# waits. Retries then go as an activity.
ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)
LOCAL_DELIVERY_TIMEOUT = timedelta(seconds=5)

# A run continues as new after this many commands, whatever the server suggests: a flood of signals
# then never piles up in one run (see docs/reliability.md, "Flood").
COMMANDS_PER_RUN = 1000

# Patch ids (`workflow.patched`): histories recorded before a change keep replaying the old way.
# "bounded-runs": signals apply at once, and a run continues as new after COMMANDS_PER_RUN commands.
BOUNDED_RUNS = "bounded-runs"
# "placed-at-start": an order is placed (and its window starts) when its workflow was started, not when a
# worker first ran it, so an order placed while no worker ran doesn't get a longer window.
PLACED_AT_START = "placed-at-start"
# "lean-history": the two above, and each activity delivers a batch of events, not one (every status event
# queued, or the compensation's effects); status events the order makes itself go as a local activity
# first; no search-attribute upsert repeats what the start set. An order canceled in its window: 2
# activities and 30 history events instead of 6 and 49. One patch for all of it: each `workflow.patched`
# call costs a marker and an upsert.
LEAN_HISTORY = "lean-history"


def _command(action: Action) -> tuple[Any, Any]:
    """The signal and the update (with its validator) of one command, as `OrderWorkflow` methods (`self`
    is left untyped: the SDK resolves the hints while the class is still being defined)."""

    async def on_signal(self: Any, payload: Any = None, *extra: Any) -> None:
        await self._on_signal(action, payload, *extra)

    async def on_update(self: Any, payload: Any = None, *extra: Any) -> OrderState:
        return await self._on_update(action, payload, *extra)

    def validate(self: Any, payload: Any = None, *extra: Any) -> None:
        self._validate(action, payload, *extra)

    update = workflow.update(name=action.value)(on_update)
    update.validator(validate)
    return workflow.signal(name=action.value)(on_signal), update


# Not sandboxed: the SDK's sandbox costs ~0.4 ms per payload it decodes (a third of a signal's cost), and a
# flood of signals is then handled a third as fast (docs/reliability.md, "Flood"). The workflow only
# calls `workflow.*` and the pure domain (which the sandbox passes through anyway); the saved histories
# in tests/test_replay.py are what catches a non-deterministic change.
@workflow.defn(name="OrderWorkflow", sandboxed=False)
class OrderWorkflow:
    # Each command is a signal and an update of the same name (SPEC §4), defined here once for the class:
    # registering them per order (`workflow.set_*_handler`) cost a sixth of the worker's CPU.
    approve_payment_signal, approve_payment = _command(Action.APPROVE_PAYMENT)
    request_cancellation_signal, request_cancellation = _command(Action.REQUEST_CANCELLATION)
    confirm_cancellation_signal, confirm_cancellation = _command(Action.CONFIRM_CANCELLATION)
    deny_cancellation_signal, deny_cancellation = _command(Action.DENY_CANCELLATION)
    start_handling_signal, start_handling = _command(Action.START_HANDLING)
    invoice_signal, invoice = _command(Action.INVOICE)

    @workflow.init
    def __init__(self, new_order: OrderInput) -> None:
        carried = new_order.carried_over
        self._order: Order | None = Order.resume(carried) if carried else None
        self._outbox: list[OrderEvent] = []
        self._outbox_awaited = False  # a command queued some of the outbox (`_publish`)
        self._delivery: asyncio.Task[None] | None = None
        self._published_status: Status | None = self._order.status if self._order else None
        self._changes = 0
        self._commands = 0  # signals and updates received by this run
        self._bounded = False  # BOUNDED_RUNS applies (decided once, at the start of `run`)
        self._lean = False  # LEAN_HISTORY applies (likewise)

    @workflow.run
    async def run(self, new_order: OrderInput) -> OrderState:
        self._lean = workflow.patched(LEAN_HISTORY)
        self._bounded = self._lean or workflow.patched(BOUNDED_RUNS)
        if self._order is None:
            await self._place(new_order)
        order = self._ready_order
        while True:
            self._publish(order.catch_up(workflow.now()))
            if order.status is Status.CANCEL:
                await self._compensate()
                continue
            if order.status.is_final:
                break
            if workflow.info().is_continue_as_new_suggested() or self._run_is_full():
                await self._settle()
                workflow.continue_as_new(new_order.model_copy(update={"carried_over": order.carry_over()}))
            await self._wait_for_change_or_deadline()
        await self._settle()
        return order.state

    @workflow.query(name="status")
    def status(self) -> str:
        return self._placed_order().status.value

    @workflow.query(name="state")
    def state(self) -> OrderState:
        return self._placed_order().state

    # Commands

    def _validate(self, action: Action, payload: Any = None, *extra: Any) -> None:
        command = self._parse(action, payload, extra)
        if self._order is None:
            return  # not placed yet: the handler judges once the store's settings are known
        outcome = self._order.judge(action, command, workflow.now())
        if isinstance(outcome, Refuse):
            raise ApplicationError(outcome.reason, type=outcome.code, non_retryable=True)

    async def _on_update(self, action: Action, payload: Any = None, *extra: Any) -> OrderState:
        self._commands += 1
        command, made_up = self._with_request_id(self._parse(action, payload, extra))
        await workflow.wait_condition(lambda: self._order is not None)
        outcome = self._apply(action, command, made_up)
        if isinstance(outcome, Refuse):
            raise ApplicationError(outcome.reason, type=outcome.code, non_retryable=True)
        return self._ready_order.state

    async def _on_signal(self, action: Action, payload: Any = None, *extra: Any) -> None:
        # A handler that raised would fail the workflow task and stall the order until a fix is
        # deployed: whatever arrives (no argument, several, any JSON) is parsed, or refused here.
        # Once placed, a signal applies at once: no condition to wait on keeps it cheap when a thousand
        # arrive in one workflow task.
        self._commands += 1
        if self._order is None or not self._bounded:
            await workflow.wait_condition(lambda: self._order is not None)
        try:
            command = self._parse(action, payload, extra)
        except ApplicationError as err:
            request_id = payload.get("request_id") if isinstance(payload, dict) else None
            self._ready_order.refuse_malformed(workflow.now(), action, err.message, _text_or_none(request_id))
            return
        self._apply(action, *self._with_request_id(command))

    @staticmethod
    def _parse(action: Action, payload: Any, extra: tuple[Any, ...] = ()) -> Command:
        if extra:
            raise ApplicationError(
                f"invalid {action.value}: send one JSON object, not {len(extra) + 1} arguments",
                type="malformed",
                non_retryable=True,
            )
        try:
            return parse_command(action, payload)
        except MalformedCommand as err:
            raise ApplicationError(str(err), type="malformed", non_retryable=True) from None

    @staticmethod
    def _with_request_id(command: Command) -> tuple[Command, bool]:
        """The command with a request id, and whether the workflow made it up (the sender sent none).
        Handlers only: validators don't run on replay, so they must not draw from the workflow's RNG."""
        if command.request_id is not None:
            return command, False
        command.request_id = str(workflow.uuid4())
        return command, True

    def _apply(self, action: Action, command: Command, made_up: bool) -> Outcome:
        # A made-up id names the request in the timeline, but no sender can repeat it: it takes no place
        # among the answers kept for repeats, which a flood of id-less commands would otherwise fill.
        remember = not (made_up and self._bounded)
        outcome, events = self._ready_order.handle(action, command, workflow.now(), remember=remember)
        self._publish(events, awaited=True)
        return outcome

    # Lifecycle plumbing

    def _placed_order(self) -> Order:
        if self._order is None:
            raise ApplicationError("the order is still being placed; ask again in a moment", type="not-ready")
        return self._order

    @property
    def _ready_order(self) -> Order:
        assert self._order is not None, "the order is placed before any handler or query reads it"
        return self._order

    async def _place(self, order: OrderInput) -> None:
        settings = StoreSettings()
        if order.grace_period_seconds is None or order.decision_timeout_seconds is None:
            settings = await workflow.execute_local_activity_method(
                OrderActivities.store_settings, start_to_close_timeout=timedelta(seconds=10)
            )
        placed_at = (
            workflow.info().workflow_start_time
            if self._lean or workflow.patched(PLACED_AT_START)
            else workflow.now()
        )
        self._order, events = Order.place(
            order,
            placed_at,
            grace_period_seconds=settings.grace_period_seconds,
            decision_timeout_seconds=settings.decision_timeout_seconds,
        )
        if self._lean:
            started_with = workflow.info().typed_search_attributes
            self._published_status = _status_or_none(started_with.get(ORDER_STATUS))
            if started_with.get(CUSTOMER_ID) != order.customer_id:
                workflow.upsert_search_attributes([CUSTOMER_ID.value_set(order.customer_id)])
        else:
            workflow.upsert_search_attributes([CUSTOMER_ID.value_set(order.customer_id)])
        self._publish(events)

    async def _wait_for_change_or_deadline(self) -> None:
        seen = self._changes
        deadline = self._ready_order.next_deadline()
        timeout = None if deadline is None else max(deadline - workflow.now(), timedelta(0))
        # On timeout the deadline has passed: the next turn of the run loop catches up with it.
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(
                lambda: (
                    self._changes != seen
                    or workflow.info().is_continue_as_new_suggested()
                    or self._run_is_full()
                ),
                timeout=timeout,
            )

    def _run_is_full(self) -> bool:
        return self._bounded and self._commands >= COMMANDS_PER_RUN

    async def _compensate(self) -> None:
        """Undo the order's side effects once, then reach `canceled`."""
        compensation = self._ready_order.compensation(workflow.now())
        if self._lean:
            # One activity: payment and stock at once, then the customer. Status events keep to the outbox,
            # so a status receiver that is down holds up no refund.
            await self._perform_all([[compensation.payment, compensation.stock], [compensation.customer]])
        else:
            await asyncio.gather(self._perform(compensation.payment), self._perform(compensation.stock))
            await self._perform(compensation.customer)
        self._publish(self._ready_order.finish_cancellation(workflow.now()))

    async def _perform(self, event: OrderEvent) -> None:
        if event.id in self._ready_order.state.effects:
            return
        await workflow.execute_activity_method(
            OrderActivities.deliver_event,
            event,
            start_to_close_timeout=DELIVERY_TIMEOUT,
            retry_policy=DELIVERY_RETRY,
            summary=event.type.value,
        )
        self._ready_order.record_effect(event)

    async def _perform_all(self, waves: list[list[OrderEvent]], *, local: bool = False) -> None:
        """Deliver events in one activity (`OrderActivities.deliver_events`: wave by wave, each kind in
        order), skipping the effects already delivered. `local`: first as a local activity, inside this
        workflow task, which then completes only once it is done; for events nobody awaits. If that
        attempt fails, as an activity that retries with backoff (a receiver down for an hour must not
        hold the order's workflow tasks, and the commands waiting on them, for that hour)."""
        delivered = set(self._ready_order.state.effects)
        waves = [pending for wave in waves if (pending := [e for e in wave if e.id not in delivered])]
        if not waves:
            return
        summary = ", ".join(event.type.value for wave in waves for event in wave)
        # Each delivery in sequence gets the time one delivery gets (the kinds of a wave go at once), so a
        # slow receiver can't time a batch out forever, and a batch lost with its worker is retried soon.
        steps = sum(max(Counter(event.type.kind for event in wave).values()) for wave in waves)
        timeout = DELIVERY_TIMEOUT * steps
        delivered_locally = False
        if local:
            try:
                await workflow.execute_local_activity_method(
                    OrderActivities.deliver_events,
                    waves,
                    start_to_close_timeout=LOCAL_DELIVERY_TIMEOUT,
                    retry_policy=ONE_ATTEMPT,
                    summary=summary,
                )
                delivered_locally = True
            # A local activity's failure comes unwrapped: the sink's error, or the timeout.
            except (ActivityError, ApplicationError, ActivityTimeout):
                pass  # a receiver refused: retries go as an activity, with backoff, off this workflow task
        if not delivered_locally:
            await workflow.execute_activity_method(
                OrderActivities.deliver_events,
                waves,
                start_to_close_timeout=timeout,
                retry_policy=DELIVERY_RETRY,
                summary=summary,
            )
        for wave in waves:
            for event in wave:
                self._ready_order.record_effect(event)

    def _publish(self, events: list[OrderEvent], *, awaited: bool = False) -> None:
        """Queue events for delivery in order, without holding up the decision that made them.
        `awaited`: a command made them, and its sender waits for this workflow task to complete."""
        if not events:
            return
        self._outbox.extend(events)
        self._outbox_awaited |= awaited
        self._note_status_change()
        if not self._delivering():
            self._delivery = asyncio.create_task(self._deliver_outbox())

    def _delivering(self) -> bool:
        return self._delivery is not None and not self._delivery.done()

    async def _deliver_outbox(self) -> None:
        while self._outbox:
            if self._lean:
                # Events the order made itself (placement, a deadline, the end of a cancellation) go as a
                # local activity: no caller waits on this workflow task, and it spares the server an
                # activity task and the workflow task after it. A command's go as an activity, so its
                # answer isn't held up by the delivery.
                batch, local = list(self._outbox), not self._outbox_awaited
                self._outbox_awaited = False
                await self._perform_all([batch], local=local)
                del self._outbox[: len(batch)]
            else:
                await self._perform(self._outbox[0])
                self._outbox.pop(0)

    def _note_status_change(self) -> None:
        status = self._ready_order.status
        if status is not self._published_status:
            self._published_status = status
            workflow.upsert_search_attributes([ORDER_STATUS.value_set(status.value)])
        self._changes += 1

    async def _settle(self) -> None:
        """Wait for every handler and every queued event before completing or continuing as new."""
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._outbox)


def _status_or_none(value: str | None) -> Status | None:
    try:
        return Status(value)
    except ValueError:
        return None


def _text_or_none(value: Any) -> str | None:
    return value[:128] if isinstance(value, str) and value else None
