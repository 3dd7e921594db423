"""The REST API's view of an order (Get order), in VTEX's camelCase, mapped from the workflow's `OrderState`.

Field names and types are those of VTEX's Orders API schema (`tests/vtex/vtex-orders-api.json`, Get
order) where VTEX has the field and this service has the data; the few that VTEX lacks
(`gracePeriodEndDate`, `customerId`, ...) follow the same style. Fields VTEX's schema types as
non-nullable are left out when the order has no value for them (`omitted`), rather than sent as
null. Money is integer cents; times are ISO 8601 UTC. Lists are in `orders.api.list_views`, receipts
in `orders.api.receipts`, the request bodies in `orders.api.bodies`; docs/api.md has each field and
each decision.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import Field

from domain.lifecycle import STAFF, Actor, CancelPath, Status
from domain.state import OrderState
from domain.wire import InvoiceKind, Item
from orders.api.receipts import Out, omitted

PaymentGroup = Literal["creditCard", "debitCard", "bankInvoice", "promissory", "giftCard", "instantPayment"]
# VTEX's payment groups, by the payment method as orders name it (lower case, without '-', '_' or ' ').
PAYMENT_GROUPS: dict[str, PaymentGroup] = {
    "creditcard": "creditCard",
    "debitcard": "debitCard",
    "boleto": "bankInvoice",
    "bankinvoice": "bankInvoice",
    "bankslip": "bankInvoice",
    "promissory": "promissory",
    "giftcard": "giftCard",
    "pix": "instantPayment",
    "instantpayment": "instantPayment",
}
INVOICE_TYPES: dict[InvoiceKind, Literal["Output", "Input"]] = {
    InvoiceKind.OUTPUT: "Output",
    InvoiceKind.INPUT: "Input",
}


class ItemView(Out):
    id: str
    quantity: int
    price: int


class TotalView(Out):
    id: Literal["Items"]
    name: str
    value: int


class CancellationDataView(Out):
    """VTEX's `cancellationData` in the guide's camelCase: the cancellation, or the pending request."""

    requestedByUser: bool
    requestedBySystem: bool
    requestedBySellerNotification: bool
    requestedByPaymentNotification: bool
    reason: str
    # The reason catalogue's code and its label (docs/policy.md): a project extension beside VTEX's text.
    reasonCode: str
    reasonLabel: str
    cancellationDate: datetime | None = omitted("when the order reached canceled")
    cancellationRequestId: str


class CancellationRequestView(Out):
    id: str
    reason: str
    reasonCode: str
    reasonLabel: str
    cancellationRequestDate: datetime
    requestedByUser: bool
    deniedBySeller: bool
    deniedBySellerReason: str | None
    # The deny reason's catalogue code and label (docs/policy.md), beside VTEX's text; null until denied.
    deniedBySellerReasonCode: str | None
    deniedBySellerReasonLabel: str | None
    cancellationRequestDenyDate: datetime | None


class PackageView(Out):
    type: Literal["Output", "Input"]
    invoiceNumber: str
    invoiceValue: int
    issuanceDate: datetime


class PackageAttachmentView(Out):
    packages: list[PackageView]


class ChangedItemView(Out):
    id: str
    name: str = Field(description="the sku: orders have no catalogue names")
    quantity: int
    price: int
    unitMultiplier: None = None


class ChangeReceiptView(Out):
    date: datetime
    orderId: str
    receipt: str = Field(description="the modification's id (<orderId>-m<n>)")


class ChangeDataView(Out):
    """A modification applied (docs/modifications.md), as VTEX's `changesData` shows it."""

    reason: str
    discountValue: int
    incrementValue: int
    itemsAdded: list[ChangedItemView]
    itemsRemoved: list[ChangedItemView]
    receipt: ChangeReceiptView


class ChangesAttachmentView(Out):
    id: Literal["changeAttachment"] = "changeAttachment"
    changesData: list[ChangeDataView]


class ClientProfileView(Out):
    userProfileId: str = Field(description="the order's customer id")
    firstName: str | None = omitted()
    lastName: str | None = omitted()
    email: str | None = omitted()
    phone: str | None = omitted()
    document: str | None = omitted()


class PaymentView(Out):
    paymentSystemName: str
    group: PaymentGroup | None = omitted("VTEX's group of the payment method, when it has one")
    value: int


class TransactionView(Out):
    isActive: bool
    payments: list[PaymentView]


class PaymentDataView(Out):
    transactions: list[TransactionView]


class StorePreferencesView(Out):
    currencyCode: str


class OrderView(Out):
    orderId: str
    sequence: str = Field(description="the order id: the merchant's own order number")
    origin: Literal["Marketplace", "Fulfillment", "Chain"]
    salesChannel: str
    customerId: str
    status: Status
    statusDescription: str
    value: int = Field(
        description="the order total, as modifications left it, less canceled items; while partially "
        "invoiced, what is invoiced"
    )
    currencyCode: str
    creationDate: datetime
    lastChange: datetime
    authorizedDate: datetime | None = Field(description="payment approval; the grace period starts here")
    invoicedDate: datetime | None
    cancelReason: str | None
    isCompleted: bool
    workflowIsInError: bool = Field(description="an event of the order could not be delivered")
    allowCancellation: bool
    totals: list[TotalView]
    items: list[ItemView]
    clientProfileData: ClientProfileView
    paymentData: PaymentDataView
    storePreferencesData: StorePreferencesView
    gracePeriodEndDate: datetime | None = Field(
        description="end of the cancellation window; before it a cancellation needs no store decision"
    )
    cancellationDecisionEndDate: datetime | None = Field(
        description="when a pending request is canceled by the system if the store has not decided"
    )
    isPartiallyInvoiced: bool
    invoicedValue: int = Field(description="invoiced less returned")
    cancellationData: CancellationDataView | None
    cancellationRequests: list[CancellationRequestView]
    packageAttachment: PackageAttachmentView
    changesAttachment: ChangesAttachmentView | None = omitted("the modifications applied, once there is one")


