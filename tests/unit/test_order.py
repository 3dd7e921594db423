"""The order aggregate, without Temporal: time judgement, request ids, requests kept, effects chosen."""

from __future__ import annotations

from datetime import timedelta

from domain.events import EventType
from domain.lifecycle import Action, Move, Refuse, Status, Stay
from domain.limits import MAX_CANCELLATION_REQUESTS
from domain.registry import parse_command
from tests.kit.domain import GRACE, PLACED, placed_order, send


def test_a_request_arriving_after_the_deadline_waits_for_the_store_though_the_timer_has_not_fired() -> None:
    order = placed_order()
    assert order.status is Status.WINDOW_TO_CANCEL  # the timer never fired: no worker ran across the deadline
    outcome, events = send(
        order, Action.REQUEST_CANCELLATION, PLACED + GRACE + timedelta(seconds=1), actor="customer"
    )
    assert outcome == Move(Status.CANCELLATION_REQUESTED, outcome.note)
    assert [(e.from_status, e.to_status, e.at) for e in order.state.timeline[1:]] == [
        (Status.WINDOW_TO_CANCEL, Status.READY_FOR_HANDLING, PLACED + GRACE),
        (Status.READY_FOR_HANDLING, Status.CANCELLATION_REQUESTED, PLACED + GRACE + timedelta(seconds=1)),
    ]
    assert EventType.STORE_DECISION_NEEDED in [e.type for e in events]


def test_the_validator_judges_after_every_passed_deadline_as_the_handler_does() -> None:
    """A worker down for a month: the reminders and the decision deadline have all passed when the
    store's confirmation arrives. The update's validator must refuse it as the handler will."""
    order = placed_order()
    asked = PLACED + GRACE + timedelta(minutes=1)
    send(order, Action.REQUEST_CANCELLATION, asked, actor="customer")
    confirm = parse_command(Action.CONFIRM_CANCELLATION, {"actor": "store", "request_id": "c-1"})
    month_later = asked + timedelta(days=31)
    validated = order.judge(Action.CONFIRM_CANCELLATION, confirm, month_later)
    assert order.status is Status.CANCELLATION_REQUESTED  # judging changed nothing
    handled, _ = order.handle(Action.CONFIRM_CANCELLATION, confirm, month_later)
    assert validated == handled == Refuse("the order is already being canceled", "canceling")


def test_a_request_stamped_inside_the_window_cancels_at_once_when_processed_late() -> None:
    order = placed_order()
    outcome, _ = send(
        order,
        Action.REQUEST_CANCELLATION,
        PLACED + timedelta(hours=2),
        actor="customer",
        requested_at=(PLACED + timedelta(minutes=29)).isoformat(),
    )
    assert outcome == Move(Status.CANCEL, outcome.note)
    assert order.state.cancellation is not None
    assert order.state.cancellation.requested_at == PLACED + timedelta(minutes=29)


def test_requested_at_is_trusted_only_between_approval_and_processing() -> None:
    order = placed_order()
    late = PLACED + timedelta(hours=1)
    for untrusted in (PLACED - timedelta(minutes=1), late + timedelta(minutes=1)):
        probe = placed_order()
        outcome, _ = send(
            probe, Action.REQUEST_CANCELLATION, late, actor="customer", requested_at=untrusted.isoformat()
        )
        assert outcome == Move(Status.CANCELLATION_REQUESTED, outcome.note), untrusted
    assert order.judged_at(parse_command(Action.REQUEST_CANCELLATION, {"actor": "erp"}), late) == late


def test_a_repeated_request_id_is_answered_as_the_first_and_changes_nothing() -> None:
    order = placed_order()
    now = PLACED + timedelta(minutes=5)
    first, _ = send(order, Action.START_HANDLING, now, actor="store", request_id="r-1")
    assert isinstance(first, Refuse) and first.code == "OMS003"
    repeat, events = send(order, Action.START_HANDLING, now + GRACE, actor="store", request_id="r-1")
    assert repeat == first and events == []
    assert order.status is Status.WINDOW_TO_CANCEL  # a repeat does not even catch up with the deadline

    accepted, _ = send(order, Action.REQUEST_CANCELLATION, now, actor="customer", request_id="r-2")
    assert isinstance(accepted, Move)
    timeline_length = len(order.state.timeline)
    again, events = send(order, Action.REQUEST_CANCELLATION, now, actor="customer", request_id="r-2")
    assert isinstance(again, Stay) and events == [] and len(order.state.timeline) == timeline_length

    reused, _ = send(order, Action.START_HANDLING, now, actor="store", request_id="r-1")
    assert reused == first  # the store's r-1 is still the refused start_handling
    reused, _ = send(order, Action.INVOICE, now, actor="store", request_id="r-1", invoice_number="N", value=1)
    assert reused == Refuse("request id r-1 was already used to start handling", "request-id-reused")


