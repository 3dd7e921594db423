"""The REST API's answers, in VTEX's camelCase, and the mapping from the workflow's `OrderState`.

Field names are VTEX's Orders API names where VTEX has one (`value`, `creationDate`, `cancellationData`,
`packageAttachment`, ...) so an integration written against VTEX reads them unchanged; the few that
VTEX lacks (`gracePeriodEndDate`, `customerId`) follow the same style. Money is integer cents; times are
ISO 8601 UTC. The request bodies are in `orders.api.bodies`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.lifecycle import STAFF, Actor, Status
from domain.state import OrderState
from orders.client import OrderSummary


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Receipt(Out):
    """VTEX's answer to a command: when, which order, and the receipt (the command's request id)."""

    date: datetime
    orderId: str
    receipt: str


class Placed(Out):
    orderId: str
    created: bool = Field(description="false: an order with this id already existed and was left as it was")
    date: datetime


class ItemView(Out):
    id: str
    quantity: int
    price: int


class CancellationDataView(Out):
    requestedByUser: bool
    requestedBySystem: bool
    requestedBySellerNotification: bool
    reason: str
    cancellationDate: datetime | None = Field(
        description="when the order reached canceled; null while canceling"
    )
    cancellationRequestId: str


class CancellationRequestView(Out):
    id: str
    reason: str
    cancellationRequestDate: datetime
    requestedByUser: bool
    deniedBySeller: bool
    deniedBySellerReason: str | None
    cancellationRequestDenyDate: datetime | None


class PackageView(Out):
    type: Literal["Output"] = "Output"
    invoiceNumber: str
    invoiceValue: int
    issuanceDate: datetime


class PackageAttachmentView(Out):
    packages: list[PackageView]


class OrderView(Out):
    orderId: str
    customerId: str
    status: Status
    statusDescription: str
    value: int
    currencyCode: str
    creationDate: datetime
    authorizedDate: datetime | None = Field(description="payment approval; the grace period starts here")
    lastChange: datetime
    items: list[ItemView]
    allowCancellation: bool
    gracePeriodEndDate: datetime | None = Field(
        description="end of the cancellation window; before it a cancellation needs no store decision"
    )
    cancellationDecisionEndDate: datetime | None = Field(
        description="when a pending request is canceled by the system if the store has not decided"
    )
    isPartiallyInvoiced: bool
    invoicedValue: int
    cancellationData: CancellationDataView | None
    cancellationRequests: list[CancellationRequestView]
    packageAttachment: PackageAttachmentView


class OrderListItem(Out):
    orderId: str
    customerId: str
    status: Status
    statusDescription: str
    creationDate: datetime | None


class Paging(Out):
    currentPage: int
    perPage: int
    hasMore: bool


class OrderList(Out):
    list: list[OrderListItem]
    paging: Paging


def order_view(state: OrderState) -> OrderView:
    cancellation = state.cancellation
    data = None
    if cancellation is not None:
        data = CancellationDataView(
            requestedByUser=cancellation.requested_by is Actor.CUSTOMER,
            requestedBySystem=cancellation.requested_by is Actor.SYSTEM,
            requestedBySellerNotification=cancellation.requested_by in STAFF,
            reason=cancellation.reason,
            cancellationDate=cancellation.canceled_at,
            cancellationRequestId=cancellation.request_id,
        )
    return OrderView(
        orderId=state.order_id,
        customerId=state.customer_id,
        status=state.status,
        statusDescription=state.status_description,
        value=state.total,
        currencyCode=state.currency,
        creationDate=state.placed_at,
        authorizedDate=state.payment_approved_at,
        lastChange=max((entry.at for entry in state.timeline), default=state.placed_at),
        items=[ItemView(id=i.sku, quantity=i.quantity, price=i.price) for i in state.items],
        allowCancellation=state.cancellation_allowed,
        gracePeriodEndDate=state.grace_deadline,
        cancellationDecisionEndDate=state.decision_deadline,
        isPartiallyInvoiced=state.partially_invoiced,
        invoicedValue=state.invoiced_value,
        cancellationData=data,
        cancellationRequests=[
            CancellationRequestView(
                id=r.id,
                reason=r.reason,
                cancellationRequestDate=r.requested_at,
                requestedByUser=r.actor is Actor.CUSTOMER,
                deniedBySeller=r.denied,
                deniedBySellerReason=r.deny_reason,
                cancellationRequestDenyDate=r.denied_at,
            )
            for r in state.cancellation_requests
        ],
        packageAttachment=PackageAttachmentView(
            packages=[
                PackageView(invoiceNumber=i.invoice_number, invoiceValue=i.value, issuanceDate=i.issued_at)
                for i in state.invoices
            ]
        ),
    )


def list_item(summary: OrderSummary) -> OrderListItem:
    return OrderListItem(
        orderId=summary.order_id,
        customerId=summary.customer_id,
        status=summary.status,
        statusDescription=summary.status.display_name,
        creationDate=summary.placed_at,
    )


def command_date(state: OrderState | None, request_id: str) -> datetime:
    """When the command took effect: the time of its entry in the order's timeline, so a repeat with
    the same Idempotency-Key answers with the first call's date; now, when nothing was recorded."""
    if state is not None:
        for entry in reversed(state.timeline):
            if entry.request_id == request_id and not entry.refused:
                return entry.at
    return datetime.now(UTC)