def payment_group(method: str) -> PaymentGroup | None:
    return PAYMENT_GROUPS.get(re.sub(r"[-_\s]", "", method.lower()))


def cancellation_data(state: OrderState) -> CancellationDataView | None:
    """The cancellation under way or done; else the request waiting for the store, so the id the deny
    endpoint takes is right there; else nothing."""
    cancellation, pending = state.cancellation, state.pending_request
    if cancellation is not None:
        by, gateway = cancellation.requested_by, cancellation.path is CancelPath.PAYMENT_DENIED
        return CancellationDataView(
            requestedByUser=by is Actor.CUSTOMER,
            requestedBySystem=by is Actor.SYSTEM and not gateway,
            requestedBySellerNotification=by in STAFF and not gateway,
            # deny_payment: the payment gateway's notification, relayed by the system or the erp.
            requestedByPaymentNotification=gateway,
            reason=cancellation.reason,
            reasonCode=cancellation.reason_code,
            reasonLabel=cancellation.reason_label,
            cancellationDate=cancellation.canceled_at,
            cancellationRequestId=cancellation.request_id,
        )
    if pending is not None:
        return CancellationDataView(
            requestedByUser=pending.actor is Actor.CUSTOMER,
            requestedBySystem=pending.actor is Actor.SYSTEM,
            requestedBySellerNotification=pending.actor in STAFF,
            requestedByPaymentNotification=False,
            reason=pending.reason,
            reasonCode=pending.reason_code,
            reasonLabel=pending.reason_label,
            cancellationRequestId=pending.id,
        )
    return None


def changes_attachment(state: OrderState) -> ChangesAttachmentView | None:
    def items(lines: list[Item]) -> list[ChangedItemView]:
        return [ChangedItemView(id=i.sku, name=i.sku, quantity=i.quantity, price=i.price) for i in lines]

    applied = state.applied_modifications()
    if not applied:
        return None
    return ChangesAttachmentView(
        changesData=[
            ChangeDataView(
                reason=m.reason,
                discountValue=max(0, -m.difference),
                incrementValue=max(0, m.difference),
                itemsAdded=items(m.added),
                itemsRemoved=items(m.removed),
                receipt=ChangeReceiptView(
                    date=m.settled_at or m.requested_at, orderId=state.order_id, receipt=m.id
                ),
            )
            for m in applied
        ]
    )


def order_view(state: OrderState) -> OrderView:
    items_value = (
        sum(line.price * line.remaining for line in state.lines) if state.items else state.remaining_total
    )
    client = state.client
    method = state.payment.method
    invoiced_at = next((e.at for e in state.moves() if e.to_status is Status.INVOICED), None)
    return OrderView(
        orderId=state.order_id,
        sequence=state.order_id,
        origin=state.origin,
        salesChannel=state.sales_channel,
        customerId=state.customer_id,
        status=state.status,
        statusDescription=state.status_description,
        value=state.value,
        currencyCode=state.currency,
        creationDate=state.placed_at,
        lastChange=max((entry.at for entry in state.timeline), default=state.placed_at),
        authorizedDate=state.payment_approved_at,
        invoicedDate=invoiced_at,
        cancelReason=state.cancellation.reason if state.cancellation else None,
        isCompleted=True,
        workflowIsInError=bool(state.failed_events),
        allowCancellation=state.cancellation_allowed,
        totals=[TotalView(id="Items", name="Items Total", value=items_value)],
        # What remains of each line: items canceled on their own no longer count (docs/items.md).
        items=[ItemView(id=line.sku, quantity=line.remaining, price=line.price) for line in state.lines],
        clientProfileData=ClientProfileView(
            userProfileId=state.customer_id,
            firstName=client.first_name if client else None,
            lastName=client.last_name if client else None,
            email=client.email if client else None,
            phone=client.phone if client else None,
            document=client.document if client else None,
        ),
        paymentData=PaymentDataView(
            transactions=[
                TransactionView(
                    isActive=state.status is not Status.CANCELED,
                    payments=[
                        PaymentView(paymentSystemName=method, group=payment_group(method), value=state.total)
                    ],
                )
            ]
        ),
        storePreferencesData=StorePreferencesView(currencyCode=state.currency),
        gracePeriodEndDate=state.grace_deadline,
        cancellationDecisionEndDate=state.decision_deadline,
        isPartiallyInvoiced=state.partially_invoiced,
        invoicedValue=state.invoiced_value,
        cancellationData=cancellation_data(state),
        cancellationRequests=[
            CancellationRequestView(
                id=r.id,
                reason=r.reason,
                reasonCode=r.reason_code,
                reasonLabel=r.reason_label,
                cancellationRequestDate=r.requested_at,
                requestedByUser=r.actor is Actor.CUSTOMER,
                deniedBySeller=r.denied,
                deniedBySellerReason=r.deny_reason,
                deniedBySellerReasonCode=r.deny_reason_code,
                deniedBySellerReasonLabel=r.deny_reason_label,
                cancellationRequestDenyDate=r.denied_at,
            )
            for r in state.cancellation_requests
        ],
        packageAttachment=PackageAttachmentView(
            packages=[
                PackageView(
                    type=INVOICE_TYPES[i.kind],
                    invoiceNumber=i.invoice_number,
                    invoiceValue=i.value,
                    issuanceDate=i.issued_at,
                )
                for i in state.invoices
            ]
        ),
        changesAttachment=changes_attachment(state),
    )