def test_request_ids_are_scoped_by_actor_and_sender() -> None:
    order = placed_order()
    later = PLACED + GRACE + timedelta(minutes=1)
    asked, _ = send(
        order, Action.REQUEST_CANCELLATION, later, actor="customer", sender="c-42", request_id="k"
    )
    assert asked == Move(Status.CANCELLATION_REQUESTED, asked.note)
    # The ERP's own "k" is another request: its first step confirms, it is not "already applied".
    confirmed, _ = send(
        order, Action.REQUEST_CANCELLATION, later, actor="erp", sender="app-1", request_id="k"
    )
    assert confirmed == Move(Status.CANCEL, confirmed.note)
    assert order.state.cancellation is not None
    assert (order.state.cancellation.confirmed_by, order.state.cancellation.confirmed_by_sender) == (
        "erp",
        "app-1",
    )


def test_an_answer_that_changed_the_order_outlives_any_number_of_no_ops() -> None:
    order = placed_order()
    later = PLACED + GRACE + timedelta(minutes=1)
    first, _ = send(
        order, Action.REQUEST_CANCELLATION, later, actor="erp", sender="app-1", request_id="step-1"
    )
    assert first == Move(Status.CANCELLATION_REQUESTED, first.note)
    for n in range(2000):  # a customer's no-ops, each with its own id
        send(order, Action.REQUEST_CANCELLATION, later, actor="customer", sender="c-42", request_id=f"n{n}")
    retry, events = send(
        order, Action.REQUEST_CANCELLATION, later, actor="erp", sender="app-1", request_id="step-1"
    )
    assert retry == Stay("already applied (request id step-1)") and events == []
    assert order.status is Status.CANCELLATION_REQUESTED  # the retry did not act as the second step


def test_every_request_is_kept_and_the_customer_may_ask_again_after_a_denial() -> None:
    order = placed_order()
    later = PLACED + GRACE + timedelta(minutes=1)
    send(order, Action.REQUEST_CANCELLATION, later, actor="customer", reason="too slow", request_id="a")
    _, events = send(order, Action.DENY_CANCELLATION, later, actor="store", reason="already shipped")
    assert order.status is Status.READY_FOR_HANDLING
    assert [(e.type, e.data["reason"]) for e in events if e.type is EventType.CUSTOMER_NOTIFY] == [
        (EventType.CUSTOMER_NOTIFY, "already shipped")
    ]
    send(order, Action.REQUEST_CANCELLATION, later, actor="customer", reason="please", request_id="b")
    requests = order.state.cancellation_requests
    assert [(r.id, r.denied, r.deny_reason) for r in requests] == [
        ("a", True, "already shipped"),
        ("b", False, None),
    ]
    assert order.state.pending_request is requests[-1]


def test_invoicing_declines_the_pending_request() -> None:
    order = placed_order()
    later = PLACED + GRACE + timedelta(minutes=1)
    send(order, Action.REQUEST_CANCELLATION, later, actor="customer", request_id="a")
    outcome, events = send(order, Action.INVOICE, later, actor="erp", invoice_number="NF-1", value=12990)
    assert outcome == Move(Status.INVOICED, outcome.note)
    assert order.state.cancellation_requests[0].denied
    assert order.state.cancellation_requests[0].deny_reason == "the order was invoiced"
    assert EventType.CUSTOMER_NOTIFY in [e.type for e in events]


def test_compensation_voids_or_refunds_and_releases_or_asks_to_restock() -> None:
    order = placed_order()
    send(order, Action.REQUEST_CANCELLATION, PLACED, actor="customer")
    compensation = order.compensation(PLACED)
    assert (compensation.payment.type, compensation.stock.type) == (
        EventType.PAYMENT_VOID,
        EventType.STOCK_RELEASE,
    )
    assert compensation.payment.id == "1001:payment.void"

    handled = placed_order(payment={"method": "credit-card", "captured": True})
    later = PLACED + GRACE
    send(handled, Action.START_HANDLING, later, actor="store")
    send(handled, Action.REQUEST_CANCELLATION, later, actor="store")
    send(handled, Action.CONFIRM_CANCELLATION, later, actor="store")
    compensation = handled.compensation(later)
    assert compensation.payment.type is EventType.PAYMENT_REFUND
    assert compensation.stock.type is EventType.STORE_RESTOCK_NEEDED
    assert handled.state.cancellation is not None and handled.state.cancellation.confirmed_by == "store"


def test_a_pending_payment_is_voided_even_if_marked_captured() -> None:
    order = placed_order(payment_approved=False, payment={"method": "pix", "captured": True})
    assert order.status is Status.PAYMENT_PENDING and order.next_deadline() == PLACED + timedelta(days=3)
    send(order, Action.REQUEST_CANCELLATION, PLACED, actor="customer")
    assert order.compensation(PLACED).payment.type is EventType.PAYMENT_VOID


def test_the_decision_deadline_cancels_as_the_system() -> None:
    order = placed_order()
    asked = PLACED + GRACE + timedelta(minutes=1)
    send(order, Action.REQUEST_CANCELLATION, asked, actor="customer")
    assert order.state.decision_deadline == asked + timedelta(days=30)
    assert order.next_deadline() == asked + timedelta(days=23)  # the 7-day reminder comes first
    outcome, _ = send(
        order, Action.DENY_CANCELLATION, asked + timedelta(days=31), actor="store", reason="late"
    )
    assert isinstance(outcome, Refuse) and outcome.code == "canceling"
    assert order.status is Status.CANCEL
    assert order.state.cancellation is not None and order.state.cancellation.requested_by == "system"


