"""One order: its state, and how the rules' verdicts are applied to it. Pure: no Temporal, no I/O, no clock.

`domain.lifecycle` decides; this class applies: it records who did what, keeps the answers for repeated
requests, and returns the events each change sends. The workflow is a thin shell around it: it passes
in the time (`workflow.now()`), runs the events as activities and sets the timer `next_deadline` asks for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.answers import Answers
from domain.commands import CancelItems, Command, ExtendDeadline, InvoiceCommand
from domain.events import EventType, FailedEvent, OrderEvent
from domain.lifecycle import (
    Action,
    Actor,
    CancelPath,
    Move,
    Outcome,
    Refuse,
    Status,
    cancel_path,
    decide,
    initial_status,
    payment_undo,
    stock_undo,
)
from domain.limits import MAX_REFUSALS_KEPT, over_limit
from domain.models import CarriedOver, OrderInput
from domain.reasons import OTHER, PAYMENT_PROBLEM, Use, use_for
from domain.state import (
    Cancellation,
    CancellationRequest,
    Invoice,
    ItemCancellation,
    OrderState,
    TimelineEntry,
)
from domain.wire import InvoiceKind

MAX_EXTENSION = timedelta(days=365)
SKUS_NAMED = 5  # a refusal names this many of the order's skus: answers are kept, and must stay small


@dataclass(frozen=True)
class Compensation:
    """What entering `cancel` undoes: payment and stock first (together), then the customer is told."""

    payment: OrderEvent | None  # None: no payment to undo (it never came)
    stock: OrderEvent
    customer: OrderEvent

    def waves(self) -> list[list[OrderEvent]]:
        first = [event for event in (self.payment, self.stock) if event is not None]
        return [first, [self.customer]]


@dataclass(frozen=True)
class Change:
    """A move being applied: what the action's own step needs to know."""

    action: Action
    command: Command
    before: Status
    to: Status
    at: datetime  # when the command counts as made
    now: datetime  # when the move counts as happening (a passed deadline: the deadline)
    clock: datetime  # the time now, as the workflow reads it


