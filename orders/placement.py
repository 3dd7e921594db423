"""What visibility keeps of an order's placement, for lists that read many orders without asking each one.

The workflow keeps the memo `order` current (domain/visibility.py: amounts, pending request, decisions).
The facts of the placement never change, so the client writes them once, at placement, under a memo key
of their own (`placement`) that the workflow never touches; continue-as-new carries the memo over. An
order started some other way (the `temporal` CLI) has no such memo, and lists show defaults for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.models import OrderInput
from domain.wire import Origin, WireModel

PLACEMENT_KEY = "placement"


class PlacementMemo(WireModel):
    total: int | None = None  # as placed: a repeated placement is compared with it
    client_name: str = ""
    payment_method: str = ""
    origin: Origin = "Marketplace"
    sales_channel: str = "1"
    # Placed with its payment approved: then authorized when placed.
    authorized_at_placement: bool = False
    # Each line's unit price by sku, in cents: what canceling some of them would refund (the queue's amount).
    prices: dict[str, int] = {}

    @classmethod
    def of(cls, order: OrderInput) -> PlacementMemo:
        client = order.client
        name = " ".join(part for part in (client.first_name, client.last_name) if part) if client else ""
        return cls(
            total=order.total,
            client_name=name,
            payment_method=order.payment.method,
            origin=order.origin,
            sales_channel=order.sales_channel,
            authorized_at_placement=order.payment_approved,
            prices={item.sku: item.price for item in order.items},
        )

    @classmethod
    def from_memo(cls, memo: Mapping[str, Any]) -> PlacementMemo | None:
        raw = memo.get(PLACEMENT_KEY)
        return cls.model_validate(raw) if isinstance(raw, dict) else None