def test_refused_signals_are_recorded_but_bounded() -> None:
    order = placed_order()
    for n in range(50):
        send(order, Action.START_HANDLING, PLACED, actor="store", request_id=f"x{n}")
    refused = [e for e in order.state.timeline if e.refused]
    assert len(refused) == 20 and refused[-1].request_id == "x49"
    assert order.status is Status.WINDOW_TO_CANCEL


def test_an_order_refuses_to_grow_past_its_limits_and_its_own_moves_still_happen() -> None:
    order = placed_order()
    later = PLACED + GRACE + timedelta(minutes=1)
    for n in range(MAX_CANCELLATION_REQUESTS):
        asked, _ = send(order, Action.REQUEST_CANCELLATION, later, actor="customer", request_id=f"a{n}")
        assert isinstance(asked, Move), asked
        send(order, Action.DENY_CANCELLATION, later, actor="store", reason="no")
    full, events = send(order, Action.REQUEST_CANCELLATION, later, actor="customer", request_id="one-more")
    assert isinstance(full, Refuse) and full.code == "order-full" and events == []
    assert f"{MAX_CANCELLATION_REQUESTS} cancellation requests" in full.reason
    assert len(order.state.cancellation_requests) == MAX_CANCELLATION_REQUESTS
    invoiced, _ = send(order, Action.INVOICE, later, actor="erp", invoice_number="NF-1", value=12990)
    assert invoiced == Move(Status.INVOICED, invoiced.note)  # other commands still apply


def test_a_return_invoice_lowers_what_is_invoiced_and_then_the_order_can_be_canceled() -> None:
    order = placed_order()
    later = PLACED + GRACE + timedelta(minutes=1)
    nothing, _ = send(order, Action.INVOICE, later, actor="erp", invoice_number="R-0", value=10, kind="input")
    assert isinstance(nothing, Refuse) and nothing.code == "nothing-invoiced"
    send(order, Action.INVOICE, later, actor="erp", invoice_number="NF-1", value=5000)
    assert order.state.partially_invoiced
    refused, _ = send(order, Action.REQUEST_CANCELLATION, later, actor="customer")
    assert isinstance(refused, Refuse) and refused.code == "partially-invoiced"
    too_much, _ = send(
        order, Action.INVOICE, later, actor="erp", invoice_number="R-1", value=5001, kind="input"
    )
    assert isinstance(too_much, Refuse) and too_much.code == "return-exceeds-invoiced"
    returned, _ = send(
        order, Action.INVOICE, later, actor="erp", invoice_number="R-1", value=5000, kind="input"
    )
    assert returned == Move(Status.HANDLING, returned.note)
    assert order.state.invoiced_value == 0 and not order.state.partially_invoiced
    asked, _ = send(order, Action.REQUEST_CANCELLATION, later, actor="customer")
    assert asked == Move(Status.CANCELLATION_REQUESTED, asked.note)


def test_an_invoiced_order_takes_no_return() -> None:
    order = placed_order()
    later = PLACED + GRACE + timedelta(minutes=1)
    send(order, Action.INVOICE, later, actor="erp", invoice_number="NF-1", value=12990)
    back, _ = send(order, Action.INVOICE, later, actor="erp", invoice_number="R-1", value=100, kind="input")
    assert isinstance(back, Refuse) and back.code == "final"


def test_the_channel_a_request_came_from_is_kept_with_it_and_shown_to_visibility() -> None:
    """The customer's pages say so (`channel`); the console and the report read it back (SPEC §12)."""
    from domain.visibility import memo_of
    from domain.wire import Channel

    late = PLACED + GRACE + timedelta(minutes=1)
    order = placed_order()
    send(order, Action.REQUEST_CANCELLATION, late, actor="customer", sender="c-42", channel="my-orders")
    request = order.state.cancellation_requests[-1]
    assert request.channel is Channel.MY_ORDERS and order.state.timeline[-1].channel is Channel.MY_ORDERS
    pending = memo_of(order.state).pending
    assert pending is not None and pending.channel is Channel.MY_ORDERS
    send(order, Action.CONFIRM_CANCELLATION, late, actor="store", sender="alice")
    assert order.state.cancellation is not None and order.state.cancellation.channel is Channel.MY_ORDERS
    assert memo_of(order.state).canceled_via is Channel.MY_ORDERS

    elsewhere = placed_order()
    send(elsewhere, Action.REQUEST_CANCELLATION, PLACED, actor="customer", sender="c-42")
    assert memo_of(elsewhere.state).canceled_via is None
    # A channel no surface is, is ignored as unknown fields are: 1.0 took any (docs/versioning.md).
    assert parse_command(Action.REQUEST_CANCELLATION, {"actor": "customer", "channel": "x"}).channel is None
