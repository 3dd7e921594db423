"""One order driven to every limit of domain/limits.py with the largest input each field takes: its
state stays inside what Temporal carries (2 MB per payload), and item requests count against the limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.commands import MalformedCommand
from domain.lifecycle import Action, Move, Outcome, Refuse, Status
from domain.limits import (
    MAX_CANCELLATION_REQUESTS,
    MAX_INVOICES,
    MAX_MOVES_WITH_STORE,
    MAX_REQUESTED_LINES,
)
from domain.models import OrderInput, StoreSettings
from domain.order import Order
from domain.registry import parse_command
from domain.wire import MAX_ITEMS

LONGEST_TEXT = "é" * 500  # the most bytes a reason may take: 1,000
SKUS = [f"S{i:063d}" for i in range(MAX_ITEMS)]  # 64 characters, the longest a sku may be
TEMPORAL_PAYLOAD_LIMIT = 2 * 1024 * 1024


class Driver:
    """Sends commands one second apart, each with the longest request id and sender allowed."""

    def __init__(self, order: Order, now: datetime) -> None:
        self.order, self.now, self.sent = order, now, 0

    def send(self, action: Action, **payload: Any) -> Outcome:
        self.sent += 1
        self.now += timedelta(seconds=1)
        payload = {"request_id": f"{self.sent:0128d}", "sender": "s" * 64} | payload
        outcome, _ = self.order.handle(action, parse_command(action, payload), self.now)
        return outcome

    def past_the_window(self) -> None:
        """Two days on: the window's timer has fired."""
        self.now += timedelta(days=2)
        self.order.catch_up(self.now)


