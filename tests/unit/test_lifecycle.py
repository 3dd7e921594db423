"""The pure lifecycle against docs/lifecycle.md's rules, row by row; everything else is refused with a
reason."""

from __future__ import annotations

import itertools

import pytest

from domain.lifecycle import (
    OWN_EVENTS,
    Action,
    Actor,
    Move,
    PendingDecision,
    Refuse,
    Situation,
    Status,
    Stay,
    cancellation_action,
    cancellation_allowed,
    pending_decision,
)
from domain.registry import decide

S, A = Status, Action
CUSTOMER, STORE, ERP, SYSTEM = Actor.CUSTOMER, Actor.STORE, Actor.ERP, Actor.SYSTEM
STAFF = (STORE, ERP)
ANYONE = tuple(Actor)

# The rules in words (docs/lifecycle.md), restated independently of the implementation's table: (status,
# action, actors) -> target. A target of None means "accepted, no change". Situations are the plain ones: not
# partially invoiced, judged after the window, invoice not covering the total, status before a request:
# handling.
RULE_ROWS: list[tuple[Status, Action, tuple[Actor, ...], Status | None]] = [
    (S.PAYMENT_PENDING, A.APPROVE_PAYMENT, (STORE, ERP, SYSTEM), S.WINDOW_TO_CANCEL),
    (S.PAYMENT_PENDING, A.REQUEST_CANCELLATION, ANYONE, S.CANCEL),
    (S.WINDOW_TO_CANCEL, A.REQUEST_CANCELLATION, ANYONE, S.CANCEL),
    (S.WINDOW_TO_CANCEL, A.GRACE_EXPIRED, (SYSTEM,), S.READY_FOR_HANDLING),
    (S.READY_FOR_HANDLING, A.START_HANDLING, STAFF, S.HANDLING),
    (S.READY_FOR_HANDLING, A.REQUEST_CANCELLATION, (CUSTOMER, STORE, ERP, SYSTEM), S.CANCELLATION_REQUESTED),
    (S.HANDLING, A.REQUEST_CANCELLATION, (CUSTOMER, STORE, ERP, SYSTEM), S.CANCELLATION_REQUESTED),
    (S.CANCELLATION_REQUESTED, A.CONFIRM_CANCELLATION, STAFF, S.CANCEL),
    (S.CANCELLATION_REQUESTED, A.REQUEST_CANCELLATION, STAFF, S.CANCEL),
    (S.CANCELLATION_REQUESTED, A.REQUEST_CANCELLATION, (CUSTOMER, SYSTEM), None),
    (S.CANCELLATION_REQUESTED, A.DENY_CANCELLATION, STAFF, S.HANDLING),
    (S.CANCELLATION_REQUESTED, A.DECISION_TIMEOUT, (SYSTEM,), S.CANCEL),
    (S.READY_FOR_HANDLING, A.INVOICE, STAFF, S.HANDLING),
    (S.HANDLING, A.INVOICE, STAFF, S.HANDLING),
    (S.CANCELLATION_REQUESTED, A.INVOICE, STAFF, S.HANDLING),
    (S.CANCEL, A.REQUEST_CANCELLATION, ANYONE, None),
    (S.CANCEL, A.COMPENSATED, (SYSTEM,), S.CANCELED),
    # Decision policy: payment timeout and denial, adjustable deadlines, reminders.
    (S.PAYMENT_PENDING, A.DENY_PAYMENT, (SYSTEM, ERP), S.CANCEL),
    (S.PAYMENT_PENDING, A.PAYMENT_TIMEOUT, (SYSTEM,), S.CANCEL),
    (S.WINDOW_TO_CANCEL, A.EXTEND_GRACE_PERIOD, STAFF, S.WINDOW_TO_CANCEL),
    (S.CANCELLATION_REQUESTED, A.EXTEND_DECISION_DEADLINE, STAFF, S.CANCELLATION_REQUESTED),
    (S.CANCELLATION_REQUESTED, A.DECISION_REMINDER, (SYSTEM,), S.CANCELLATION_REQUESTED),
    # Items: at once before handling; after the window the store's at once, the customer's a request.
    (S.PAYMENT_PENDING, A.CANCEL_ITEMS, ANYONE, S.PAYMENT_PENDING),
    (S.WINDOW_TO_CANCEL, A.CANCEL_ITEMS, ANYONE, S.WINDOW_TO_CANCEL),
    (S.READY_FOR_HANDLING, A.CANCEL_ITEMS, STAFF, S.READY_FOR_HANDLING),
    (S.HANDLING, A.CANCEL_ITEMS, STAFF, S.HANDLING),
    (S.READY_FOR_HANDLING, A.CANCEL_ITEMS, (CUSTOMER,), S.CANCELLATION_REQUESTED),
    (S.HANDLING, A.CANCEL_ITEMS, (CUSTOMER,), S.CANCELLATION_REQUESTED),
    # Modifications (SPEC §13): the store's or the erp's, in ready-for-handling and handling; the order's
    # status doesn't change. A modification's payment needs one waiting (tests/test_modifications.py).
    (S.READY_FOR_HANDLING, A.MODIFY_ORDER, STAFF, S.READY_FOR_HANDLING),
    (S.HANDLING, A.MODIFY_ORDER, STAFF, S.HANDLING),
]
EXPECTED = {(status, action, actor): to for status, action, actors, to in RULE_ROWS for actor in actors}
PLAIN = {"status_before_request": S.HANDLING}


