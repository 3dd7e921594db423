"""The REST API's request bodies, in VTEX's camelCase, each turned into the workflow's own models.

Field names are VTEX's Orders API names where VTEX has one (`value`, `invoiceNumber`, ...) so an
integration written against VTEX sends them unchanged; attributes are spelled in camelCase directly, so
validation errors name the field exactly as the caller wrote it. Money is integer cents; times are
ISO 8601 UTC. The answers are in `orders.api.views`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

from domain.models import OrderInput
from domain.text import Id, RequestId, RequiredText, Text
from domain.wire import MAX_ITEMS, Cents, Item, Number, Payment, PositiveCents, PositiveSeconds, Seconds


class Body(BaseModel):
    # Unknown fields are ignored, as in the workflow's own contract (VTEX bodies carry many more).
    model_config = ConfigDict(extra="ignore")


class OrderItemBody(Body):
    # VTEX calls an item's SKU `id`; the workflow input calls it `sku`. Either is accepted.
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] = Field(
        validation_alias=AliasChoices("sku", "id")
    )
    quantity: Annotated[int, Number, Field(gt=0, le=100_000)]
    price: Cents


class PlaceOrderBody(Body):
    """The workflow input (SPEC §4) in camelCase. `total` may also be sent as VTEX's `value`."""

    orderId: Id
    customerId: Id
    total: Cents = Field(validation_alias=AliasChoices("total", "value"))
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "BRL"
    items: Annotated[list[OrderItemBody], Field(max_length=MAX_ITEMS)] = []
    payment: Payment = Payment()
    paymentApproved: bool = True
    gracePeriodSeconds: Seconds | None = None
    decisionTimeoutSeconds: PositiveSeconds | None = None

    def to_input(self) -> OrderInput:
        return OrderInput(
            order_id=self.orderId,
            customer_id=self.customerId,
            total=self.total,
            currency=self.currency,
            items=[Item(sku=i.sku, quantity=i.quantity, price=i.price) for i in self.items],
            payment=self.payment,
            payment_approved=self.paymentApproved,
            grace_period_seconds=self.gracePeriodSeconds,
            decision_timeout_seconds=self.decisionTimeoutSeconds,
        )


class CancelBody(Body):
    reason: Text = ""


class DenyBody(Body):
    cancellationRequestId: RequestId
    denyReason: RequiredText


def _as_utc(value: datetime) -> datetime:
    """VTEX integrations often send a bare date ("2026-11-26") or a time without an offset: read as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class InvoiceItemBody(Body):
    id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    quantity: Annotated[int, Number, Field(gt=0, le=100_000)]
    price: Cents = 0


class InvoiceBody(Body):
    """VTEX's invoice notification. `Input` (return) invoices are not part of cancellation."""

    type: Literal["Output"]
    invoiceNumber: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    # VTEX documents invoiceValue as a string of cents ("10000"); an integer is accepted too.
    invoiceValue: PositiveCents
    issuanceDate: Annotated[datetime, AfterValidator(_as_utc)] | None = None
    items: Annotated[list[InvoiceItemBody], Field(max_length=MAX_ITEMS)] = []