class Order:
    def __init__(self, state: OrderState, answers: Answers | None = None) -> None:
        self.state = state
        self.answers = answers or Answers()

    @classmethod
    def place(cls, order: OrderInput, now: datetime) -> tuple[Order, list[OrderEvent]]:
        """A new order; `order` carries its durations (`OrderInput.with_defaults`)."""
        assert not order.missing_settings()
        assert order.grace_period_seconds is not None and order.decision_timeout_seconds is not None
        assert order.payment_timeout_seconds is not None and order.reminder_offsets is not None
        assert order.reasons is not None
        status = initial_status(payment_approved=order.payment_approved)
        state = OrderState(
            order_id=order.order_id,
            customer_id=order.customer_id,
            status=status,
            total=order.total,
            currency=order.currency,
            items=order.items,
            payment=order.payment,
            sales_channel=order.sales_channel,
            origin=order.origin,
            client=order.client,
            placed_at=now,
            payment_approved_at=now if order.payment_approved else None,
            grace_period_seconds=order.grace_period_seconds,
            decision_timeout_seconds=order.decision_timeout_seconds,
            payment_timeout_seconds=order.payment_timeout_seconds,
            reminder_offsets=order.reminder_offsets,
            reasons=order.reasons,
        )
        placed = cls(state)
        note = "order placed; payment approved" if order.payment_approved else "order placed; payment pending"
        return placed, placed._record(now, None, status, Command(), Action.PLACE, note)

    @classmethod
    def resume(cls, carried: CarriedOver) -> Order:
        return cls(carried.state, carried.answers)

    def carry_over(self) -> CarriedOver:
        return CarriedOver(state=self.state, answers=self.answers)

    @property
    def status(self) -> Status:
        return self.state.status

    # Deadlines

    def next_deadline(self) -> datetime | None:
        """When the order will act by itself next, if nothing else happens first."""
        pending = self.state.next_deadline()
        return None if pending is None else pending[1]

    def deadline_passed(self, now: datetime) -> bool:
        pending = self.state.next_deadline()
        return pending is not None and pending[1] <= now

    def catch_up(self, now: datetime) -> list[OrderEvent]:
        """Apply the deadlines that have passed. The window is a deadline, not a flag: whatever arrives
        after it is judged as arriving after it, even when its timer has not fired yet."""
        events: list[OrderEvent] = []
        while (pending := self.state.next_deadline()) is not None and pending[1] <= now:
            action, deadline = pending
            outcome = decide(self.state.situation(), action, Actor.SYSTEM)
            assert isinstance(outcome, Move), outcome
            # A deadline's move counts as made when it passed (a reminder tells how long is left now).
            events += self._move(outcome, action, Command(), at=deadline, now=deadline, clock=now)
        return events

    # Commands

    def judged_at(self, command: Command, now: datetime) -> datetime:
        """When a command counts as made: its `requested_at`, if that lies between payment approval
        and now; otherwise now."""
        stamped, approved = command.requested_at, self.state.payment_approved_at
        if stamped is not None and approved is not None and approved <= stamped <= now:
            return stamped
        return now

    def judge(self, action: Action, command: Command, now: datetime) -> Outcome:
        """What `command` would do now, without changing anything (update validators use this)."""
        repeat = self.answers.repeat(command, action)
        if repeat is not None:
            return repeat
        wrong_code = self._reason_code_refusal(action, command)
        if wrong_code is not None:
            return wrong_code
        if self.deadline_passed(now):  # judge as `handle` will: after every passed deadline (rare)
            ahead = Order(self.state.model_copy(deep=True), self.answers)
            ahead.catch_up(now)
            return ahead.judge(action, command, now)
        situation = self.state.situation(at=self.judged_at(command, now))
        if isinstance(command, CancelItems):
            wrong = self._items_refusal(command)
            if wrong is not None:
                return wrong
            situation = replace(situation, cancels_last_items=self.state.leaves_nothing(command.items))
        if isinstance(command, InvoiceCommand):
            invoiced, returning = self.state.invoiced_value, command.kind is InvoiceKind.INPUT
            situation = replace(
                situation,
                invoice_covers_total=invoiced + command.value >= self.state.remaining_total,
                invoice_is_return=returning,
                return_within_invoiced=command.value <= invoiced,
            )
        outcome = decide(situation, action, command.actor)
        if isinstance(outcome, Move):
            lines = len(command.items) if isinstance(command, CancelItems) else 0
            full = over_limit(self.state, action, command.actor, outcome.to, lines)
            return full or self._extension_refusal(command, now) or outcome
        return outcome

    def _items_refusal(self, command: CancelItems) -> Refuse | None:
        """Each line named must be one of the order's, with at most what remains of it."""
        remaining = self.state.remaining()
        for index, item in enumerate(command.items):
            if item.sku not in remaining:
                known = ", ".join(list(remaining)[:SKUS_NAMED]) or "none"
                if len(remaining) > SKUS_NAMED:
                    known += f", ... ({len(remaining)} in all)"
                return Refuse(
                    f"items[{index}]: sku {item.sku} is not in the order (its skus: {known})", "unknown-sku"
                )
            if item.quantity > remaining[item.sku]:
                left = remaining[item.sku]
                return Refuse(f"items[{index}]: {item.quantity} of {item.sku} asked, {left} left", "too-many")
        return None

    def _extension_refusal(self, command: Command, now: datetime) -> Refuse | None:
        """A deadline moves later only, and at most a year ahead."""
        if not isinstance(command, ExtendDeadline):
            return None
        current = self._extended_deadline(command)
        assert current is not None  # the rules extend only an open window or a pending request
        wanted = command.new_deadline(current)
        if wanted <= current:
            return Refuse(
                f"a deadline moves only later: {_iso(wanted)} is not after the current one, {_iso(current)}",
                "not-later",
            )
        if wanted > now + MAX_EXTENSION:
            return Refuse(f"a deadline can be at most a year ahead; {_iso(wanted)} is further", "too-far")
        return None

    def _extended_deadline(self, command: ExtendDeadline) -> datetime | None:
        """The deadline an extension moves: the grace window's, or the pending request's decision."""
        if self.status is Status.CANCELLATION_REQUESTED:
            return self.state.decision_deadline
        return self.state.grace_deadline

    def _reason_code_refusal(self, action: Action, command: Command) -> Refuse | None:
        use = use_for(action, command.actor)
        if command.code is None or use is None:
            return None
        reason = self.state.reasons.refusal(command.code, use)
        return None if reason is None else Refuse(reason, "reason-code")

    def _reason(self, command: Command, action: Action) -> tuple[str, str]:
        """The command's reason code (`other` when it gave none) and that code's label."""
        use = use_for(action, command.actor) or Use.STORE
        code = command.code or OTHER
        return code, self.state.reasons.label(code, use)

    def handle(
        self, action: Action, command: Command, now: datetime, *, remember: bool = True
    ) -> tuple[Outcome, list[OrderEvent]]:
        """Apply `command`: catch up with passed deadlines, then do what the rules say.
        `remember=False` for a request id the workflow made up (no sender can repeat it)."""
        repeat = self.answers.repeat(command, action)
        if repeat is not None:
            return repeat, []
        events = self.catch_up(now)
        outcome = self.judge(action, command, now)
        if isinstance(outcome, Refuse):
            self._record_refusal(now, action, command, outcome)
        elif isinstance(outcome, Move):
            events += self._move(outcome, action, command, self.judged_at(command, now), now)
        if remember:
            self.answers.remember(command, action, outcome, changed=isinstance(outcome, Move))
        return outcome, events

    def refuse_malformed(self, now: datetime, action: Action, reason: str, command: Command) -> None:
        """Record a signal whose payload could not be read (`command` holds the parts that could),
        so its sender can see why nothing happened."""
        self._record_refusal(now, action, command, Refuse(reason, "malformed"))

    # Cancellation's side effects

    def compensation(self, now: datetime) -> Compensation:
        state = self.state
        order_id, amount = state.order_id, {"amount": state.remaining_total, "currency": state.currency}
        cancellation = state.cancellation
        assert cancellation is not None, "an order enters cancel with its cancellation recorded"
        payment = payment_undo(
            approved=state.payment_approved, captured=state.payment.captured, path=cancellation.path
        )
        stock = stock_undo(handling_started=state.handling_started)
        # What remains after any item cancellations: those were undone when they happened.
        items = [
            {"sku": line.sku, "quantity": line.remaining, "price": line.price}
            for line in state.lines
            if line.remaining > 0
        ]
        notice = {
            "customer_id": state.customer_id,
            "message": "order-canceled",
            "reason": cancellation.reason,
            "reason_code": cancellation.reason_code,
            **amount,
        }
        refund = {**amount, "method": state.payment.method}
        return Compensation(
            payment=OrderEvent.once(payment, order_id, now, refund) if payment else None,
            stock=OrderEvent.once(stock, order_id, now, {"items": items}),
            customer=OrderEvent.once(EventType.CUSTOMER_NOTIFY, order_id, now, notice),
        )

    def record_effect(self, event: OrderEvent) -> None:
        """Remember a delivered side effect (status-change events are in the timeline already)."""
        if event.type is not EventType.ORDER_STATUS_CHANGED and event.id not in self.state.effects:
            self.state.effects.append(event.id)

    def record_failure(self, failure: FailedEvent) -> None:
        """Remember an event no retry could deliver: it is skipped, and shows in the state."""
        if all(failed.id != failure.id for failed in self.state.failed_events):
            self.state.failed_events.append(failure)

    def finish_cancellation(self, now: datetime) -> list[OrderEvent]:
        outcome = decide(self.state.situation(), Action.COMPENSATED, Actor.SYSTEM)
        assert isinstance(outcome, Move), outcome
        return self._move(outcome, Action.COMPENSATED, Command(), now, now)

    # Applying a move: the action's own step, then the status and the timeline.

    def _move(
        self,
        outcome: Move,
        action: Action,
        command: Command,
        at: datetime,
        now: datetime,
        clock: datetime | None = None,
    ) -> list[OrderEvent]:
        change = Change(action, command, self.status, outcome.to, at, now, clock or now)
        step = self._steps().get(action)
        events = step(change) if step else []
        if change.before is Status.CANCELLATION_REQUESTED and outcome.to is not change.before:
            self.state.status_before_request = None
        self.state.status = outcome.to
        note, reason = outcome.note, command.reason_text
        return events + self._record(now, change.before, outcome.to, command, action, note, reason)

    def _steps(self) -> dict[Action, Callable[[Change], list[OrderEvent]]]:
        return {
            Action.APPROVE_PAYMENT: self._approve_payment,
            Action.REQUEST_CANCELLATION: self._request_cancellation,
            Action.CONFIRM_CANCELLATION: self._confirm_pending,
            Action.DENY_CANCELLATION: self._deny_pending,
            Action.START_HANDLING: self._start_handling,
            Action.INVOICE: self._invoice,
            Action.DECISION_TIMEOUT: self._decision_timeout,
            Action.COMPENSATED: self._compensated,
            Action.DENY_PAYMENT: self._payment_failed,
            Action.CANCEL_ITEMS: self._request_cancellation,
            Action.PAYMENT_TIMEOUT: self._payment_failed,
            Action.EXTEND_GRACE_PERIOD: self._extend,
            Action.EXTEND_DECISION_DEADLINE: self._extend,
            Action.DECISION_REMINDER: self._remind,
        }

    def _approve_payment(self, change: Change) -> list[OrderEvent]:
        self.state.payment_approved_at = change.now
        return []

    def _request_cancellation(self, change: Change) -> list[OrderEvent]:
        """A request for the whole order, or (`cancel_items`) for some of its items."""
        if self.state.pending_request is not None:  # the store's second step confirms what is pending
            return self._confirm_pending(change)
        command = change.command
        code, label = self._reason(command, change.action)
        request = CancellationRequest(
            id=command.request_id or f"{change.action.value}-{len(self.state.timeline)}",
            actor=command.actor,
            sender=command.sender,
            reason=command.reason_text,
            reason_code=code,
            reason_label=label,
            requested_at=change.at,
            items=command.items if isinstance(command, CancelItems) else [],
        )
        self.state.cancellation_requests.append(request)
        if change.to is Status.CANCEL:
            inside = self.state.inside_grace_window(change.at)
            path = cancel_path(before=change.before, inside_window=inside)
            self.state.cancellation = _cancellation_from(request, path, change.now)
            return []
        if change.to is change.before:  # items canceled at once; the order goes on
            return self._apply_items(request, command.actor, change.now)
        self.state.status_before_request = change.before
        if command.actor is Actor.CUSTOMER:
            return [self._decision_needed(request, change.now)]
        return []

    def _confirm_pending(self, change: Change) -> list[OrderEvent]:
        pending = self.state.pending_request
        assert pending is not None
        if pending.items and change.to is not Status.CANCEL:
            return self._apply_items(pending, change.command.actor, change.now, change.command.sender)
        path = CancelPath.AFTER_CONFIRMATION
        self.state.cancellation = _cancellation_from(pending, path, change.now, change.command)
        return []

    def _deny_pending(self, change: Change) -> list[OrderEvent]:
        return [self._deny(change.command, change.command.reason_text, change.now, change.action)]

    def _start_handling(self, change: Change) -> list[OrderEvent]:
        self.state.handling_started = True
        return []

    def _invoice(self, change: Change) -> list[OrderEvent]:
        command = change.command
        assert isinstance(command, InvoiceCommand)
        invoice = Invoice(
            invoice_number=command.invoice_number,
            value=command.value,
            issued_at=command.issued_at or change.now,
            actor=command.actor,
            sender=command.sender,
            kind=command.kind,
        )
        self.state.invoices.append(invoice)
        if self.state.pending_request is None:
            return []
        return [self._deny(command, "the order was invoiced", change.now, change.action)]

    def _decision_timeout(self, change: Change) -> list[OrderEvent]:
        pending = self.state.pending_request
        assert pending is not None
        if pending.items and change.to is not Status.CANCEL:
            return self._apply_items(pending, Actor.SYSTEM, change.at)
        days = self.state.decision_timeout_seconds / 86400
        self.state.cancellation = Cancellation(
            request_id=pending.id,
            requested_by=Actor.SYSTEM,
            reason=f"the store did not decide within {days:g} days",
            reason_code=pending.reason_code,  # why it was asked for: what the report counts
            reason_label=pending.reason_label,
            requested_at=change.at,
            path=CancelPath.DECISION_TIMEOUT,
            decided_at=change.at,
        )
        return []

    def _apply_items(
        self, request: CancellationRequest, actor: Actor, now: datetime, sender: str | None = None
    ) -> list[OrderEvent]:
        """Cancel the request's items while the order goes on: their value voided or refunded (never
        more than what remains of the order), their stock released or restocked, the customer told."""
        state = self.state
        prices = {item.sku: item.price for item in state.items}
        value = sum(prices[item.sku] * item.quantity for item in request.items)
        amount = min(value, state.remaining_total)
        for item in request.items:
            state.canceled_items[item.sku] = state.canceled_items.get(item.sku, 0) + item.quantity
        request.applied_at, request.applied_by = now, actor
        state.item_cancellations.append(
            ItemCancellation(
                request_id=request.id,
                items=request.items,
                amount=amount,
                at=now,
                actor=request.actor,
                sender=request.sender,
                reason=request.reason,
                reason_code=request.reason_code,
            )
        )
        lines = [{"sku": i.sku, "quantity": i.quantity, "price": prices[i.sku]} for i in request.items]
        money = {"amount": amount, "currency": state.currency}
        order_id, events = state.order_id, []
        payment = payment_undo(approved=state.payment_approved, captured=state.payment.captured)
        if payment is not None and amount > 0:
            data = {**money, "method": state.payment.method, "items": lines}
            events.append(OrderEvent.numbered(payment, order_id, self._next_number(), now, data))
        stock = stock_undo(handling_started=state.handling_started)
        events.append(OrderEvent.numbered(stock, order_id, self._next_number(), now, {"items": lines}))
        notice = {
            "customer_id": state.customer_id,
            "message": "items-canceled",
            "items": lines,
            "reason": request.reason,
            "reason_code": request.reason_code,
            **money,
        }
        events.append(
            OrderEvent.numbered(EventType.CUSTOMER_NOTIFY, order_id, self._next_number(), now, notice)
        )
        return events

    def _payment_failed(self, change: Change) -> list[OrderEvent]:
        timed_out = change.action is Action.PAYMENT_TIMEOUT
        code = PAYMENT_PROBLEM if PAYMENT_PROBLEM in self.state.reasons.store else OTHER
        days = self.state.payment_timeout_seconds / 86400
        self.state.cancellation = Cancellation(
            request_id=change.command.request_id or f"{change.action.value}-{len(self.state.timeline)}",
            requested_by=change.command.actor,
            requested_by_sender=change.command.sender,
            reason=f"the payment did not arrive within {days:g} days"
            if timed_out
            else change.command.reason_text or "the payment was denied",
            reason_code=code,
            reason_label=self.state.reasons.label(code, Use.STORE),
            requested_at=change.at,
            path=CancelPath.PAYMENT_TIMEOUT if timed_out else CancelPath.PAYMENT_DENIED,
            decided_at=change.at,
        )
        return []

    def _extend(self, change: Change) -> list[OrderEvent]:
        command = change.command
        assert isinstance(command, ExtendDeadline)
        current = self._extended_deadline(command)
        assert current is not None
        wanted = command.new_deadline(current)
        pending = self.state.pending_request
        if change.action is Action.EXTEND_DECISION_DEADLINE and pending is not None:
            pending.deadline_extended_to = wanted
            pending.reminders_armed_at, pending.reminded = change.now, []  # reminders follow the deadline
        elif self.state.payment_approved_at is not None:
            self.state.grace_period_seconds = int((wanted - self.state.payment_approved_at).total_seconds())
        return []

    def _remind(self, change: Change) -> list[OrderEvent]:
        """Remind the store of the pending request; when its deadline has passed too (no worker ran),
        the reminder is only marked: the request is decided by the timeout that follows."""
        pending, deadline, due = (
            self.state.pending_request,
            self.state.decision_deadline,
            self.state.reminders_due(),
        )
        assert pending is not None and deadline is not None and due
        offset = min(due, key=lambda o: due[o])
        pending.reminded.append(offset)
        if change.clock >= deadline:
            return []
        data = {
            "request_id": pending.id,
            "decision_deadline": deadline,
            "time_left_seconds": int((deadline - change.clock).total_seconds()),
            "reminder_offset_seconds": offset,
        }
        number = self._next_number()
        return [
            OrderEvent.numbered(
                EventType.STORE_DECISION_REMINDER, self.state.order_id, number, change.clock, data
            )
        ]

    def _compensated(self, change: Change) -> list[OrderEvent]:
        if self.state.cancellation is not None:
            self.state.cancellation.canceled_at = change.now
        return []

    # Events and records

    def _next_number(self) -> int:
        self.state.event_sequence += 1
        return self.state.event_sequence

    def _deny(self, command: Command, reason: str, now: datetime, action: Action) -> OrderEvent:
        pending = self.state.pending_request
        assert pending is not None
        pending.denied, pending.deny_reason, pending.denied_at = True, reason, now
        pending.denied_by, pending.denied_by_sender = command.actor, command.sender
        pending.deny_reason_code, pending.deny_reason_label = self._reason(command, action)
        data = {
            "customer_id": self.state.customer_id,
            "message": "cancellation-denied",
            "reason": reason,
            "reason_code": pending.deny_reason_code,
            "request_id": pending.id,
        }
        number = self._next_number()
        return OrderEvent.numbered(EventType.CUSTOMER_NOTIFY, self.state.order_id, number, now, data)

    def _decision_needed(self, request: CancellationRequest, now: datetime) -> OrderEvent:
        deadline = request.requested_at + timedelta(seconds=self.state.decision_timeout_seconds)
        data = {
            "request_id": request.id,
            "actor": request.actor.value,
            "reason": request.reason,
            "reason_code": request.reason_code,
            "requested_at": request.requested_at,
            "decision_deadline": deadline,
        }
        number = self._next_number()
        return OrderEvent.numbered(EventType.STORE_DECISION_NEEDED, self.state.order_id, number, now, data)

    def _record(
        self,
        at: datetime,
        before: Status | None,
        after: Status,
        command: Command,
        action: Action,
        note: str,
        reason: str = "",
    ) -> list[OrderEvent]:
        """Add the change to the timeline; a change of status is also published."""
        entry = TimelineEntry(
            at=at,
            from_status=before,
            to_status=after,
            actor=command.actor,
            sender=command.sender,
            action=action,
            note=note,
            reason=reason,
            reason_code=command.code,
            request_id=command.request_id,
        )
        self.state.timeline.append(entry)
        if before is after:
            return []
        data: dict[str, object] = {
            "from_status": before.value if before else None,
            "to_status": after.value,
            "actor": command.actor.value,
            "note": note,
        }
        if command.sender:
            data["sender"] = command.sender
        if reason:
            data["reason"] = reason
        number = self._next_number()
        return [OrderEvent.numbered(EventType.ORDER_STATUS_CHANGED, self.state.order_id, number, at, data)]

    def _record_refusal(self, now: datetime, action: Action, command: Command, refusal: Refuse) -> None:
        timeline = self.state.timeline
        timeline.append(
            TimelineEntry(
                at=now,
                from_status=self.status,
                to_status=self.status,
                actor=command.actor,
                sender=command.sender,
                action=action,
                note=f"refused: {refusal.reason}",
                request_id=command.request_id,
                refused=True,
            )
        )
        refusals = [i for i, e in enumerate(timeline) if e.refused]
        if len(refusals) > MAX_REFUSALS_KEPT:
            del timeline[refusals[0]]


def _cancellation_from(
    request: CancellationRequest, path: CancelPath, decided_at: datetime, confirmed: Command | None = None
) -> Cancellation:
    return Cancellation(
        path=path,
        decided_at=decided_at,
        request_id=request.id,
        requested_by=request.actor,
        requested_by_sender=request.sender,
        reason=request.reason,
        reason_code=request.reason_code,
        reason_label=request.reason_label,
        requested_at=request.requested_at,
        confirmed_by=confirmed.actor if confirmed else None,
        confirmed_by_sender=confirmed.sender if confirmed else None,
    )


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
