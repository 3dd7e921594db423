"""Property-based tests (hypothesis): random command sequences keep the lifecycle's invariants.

- The pure rules (`decide`) over every situation: final stays final, customers only request, invoiced
  needs an invoice covering the total, every refusal has a reason and a code.
- The order aggregate (`Order`) under random sequences of commands, actors, request ids, stamps and
  waits, run the way the workflow runs it (validator's `judge`, then `handle`, timers as `catch_up`,
  compensation on entering `cancel`): final stays final, invoiced is never canceled, effects happen
  if and only if the order is canceled and then once, at most one request waits, a refused command
  changes nothing, a repeated request id is answered as the first time, the timeline is one chain.
- Three senders' colliding request ids: never a command applied twice, never another sender's answer.
- Item and whole-order cancellations mixed: refunds sum to at most the total, no line goes negative, the
  remaining total is the lines' value, each effect once.
(tests/test_properties_workflow.py runs a sample of the same sequences against the real workflow.)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.commands import MalformedCommand, parse_command
from domain.events import EventType, OrderEvent
from domain.lifecycle import (
    COMMANDS,
    FINAL_STATUSES,
    INTERNAL_ACTIONS,
    Action,
    Actor,
    CancelPath,
    Move,
    Outcome,
    Refuse,
    Situation,
    Status,
    Stay,
    decide,
)
from domain.limits import MAX_REFUSALS_KEPT
from domain.models import OrderInput, StoreSettings
from domain.order import Order
from domain.state import OrderState

MINUTE, DAY = 60, 24 * 60 * 60
GRACE, DECISION = 30 * MINUTE, 30 * DAY
TOTAL = 12990
ITEMS = [{"sku": "A1", "quantity": 2, "price": 3000}, {"sku": "B2", "quantity": 1, "price": 6990}]
PLACED = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
PAYMENT_AND_STOCK = {
    EventType.PAYMENT_VOID,
    EventType.PAYMENT_REFUND,
    EventType.STOCK_RELEASE,
    EventType.STORE_RESTOCK_NEEDED,
}

# The pure rules, over every situation


situations = st.builds(
    Situation,
    status=st.sampled_from(list(Status)),
    partially_invoiced=st.booleans(),
    inside_grace_window=st.booleans(),
    invoice_covers_total=st.booleans(),
    status_before_request=st.none() | st.sampled_from([Status.READY_FOR_HANDLING, Status.HANDLING]),
).filter(lambda s: not s.partially_invoiced or s.status is Status.HANDLING)  # reachable: invoices come after


@settings(max_examples=600, deadline=None)
@given(situations, st.sampled_from(list(Action)), st.sampled_from(list(Actor)))
def test_the_rules_keep_their_invariants_in_every_situation(
    situation: Situation, action: Action, actor: Actor
) -> None:
    outcome = decide(situation, action, actor)
    if isinstance(outcome, Refuse):
        assert outcome.reason.strip() and outcome.code.strip()  # a reason a person can act on
        return
    assert situation.status not in FINAL_STATUSES  # final stays final
    if actor is Actor.CUSTOMER:
        assert action in (Action.REQUEST_CANCELLATION, Action.CANCEL_ITEMS)  # customers only ask to cancel
    if action in INTERNAL_ACTIONS:
        assert actor is Actor.SYSTEM
    if isinstance(outcome, Move):
        if outcome.to is Status.INVOICED:
            assert action is Action.INVOICE and situation.invoice_covers_total
        if outcome.to is Status.CANCEL:
            assert not situation.partially_invoiced  # partially invoiced orders can't be canceled
        if outcome.to is Status.CANCELED:
            assert situation.status is Status.CANCEL and action is Action.COMPENSATED
        if action is Action.DENY_CANCELLATION:
            assert outcome.to is (situation.status_before_request or Status.READY_FOR_HANDLING)


# Random command sequences


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

    def payload(self, now: datetime) -> dict[str, Any]:
        body: dict[str, Any] = {"actor": self.actor.value, "reason": self.reason}
        if self.action is Action.INVOICE:
            body |= {"invoice_number": f"NF-{self.value}", "value": self.value}
        if self.action in (Action.EXTEND_GRACE_PERIOD, Action.EXTEND_DECISION_DEADLINE):
            body["seconds"] = self.value  # seconds past the current deadline
        if self.action is Action.CANCEL_ITEMS:
            body["items"] = [{"sku": sku, "quantity": quantity} for sku, quantity in self.items]
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
waits = st.builds(Wait, st.sampled_from([7 * MINUTE, 31 * MINUTE, 31 * DAY]), st.booleans())
actors = st.sampled_from([Actor.STORE, Actor.ERP, Actor.CUSTOMER, Actor.SYSTEM, Actor.STORE, Actor.ERP])
sends = st.builds(
    Send,
    action=st.sampled_from(sorted(COMMANDS)),
    actor=actors,
    request_id=st.none() | st.sampled_from(["r-1", "r-2", "r-3"]),
    value=st.sampled_from([5000, 7990, TOTAL, 20000]),
    stamp_offset=st.sampled_from([0, -20 * MINUTE, -2 * DAY, 5 * MINUTE]) | st.none(),
    # Three senders whose request ids collide (SPEC §9: each sender's ids are its own).
    sender=st.sampled_from([None, "app-1", "c-42"]),
    # Lines of the order's (A1 x2, B2 x1), sometimes too many or unknown.
    items=st.sampled_from(
        [
            (("A1", 1),),
            (("A1", 2),),
            (("B2", 1),),
            (("A1", 1), ("B2", 1)),
            (("A1", 3),),
            (("Z9", 1),),
            (("A1", 2), ("B2", 1)),
        ]
    ),
)
# Half the sequences start after the window, where most of the lifecycle happens.
steps = st.tuples(st.booleans(), st.lists(st.one_of(waits, sends, sends), min_size=1, max_size=14)).map(
    lambda drawn: ([Wait(31 * MINUTE)] if drawn[0] else []) + drawn[1]
)
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
        body = {"order_id": "p-1", "customer_id": "c-1", "total": TOTAL, "items": ITEMS} | overrides
        store = StoreSettings(grace_period_seconds=GRACE, decision_timeout_seconds=DECISION)
        order, _ = Order.place(OrderInput.model_validate(body).with_defaults(store), now)
        return cls(order, now)

    @property
    def status(self) -> Status:
        return self.order.status

    def wait(self, seconds: int, *, timer_fired: bool = True) -> None:
        self.now += timedelta(seconds=seconds)
        if timer_fired:
            self.perform(self.order.catch_up(self.now))
            self.settle()

    def caught_up(self) -> Order:
        """A copy of the order after the deadlines that have passed, as the next command finds it: with
        their effects, and the compensation of a deadline that canceled it, as the workflow runs them."""
        ahead = Order(self.order.state.model_copy(deep=True), self.order.answers)
        for effect in ahead.catch_up(self.now):
            if effect.type is not EventType.ORDER_STATUS_CHANGED:
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


def check_invariants(model: Model, history: list[Status]) -> None:
    state = model.order.state
    # Final stays final.
    for before, after in itertools.pairwise(history):
        if before in FINAL_STATUSES:
            assert after is before
    # The timeline is one chain of moves from placement to the current status, in time order.
    chain = [e for e in state.timeline if not e.refused]
    assert chain[0].from_status is None
    for previous, entry in itertools.pairwise(chain):
        assert entry.from_status is previous.to_status and entry.at >= previous.at
    assert chain[-1].to_status is state.status
    # Invoiced is never canceled; canceled never invoiced in full.
    reached = {e.to_status for e in chain}
    assert not ({Status.INVOICED, Status.CANCEL} <= reached)
    if state.status is Status.CANCELED:
        assert state.invoiced_value < state.total and state.cancellation is not None
    # The whole order's payment and stock are undone if and only if it is canceled, and then once; item
    # cancellations undo their own items, each once, and never more money than the order's total.
    whole = [key for key in model.effects if key.count(":") == 1 and key.split(":")[1] in PAYMENT_AND_STOCK]
    if model.reached_cancel:
        assert state.status is Status.CANCELED and state.cancellation is not None
        # Nothing to void when the payment never came, nor when nothing of the order remained to pay.
        never_paid = state.cancellation.path in (CancelPath.PAYMENT_TIMEOUT, CancelPath.PAYMENT_DENIED)
        assert len(whole) == (1 if never_paid else 2) and len(set(whole)) == len(whole), model.effects
    else:
        assert whole == [] and state.cancellation is None
    assert len(model.effects) == len(set(model.effects))
    assert model.refunded <= state.total
    assert all(line.remaining >= 0 for line in state.lines)
    lines_value = sum(line.remaining * line.price for line in state.lines)
    assert state.remaining_total == lines_value  # the order's total is its lines' value here
    # At most one request waits for the store, and only in cancellation-requested.
    undecided = [
        r
        for r in state.cancellation_requests
        if not r.denied
        and r.applied_at is None
        and (state.cancellation is None or state.cancellation.request_id != r.id)
    ]
    assert len(undecided) == (1 if state.status is Status.CANCELLATION_REQUESTED else 0), undecided
    # The window is a deadline: once past it, no order is still in its window.
    deadline = state.grace_deadline
    assert not (deadline and model.now >= deadline and state.status is Status.WINDOW_TO_CANCEL)
    assert sum(e.refused for e in state.timeline) <= MAX_REFUSALS_KEPT


def comparable(state: OrderState) -> dict[str, Any]:
    """Everything a refused command must leave as it was (refusals are recorded in the timeline)."""
    dumped = state.model_dump(mode="json")
    dumped["timeline"] = [e for e in dumped["timeline"] if not e["refused"]]
    return dumped


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(orders, steps)
def test_random_sequences_keep_the_invariants(overrides: dict[str, Any], sequence: list[Step]) -> None:
    model = Model.place(overrides)
    history = [model.status]
    answers: dict[tuple[Actor, str | None, str], tuple[Action, Outcome]] = {}
    for step in sequence:
        if isinstance(step, Wait):
            model.wait(step.seconds, timer_fired=step.timer_fired)
            if not step.timer_fired:
                continue  # the order catches up with the next step
        else:
            before = comparable(model.caught_up().state)
            refusals_before = sum(e.refused for e in model.order.state.timeline)
            outcome = model.send(step)
            if isinstance(outcome, Refuse):
                assert outcome.reason.strip() and outcome.code.strip()
                after = comparable(model.order.state)
                # Nothing changed but the order's own deadline (which a refusal also catches up with).
                if after["status"] == before["status"]:
                    assert after == before
                repeat = (step.actor, step.sender, step.request_id) in answers
                assert repeat or sum(e.refused for e in model.order.state.timeline) >= min(
                    refusals_before + 1, MAX_REFUSALS_KEPT
                )
            if step.request_id is not None:
                key = (step.actor, step.sender, step.request_id)
                if key in answers:
                    first_action, first = answers[key]
                    if first_action is step.action:
                        assert isinstance(outcome, Refuse) == isinstance(first, Refuse)
                        assert not isinstance(outcome, Move)  # a repeat changes nothing
                        if isinstance(first, Move):
                            assert outcome == Stay(f"already applied (request_id {step.request_id})")
                    else:
                        assert isinstance(outcome, Refuse) and outcome.code == "request-id-reused"
                else:
                    # Never another sender's answer: a first use is judged on its own.
                    assert not (isinstance(outcome, Stay) and outcome.note.startswith("already applied"))
                    assert not (isinstance(outcome, Refuse) and outcome.code == "request-id-reused")
                    answers[key] = (step.action, outcome)
        history.append(model.status)
        check_invariants(model, history)
    model.wait(0)
    history.append(model.status)
    check_invariants(model, history)
    event(f"ends {model.status.value}")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(["actor", "reason", "value", "invoice_number", "request_id", "requested_at"])


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(sorted(COMMANDS)),
    json_values | st.dictionaries(field_names | st.text(max_size=10), json_values, max_size=6),
)
def test_any_json_payload_is_parsed_or_refused_with_the_fields_named(action: Action, raw: Any) -> None:
    """Only `MalformedCommand` may come out: anything else would fail the workflow task that parses it."""
    try:
        parse_command(action, raw)
    except MalformedCommand as err:
        assert str(err).startswith(f"invalid {action.value}: ") and len(str(err)) < 2000


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(COMMANDS)),
    st.fixed_dictionaries(
        {},
        optional={
            "actor": st.text(max_size=10) | st.integers() | st.none() | st.booleans(),
            "value": st.integers(min_value=-(10**15), max_value=10**15) | st.floats() | st.booleans(),
            "reason": st.text(max_size=2000),
            "invoice_number": st.text(max_size=100),
            "request_id": st.text(max_size=200) | st.integers(),
            "requested_at": st.text(max_size=40) | st.datetimes().map(datetime.isoformat),
        },
    ),
)
def test_a_command_is_applied_or_refused_and_a_refusal_changes_nothing(
    action: Action, payload: dict[str, Any]
) -> None:
    model = Model.place({})
    model.wait(31 * MINUTE)
    before = comparable(model.order.state)
    try:
        command = parse_command(action, payload)
    except MalformedCommand:
        return  # refused before it reached the order (the workflow records it as refused)
    outcome, _ = model.order.handle(action, command, model.now)
    if isinstance(outcome, Refuse):
        assert comparable(model.order.state) == before
    else:
        value = getattr(command, "value", 1)
        assert isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 10**12
