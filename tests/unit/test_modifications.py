"""Order modifications in the pure model (SPEC §13, docs/modifications.md): lower values apply at once with
their difference given back exactly once, higher ones wait for the payment of the difference, and every
bad input is refused with its field named, changing nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.commands import MalformedCommand
from domain.events import EventType, OrderEvent
from domain.lifecycle import Action, Move, Refuse, Status
from domain.order import Order
from domain.registry import parse_command
from domain.state import Lapse, ModificationStatus
from domain.visibility import memo_of
from tests.kit.domain import GRACE, PLACED, send
from tests.kit.domain import placed_order as place

ITEMS = [{"sku": "A1", "quantity": 2, "price": 3000}, {"sku": "B2", "quantity": 1, "price": 6990}]
LATER = PLACED + GRACE + timedelta(minutes=1)
DAY = timedelta(days=1)


def order(**overrides: Any) -> Order:
    placed = place(**({"items": ITEMS, "total": 12990, "order_id": "7001"} | overrides))
    placed.catch_up(LATER)
    assert placed.status is Status.READY_FOR_HANDLING
    return placed


def lines(*given: tuple[str, int] | tuple[str, int, int]) -> dict[str, Any]:
    return {"items": [dict(zip(("id", "quantity", "price"), line, strict=False)) for line in given]}


def modify(target: Order, at: Any = LATER, **change: Any) -> tuple[Any, list[OrderEvent]]:
    return send(target, Action.MODIFY_ORDER, at, actor="store", reason="the customer called", **change)


def decide(target: Order, action: Action, modification_id: str, at: Any = LATER, actor: str = "erp") -> Any:
    return send(target, action, at, actor=actor, modification_id=modification_id)


def effects(events: list[OrderEvent]) -> list[tuple[str, Any]]:
    """Each effect with its amount, or for a customer's notice its message."""
    said = {EventType.CUSTOMER_NOTIFY: "message"}
    return [
        (e.type.value, e.data.get(said.get(e.type, "amount")))
        for e in events
        if e.type is not EventType.ORDER_STATUS_CHANGED
    ]


def unchanged(target: Order, before: dict[str, Any]) -> bool:
    after = target.state.model_dump()
    moved = [e for e in after.pop("timeline") if not e["refused"]]
    return moved == before.pop("timeline") and after == before


def test_a_lower_value_applies_at_once_its_difference_given_back_once() -> None:
    placed = order(payment={"method": "card", "captured": True})
    outcome, events = modify(placed, remove=lines(("A1", 1)), add=lines(("C3", 1, 1000)))
    assert outcome == Move(Status.READY_FOR_HANDLING, "order modified")
    assert effects(events) == [
        ("payment.refund", 2000),
        ("stock.release", None),
        ("stock.reserve", None),
        ("customer.notify", "order-modified"),
    ]
    refund, release, reserve, notice = (e.data for e in events)
    assert (
        refund["items"] == [{"sku": "A1", "quantity": 1, "price": 3000}]
        and refund["modification_id"] == "7001-m1"
    )
    assert refund["added"] == [{"sku": "C3", "quantity": 1, "price": 1000}]
    assert release["items"] == [{"sku": "A1", "quantity": 1, "price": 3000}]
    assert reserve["items"] == [{"sku": "C3", "quantity": 1, "price": 1000}]
    assert (notice["difference"], notice["value"]) == (-2000, 10990)
    state = placed.state
    assert state.remaining_total == 10990 == sum(line.price * line.remaining for line in state.lines)
    assert [(line.sku, line.remaining, line.ordered, line.added, line.removed) for line in state.lines] == [
        ("A1", 1, 2, 0, 1),
        ("B2", 1, 1, 0, 0),
        ("C3", 1, 0, 1, 0),
    ]
    (done,) = state.modifications
    assert (done.id, done.status, done.before, done.after, done.difference) == (
        "7001-m1",
        ModificationStatus.APPLIED,
        12990,
        10990,
        -2000,
    )
    assert state.timeline[-1].note == "order modified" and state.timeline[-1].reason == "the customer called"


def test_after_handling_started_removed_quantities_are_restocked_and_an_authorized_payment_voided() -> None:
    placed = order()
    send(placed, Action.START_HANDLING, LATER, actor="store")
    _, events = modify(placed, replace=[{"from": lines(("B2", 1)), "to": lines(("B3", 1, 5990))}])
    assert effects(events) == [
        ("payment.void", 1000),
        ("store.restock-needed", None),
        ("stock.reserve", None),
        ("customer.notify", "order-modified"),
    ]
    assert placed.status is Status.HANDLING and [line.sku for line in placed.state.lines] == ["A1", "B3"]


