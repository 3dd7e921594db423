"""One order driven to every limit of domain/limits.py with the largest input each field takes: its
state stays inside what Temporal carries (2 MB per payload), and item requests count against the limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.commands import parse_command
from domain.lifecycle import Action, Move, Outcome, Refuse
from domain.limits import MAX_CANCELLATION_REQUESTS, MAX_INVOICES, MAX_REQUESTED_LINES
from domain.models import OrderInput, StoreSettings
from domain.order import Order
from domain.wire import MAX_ITEMS

LONGEST_TEXT = "x" * 1000
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
    driver.now += timedelta(days=2)
    driver.order.catch_up(driver.now)
    lines_each = MAX_REQUESTED_LINES // MAX_CANCELLATION_REQUESTS
    for n in range(MAX_CANCELLATION_REQUESTS):  # item requests, denied, with all the lines allowed
        lines = [{"sku": SKUS[(n * lines_each + j) % MAX_ITEMS], "quantity": 1} for j in range(lines_each)]
        asked = driver.send(Action.CANCEL_ITEMS, actor="customer", items=lines, reason=LONGEST_TEXT)
        assert isinstance(asked, Move), asked
        denied = driver.send(Action.DENY_CANCELLATION, actor="store", reason=LONGEST_TEXT)
        assert isinstance(denied, Move), denied
    full = driver.send(Action.CANCEL_ITEMS, actor="customer", items=[{"sku": SKUS[0], "quantity": 1}])
    assert isinstance(full, Refuse) and full.code == "order-full", full
    for n in range(MAX_INVOICES):
        invoiced = driver.send(Action.INVOICE, actor="erp", invoice_number=f"{n:064d}", value=1)
        assert isinstance(invoiced, Move), invoiced
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
    driver.now += timedelta(days=2)
    driver.order.catch_up(driver.now)
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
