"""The events an order sends to the merchant's systems (SPEC §5): side effects and status changes.

Each event carries its idempotency key as `id` (`<orderId>:<effect>`): the same on every retry of one
effect, so receivers do the work once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.models import WireModel


class EventType(StrEnum):
    PAYMENT_VOID = "payment.void"
    PAYMENT_REFUND = "payment.refund"
    STOCK_RELEASE = "stock.release"
    STORE_RESTOCK_NEEDED = "store.restock-needed"
    CUSTOMER_NOTIFY = "customer.notify"
    STORE_DECISION_NEEDED = "store.decision-needed"
    ORDER_STATUS_CHANGED = "order.status-changed"

    @property
    def kind(self) -> str:
        """The receiver family (`payment`, `stock`, `store`, `customer`, `order`): one URL may serve each."""
        return self.value.split(".", 1)[0]


class OrderEvent(WireModel):
    id: str
    type: EventType
    order_id: str
    occurred_at: datetime
    data: dict[str, Any] = {}

    @classmethod
    def new(
        cls, type: EventType, order_id: str, at: datetime, data: dict[str, Any], *, qualifier: str = ""
    ) -> OrderEvent:
        key = f"{order_id}:{type.value}" + (f":{qualifier}" if qualifier else "")
        return cls(id=key, type=type, order_id=order_id, occurred_at=at, data=data)

    def body(self) -> dict[str, Any]:
        """The JSON delivered over HTTP and written to the event log."""
        return self.model_dump(mode="json")