def test_a_new_price_for_a_whole_line_moves_money_but_no_stock() -> None:
    placed = order()
    _, events = modify(placed, replace=[{"from": lines(("A1", 2)), "to": lines(("A1", 2, 2500))}])
    assert effects(events) == [("payment.void", 1000), ("customer.notify", "order-modified")]
    assert placed.state.lines[0].price == 2500 and placed.state.remaining_total == 11990


def test_a_higher_value_waits_for_the_difference_then_applies_when_it_is_paid() -> None:
    placed = order()
    outcome, events = modify(placed, add=lines(("C3", 2, 1500)))
    assert outcome == Move(
        Status.READY_FOR_HANDLING, "order modification waiting for the difference to be paid"
    )
    (asked,) = events
    assert asked.type is EventType.PAYMENT_AUTHORIZE and asked.data["amount"] == 3000
    assert asked.data["payment_deadline"] == LATER + 2 * DAY
    state = placed.state
    assert state.remaining_total == 12990 and [line.sku for line in state.lines] == ["A1", "B2"]  # not yet
    assert state.modification_payment_deadline == LATER + 2 * DAY == placed.next_deadline()
    paid, events = decide(placed, Action.APPROVE_MODIFICATION_PAYMENT, "7001-m1", LATER + DAY)
    assert isinstance(paid, Move) and effects(events) == [
        ("stock.reserve", None),
        ("customer.notify", "order-modified"),
    ]
    assert placed.state.remaining_total == 15990 and placed.state.modifications[0].settled_by == "erp"
    assert placed.next_deadline() is None


@pytest.mark.parametrize(
    ("action", "actor", "because"),
    [
        (Action.DENY_MODIFICATION_PAYMENT, "system", Lapse.PAYMENT_DENIED),
        (Action.CANCEL_MODIFICATION, "store", Lapse.WITHDRAWN),
    ],
)
def test_a_denied_or_withdrawn_modification_lapses_and_the_order_is_as_before(
    action: Action, actor: str, because: Lapse
) -> None:
    placed = order()
    modify(placed, add=lines(("C3", 1, 1500)))
    before = placed.state.model_dump(include={"items", "remaining_total", "lines"})
    outcome, events = decide(placed, action, "7001-m1", actor=actor)
    assert isinstance(outcome, Move)
    assert effects(events) == [
        ("store.modification-lapsed", 1500),
        ("customer.notify", "modification-lapsed"),
    ]
    assert all(e.data["reason"] == because.value for e in events)
    assert placed.state.model_dump(include={"items", "remaining_total", "lines"}) == before
    assert (
        placed.state.modifications[0].lapsed_because is because and placed.state.waiting_modification is None
    )


def test_no_answer_within_the_deadline_lapses_the_modification() -> None:
    placed = order(modification_payment_timeout_seconds=3600)
    modify(placed, add=lines(("C3", 1, 1500)))
    assert placed.catch_up(LATER + timedelta(minutes=59)) == []
    events = placed.catch_up(LATER + timedelta(hours=2))
    assert effects(events) == [
        ("store.modification-lapsed", 1500),
        ("customer.notify", "modification-lapsed"),
    ]
    (lapsed,) = placed.state.modifications
    assert lapsed.lapsed_because is Lapse.PAYMENT_TIMEOUT and lapsed.settled_at == LATER + timedelta(hours=1)
    late, _ = decide(placed, Action.APPROVE_MODIFICATION_PAYMENT, "7001-m1", LATER + timedelta(hours=3))
    assert isinstance(late, Refuse) and late.code == "no-waiting-modification"
    assert placed.state.remaining_total == 12990


def test_canceling_the_order_drops_the_waiting_modification_and_never_gives_back_its_difference() -> None:
    placed = order(payment={"method": "card", "captured": True})
    modify(placed, remove=lines(("B2", 1)))  # applied: 6990 back
    modify(placed, add=lines(("C3", 1, 1500)))  # waits
    send(placed, Action.REQUEST_CANCELLATION, LATER, actor="store", reason="fraud")
    outcome, _ = send(placed, Action.CONFIRM_CANCELLATION, LATER, actor="store")
    assert isinstance(outcome, Move) and outcome.to is Status.CANCEL
    compensation = placed.compensation(LATER)
    assert compensation.payment is not None and compensation.payment.data["amount"] == 6000  # what is held
    assert compensation.stock.data["items"] == [{"sku": "A1", "quantity": 2, "price": 3000}]
    dropped = placed.state.modifications[1]
    assert dropped.status is ModificationStatus.LAPSED and dropped.lapsed_because is Lapse.ORDER_CANCELED
    assert placed.next_deadline() is None


def test_an_invoice_drops_the_waiting_modification_and_later_ones_are_refused() -> None:
    placed = order()
    modify(placed, add=lines(("C3", 1, 1500)))
    outcome, events = send(placed, Action.INVOICE, LATER, actor="erp", invoice_number="NF-1", value=12990)
    assert isinstance(outcome, Move) and outcome.to is Status.INVOICED  # judged against 12990, not 14490
    assert ("store.modification-lapsed", 1500) in effects(events)
    assert placed.state.modifications[0].lapsed_because is Lapse.ORDER_INVOICED


