"""What every REST answer shares (`Out`, `omitted`) and a command's answer (`Receipt`, `Placed`), in
VTEX's camelCase. The order's own view is in `orders.api.views`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.state import OrderState


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _is_none(value: object) -> bool:
    return value is None


def omitted(description: str | None = None) -> Any:
    """A field VTEX's schema types as non-nullable: left out of the answer when the order has no value."""
    return Field(None, exclude_if=_is_none, description=description)


class Receipt(Out):
    """VTEX's answer to a command: when, which order, and the receipt (the command's request id; for a
    cancellation request, its `cancellationRequestId`)."""

    date: datetime
    orderId: str
    receipt: str


class Placed(Out):
    orderId: str
    created: bool = Field(description="false: an order with this id already existed and was left as it was")
    date: datetime


def command_date(state: OrderState | None, request_id: str) -> datetime:
    """When the command took effect: the time of its entry in the order's timeline, so a repeat with
    the same Idempotency-Key answers with the first call's date; now, when nothing was recorded."""
    if state is not None:
        for entry in reversed(state.timeline):
            if entry.request_id == request_id and not entry.refused:
                return entry.at
    return datetime.now(UTC)
