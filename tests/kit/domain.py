"""The tests' order as the pure aggregate (domain/order.py), with no server: placed at a fixed time with
the store's defaults, and commands sent to it at the times a test gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.events import EventType, OrderEvent
from domain.lifecycle import Action, Outcome
from domain.models import StoreSettings
from domain.order import Order
from domain.registry import parse_command
from tests.kit.orders import order_input

PLACED = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
GRACE = timedelta(minutes=30)


def placed_order(**overrides: Any) -> Order:
    """`order_input(**overrides)` as order 1001, placed at PLACED with the store's defaults."""
    placed = order_input(**({"order_id": "1001"} | overrides)).with_defaults(StoreSettings())
    order, events = Order.place(placed, PLACED)
    assert [e.type for e in events] == [EventType.ORDER_STATUS_CHANGED]
    return order


def send(order: Order, action: Action, at: datetime, **payload: Any) -> tuple[Outcome, list[OrderEvent]]:
    return order.handle(action, parse_command(action, payload), at)