def test_item_cancellations_and_invoices_after_a_modification_use_its_lines_and_value() -> None:
    placed = order()
    modify(placed, replace=[{"from": lines(("B2", 1)), "to": lines(("B3", 2, 2000))}])  # 12990 -> 10000
    _, events = send(placed, Action.CANCEL_ITEMS, LATER, actor="store", items=[{"sku": "B3", "quantity": 1}])
    assert effects(events)[0] == ("payment.void", 2000)
    assert placed.state.remaining_total == 8000
    partial, _ = send(placed, Action.INVOICE, LATER, actor="erp", invoice_number="NF-1", value=7000)
    assert partial == Move(Status.HANDLING, "partially invoiced")
    full, _ = send(placed, Action.INVOICE, LATER, actor="erp", invoice_number="NF-2", value=1000)
    assert isinstance(full, Move) and full.to is Status.INVOICED


def test_the_memo_shows_the_modified_value_and_what_modifications_moved() -> None:
    placed = order()
    assert "modified" not in memo_of(placed.state).model_dump(mode="json")  # as before modifications
    modify(placed, remove=lines(("A1", 1)))
    modify(placed, add=lines(("C3", 1, 500)))
    decide(placed, Action.APPROVE_MODIFICATION_PAYMENT, "7001-m2")
    memo = memo_of(placed.state)
    assert (memo.value, memo.items, memo.modified, memo.value_added, memo.value_removed) == (
        10490,
        3,
        2,
        500,
        3000,
    )


def test_preview_answers_before_after_and_difference_and_changes_nothing() -> None:
    placed = order()
    before = placed.state.model_dump()
    command = parse_command(
        Action.MODIFY_ORDER, {"actor": "store", "reason": "r", "add": lines(("C3", 1, 1500))}
    )
    preview = placed.preview(command, LATER)  # type: ignore[arg-type]
    assert (preview.before, preview.after, preview.difference, preview.waits_for_payment) == (
        12990,
        14490,
        1500,
        True,
    )
    assert preview.refused is None and placed.state.model_dump() == before
    wrong = parse_command(Action.MODIFY_ORDER, {"actor": "store", "reason": "r", "remove": lines(("A1", 3))})
    refused = placed.preview(wrong, LATER)  # type: ignore[arg-type]
    assert refused.refused is not None and refused.refused.code == "too-many" and refused.after == 12990


@pytest.mark.parametrize(
    ("change", "code", "named"),
    [
        ({"remove": lines(("A1", 3))}, "too-many", "remove.items[0]: 3 of A1 asked, 2 left"),
        ({"remove": lines(("Z9", 1))}, "unknown-sku", "remove.items[0]: sku Z9 is not in the order"),
        ({"add": lines(("Z9", 1))}, "price-needed", "add.items[0].price: sku Z9 is not in the order"),
        (
            {"remove": lines(("A1", 1)), "replace": [{"from": lines(("A1", 1)), "to": lines(("C3", 1, 1))}]},
            "duplicate-line",
            "replace[0].from.items[0]: sku A1 is removed twice (also remove.items[0])",
        ),
        (
            {
                "add": lines(("C3", 1, 100)),
                "replace": [{"from": lines(("B2", 1)), "to": lines(("C3", 1, 100))}],
            },
            "duplicate-line",
            "replace[0].to.items[0]: sku C3 is added twice",
        ),
        (
            {"add": lines(("A1", 1, 2500))},
            "part-of-a-line",
            "add.items[0].price: a new price is for a whole line",
        ),
        ({"remove": lines(("A1", 2), ("B2", 1))}, "removes-everything", "remove: it removes every item"),
        (
            {"replace": [{"from": lines(("A1", 1)), "to": lines(("A1", 1))}]},
            "no-change",
            "the modification changes nothing",
        ),
        ({"add": lines(("C3", 100_000, 1)), "remove": lines(("A1", 1))}, None, ""),  # fits: at the limit
        (
            {"add": lines(("A1", 99_999))},
            "too-large",
            "add.items[0].quantity: A1 would have more than 100000",
        ),
    ],
)
def test_lines_that_don_t_fit_the_order_are_refused_with_the_field_named_and_nothing_changes(
    change: dict[str, Any], code: str | None, named: str
) -> None:
    placed = order()
    before = placed.state.model_dump()
    outcome, events = modify(placed, **change)
    if code is None:
        assert isinstance(outcome, Move)
        return
    assert isinstance(outcome, Refuse) and outcome.code == code and named in outcome.reason, outcome
    assert events == [] and unchanged(placed, before)


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"reason": "r"}, "an empty modification"),
        ({"reason": "", "add": lines(("C3", 1, 1))}, "reason"),
        ({"add": lines(("C3", 1, 1))}, "reason: Field required"),
        ({"reason": "r", "add": lines(("C3", 0, 1))}, "add.items.0.quantity"),
        ({"reason": "r", "remove": lines(("A1", -1))}, "remove.items.0.quantity"),
        ({"reason": "r", "remove": {"items": [{"id": "A1", "quantity": 1.5}]}}, "remove.items.0.quantity"),
        ({"reason": "r", "add": lines(("C3", 1, -100))}, "add.items.0.price"),
        (
            {"reason": "r", "add": lines(("C3", 1, 1), ("C3", 2, 1))},
            "add.items: Value error, sku C3 appears twice",
        ),
        ({"reason": "r", "add": {"items": []}}, "add.items"),
        ({"reason": "r", "replace": [{"from": lines(("A1", 1))}]}, "replace.0.to"),
        ({"reason": "r", "add": lines(("C3", 1, 1)), "reason_code": "other"}, "takes no reason_code"),
    ],
)
def test_malformed_modifications_are_refused_with_the_field_named(
    payload: dict[str, Any], named: str
) -> None:
    with pytest.raises(MalformedCommand, match="invalid modify_order: .*" + named.replace("[", r"\[")):
        parse_command(Action.MODIFY_ORDER, {"actor": "store", **payload})