@pytest.mark.parametrize(("status", "action", "actor"), sorted(EXPECTED, key=str))
def test_spec_row(status: Status, action: Action, actor: Actor) -> None:
    outcome = decide(Situation(status, **PLAIN), action, actor)
    expected = EXPECTED[(status, action, actor)]
    if expected is None:
        assert isinstance(outcome, Stay), outcome
    else:
        assert outcome == Move(expected, outcome.note), outcome
        assert outcome.note


def test_every_other_combination_is_refused_with_a_reason() -> None:
    refused = 0
    for status, action, actor in itertools.product(Status, Action, Actor):
        if (status, action, actor) in EXPECTED:
            continue
        outcome = decide(Situation(status, **PLAIN), action, actor)
        assert isinstance(outcome, Refuse), (status, action, actor, outcome)
        assert outcome.reason and outcome.code
        refused += 1
    assert refused == len(Status) * len(Action) * len(Actor) - len(EXPECTED)


@pytest.mark.parametrize("status", [S.CANCELED, S.INVOICED])
def test_final_statuses_refuse_everything(status: Status) -> None:
    for action, actor in itertools.product(Action, Actor):
        outcome = decide(Situation(status), action, actor)
        if action is A.START_HANDLING and actor in STAFF:
            assert isinstance(outcome, Refuse) and outcome.code == "OMS003"
        else:
            assert outcome == Refuse(f"the order is {status.value}; {status.value} orders are final", "final")


def test_invoice_covering_the_total_makes_the_order_invoiced() -> None:
    for status in (S.READY_FOR_HANDLING, S.HANDLING, S.CANCELLATION_REQUESTED):
        outcome = decide(Situation(status, invoice_covers_total=True), A.INVOICE, ERP)
        assert isinstance(outcome, Move) and outcome.to is S.INVOICED


@pytest.mark.parametrize("actor", ANYONE)
def test_partially_invoiced_orders_cannot_be_canceled(actor: Actor) -> None:
    outcome = decide(Situation(S.HANDLING, partially_invoiced=True), A.REQUEST_CANCELLATION, actor)
    assert outcome == Refuse("partially invoiced orders can't be canceled", "partially-invoiced")


def test_a_request_made_inside_the_window_cancels_even_after_the_timer_fired() -> None:
    for status in (S.READY_FOR_HANDLING, S.HANDLING):
        outcome = decide(Situation(status, inside_grace_window=True), A.REQUEST_CANCELLATION, CUSTOMER)
        assert isinstance(outcome, Move) and outcome.to is S.CANCEL


def test_denial_returns_to_the_status_before_the_request() -> None:
    situation = Situation(S.CANCELLATION_REQUESTED, status_before_request=S.READY_FOR_HANDLING)
    outcome = decide(situation, A.DENY_CANCELLATION, STORE)
    assert isinstance(outcome, Move) and outcome.to is S.READY_FOR_HANDLING


def test_start_handling_outside_ready_for_handling_is_vtex_oms003() -> None:
    for status in set(Status) - {S.READY_FOR_HANDLING}:
        outcome = decide(Situation(status), A.START_HANDLING, STORE)
        assert isinstance(outcome, Refuse) and outcome.code == "OMS003", (status, outcome)


