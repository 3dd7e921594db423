"""One order: its state, and how the rules' verdicts are applied to it. Pure: no Temporal, no I/O, no clock.

`domain.lifecycle` decides; this class applies: it judges commands against the order (refusing what the
rules, the command's record in `domain.registry` or the order's limits forbid), runs the action's step
(`domain.steps`), moves the status, records who
did what, keeps the answers for repeated requests, and returns the events each change sends
(`domain.effects`). The workflow is a thin shell around it: it passes in the time (`workflow.now()`),
runs the events as activities and sets the timer `next_deadline` asks for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain import checks, defaults, effects, modifications, steps
from domain.answers import Answers
from domain.commands import Command, ModifyOrder
from domain.effects import Compensation
from domain.events import EventType, FailedEvent, OrderEvent
from domain.lifecycle import Action, Actor, Move, Outcome, Refuse, Status, initial_status
from domain.limits import MAX_REFUSALS_KEPT, over_limit
from domain.models import CarriedOver, OrderInput
from domain.modifications import ModificationPreview
from domain.registry import COMMANDS, CommandRecord, decide
from domain.state import Lapse, OrderState, TimelineEntry
from domain.steps import OWN_STEPS, Change


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
            modification_payment_timeout_seconds=order.modification_payment_timeout_seconds
            or defaults.MODIFICATION_PAYMENT_TIMEOUT_SECONDS,
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
        record = COMMANDS[action]
        wrong_code = self._reason_code_refusal(record, command)
        if wrong_code is not None:
            return wrong_code
        if self.deadline_passed(now):  # judge as `handle` will: after every passed deadline (rare)
            ahead = Order(self.state.model_copy(deep=True), self.answers)
            ahead.catch_up(now)
            return ahead.judge(action, command, now)
        unfit = record.fits(self.state, command) if record.fits else None
        if unfit is not None:
            return unfit
        situation = self.state.situation(at=self.judged_at(command, now))
        if record.facts:
            situation = record.facts(situation, self.state, command)
        outcome = decide(situation, action, command.actor)
        if not isinstance(outcome, Move):
            return outcome
        if command.actor not in record.never_full_for:
            full = over_limit(self.state, record.growth, outcome.to, record.lines(command))
            if full is not None:
                return full
        out_of_bounds = record.bounds(self.state, command, now) if record.bounds else None
        return out_of_bounds or checks.four_eyes(self.state, command, situation, outcome) or outcome

    def preview(self, command: ModifyOrder, now: datetime) -> ModificationPreview:
        """What `modify_order` would do now (the `preview_modification` query): judged as the command
        would be, never as a repeat of one sent before; nothing changes."""
        command = command.model_copy(update={"request_id": None})
        outcome = self.judge(Action.MODIFY_ORDER, command, now)
        ahead = self
        if self.deadline_passed(now):  # judged after every passed deadline, as `judge` did
            ahead = Order(self.state.model_copy(deep=True), self.answers)
            ahead.catch_up(now)
        state = ahead.state
        if isinstance(outcome, Refuse):
            return modifications.preview(state, outcome)
        return modifications.preview(state, modifications.plan(state, command))

    def _reason_code_refusal(self, record: CommandRecord[Any], command: Command) -> Refuse | None:
        if command.code is None or record.reason_use is None:
            return None
        reason = self.state.reasons.refusal(command.code, record.reason_use(command.actor))
        return None if reason is None else Refuse(reason, "reason-code")

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
        return effects.compensation(self.state, now)

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

    def finish_cancellation_preview(self, now: datetime) -> list[OrderEvent]:
        """The events `finish_cancellation(now)` would make, this order left as it is: run on a copy
        that shares what finishing doesn't change (a deep copy took ten times as long, in every
        cancellation's decision)."""
        state = self.state
        cancellation = state.cancellation.model_copy() if state.cancellation else None
        copy = state.model_copy(update={"timeline": [*state.timeline], "cancellation": cancellation})
        return Order(copy).finish_cancellation(now)

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
        record = COMMANDS.get(action)
        use = record.reason_use(command.actor) if record and record.reason_use else None
        change = Change(action, command, self.status, outcome.to, at, now, clock or now, use)
        step = record.step if record else OWN_STEPS.get(action)
        events = step(self.state, change) if step else []
        if outcome.to is Status.CANCEL:  # undoes what the order holds, never a difference not paid
            steps.lapse(self.state, Lapse.ORDER_CANCELED, change)
        if change.before is Status.CANCELLATION_REQUESTED and outcome.to is not change.before:
            self.state.status_before_request = None
        self.state.status = outcome.to
        note, reason = outcome.note, command.reason_text
        return events + self._record(now, change.before, outcome.to, command, action, note, reason)

    # Records

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
            channel=command.channel,
            action=action,
            note=note,
            reason=reason,
            reason_code=command.code,
            request_id=command.request_id,
        )
        self.state.timeline.append(entry)
        if before is after:
            return []
        return [effects.status_changed(self.state, at, before, after, command, note, reason)]

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
