"""The REST API's view of order modifications, in the shapes of VTEX's Order modifications API
(`tests/vtex/vtex-orders-api.json`: Create, Preview, history and details of changes), mapped from the
order's `Modification`s (docs/modifications.md).

VTEX describes items with catalogue, shipping and payment fields this service doesn't have (there is no
catalogue): they are answered as VTEX's own examples answer them, null or empty. `add` and `remove` are
`{"items": [...]}`, as the request sends them and the history types them (docs/api.md, A5). A change's
`totals` are what it moved, by kind: here its items' value, so `totalChangeValue` is their sum.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from domain.modifications import ModificationPreview
from domain.state import Modification, ModificationStatus, OrderState, Replaced
from domain.wire import Item
from orders.api.receipts import Out, omitted
from workflows.names import workflow_id

QUEUED = "queued"  # no worker answered in time: the change applies when one runs


class ChangeItemView(Out):
    id: str = Field(description="the sku")
    quantity: int
    price: int = Field(description="cents: the order's price for a removed line, the added line's own")


class ChangeLinesView(Out):
    items: list[ChangeItemView]


class NoTransactions(Out):
    transactions: list[str] = []


class NoLogistics(Out):
    logisticsInfo: list[str] = []


class FromItemView(Out):
    """A replaced line, as VTEX's `Replace1.from.items` (and the history's `From2`) show it."""

    id: str
    quantity: int
    price: int
    measurementUnit: str = "un"
    unitMultiplier: int = 1
    sellingPrice: int
    name: None = None
    detailUrl: None = None
    imageUrl: None = None


class AdditionalInfoView(Out):
    dimension: None = None
    brandName: None = None
    brandId: None = None
    offeringInfo: None = None
    offeringType: None = None
    offeringTypeId: None = None
    categoriesIds: None = None
    productClusterId: None = None
    commercialConditionId: None = None


class ToItemView(Out):
    """A line that replaced another, as VTEX's `Item3` shows it: catalogue fields null, as its examples."""

    uniqueId: str
    id: str
    productId: None = None
    productRefId: None = None
    refId: None = None
    ean: None = None
    name: None = None
    skuName: None = None
    modalType: None = None
    parentItemIndex: None = None
    parentAssemblyBinding: None = None
    assemblies: list[str] = []
    priceValidUntil: None = None
    tax: int = 0
    price: int
    listPrice: int
    manualPrice: None = None
    manualPriceAppliedBy: None = None
    sellingPrice: int
    rewardValue: int = 0
    isGift: bool = False
    additionalInfo: AdditionalInfoView = AdditionalInfoView()
    preSaleDate: None = None
    productCategoryIds: None = None
    productCategories: dict[str, str] = {}
    quantity: int
    seller: None = None
    sellerChain: list[str] = []
    imageUrl: None = None
    detailUrl: None = None
    components: list[str] = []
    bundleItems: list[str] = []
    attachments: list[str] = []
    attachmentOfferings: list[str] = []
    offerings: list[str] = []
    priceTags: list[str] = []
    availability: None = None
    measurementUnit: str = "un"
    unitMultiplier: int = 1
    manufacturerCode: None = None
    priceDefinition: None = None


class ReplacedFromView(Out):
    paymentData: NoTransactions = NoTransactions()
    items: list[FromItemView]
    shippingData: NoLogistics = NoLogistics()


class ReplacedToView(Out):
    items: list[ToItemView]
    paymentData: NoTransactions = NoTransactions()
    receiptData: None = None
    shippingData: NoLogistics = NoLogistics()


class ReplaceView(Out):
    from_: ReplacedFromView = Field(alias="from", serialization_alias="from")
    to: ReplacedToView


class TotalView(Out):
    id: Literal["Items"] = "Items"
    name: str = "Items Total"
    value: int


class OriginView(Out):
    account: str = Field(description="who made it: the app key or console user, else the actor")
    orderId: str
    component: str = Field(description="the actor: store or erp")


class SettingsView(Out):
    customPaymentSystemsAllowed: list[str] = []


