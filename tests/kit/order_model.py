"""The pure model the property tests drive (tests/unit/test_properties.py) and compare the real workflow
with (tests/workflow/test_properties_workflow.py): an order run as the workflow runs it, with the
workflow's clock given explicitly, and the steps (waits and commands) random sequences are made of."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from domain.events import EventType, OrderEvent
from domain.lifecycle import Action, Actor, Move, Outcome, Status
from domain.models import StoreSettings
from domain.order import Order
from domain.registry import parse_command
from domain.state import OrderState
from tests.kit.domain import PLACED
from tests.kit.orders import DAY, MINUTE, TOTAL, TWO_LINES, order_input

GRACE, DECISION = 30 * MINUTE, 30 * DAY


@dataclass(frozen=True)
class Wait:
    seconds: int
    # False: a command arrives before the timer's task runs (a worker that was down): the validator
    # sees the order as it was, and must judge as the handler will, after every passed deadline.
    timer_fired: bool = True


@dataclass(frozen=True)
class Send:
    action: Action
    actor: Actor
    request_id: str | None = None
    value: int = TOTAL
    sender: str | None = None
    # When the command says it was made, relative to when it is processed (None: not stamped).
    stamp_offset: int | None = 0
    reason: str = "a reason"
    items: tuple[tuple[str, int], ...] = (("A1", 1),)  # for cancel_items: (sku, quantity) lines
    change: dict[str, Any] = field(default_factory=lambda: dict(MODIFICATIONS[0]))  # for modify_order
    modification_id: str = "p-1-m1"  # for a modification's payment and its withdrawal

    def payload(self, now: datetime) -> dict[str, Any]:
        body: dict[str, Any] = {"actor": self.actor.value, "reason": self.reason}
        if self.action is Action.INVOICE:
            body |= {"invoice_number": f"NF-{self.value}", "value": self.value}
        if self.action in (Action.EXTEND_GRACE_PERIOD, Action.EXTEND_DECISION_DEADLINE):
            body["seconds"] = self.value  # seconds past the current deadline
        if self.action is Action.CANCEL_ITEMS:
            body["items"] = [{"sku": sku, "quantity": quantity} for sku, quantity in self.items]
        if self.action is Action.MODIFY_ORDER:
            body |= self.change
        if self.action in MODIFICATION_DECISIONS:
            body["modification_id"] = self.modification_id
        if self.request_id is not None:
            body["request_id"] = self.request_id
        if self.sender is not None:
            body["sender"] = self.sender
        if self.stamp_offset is not None:
            body["requested_at"] = (now + timedelta(seconds=self.stamp_offset)).isoformat()
        return body


Step = Wait | Send


# Waits in whole minutes of 7 and 31, or 31 days: a sum of them never lands within a minute of the
# 30-minute grace deadline or a 30-day decision deadline, so the real workflow (which runs a few
# milliseconds later than the model) judges every command on the same side of every deadline.
def _lines(*lines: tuple[str, int] | tuple[str, int, int]) -> dict[str, Any]:
    return {"items": [dict(zip(("id", "quantity", "price"), line, strict=False)) for line in lines]}


# Modifications of the order's lines (A1 x2 at 30.00, B2 x1 at 69.90): lower, higher, repriced, swapped,
# and some that don't fit (too many, an unknown sku without a price, everything removed).
MODIFICATIONS: list[dict[str, Any]] = [
    {"remove": _lines(("A1", 1))},
    {"add": _lines(("C3", 1, 1500))},
    {"add": _lines(("A1", 1))},
    {"replace": [{"from": _lines(("A1", 1)), "to": _lines(("D4", 1, 2500))}]},
    {"replace": [{"from": _lines(("B2", 1)), "to": _lines(("B2", 1, 8000))}]},
    {"remove": _lines(("B2", 1)), "add": _lines(("C3", 2, 4000))},
    {"remove": _lines(("A1", 5))},
    {"add": _lines(("Z9", 1))},
    {"remove": _lines(("A1", 2), ("B2", 1))},
]
MODIFICATION_DECISIONS = {
    Action.APPROVE_MODIFICATION_PAYMENT,
    Action.DENY_MODIFICATION_PAYMENT,
    Action.CANCEL_MODIFICATION,
}
modification_ids = st.sampled_from(["p-1-m1", "p-1-m2", "p-1-m3", "other-m1"])
waits = st.builds(Wait, st.sampled_from([7 * MINUTE, 31 * MINUTE, 31 * DAY]), st.booleans())
actors = st.sampled_from([Actor.STORE, Actor.ERP, Actor.CUSTOMER, Actor.SYSTEM, Actor.STORE, Actor.ERP])
orders = st.fixed_dictionaries(
    {"payment_approved": st.booleans(), "payment": st.sampled_from([{"captured": False}, {"captured": True}])}
)


@dataclass
class Model:
    """The order run as the workflow runs it, with the workflow's clock given explicitly."""

    order: Order
    now: datetime
    effects: list[str] = field(default_factory=list)  # side effects performed, in order
    reached_cancel: bool = False
    sent: int = 0  # commands sent, for the request ids the workflow would make up (unique, as its uuid4s)
    refunded: int = 0  # voided or refunded, in all

    @classmethod
    def place(cls, overrides: dict[str, Any], now: datetime = PLACED) -> Model:
        placed = order_input(**({"order_id": "p-1", "customer_id": "c-1", "items": TWO_LINES} | overrides))
        store = StoreSettings(grace_period_seconds=GRACE, decision_timeout_seconds=DECISION)
        order, _ = Order.place(placed.with_defaults(store), now)
        return cls(order, now)

    @property
    def status(self) -> Status:
        return self.order.status

    def wait(self, seconds: int, *, timer_fired: bool = True) -> None:
        target = self.now + timedelta(seconds=seconds)
        # Each timer fires at its deadline, as the workflow's do: a reminder then goes out while time is
        # left (a worker that was down, `timer_fired=False`, catches up at the next command instead).
        while timer_fired and (deadline := self.order.next_deadline()) is not None and deadline <= target:
            self.now = max(self.now, deadline)
            self.perform(self.order.catch_up(self.now))
            self.settle()
        self.now = target
        if timer_fired:
            self.perform(self.order.catch_up(self.now))
            self.settle()

    def caught_up(self) -> Order:
        """A copy of the order after the deadlines that have passed, as the next command finds it: with
        their effects, and the compensation of a deadline that canceled it, as the workflow runs them."""
        ahead = Order(self.order.state.model_copy(deep=True), self.order.answers)
        for effect in ahead.catch_up(self.now):  # delivered, as `perform` delivers them
            ahead.record_effect(effect)
        if ahead.status is Status.CANCEL:
            for wave in ahead.compensation(self.now).waves():
                for effect in (e for e in wave if e.id not in ahead.state.effects):
                    ahead.record_effect(effect)
            ahead.finish_cancellation(self.now)
        return ahead

    def perform(self, events: list[OrderEvent]) -> None:
        """Deliver the effects among `events` (item cancellations undo their items as they happen)."""
        for effect in events:
            if effect.type is not EventType.ORDER_STATUS_CHANGED:
                assert effect.id not in self.order.state.effects, effect.id  # each effect once
                self.effects.append(effect.id)
                if effect.type in (EventType.PAYMENT_VOID, EventType.PAYMENT_REFUND):
                    self.refunded += effect.data["amount"]
                self.order.record_effect(effect)

    def send(self, step: Send) -> Outcome:
        command = parse_command(step.action, step.payload(self.now))
        self.sent += 1
        if command.request_id is None:
            command.request_id = f"auto-{self.sent}"
        validated = self.order.judge(step.action, command, self.now)  # the update's validator
        late = self.order.deadline_passed(self.now)  # the handler catches up first
        outcome, events = self.order.handle(step.action, command, self.now)
        assert type(outcome) is type(validated), (validated, outcome)  # validator and handler agree
        assert late or not events or isinstance(outcome, Move)
        self.perform(events + self.order.catch_up(self.now))  # a late timer fires next (repeats skip it)
        self.settle()
        return outcome

    def settle(self) -> None:
        """What the workflow does on entering `cancel`: compensate once, then reach `canceled`."""
        if self.status is not Status.CANCEL:
            return
        self.reached_cancel = True
        compensation = self.order.compensation(self.now)
        self.perform(
            [e for wave in compensation.waves() for e in wave if e.id not in self.order.state.effects]
        )
        self.order.finish_cancellation(self.now)


def moves(state: OrderState) -> list[tuple[Status | None, Status, Action]]:
    return [(e.from_status, e.to_status, e.action) for e in state.timeline if not e.refused]
