"""`OrderWorkflow`: one order's life, from payment approval to invoiced or canceled.

A thin shell over `domain.order.Order`: it gives the order the time, turns its deadline into a durable
timer, delivers its events through `workflows.outbox.Outbox`, and keeps the `OrderStatus` search
attribute current. Each command (docs/lifecycle.md, "Commands") is a signal and an update of the same
name, made from its record (`domain.registry`). An update's validator refuses what the rules refuse, so a
refused update leaves no trace in history; a refused signal is recorded in the order's timeline so its
sender can see why.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import ValidationError
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.order_activities import OrderActivities
    from domain.commands import Command, MalformedCommand, ModifyOrder, Readable, Unreadable, salvage
    from domain.events import EventType, OrderEvent
    from domain.lifecycle import Action, Move, Outcome, Refuse, Status
    from domain.models import OrderInput, StoreSettings
    from domain.modifications import ModificationPreview
    from domain.order import Order
    from domain.registry import COMMANDS, FIRST_RELEASE, RECORDS, CommandRecord
    from domain.state import OrderState
    from domain.visibility import (
        MEMO_KEY,
        OrderMemo,
        memo_of,
        report_attributes_of,
        search_attributes_of,
    )
    from domain.wire import describe_errors
    from workflows.metrics import Metrics
    from workflows.names import (
        QUERY_PREVIEW_MODIFICATION,
        QUERY_STATE,
        QUERY_STATUS,
        STILL_PLACING,
        WORKFLOW_TYPE,
        workflow_id,
    )
    from workflows.outbox import Outbox
    from workflows.patches import V1_1
    from workflows.search_attributes import BY_NAME

# A run continues as new after this many commands, whatever the server suggests: a flood of signals
# then never piles up in one run (docs/reliability.md, "Flood").
COMMANDS_PER_RUN = 1000
SETTINGS_TIMEOUT = timedelta(seconds=10)
W = TypeVar("W")
# What a handler receives: the command, one that doesn't fit its model, or (with more arguments than the
# hints cover) whatever JSON was sent.
Payload = object


def with_commands(cls: type[W]) -> type[W]:
    """Give the workflow class a signal and an update (with its validator) of each command in the registry
    (docs/lifecycle.md, "Commands"), defined once for the class: registering them per order
    (`workflow.set_*_handler`) cost CPU on every order (docs/performance.md)."""
    for record in RECORDS:
        signal, update = _handlers(record)
        setattr(cls, f"{record.name}_signal", signal)
        setattr(cls, record.name, update)
    return cls


def _handlers(record: CommandRecord[Any]) -> tuple[Any, Any]:
    """One command's signal and update. The SDK decodes the payload by the hints: the command's model, or
    `Unreadable` for a payload that doesn't fit it (`Readable`). Each function also takes extra
    arguments, left out of the signature the SDK reads, so a caller sending several can't fail the task."""
    hinted = Readable[record.model]  # type: ignore[name-defined]
    self = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    payload = inspect.Parameter("payload", self.kind, default=None, annotation=hinted)

    async def on_signal(self: OrderWorkflow, payload: Payload = None, *extra: Any) -> None:
        await self._on_signal(record, payload, extra)

    async def on_update(self: OrderWorkflow, payload: Payload = None, *extra: Any) -> OrderState:
        return await self._on_update(record, payload, extra)

    def validate(self: OrderWorkflow, payload: Payload = None, *extra: Any) -> None:
        self._validate(record, payload, extra)

    for function, returns in ((on_signal, None), (on_update, OrderState), (validate, None)):
        setattr(function, "__signature__", inspect.Signature([self, payload], return_annotation=returns))  # noqa: B010
        function.__annotations__ = {"payload": hinted, "return": returns}
    update = workflow.update(name=record.name)(on_update)
    update.validator(validate)
    return workflow.signal(name=record.name)(on_signal), update


