"""The REST API's request bodies, in VTEX's camelCase, each turned into the workflow's own models.

Field names are VTEX's Orders API names where VTEX has one (`value`, `invoiceNumber`, ...) so an
integration written against VTEX sends them unchanged; attributes are spelled in camelCase directly, so
validation errors name the field exactly as the caller wrote it. Money is integer cents; times are
ISO 8601 UTC. The answers are in `orders.api.views`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi.exceptions import RequestValidationError
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic.alias_generators import to_camel

from domain.models import OrderInput
from domain.reasons import ReasonCode
from domain.text import Id, Name, RequestId, RequiredText, Text
from domain.wire import (
    MAX_ITEMS,
    Cents,
    ClientProfile,
    Currency,
    DecisionTimeout,
    GracePeriod,
    InvoiceKind,
    ModificationPaymentTimeout,
    Origin,
    Payment,
    PaymentTimeout,
    PositiveCents,
    Quantity,
    one_line_per_sku,
)


class Body(BaseModel):
    # Unknown fields are ignored, as in the workflow's own contract (VTEX bodies carry many more).
    model_config = ConfigDict(extra="ignore")


class OrderItemBody(Body):
    # VTEX calls an item's SKU `id`; the workflow input calls it `sku`. Either is accepted.
    sku: Name = Field(validation_alias=AliasChoices("sku", "id"))
    quantity: Quantity
    price: Cents


class ClientProfileBody(ClientProfile):
    """VTEX's `clientProfileData`: firstName, lastName, email, phone, document (all optional)."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=False)


class PlaceOrderBody(Body):
    """The workflow input (docs/api.md, "Bodies") in camelCase. `total` may also be sent as VTEX's `value`;
    `salesChannel`, `origin` and `clientProfileData` are VTEX's Get order fields, shown back there."""

    orderId: Id
    customerId: Id
    total: Cents = Field(validation_alias=AliasChoices("total", "value"))
    currency: Currency = "BRL"
    items: Annotated[list[OrderItemBody], Field(max_length=MAX_ITEMS), AfterValidator(one_line_per_sku)] = []
    payment: Payment = Payment()
    paymentApproved: bool = True
    salesChannel: Name = "1"
    origin: Origin = "Marketplace"
    clientProfileData: ClientProfileBody | None = None
    gracePeriodSeconds: GracePeriod | None = None
    decisionTimeoutSeconds: DecisionTimeout | None = None
    paymentTimeoutSeconds: PaymentTimeout | None = None
    modificationPaymentTimeoutSeconds: ModificationPaymentTimeout | None = None

    def to_input(self) -> OrderInput:
        """The workflow input. The body's types are the domain's, so this refuses nothing; if a body
        type ever lags behind, the domain's refusal is the caller's 422 naming the field, not a 500."""
        try:
            return OrderInput.model_validate(
                {
                    "order_id": self.orderId,
                    "customer_id": self.customerId,
                    "total": self.total,
                    "currency": self.currency,
                    "items": [{"sku": i.sku, "quantity": i.quantity, "price": i.price} for i in self.items],
                    "payment": self.payment.model_dump(),
                    "payment_approved": self.paymentApproved,
                    "sales_channel": self.salesChannel,
                    "origin": self.origin,
                    "client": self.clientProfileData.model_dump() if self.clientProfileData else None,
                    "grace_period_seconds": self.gracePeriodSeconds,
                    "decision_timeout_seconds": self.decisionTimeoutSeconds,
                    "payment_timeout_seconds": self.paymentTimeoutSeconds,
                    "modification_payment_timeout_seconds": self.modificationPaymentTimeoutSeconds,
                }
            )
        except ValidationError as err:
            raise as_request_error(err) from None


class CancelBody(Body):
    reason: Text = ""
    # A code from the reason catalogue (docs/policy.md); VTEX callers send text only: `other`.
    reasonCode: ReasonCode | None = None
    # VTEX's "Order canceling improvements": true when a marketplace or ERP cancels for the shopper.
    requestedByUser: bool = False


class DenyBody(Body):
    cancellationRequestId: RequestId
    denyReason: RequiredText
    reasonCode: ReasonCode | None = None


def _as_utc(value: datetime) -> datetime:
    """VTEX integrations often send a bare date ("2026-11-26") or a time without an offset: read as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class InvoiceItemBody(Body):
    id: Name
    quantity: Quantity
    price: Cents = 0


def _invoice_type(value: object) -> object:
    """VTEX's schema spells the types `Output` and `Input`; its guides write `input`: take any case."""
    return value.capitalize() if isinstance(value, str) else value


class InvoiceBody(Body):
    """VTEX's invoice notification: `Output` invoices the order; `Input` is a return invoice."""

    type: Annotated[Literal["Output", "Input"], BeforeValidator(_invoice_type)]
    invoiceNumber: Name
    # VTEX documents invoiceValue as a string of cents ("10000"); an integer is accepted too.
    invoiceValue: PositiveCents
    issuanceDate: Annotated[datetime, AfterValidator(_as_utc)] | None = None
    items: Annotated[list[InvoiceItemBody], Field(max_length=MAX_ITEMS)] = []

    @property
    def kind(self) -> InvoiceKind:
        return InvoiceKind.INPUT if self.type == "Input" else InvoiceKind.OUTPUT


def as_request_error(err: ValidationError) -> RequestValidationError:
    """A domain model's refusal of what the body carried, as FastAPI's own (answered 422, the field named)."""
    errors = err.errors(include_url=False, include_input=False)
    return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors])