class ChangeSummaryView(Out):
    """What a change does (VTEX's Preview answer); a change made adds its id and how it stands."""

    reason: str
    manualDiscountValue: int = 0
    manualIncrementValue: int = 0
    totalChangeValue: int = Field(
        description="what the order's value moves by, in cents (negative: given back)"
    )
    totals: list[TotalView]
    add: ChangeLinesView | None
    remove: ChangeLinesView | None
    replace: list[ReplaceView]
    date: datetime
    origin: OriginView
    settings: SettingsView = SettingsView()
    # Ours, beside VTEX's: the order's value before and after the change.
    valueBefore: int | None = omitted("the order's value before it (unknown while queued)")
    valueAfter: int | None = omitted("and after it")
    waitsForPayment: bool = Field(description="it waits for the customer's payment of the difference")


class ChangeView(ChangeSummaryView):
    requestId: str = Field(description="the change's id, <orderId>-m<n> (VTEX's changeRequestId)")
    workflowId: str
    status: str = Field(description="applied, waiting-payment or lapsed; queued: no worker answered yet")
    inProgress: bool = Field(description="it waits for the customer's payment of the difference")
    paymentDeadline: datetime | None = omitted("while it waits: when it lapses with no payment")
    settledDate: datetime | None = omitted("when it was applied, or lapsed")
    lapseReason: str | None = omitted(
        "payment-denied, payment-timeout, withdrawn, order-invoiced, order-canceled"
    )


class ChangeHistoryView(Out):
    requests: list[ChangeView]
    actions: list[str] = []


def _lines(items: list[Item]) -> ChangeLinesView | None:
    views = [ChangeItemView(id=i.sku, quantity=i.quantity, price=i.price) for i in items]
    return ChangeLinesView(items=views) if views else None


def _replace(replaced: Replaced) -> ReplaceView:
    came = [
        ToItemView(
            uniqueId=i.sku,
            id=i.sku,
            price=i.price,
            listPrice=i.price,
            sellingPrice=i.price,
            quantity=i.quantity,
        )
        for i in replaced.to
    ]
    gone = [
        FromItemView(id=i.sku, quantity=i.quantity, price=i.price, sellingPrice=i.price)
        for i in replaced.from_
    ]
    return ReplaceView.model_validate(
        {"from": ReplacedFromView(items=gone), "to": ReplacedToView(items=came)}
    )


def _origin(order_id: str, actor: str, sender: str | None) -> OriginView:
    return OriginView(account=sender or actor, orderId=order_id, component=actor)


def change_view(state: OrderState, m: Modification) -> ChangeView:
    waiting = m.status is ModificationStatus.WAITING_PAYMENT
    return ChangeView(
        requestId=m.id,
        workflowId=workflow_id(state.order_id),
        status=m.status.value,
        inProgress=waiting,
        reason=m.reason,
        totalChangeValue=m.difference,
        totals=[TotalView(value=m.difference)],
        add=_lines(m.add),
        remove=_lines(m.remove),
        replace=[_replace(r) for r in m.replace],
        date=m.requested_at,
        origin=_origin(state.order_id, m.actor.value, m.sender),
        valueBefore=m.before,
        valueAfter=m.after,
        waitsForPayment=waiting,
        paymentDeadline=m.payment_deadline,
        settledDate=m.settled_at,
        lapseReason=m.lapsed_because.value if m.lapsed_because else None,
    )


def preview_view(
    order_id: str, preview: ModificationPreview, reason: str, actor: str, sender: str, at: datetime
) -> ChangeSummaryView:
    return ChangeSummaryView(
        reason=reason,
        totalChangeValue=preview.difference,
        totals=[TotalView(value=preview.difference)],
        add=_lines(preview.add),
        remove=_lines(preview.remove),
        replace=[_replace(r) for r in preview.replace],
        date=at,
        origin=_origin(order_id, actor, sender),
        valueBefore=preview.before,
        valueAfter=preview.after,
        waitsForPayment=preview.waits_for_payment,
    )


def queued_view(
    order_id: str, request_id: str, reason: str, actor: str, sender: str, at: datetime
) -> ChangeView:
    """A change no worker answered in time: queued under its request id; its lines are priced once a
    worker applies it (GET .../changes then lists it under its own id)."""
    return ChangeView(
        requestId=request_id,
        workflowId=workflow_id(order_id),
        status=QUEUED,
        inProgress=True,
        reason=reason,
        totalChangeValue=0,
        totals=[],
        add=None,
        remove=None,
        replace=[],
        date=at,
        origin=_origin(order_id, actor, sender),
        waitsForPayment=False,
    )