# Not sandboxed: the SDK's sandbox slows the decoding of every payload (docs/reliability.md, "Flood").
# The workflow only calls `workflow.*` and the pure domain; the saved histories in tests/unit/test_replay.py
# are what catches a non-deterministic change.
@workflow.defn(name=WORKFLOW_TYPE, sandboxed=False)
@with_commands
class OrderWorkflow:
    @workflow.init
    def __init__(self, new_order: Any) -> None:
        # Read here rather than by the SDK: input it can't decode would fail every workflow task, forever.
        self._input, self._bad_input = _order_input(new_order)
        carried = self._input.carried_over if self._input else None
        self._order: Order | None = Order.resume(carried) if carried else None
        self._provisional: Order | None = None  # what queries see while the order is being placed
        self._outbox = Outbox(self._placed_order, on_failure=self._observe)
        # What visibility shows of the order (search attributes, memo): written only when it changes.
        self._shown_attributes = {key: str(value) for key, value in _started_with().items()}
        self._shown_memo = _memo_at_start()
        self._metrics = Metrics(self._order.state if self._order else None)
        self._changes = 0  # bumped by every change: wakes the run loop
        # Visibility learns of `cancel` only if the compensation's first attempt fails: when it succeeds,
        # `canceled` follows in the next workflow task, and one upsert says both.
        self._show_cancel = False
        self._commands = 0  # signals and updates received by this run
        # 1.1 keeps the deadline's timer while the deadline stays (docs/performance.md, "Cost per order").
        self._timer: asyncio.Task[None] | None = None
        self._timer_deadline: datetime | None = None

    @workflow.run
    async def run(self, new_order: Any) -> OrderState:
        if self._input is None:
            raise ApplicationError(self._bad_input, type="malformed-input", non_retryable=True)
        new_order = self._input
        workflow.patched(V1_1)  # decided in the run's first workflow task, where its marker goes
        if self._order is None:
            await self._place(new_order)
        order = self._ready_order
        while True:
            self._publish(order.catch_up(workflow.now()))
            if order.status is Status.CANCEL:
                await self._cancel(order)
                continue
            if order.status.is_final:
                break
            if workflow.info().is_continue_as_new_suggested() or self._commands >= COMMANDS_PER_RUN:
                await self._settle()
                workflow.continue_as_new(new_order.model_copy(update={"carried_over": order.carry_over()}))
            self._outbox.start()
            await self._wait_for_change_or_deadline()
        await self._settle()
        return order.state

    async def _cancel(self, order: Order) -> None:
        """Compensate, then move to `canceled`. Its status event goes with the compensation's activity
        once every effect is done (no local activity after it), stamped with that moment, which is the
        move's time in the timeline; if it could not go there, the outbox sends it as any other."""
        preview = order.finish_cancellation_preview(workflow.now())
        then = preview if all(e.type is EventType.ORDER_STATUS_CHANGED for e in preview) else []
        compensation = order.compensation(workflow.now())
        then_at = await self._outbox.compensate(compensation, on_slow=self._slow, then=then)
        events = order.finish_cancellation(then_at or workflow.now())
        if then_at is not None and [e.id for e in events] == [e.id for e in then]:
            events = []  # delivered already, as they are
        self._publish(events)
        if not events:
            self._show()
            self._changes += 1

    @workflow.query(name=QUERY_STATUS)
    def status(self) -> str:
        return self._known_order().status.value

    @workflow.query(name=QUERY_STATE)
    def state(self) -> OrderState:
        return self._known_order().state

    @workflow.query(name=QUERY_PREVIEW_MODIFICATION)
    def preview_modification(self, payload: Any = None) -> ModificationPreview:
        """What `modify_order` with this payload would do now; changes nothing (docs/modifications.md)."""
        order = self._placed_order()
        command = self._parse(COMMANDS[Action.MODIFY_ORDER], payload, ())
        assert isinstance(command, ModifyOrder)
        return order.preview(command, workflow.now())

    # Commands

    def _validate(self, record: CommandRecord[Any], payload: Payload, extra: tuple[Any, ...]) -> None:
        if self._input is None:
            raise ApplicationError(self._bad_input, type="malformed-input", non_retryable=True)
        command = self._parse(record, payload, extra)
        if self._order is None:
            return  # not placed yet: the handler judges once the store's settings are known
        outcome = self._order.judge(record.action, command, workflow.now())
        if isinstance(outcome, Refuse):
            raise ApplicationError(outcome.reason, type=outcome.code, non_retryable=True)

    async def _on_update(
        self, record: CommandRecord[Any], payload: Payload, extra: tuple[Any, ...]
    ) -> OrderState:
        self._commands += 1
        command, made_up = self._with_request_id(self._parse(record, payload, extra))
        # 1.1 waits only while the order is not placed yet (its store's settings on their way): 1.0
        # always yielded here, which orders the handlers of one workflow task differently.
        if self._order is None or not workflow.patched(V1_1):
            await workflow.wait_condition(lambda: self._order is not None)
        outcome = self._apply(record.action, command, made_up)
        if isinstance(outcome, Refuse):
            raise ApplicationError(outcome.reason, type=outcome.code, non_retryable=True)
        return self._ready_order.state

    async def _on_signal(self, record: CommandRecord[Any], payload: Payload, extra: tuple[Any, ...]) -> None:
        # A handler that raised would fail the workflow task and stall the order until a fix is deployed:
        # whatever arrives (no argument, several, any JSON) is parsed, or refused here. Once placed, a
        # signal applies at once: no condition to wait on keeps it cheap when a thousand arrive in one task.
        self._commands += 1
        if self._order is None:
            await workflow.wait_condition(lambda: self._order is not None or self._input is None)
            if self._input is None:
                return  # the workflow fails: there is no order to apply it to
        if record.since != FIRST_RELEASE and not workflow.patched(record.since):
            # A run placed before the command existed: a worker of then kept its signal unhandled, and
            # applying it now on replay would change that run's history (docs/versioning.md).
            reason = f"{record.title}: this order was placed before {record.since}; send it as an update"
            self._ready_order.refuse_malformed(workflow.now(), record.action, reason, salvage(payload))
            return
        try:
            command = self._parse(record, payload, extra)
        except ApplicationError as err:
            sender = payload.sender if isinstance(payload, Unreadable) else salvage(payload)
            self._ready_order.refuse_malformed(workflow.now(), record.action, err.message, sender)
            return
        self._apply(record.action, *self._with_request_id(command))

    @staticmethod
    def _parse(record: CommandRecord[Any], payload: Payload, extra: tuple[Any, ...]) -> Command:
        if extra:
            reason = f"invalid {record.name}: send one JSON object, not {len(extra) + 1} arguments"
        elif isinstance(payload, Unreadable):
            reason = f"invalid {record.name}: {payload.errors}"
        else:
            try:
                command: Command = record.parse(payload)
                return command
            except MalformedCommand as err:
                reason = str(err)
        raise ApplicationError(reason, type="malformed", non_retryable=True)

    @staticmethod
    def _with_request_id(command: Command) -> tuple[Command, bool]:
        """The command with a request id, and whether the workflow made it up (the sender sent none).
        Handlers only: validators don't run on replay, so they must not draw from the workflow's RNG."""
        if command.request_id is not None:
            return command, False
        return command.model_copy(update={"request_id": str(workflow.uuid4())}), True

    def _apply(self, action: Action, command: Command, made_up: bool) -> Outcome:
        # A made-up id names the request in the timeline, but no sender can repeat it: it takes no place
        # among the answers kept for repeats.
        outcome, events = self._ready_order.handle(action, command, workflow.now(), remember=not made_up)
        self._publish(events, awaited=True, moved=isinstance(outcome, Move))
        return outcome

    # Lifecycle plumbing

    def _placed_order(self) -> Order:
        if self._input is None:
            raise ApplicationError(self._bad_input, type="malformed-input")
        if self._order is None:
            raise ApplicationError(f"the order {STILL_PLACING}; ask again in a moment", type="not-ready")
        return self._order

    def _known_order(self) -> Order:
        """The order as queries see it. While it is being placed (an order started without the store's
        settings waits for them), the order its input places, with the built-in defaults for what the
        input left out: the status it is entering, its lines, its customer (docs/lifecycle.md)."""
        if self._input is None or self._order is not None:
            return self._placed_order()
        if self._provisional is None:
            start = workflow.info().workflow_start_time
            self._provisional, _ = Order.place(self._input.with_defaults(StoreSettings()), start)
        return self._provisional

    @property
    def _ready_order(self) -> Order:
        assert self._order is not None, "the order is placed before any handler or query reads it"
        return self._order

    async def _place(self, order: OrderInput) -> None:
        # A modification's payment timeout came in 1.1: an order started without it (by another client)
        # asks the store too, but not when replaying a 1.0 order, which never did (docs/versioning.md).
        late_setting = order.modification_payment_timeout_seconds is None
        if order.missing_settings() or (late_setting and workflow.patched(V1_1)):
            store = await workflow.execute_local_activity_method(
                OrderActivities.store_settings, start_to_close_timeout=SETTINGS_TIMEOUT
            )
            order = order.with_defaults(store)
        # Placed when its workflow was started, not when a worker first ran it: an order placed while no
        # worker ran doesn't get a longer window.
        self._order, events = Order.place(order, workflow.info().workflow_start_time)
        self._publish(events)

    def _publish(self, events: list[OrderEvent], *, awaited: bool = False, moved: bool = False) -> None:
        """Queue events for delivery in order, without holding up the decision that made them.
        `awaited`: a command made them, and its sender waits for this workflow task to complete.
        `moved`: a command changed the order, with or without events (an extension moves a deadline
        only): visibility shows it, and the timer follows."""
        if not events and not moved:
            return
        if events:
            self._outbox.add(events, awaited=awaited)
        self._show()
        self._changes += 1

    def _show(self) -> None:
        """Write to visibility what changed of what it shows: one upsert each, at most, per change."""
        state = self._ready_order.state
        wanted: dict[str, Any] = {}
        # In `cancel`, held until `canceled`, or until the compensation turns out slow (`_slow`).
        if state.status is not Status.CANCEL or self._show_cancel:
            wanted.update(search_attributes_of(state))
            if workflow.patched(V1_1):
                wanted.update(report_attributes_of(state))  # beside the status: what the report counts
        changed = {
            name: value for name, value in wanted.items() if self._shown_attributes.get(name) != str(value)
        }
        if changed:
            workflow.upsert_search_attributes(
                [BY_NAME[name].value_set(value) for name, value in changed.items()]
            )
            self._shown_attributes |= {name: str(value) for name, value in changed.items()}
        memo = memo_of(state).model_dump(mode="json")
        if memo != self._shown_memo:
            workflow.upsert_memo({MEMO_KEY: memo})
            self._shown_memo = memo
        self._metrics.observe(state)

    def _slow(self) -> None:
        """The compensation's first attempt failed: show the order in `cancel`, so staff find it."""
        self._show_cancel = True
        self._show()

    def _observe(self) -> None:
        self._metrics.observe(self._ready_order.state)

    async def _wait_for_change_or_deadline(self) -> None:
        seen = self._changes
        deadline = self._ready_order.next_deadline()

        def woken() -> bool:
            return (
                self._changes != seen
                or workflow.info().is_continue_as_new_suggested()
                or self._commands >= COMMANDS_PER_RUN
            )

        if workflow.patched(V1_1):
            timer = self._timer_for(deadline)
            if deadline is None or timer is not None:
                await workflow.wait_condition(lambda: woken() or (timer is not None and timer.done()))
            return  # the deadline passed, or changed: the next turn of the run loop catches up with it
        timeout = None if deadline is None else max(deadline - workflow.now(), timedelta(0))
        # On timeout the deadline has passed: the next turn of the run loop catches up with it.
        with contextlib.suppress(asyncio.TimeoutError):
            await workflow.wait_condition(woken, timeout=timeout)

    def _timer_for(self, deadline: datetime | None) -> asyncio.Task[None] | None:
        """The timer of `deadline`: the one already running while the deadline stays (a command that
        doesn't move it starts no timer, each a billable action), else a new one; None once it passed."""
        timer = self._timer
        if timer is not None and not timer.done() and deadline == self._timer_deadline:
            return timer
        if timer is not None and not timer.done():
            timer.cancel()
        self._timer, self._timer_deadline = None, deadline
        left = None if deadline is None else deadline - workflow.now()
        if left is not None and left > timedelta(0):
            self._timer = asyncio.create_task(asyncio.sleep(left.total_seconds()))
        return self._timer

    async def _settle(self) -> None:
        """Deliver every queued event and let every handler finish, before completing or continuing."""
        while True:
            self._outbox.start()
            await workflow.wait_condition(
                lambda: workflow.all_handlers_finished() and not self._outbox.busy()
            )
            if self._outbox.empty():
                return


def _order_input(raw: Any) -> tuple[OrderInput | None, str]:
    """The workflow's input, or why it can't be an order: malformed (docs/lifecycle.md), or its `order_id`
    is not the one its workflow id names (an order's event ids are its order id's: docs/events.md)."""
    try:
        order = OrderInput.model_validate(raw)
    except ValidationError as err:
        return None, f"invalid order input: {describe_errors(err)}"
    expected = workflow_id(order.order_id)
    if workflow.info().workflow_id != expected:
        return None, f"order_id {order.order_id} belongs to workflow id {expected}, not this one"
    return order, ""


def _memo_at_start() -> dict[str, Any] | None:
    """The memo the run started with, read as today's `OrderMemo` (a field added later takes its
    default): an older memo that says the same is not rewritten, which replay would reject."""
    raw = workflow.memo_value(MEMO_KEY, None, type_hint=dict)
    if not isinstance(raw, dict):
        return None
    try:
        return OrderMemo.model_validate(raw).model_dump(mode="json")
    except ValidationError:
        return None


def _started_with() -> dict[str, Any]:
    """The search attributes the order's workflow was started (or continued) with."""
    return {pair.key.name: pair.value for pair in workflow.info().typed_search_attributes}