def largest_order() -> Driver:
    order_input = OrderInput.model_validate(
        {
            "order_id": "o" * 64,
            "customer_id": "c" * 64,
            "total": 10**12,
            "items": [{"sku": sku, "quantity": 100_000, "price": 10**6} for sku in SKUS],
            "client": {
                "first_name": "f" * 64,
                "last_name": "l" * 64,
                "email": "e" * 240 + "@x.example",
                "phone": "+" + "1" * 31,
                "document": "d" * 64,
            },
            "payment": {"method": "m" * 64, "captured": True},
            "grace_period_seconds": 3600,
        }
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    order, _ = Order.place(order_input.with_defaults(StoreSettings()), start)
    return Driver(order, start)


def test_an_order_at_every_limit_stays_well_inside_temporals_payload_limit() -> None:
    driver = largest_order()
    for _ in range(120):  # the store extends the window, each time with the longest reason
        extended = driver.send(Action.EXTEND_GRACE_PERIOD, actor="store", seconds=60, reason=LONGEST_TEXT)
        assert isinstance(extended, Move), extended
    driver.past_the_window()
    lines_each = MAX_REQUESTED_LINES // MAX_CANCELLATION_REQUESTS
    for n in range(MAX_CANCELLATION_REQUESTS):  # item requests, denied, with all the lines allowed
        lines = [{"sku": SKUS[(n * lines_each + j) % MAX_ITEMS], "quantity": 1} for j in range(lines_each)]
        asked = driver.send(Action.CANCEL_ITEMS, actor="customer", items=lines, reason=LONGEST_TEXT)
        assert isinstance(asked, Move), asked
        denied = driver.send(Action.DENY_CANCELLATION, actor="store", reason=LONGEST_TEXT)
        assert isinstance(denied, Move), denied
    full = driver.send(Action.CANCEL_ITEMS, actor="customer", items=[{"sku": SKUS[0], "quantity": 1}])
    assert isinstance(full, Refuse) and full.code == "order-full", full
    # The store's own requests, denied, up to the last change it may make. (Invoices weigh less, and a
    # partially invoiced order takes no cancellation.)
    while len(driver.order.state.moves()) < MAX_MOVES_WITH_STORE:
        asked = driver.send(Action.REQUEST_CANCELLATION, actor="store", reason=LONGEST_TEXT)
        assert isinstance(asked, Move), asked
        driver.send(Action.DENY_CANCELLATION, actor="store", reason=LONGEST_TEXT)
    assert len(driver.order.state.moves()) == MAX_MOVES_WITH_STORE
    for _ in range(400):  # refusals that name the longest unknown sku: kept answers and timeline notes
        unknown = [{"sku": "u" * 64, "quantity": 1}]
        refused = driver.send(Action.CANCEL_ITEMS, actor="customer", items=unknown, reason=LONGEST_TEXT)
        assert isinstance(refused, Refuse) and refused.code == "unknown-sku", refused
        assert len(refused.reason) < 1000  # names a few of the order's skus, not all 500

    carried = len(driver.order.carry_over().model_dump_json())
    state = len(driver.order.state.model_dump_json())
    print(f"\nan order at every limit: carried over {carried:,} bytes, state {state:,} bytes")
    assert carried < TEMPORAL_PAYLOAD_LIMIT // 2
    assert state < TEMPORAL_PAYLOAD_LIMIT // 2


def test_item_requests_count_against_the_request_limit_and_the_line_budget() -> None:
    driver = largest_order()
    driver.past_the_window()
    # 500 lines a request: the budget of requested lines is spent after two.
    for _ in range(MAX_REQUESTED_LINES // MAX_ITEMS):
        every_line = [{"sku": sku, "quantity": 1} for sku in SKUS]
        assert isinstance(driver.send(Action.CANCEL_ITEMS, actor="customer", items=every_line), Move)
        assert isinstance(driver.send(Action.DENY_CANCELLATION, actor="store", reason="no"), Move)
    one_more = driver.send(Action.CANCEL_ITEMS, actor="customer", items=[{"sku": SKUS[0], "quantity": 1}])
    assert isinstance(one_more, Refuse) and one_more.code == "order-full"
    assert f"{MAX_REQUESTED_LINES} item lines requested" in one_more.reason
    # A request for the whole order carries no lines, and still fits.
    assert isinstance(driver.send(Action.REQUEST_CANCELLATION, actor="customer"), Move)
    # The store's second step decides what is pending: never refused as full.
    assert isinstance(driver.send(Action.CONFIRM_CANCELLATION, actor="store"), Move)


def test_a_full_order_can_always_be_finished() -> None:
    """Limits refuse what grows the order, never what ends it or decides its pending request."""
    # A customer fills the order with item requests inside the window; the store still cancels it.
    driver = largest_order()
    for n in range(MAX_CANCELLATION_REQUESTS):
        asked = driver.send(Action.CANCEL_ITEMS, actor="customer", items=[{"sku": SKUS[n], "quantity": 1}])
        assert isinstance(asked, Move), asked
    one_more = driver.send(Action.CANCEL_ITEMS, actor="customer", items=[{"sku": SKUS[0], "quantity": 1}])
    assert isinstance(one_more, Refuse) and one_more.code == "order-full"
    canceled = driver.send(Action.REQUEST_CANCELLATION, actor="store")
    assert canceled == Move(Status.CANCEL, canceled.note)

    # After the window, past every limit, the store's two steps still cancel it.
    driver = largest_order()
    driver.past_the_window()
    for n in range(MAX_CANCELLATION_REQUESTS):
        asked = driver.send(Action.CANCEL_ITEMS, actor="customer", items=[{"sku": SKUS[n], "quantity": 1}])
        assert isinstance(asked, Move), asked
        assert isinstance(driver.send(Action.DENY_CANCELLATION, actor="store", reason="no"), Move)
    while True:  # a careless integrator: the erp asks, the store denies, over and over
        asked = driver.send(Action.REQUEST_CANCELLATION, actor="erp")
        assert asked == Move(Status.CANCELLATION_REQUESTED, asked.note)
        denied = driver.send(Action.DENY_CANCELLATION, actor="store", reason="no")
        if isinstance(denied, Refuse):
            break
    assert denied.code == "order-full" and len(driver.order.state.moves()) <= MAX_MOVES_WITH_STORE + 1
    confirmed = driver.send(Action.CONFIRM_CANCELLATION, actor="store")
    assert confirmed == Move(Status.CANCEL, confirmed.note)

    # Fifty partial invoices fill the order; the one that invoices the rest still lands.
    driver = largest_order()
    driver.past_the_window()
    for n in range(MAX_INVOICES):
        assert isinstance(driver.send(Action.INVOICE, actor="erp", invoice_number=f"NF-{n}", value=1), Move)
    partial = driver.send(Action.INVOICE, actor="erp", invoice_number="NF-more", value=1)
    assert isinstance(partial, Refuse) and partial.code == "order-full"
    rest = 10**12 - MAX_INVOICES
    invoiced = driver.send(Action.INVOICE, actor="erp", invoice_number="NF-rest", value=rest)
    assert invoiced == Move(Status.INVOICED, invoiced.note)


def test_a_reason_is_bounded_in_bytes_and_the_refusal_names_the_field() -> None:
    parse_command(Action.REQUEST_CANCELLATION, {"actor": "customer", "reason": "é" * 500})  # 1,000 bytes
    with pytest.raises(MalformedCommand) as refused:
        parse_command(Action.REQUEST_CANCELLATION, {"actor": "customer", "reason": "😀" * 251})
    assert "reason: Value error, must be at most 1,000 bytes of UTF-8" in str(refused.value)
    assert "it is 1,004" in str(refused.value)