def test_where_and_by_whom_an_order_can_be_modified() -> None:
    window = place(items=ITEMS, total=12990)
    inside, _ = modify(window, PLACED, remove=lines(("A1", 1)))
    assert isinstance(inside, Refuse) and inside.code == "not-modifiable" and "cancel items" in inside.reason
    placed = order()
    customer, _ = send(
        placed, Action.MODIFY_ORDER, LATER, actor="customer", reason="r", remove=lines(("A1", 1))
    )
    assert isinstance(customer, Refuse) and customer.code == "forbidden-actor"
    send(placed, Action.INVOICE, LATER, actor="erp", invoice_number="NF-1", value=100)
    invoiced, _ = modify(placed, remove=lines(("A1", 1)))
    assert isinstance(invoiced, Refuse) and invoiced.code == "invoiced" and "first invoice" in invoiced.reason
    asked = order()
    send(asked, Action.REQUEST_CANCELLATION, LATER, actor="customer", reason="r")
    pending, _ = modify(asked, remove=lines(("A1", 1)))
    assert isinstance(pending, Refuse) and pending.code == "request-pending"
    canceled = place(items=ITEMS, total=12990)
    send(canceled, Action.REQUEST_CANCELLATION, PLACED, actor="customer", reason="r")
    final, _ = modify(canceled, PLACED, remove=lines(("A1", 1)))
    assert isinstance(final, Refuse) and final.code == "canceling"


def test_one_modification_waits_at_a_time_and_decisions_name_the_waiting_one() -> None:
    placed = order()
    modify(placed, add=lines(("C3", 1, 1500)))
    before = placed.state.model_dump()
    second, _ = modify(placed, remove=lines(("A1", 1)))
    assert isinstance(second, Refuse) and second.code == "modification-waiting" and "7001-m1" in second.reason
    items, _ = send(placed, Action.CANCEL_ITEMS, LATER, actor="store", items=[{"sku": "A1", "quantity": 1}])
    assert isinstance(items, Refuse) and items.code == "modification-waiting"
    other, _ = decide(placed, Action.APPROVE_MODIFICATION_PAYMENT, "9999-m1")
    assert isinstance(other, Refuse) and other.code == "not-waiting"
    assert (
        other.reason
        == "modification_id: 9999-m1 is not a modification of order 7001; 7001-m1 is the one waiting"
    )
    unknown, _ = decide(placed, Action.DENY_MODIFICATION_PAYMENT, "7001-m7")
    assert isinstance(unknown, Refuse) and "is not one of order 7001's modifications" in unknown.reason
    store, _ = decide(placed, Action.APPROVE_MODIFICATION_PAYMENT, "7001-m1", actor="store")
    assert isinstance(store, Refuse) and store.code == "forbidden-actor"
    assert unchanged(placed, before)
    with pytest.raises(MalformedCommand, match="modification_id"):
        parse_command(Action.APPROVE_MODIFICATION_PAYMENT, {"actor": "erp"})


def test_a_repeated_modification_is_answered_as_the_first_and_applies_once() -> None:
    placed = order()
    first, events = modify(placed, remove=lines(("A1", 1)), request_id="m-1")
    again, more = modify(placed, remove=lines(("A1", 1)), request_id="m-1")
    assert isinstance(first, Move) and len(events) == 3 and more == [] and "already applied" in again.note
    assert len(placed.state.modifications) == 1 and placed.state.remaining_total == 9990