def test_customers_may_only_request_cancellation() -> None:
    for action in set(Action) - OWN_EVENTS - {A.REQUEST_CANCELLATION, A.CANCEL_ITEMS}:
        outcome = decide(Situation(S.CANCELLATION_REQUESTED), action, CUSTOMER)
        assert isinstance(outcome, Refuse) and outcome.code == "forbidden-actor", (action, outcome)
        assert outcome.reason.startswith("only the ") and outcome.reason.endswith(", not the customer")


@pytest.mark.parametrize(
    ("situation", "allowed", "action"),
    [
        (Situation(S.PAYMENT_PENDING), True, "cancel"),
        (Situation(S.WINDOW_TO_CANCEL), True, "cancel"),
        (Situation(S.READY_FOR_HANDLING), True, "request"),
        (Situation(S.HANDLING), True, "request"),
        (Situation(S.HANDLING, partially_invoiced=True), False, None),
        (Situation(S.CANCELLATION_REQUESTED), True, "cancel"),
        (Situation(S.CANCEL), False, None),
        (Situation(S.CANCELED), False, None),
        (Situation(S.INVOICED), False, None),
    ],
)
def test_what_cancellation_would_do_now(situation: Situation, allowed: bool, action: str | None) -> None:
    assert cancellation_allowed(situation) is allowed
    assert cancellation_action(situation) == action


def test_the_last_items_cancel_the_order_and_an_item_request_is_decided_as_items() -> None:
    for status in (S.PAYMENT_PENDING, S.WINDOW_TO_CANCEL):
        outcome = decide(Situation(status, cancels_last_items=True), A.CANCEL_ITEMS, CUSTOMER)
        assert isinstance(outcome, Move) and outcome.to is S.CANCEL
    outcome = decide(Situation(S.HANDLING, cancels_last_items=True), A.CANCEL_ITEMS, STORE)
    assert isinstance(outcome, Move) and outcome.to is S.CANCEL
    items = Situation(S.CANCELLATION_REQUESTED, status_before_request=S.HANDLING, pending_is_items=True)
    assert decide(items, A.CONFIRM_CANCELLATION, STORE) == Move(S.HANDLING, "item cancellation confirmed")
    assert decide(items, A.DECISION_TIMEOUT, SYSTEM).to is S.HANDLING  # type: ignore[union-attr]
    last = Situation(S.CANCELLATION_REQUESTED, pending_is_items=True, pending_items_are_the_last=True)
    assert decide(last, A.CONFIRM_CANCELLATION, STORE).to is S.CANCEL  # type: ignore[union-attr]
    refused = decide(items, A.REQUEST_CANCELLATION, STORE)
    assert isinstance(refused, Refuse) and refused.code == "items-pending"
    # A customer asking for the whole order meanwhile is told so too, not answered "already waiting".
    asked = decide(items, A.REQUEST_CANCELLATION, CUSTOMER)
    assert isinstance(asked, Refuse) and asked.code == "items-pending"
    pending = decide(items, A.CANCEL_ITEMS, STORE)
    assert isinstance(pending, Refuse) and pending.code == "request-pending"
    invoiced = decide(Situation(S.HANDLING, partially_invoiced=True), A.CANCEL_ITEMS, STORE)
    assert isinstance(invoiced, Refuse) and invoiced.code == "partially-invoiced"


def test_the_pending_decision_says_what_an_item_request_does_unlike_a_whole_order_one() -> None:
    whole = pending_decision(Situation(Status.CANCELLATION_REQUESTED, status_before_request=Status.HANDLING))
    assert whole == PendingDecision(
        confirm="the order is canceled",
        deny="the order goes back to Preparing delivery",
        timeout="the order is canceled",
        second_cancel_confirms=True,
    )
    items = Situation(
        Status.CANCELLATION_REQUESTED, status_before_request=Status.HANDLING, pending_is_items=True
    )
    assert pending_decision(items) == PendingDecision(
        confirm="the items are canceled and the order goes back to Preparing delivery",
        deny="the order goes back to Preparing delivery",
        timeout="the items are canceled and the order goes back to Preparing delivery",
        second_cancel_confirms=False,  # a staff cancel is refused while an item request waits
    )
    assert pending_decision(Situation(Status.HANDLING)) is None
