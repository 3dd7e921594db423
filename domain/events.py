"""The events an order sends to the merchant's systems (docs/events.md): side effects and status changes.

Each event carries its idempotency key as `id`, the same on every retry of one effect, so receivers do
the work once. An id never contains text a caller chose: `<orderId>:<effect>` for an order's one-time
effects, `<orderId>:<effect>:<n>` with the order's own sequence number for effects that may recur.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class EventType(StrEnum):
    PAYMENT_VOID = "payment.void"
    PAYMENT_REFUND = "payment.refund"
    PAYMENT_AUTHORIZE = "payment.authorize"  # a modification's higher value: the difference asked for
    STOCK_RELEASE = "stock.release"
    STOCK_RESERVE = "stock.reserve"  # a modification's added quantities
    STORE_RESTOCK_NEEDED = "store.restock-needed"
    CUSTOMER_NOTIFY = "customer.notify"
    STORE_DECISION_NEEDED = "store.decision-needed"
    STORE_DECISION_REMINDER = "store.decision-reminder"
    STORE_MODIFICATION_LAPSED = "store.modification-lapsed"
    ORDER_STATUS_CHANGED = "order.status-changed"

    @property
    def described(self) -> str:
        """What the event did, as the people who work the orders say it (the console's order page)."""
        return DESCRIBED[self]

    @property
    def kind(self) -> str:
        """The receiver family (`payment`, `stock`, `store`, `customer`, `order`): one URL may serve each."""
        return self.value.split(".", 1)[0]


DESCRIBED: dict[EventType, str] = {
    EventType.PAYMENT_VOID: "Payment voided",
    EventType.PAYMENT_REFUND: "Payment refunded",
    EventType.STOCK_RELEASE: "Stock released",
    EventType.STORE_RESTOCK_NEEDED: "Store told to restock",
    EventType.CUSTOMER_NOTIFY: "Customer notified",
    EventType.STORE_DECISION_NEEDED: "Store asked to decide on a cancellation request",
    EventType.STORE_DECISION_REMINDER: "Store reminded of a decision deadline",
    EventType.ORDER_STATUS_CHANGED: "Status change announced",
    EventType.PAYMENT_AUTHORIZE: "Payment of a modification's difference asked for",
    EventType.STOCK_RESERVE: "Stock reserved",
    EventType.STORE_MODIFICATION_LAPSED: "Store told a modification lapsed",
}


def event_type_of(event_id: str, order_id: str) -> EventType | None:
    """The type an event id names (`<orderId>:<type>[:<n>]`), or None for an id no order event has."""
    rest = event_id.removeprefix(f"{order_id}:")
    name = rest.split(":", 1)[0]
    return EventType(name) if name in EventType._value2member_map_ else None


class OrderEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    type: EventType
    order_id: str
    occurred_at: datetime
    data: dict[str, Any] = {}

    @classmethod
    def once(cls, type: EventType, order_id: str, at: datetime, data: dict[str, Any]) -> OrderEvent:
        """An effect the order performs at most once in its life (its cancellation's)."""
        return cls(id=f"{order_id}:{type.value}", type=type, order_id=order_id, occurred_at=at, data=data)

    @classmethod
    def numbered(
        cls, type: EventType, order_id: str, number: int, at: datetime, data: dict[str, Any]
    ) -> OrderEvent:
        """An effect that may recur, told apart by the order's own sequence `number`."""
        key = f"{order_id}:{type.value}:{number}"
        return cls(id=key, type=type, order_id=order_id, occurred_at=at, data=data)

    def body(self) -> dict[str, Any]:
        """The JSON delivered over HTTP and written to the event log."""
        return self.model_dump(mode="json")


class FailedEvent(BaseModel):
    """An event that could not be built or sent for a reason no retry fixes: recorded, then skipped."""

    id: str
    type: EventType
    error: str
