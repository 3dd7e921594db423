"""One order: its state, and what each action does to it. Pure: no Temporal, no I/O, no clock.

The workflow is a thin shell around this class: it passes in the time (`workflow.now()`), runs the
events that come back as activities, and sets the timers `next_deadline` asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from domain.events import EventType, OrderEvent
from domain.lifecycle import Action, Actor, Move, Outcome, Refuse, Status, Stay, decide
from domain.models import (
    Answer,
    ApprovePayment,
    Cancellation,
    CancellationRequest,
    CarriedOver,
    Command,
    ConfirmCancellation,
    DenyCancellation,
    Invoice,
    InvoiceCommand,
    OrderInput,
    OrderState,
    RequestCancellation,
    TimelineEntry,
)

MAX_ANSWERS_KEPT = 1000
MAX_REFUSALS_KEPT = 20


@dataclass(frozen=True)
class Compensation:
    """What entering `cancel` undoes: payment and stock first (together), then the customer is told."""

    payment: OrderEvent
    stock: OrderEvent
    customer: OrderEvent


class Order:
    def __init__(self, state: OrderState, answers: dict[str, Answer] | None = None) -> None:
        self.state = state
        self.answers: dict[str, Answer] = dict(answers or {})

    @classmethod
    def place(
        cls, order: OrderInput, now: datetime, *, grace_period_seconds: int, decision_timeout_seconds: int
    ) -> tuple[Order, list[OrderEvent]]:
        status = Status.WINDOW_TO_CANCEL if order.payment_approved else Status.PAYMENT_PENDING
        state = OrderState(
            order_id=order.order_id,
            customer_id=order.customer_id,
            status=status,
            total=order.total,
            currency=order.currency,
            items=order.items,
            payment=order.payment,
            placed_at=now,
            payment_approved_at=now if order.payment_approved else None,
            grace_period_seconds=order.grace_period_seconds
            if order.grace_period_seconds is not None
            else grace_period_seconds,
            decision_timeout_seconds=order.decision_timeout_seconds or decision_timeout_seconds,
        )
        placed = cls(state)
        note = "order placed; payment approved" if order.payment_approved else "order placed; payment pending"
        return placed, [placed._record(now, None, status, Actor.SYSTEM, Action.PLACE, note)]

    @classmethod
    def resume(cls, carried: CarriedOver) -> Order:
        return cls(carried.state, carried.answers)

    def carry_over(self) -> CarriedOver:
        return CarriedOver(state=self.state, answers=self.answers)

    @property
    def status(self) -> Status:
        return self.state.status

    # Timers

    def next_deadline(self) -> datetime | None:
        """When the order will act by itself next, if nothing else happens first."""
        if self.status is Status.WINDOW_TO_CANCEL:
            return self.state.grace_deadline
        if self.status is Status.CANCELLATION_REQUESTED:
            return self.state.decision_deadline
        return None

    def _overdue(self, now: datetime) -> tuple[Action, datetime] | None:
        deadline = self.next_deadline()
        if deadline is None or now < deadline:
            return None
        if self.status is Status.WINDOW_TO_CANCEL:
            return Action.GRACE_EXPIRED, deadline
        return Action.DECISION_TIMEOUT, deadline

    def catch_up(self, now: datetime) -> list[OrderEvent]:
        """Apply a deadline that has passed. The window is a deadline, not a flag: whatever arrives
        after it is judged as arriving after it, even when its timer has not fired yet."""
        overdue = self._overdue(now)
        if overdue is None:
            return []
        action, deadline = overdue
        outcome = decide(self.state.situation(), action, Actor.SYSTEM)
        assert isinstance(outcome, Move), outcome
        return self._move(outcome, action, Actor.SYSTEM, Command(), at=deadline, now=deadline)

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
        if command.request_id is not None and command.request_id in self.answers:
            return self._repeat(command.request_id, action)
        status = self.status
        overdue = self._overdue(now)
        if overdue is not None:
            caught_up = decide(self.state.situation(), overdue[0], Actor.SYSTEM)
            assert isinstance(caught_up, Move)
            status = caught_up.to
        situation = self.state.situation(status=status, at=self.judged_at(command, now))
        if isinstance(command, InvoiceCommand):
            covers = self.state.invoiced_value + command.value >= self.state.total
            situation = replace(situation, invoice_covers_total=covers)
        return decide(situation, action, _actor_of(command))

    def handle(
        self, action: Action, command: Command, now: datetime, *, remember: bool = True
    ) -> tuple[Outcome, list[OrderEvent]]:
        """Apply `command`: catch up with passed deadlines, then do what the rules say.

        `remember=False` for a request id the caller made up itself (no sender can repeat it): the
        answers kept for repeats (the last MAX_ANSWERS_KEPT) are then all ids a sender chose."""
        repeat = command.request_id is not None and command.request_id in self.answers
        events = [] if repeat else self.catch_up(now)
        outcome = self.judge(action, command, now)
        if repeat:
            return outcome, []
        if isinstance(outcome, Refuse):
            self._record_refusal(now, action, command, outcome)
        elif isinstance(outcome, Move):
            events += self._move(
                outcome, action, _actor_of(command), command, self.judged_at(command, now), now
            )
        if remember:
            self._remember(command.request_id, action, outcome)
        return outcome, events

    def _repeat(self, request_id: str, action: Action) -> Outcome:
        first = self.answers[request_id]
        if first.action is not action:
            return Refuse(
                f"request_id {request_id} was already used for {first.action.value}", "request-id-reused"
            )
        if first.refused:
            return Refuse(first.reason, first.code)
        return Stay(f"already applied (request_id {request_id})")

    def _remember(self, request_id: str | None, action: Action, outcome: Outcome) -> None:
        if request_id is None:
            return
        if isinstance(outcome, Refuse):
            answer = Answer(action=action, refused=True, reason=outcome.reason, code=outcome.code)
        else:
            answer = Answer(action=action)
        self.answers[request_id] = answer
        while len(self.answers) > MAX_ANSWERS_KEPT:
            del self.answers[next(iter(self.answers))]

    def refuse_malformed(self, now: datetime, action: Action, reason: str, request_id: str | None) -> None:
        """Record a signal whose payload could not be read, so its sender can see why nothing happened."""
        self._record_refusal(now, action, Command(request_id=request_id), Refuse(reason, "malformed"))

    # Cancellation's side effects

    def compensation(self, now: datetime) -> Compensation:
        state, reason = self.state, self.state.cancellation.reason if self.state.cancellation else ""
        order_id, amount = state.order_id, {"amount": state.total, "currency": state.currency}
        captured = state.payment.captured and state.payment_approved_at is not None
        payment_type = EventType.PAYMENT_REFUND if captured else EventType.PAYMENT_VOID
        stock_type = EventType.STORE_RESTOCK_NEEDED if state.handling_started else EventType.STOCK_RELEASE
        items = [item.model_dump(mode="json") for item in state.items]
        return Compensation(
            payment=OrderEvent.new(payment_type, order_id, now, {**amount, "method": state.payment.method}),
            stock=OrderEvent.new(stock_type, order_id, now, {"items": items}),
            customer=OrderEvent.new(
                EventType.CUSTOMER_NOTIFY,
                order_id,
                now,
                {"customer_id": state.customer_id, "message": "order-canceled", "reason": reason, **amount},
                qualifier="canceled",
            ),
        )

    def record_effect(self, event: OrderEvent) -> None:
        """Remember a delivered side effect (status-change events are in the timeline already)."""
        if event.type is not EventType.ORDER_STATUS_CHANGED and event.id not in self.state.effects:
            self.state.effects.append(event.id)

    def finish_cancellation(self, now: datetime) -> list[OrderEvent]:
        outcome = decide(self.state.situation(), Action.COMPENSATED, Actor.SYSTEM)
        assert isinstance(outcome, Move), outcome
        return self._move(outcome, Action.COMPENSATED, Actor.SYSTEM, Command(), now, now)

    # State changes

    def _move(
        self, outcome: Move, action: Action, actor: Actor, command: Command, at: datetime, now: datetime
    ) -> list[OrderEvent]:
        state, before = self.state, self.state.status
        events: list[OrderEvent] = []
        pending = state.pending_request
        reason = getattr(command, "reason", "") or ""
        request_id = command.request_id or f"{action.value}-{len(state.timeline)}"

        if isinstance(command, ApprovePayment):
            state.payment_approved_at = now
        elif isinstance(command, (RequestCancellation, ConfirmCancellation)):
            if pending is not None:  # the store's second step: confirm what is pending
                state.cancellation = _cancellation_from(pending, confirmed_by=actor)
            else:
                request = CancellationRequest(id=request_id, actor=actor, reason=reason, requested_at=at)
                state.cancellation_requests.append(request)
                if outcome.to is Status.CANCEL:
                    state.cancellation = _cancellation_from(request)
                else:
                    state.status_before_request = before
                    if actor is Actor.CUSTOMER:
                        events.append(self._decision_needed(request, now))
        elif isinstance(command, DenyCancellation):
            assert pending is not None
            events.append(self._deny(pending, actor, reason, now))
        elif isinstance(command, InvoiceCommand):
            state.invoices.append(
                Invoice(
                    invoice_number=command.invoice_number,
                    value=command.value,
                    issued_at=command.issued_at or now,
                    actor=actor,
                )
            )
            if pending is not None:
                events.append(self._deny(pending, actor, "the order was invoiced", now))
        elif action is Action.START_HANDLING:
            state.handling_started = True
        elif action is Action.DECISION_TIMEOUT:
            assert pending is not None
            days = state.decision_timeout_seconds / 86400
            state.cancellation = Cancellation(
                request_id=pending.id,
                requested_by=Actor.SYSTEM,
                reason=f"the store did not decide within {days:g} days",
                requested_at=at,
            )
        elif action is Action.COMPENSATED and state.cancellation is not None:
            state.cancellation.canceled_at = now

        if outcome.to is not Status.CANCELLATION_REQUESTED and before is Status.CANCELLATION_REQUESTED:
            state.status_before_request = None
        state.status = outcome.to
        events.append(
            self._record(now, before, outcome.to, actor, action, outcome.note, reason, command.request_id)
        )
        return events

    def _deny(self, pending: CancellationRequest, actor: Actor, reason: str, now: datetime) -> OrderEvent:
        pending.denied, pending.deny_reason, pending.denied_at, pending.denied_by = True, reason, now, actor
        data = {"customer_id": self.state.customer_id, "message": "cancellation-denied", "reason": reason}
        return OrderEvent.new(
            EventType.CUSTOMER_NOTIFY, self.state.order_id, now, data, qualifier=f"denied:{pending.id}"
        )

    def _decision_needed(self, request: CancellationRequest, now: datetime) -> OrderEvent:
        deadline = request.requested_at + timedelta(seconds=self.state.decision_timeout_seconds)
        data = {
            "request_id": request.id,
            "reason": request.reason,
            "requested_at": request.requested_at,
            "decision_deadline": deadline,
        }
        return OrderEvent.new(
            EventType.STORE_DECISION_NEEDED, self.state.order_id, now, data, qualifier=request.id
        )

    def _record(
        self,
        at: datetime,
        before: Status | None,
        after: Status,
        actor: Actor,
        action: Action,
        note: str,
        reason: str = "",
        request_id: str | None = None,
    ) -> OrderEvent:
        entry = TimelineEntry(
            at=at,
            from_status=before,
            to_status=after,
            actor=actor,
            action=action,
            note=note,
            reason=reason,
            request_id=request_id,
        )
        self.state.timeline.append(entry)
        sequence = sum(1 for e in self.state.timeline if not e.refused)
        data = {
            "from_status": before.value if before else None,
            "to_status": after.value,
            "actor": actor.value,
            "note": note,
        }
        if reason:
            data["reason"] = reason
        return OrderEvent.new(
            EventType.ORDER_STATUS_CHANGED, self.state.order_id, at, data, qualifier=str(sequence)
        )

    def _record_refusal(self, now: datetime, action: Action, command: Command, refusal: Refuse) -> None:
        timeline = self.state.timeline
        timeline.append(
            TimelineEntry(
                at=now,
                from_status=self.status,
                to_status=self.status,
                actor=_actor_of(command),
                action=action,
                note=f"refused: {refusal.reason}",
                request_id=command.request_id,
                refused=True,
            )
        )
        refusals = [i for i, e in enumerate(timeline) if e.refused]
        if len(refusals) > MAX_REFUSALS_KEPT:
            del timeline[refusals[0]]


def _actor_of(command: Command) -> Actor:
    return getattr(command, "actor", Actor.SYSTEM)


def _cancellation_from(request: CancellationRequest, confirmed_by: Actor | None = None) -> Cancellation:
    return Cancellation(
        request_id=request.id,
        requested_by=request.actor,
        reason=request.reason,
        requested_at=request.requested_at,
        confirmed_by=confirmed_by,
    )
