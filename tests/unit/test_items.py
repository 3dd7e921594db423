"""Line-level cancellation in the pure model (docs/items.md): the same windows as the whole order,
each item's value undone once, never more than what remains, and the order canceled with its last item."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.commands import MalformedCommand
from domain.events import EventType
from domain.lifecycle import Action, CancelPath, Move, Refuse, Status
from domain.models import OrderInput
from domain.order import Order
from domain.registry import parse_command
from domain.visibility import OrderMemo, memo_at_placement, memo_of
from tests.kit.domain import GRACE, PLACED, placed_order, send
from tests.kit.orders import TWO_LINES

LATER = PLACED + GRACE + timedelta(minutes=1)


def order(**overrides: Any) -> Order:
    return placed_order(**({"items": TWO_LINES, "total": 12990} | overrides))


def cancel(
    target: Order, at: Any, actor: str, *lines: tuple[str, int], **extra: Any
) -> tuple[Any, list[Any]]:
    items = [{"sku": sku, "quantity": quantity} for sku, quantity in lines]
    return send(target, Action.CANCEL_ITEMS, at, actor=actor, items=items, **extra)


def kinds(events: list[Any]) -> list[tuple[str, Any]]:
    return [
        (e.type.value, e.data.get("amount")) for e in events if e.type is not EventType.ORDER_STATUS_CHANGED
    ]


def test_inside_the_window_items_are_canceled_at_once_with_their_own_compensation() -> None:
    placed = order()
    outcome, events = cancel(placed, PLACED + timedelta(minutes=5), "customer", ("A1", 1), reason="too many")
    assert outcome == Move(Status.WINDOW_TO_CANCEL, "items canceled")
    assert kinds(events) == [("payment.void", 3000), ("stock.release", None), ("customer.notify", 3000)]
    assert all(e.id.rsplit(":", 1)[1].isdigit() for e in events)  # numbered: may recur
    notice = next(e for e in events if e.type is EventType.CUSTOMER_NOTIFY)
    assert notice.data["message"] == "items-canceled"
    assert notice.data["items"] == [{"sku": "A1", "quantity": 1, "price": 3000}]
    assert placed.state.remaining_total == 9990
    assert [(line.sku, line.ordered, line.canceled, line.remaining) for line in placed.state.lines] == [
        ("A1", 2, 1, 1), ("B2", 1, 0, 1)
    ]  # fmt: skip


def test_after_the_window_the_stores_items_go_at_once_and_a_customers_wait() -> None:
    placed = order(payment={"method": "card", "captured": True})
    stored, events = cancel(placed, LATER, "store", ("B2", 1))
    assert stored == Move(Status.READY_FOR_HANDLING, "items canceled by the store")
    assert kinds(events)[0] == ("payment.refund", 6990)
    asked, events = cancel(placed, LATER, "customer", ("A1", 1), reason_code="ordered-by-mistake")
    assert asked == Move(Status.CANCELLATION_REQUESTED, asked.note)
    assert [e.type for e in events if e.type is EventType.STORE_DECISION_NEEDED]
    assert placed.state.pending_request is not None and placed.state.pending_request.items[0].sku == "A1"
    confirmed, events = send(placed, Action.CONFIRM_CANCELLATION, LATER, actor="store")
    assert confirmed == Move(Status.READY_FOR_HANDLING, "item cancellation confirmed")
    assert kinds(events)[0] == ("payment.refund", 3000)
    assert placed.state.remaining_total == 3000


def test_a_denied_item_request_cancels_nothing_and_a_timed_out_one_cancels_its_items() -> None:
    placed = order()
    cancel(placed, LATER, "customer", ("A1", 2))
    denied, _ = send(placed, Action.DENY_CANCELLATION, LATER, actor="store", reason="packed")
    assert denied == Move(Status.READY_FOR_HANDLING, denied.note) and placed.state.remaining_total == 12990
    cancel(placed, LATER, "customer", ("A1", 2))
    events = placed.catch_up(LATER + timedelta(days=31))
    assert placed.status is Status.READY_FOR_HANDLING and placed.state.remaining_total == 6990
    assert ("payment.void", 6000) in kinds(events)


def test_the_last_items_cancel_the_order_which_compensates_only_what_remains() -> None:
    placed = order()
    cancel(placed, PLACED, "customer", ("A1", 2))
    outcome, _ = cancel(placed, PLACED, "customer", ("B2", 1))
    assert isinstance(outcome, Move) and outcome.to is Status.CANCEL
    compensation = placed.compensation(PLACED)
    assert compensation.payment is not None and compensation.payment.data["amount"] == 6990
    assert compensation.stock.data["items"] == [{"sku": "B2", "quantity": 1, "price": 6990}]
    assert (
        placed.state.cancellation is not None and placed.state.cancellation.path is CancelPath.INSIDE_WINDOW
    )


def test_a_whole_order_cancellation_after_items_compensates_the_rest() -> None:
    placed = order()
    cancel(placed, LATER, "store", ("A1", 1))
    send(placed, Action.REQUEST_CANCELLATION, LATER, actor="store")
    send(placed, Action.CONFIRM_CANCELLATION, LATER, actor="store")
    compensation = placed.compensation(LATER)
    assert compensation.payment is not None and compensation.payment.data["amount"] == 9990
    assert compensation.stock.data["items"] == [
        {"sku": "A1", "quantity": 1, "price": 3000}, {"sku": "B2", "quantity": 1, "price": 6990}
    ]  # fmt: skip


def test_refunds_never_exceed_what_remains_when_the_total_is_below_the_lines() -> None:
    placed = order(total=5000)  # a discount: the lines are worth more than was paid
    _, events = cancel(placed, PLACED, "customer", ("B2", 1))
    assert kinds(events)[0] == ("payment.void", 5000) and placed.state.remaining_total == 0


def test_invoicing_is_judged_against_the_remaining_total() -> None:
    placed = order()
    cancel(placed, LATER, "store", ("B2", 1))
    invoiced, _ = send(placed, Action.INVOICE, LATER, actor="erp", invoice_number="NF-1", value=6000)
    assert invoiced == Move(Status.INVOICED, "invoiced in full")


def test_lists_see_what_item_cancellations_and_a_partial_invoice_leave() -> None:
    placed = order()
    placement = OrderInput.model_validate(
        {"order_id": "1001", "customer_id": "c-42", "total": 12990, "items": TWO_LINES}
    )
    assert memo_of(placed.state) == memo_at_placement(placement)  # what the client writes at the start
    cancel(placed, LATER, "store", ("B2", 1))
    memo = memo_of(placed.state)
    assert (memo.value, memo.items) == (placed.state.remaining_total, placed.state.remaining_quantity)
    send(placed, Action.INVOICE, LATER, actor="erp", invoice_number="NF-1", value=1000)
    assert memo_of(placed.state).value == 1000  # VTEX: the value reflects a partial invoice
    assert OrderMemo.model_validate({"total": 5, "currency": "BRL"}).value == 5  # a memo from before 1.0


@pytest.mark.parametrize(
    ("lines", "code", "named"),
    [
        ([("Z9", 1)], "unknown-sku", "items[0]: sku Z9"),
        ([("A1", 1), ("A1", 3)], None, "appears twice"),
        ([("A1", 3)], "too-many", "items[0]: 3 of A1 asked, 2 left"),
        ([("B2", 1), ("A1", 5)], "too-many", "items[1]"),
    ],
)
def test_bad_lines_are_refused_with_the_line_named_and_nothing_changes(
    lines: list[tuple[str, int]], code: str | None, named: str
) -> None:
    placed = order()
    before = placed.state.model_dump()
    items = [{"sku": sku, "quantity": quantity} for sku, quantity in lines]
    if code is None:
        with pytest.raises(MalformedCommand, match=named):
            parse_command(Action.CANCEL_ITEMS, {"actor": "store", "items": items})
        return
    outcome, events = send(placed, Action.CANCEL_ITEMS, PLACED, actor="store", items=items)
    assert isinstance(outcome, Refuse) and outcome.code == code and named in outcome.reason and events == []
    after = placed.state.model_dump()
    assert [e for e in after.pop("timeline") if not e["refused"]] == before.pop(
        "timeline"
    ) and after == before


@pytest.mark.parametrize("quantity", [0, -1, 100_001])
def test_quantities_outside_one_to_the_limit_are_malformed(quantity: int) -> None:
    with pytest.raises(MalformedCommand, match=r"items\.0\.quantity"):
        parse_command(Action.CANCEL_ITEMS, {"actor": "store", "items": [{"sku": "A1", "quantity": quantity}]})


def test_items_of_a_partially_invoiced_or_final_order_and_a_pending_request_are_refused() -> None:
    placed = order()
    send(placed, Action.INVOICE, LATER, actor="erp", invoice_number="NF-1", value=1000)
    partly, _ = cancel(placed, LATER, "store", ("A1", 1))
    assert isinstance(partly, Refuse) and partly.code == "partially-invoiced"
    waiting = order()
    cancel(waiting, LATER, "customer", ("A1", 1))
    again, _ = cancel(waiting, LATER, "store", ("B2", 1))
    assert isinstance(again, Refuse) and again.code == "request-pending"
    whole, _ = send(waiting, Action.REQUEST_CANCELLATION, LATER, actor="store")
    assert isinstance(whole, Refuse) and whole.code == "items-pending"
    send(waiting, Action.INVOICE, LATER, actor="erp", invoice_number="NF-1", value=12990)  # declines it
    late, _ = send(waiting, Action.CONFIRM_CANCELLATION, LATER, actor="store")
    assert isinstance(late, Refuse) and late.code == "final"
