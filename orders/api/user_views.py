"""VTEX's customer endpoints' view of an order, `GET /api/oms/user/orders/{orderId}` ("Retrieve user order
details", schema `Userorderdetails`): the order as its customer sees it, in the shape storefronts that
build their own "My orders" already read.

VTEX's schema requires some fifty fields, most of them about what this service doesn't keep (shipping,
marketing, taxes, sellers, the payment's card). Those carry VTEX's own empty values (`""`, `0`,
`false`, `[]`, or null where the schema allows it), as the list's items do (`orders.api.list_views`);
the rest come from Get order's view (`orders.api.views`), so each fact is mapped once. Beside VTEX's
fields, the customer sees what Get order adds: `gracePeriodEndDate`, `cancellationDecisionEndDate`
and `cancellationRequests` (with the store's denials). docs/api.md lists the decisions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from domain.state import OrderState
from orders.api.receipts import Out
from orders.api.views import CancellationRequestView, PackageAttachmentView, TotalView, order_view

SELLER = "1"  # VTEX's id for the marketplace's own store, the one seller here


class UserItemView(Out):
    """One line as VTEX's `Item`: what remains of it, and VTEX's empty values for the catalogue's data."""

    uniqueId: str
    id: str
    productId: str = ""
    ean: str | None = None
    lockId: str = ""
    itemAttachment: dict[str, Any] = Field(default_factory=lambda: {"content": {}, "name": None})
    attachments: list[str] = []
    quantity: int
    seller: str = SELLER
    name: str
    refId: str
    price: int
    listPrice: int
    manualPrice: str | None = None
    priceTags: list[str] = []
    imageUrl: str = ""
    detailUrl: str = ""
    components: list[str] = []
    bundleItems: list[str] = []
    params: list[str] = []
    offerings: list[str] = []
    attachmentOfferings: list[dict[str, Any]] | None = None
    sellerSku: str
    priceValidUntil: str | None = None
    commission: int = 0
    tax: int = 0
    preSaleDate: str | None = None
    additionalInfo: dict[str, Any] = Field(default_factory=lambda: _empty_additional_info())
    measurementUnit: str = "un"
    unitMultiplier: int = 1
    sellingPrice: int
    isGift: bool = False
    shippingPrice: str | None = None
    rewardValue: int = 0
    freightCommission: int = 0
    priceDefinitions: dict[str, Any]
    taxCode: str | None = None
    parentItemIndex: str | None = None
    parentAssemblyBinding: str | None = None
    callCenterOperator: str | None = None
    serialNumbers: str | None = None
    assemblies: list[str] | None = None
    costPrice: int = 0


class UserCancellationView(Out):
    """VTEX's `cancellationData` as this schema spells it (PascalCase), once the order is canceled."""

    RequestedByUser: bool
    RequestedBySystem: bool
    RequestedBySellerNotification: bool
    RequestedByPaymentNotification: bool
    Reason: str
    CancellationDate: datetime


class UserOrderView(Out):
    orderId: str
    sequence: str
    marketplaceOrderId: str = ""
    marketplaceServicesEndpoint: str = ""
    sellerOrderId: str = ""
    origin: str
    affiliateId: str = ""
    salesChannel: str
    merchantName: str = ""
    status: str
    statusDescription: str
    value: int
    creationDate: datetime
    lastChange: datetime
    orderGroup: str
    totals: list[TotalView]
    items: list[UserItemView]
    marketplaceItems: list[str] = []
    clientProfileData: dict[str, Any]
    giftRegistryData: str | None = None
    marketingData: dict[str, Any] = Field(default_factory=lambda: _empty_marketing())
    ratesAndBenefitsData: dict[str, Any] = Field(
        default_factory=lambda: {"id": "ratesAndBenefitsData", "rateAndBenefitsIdentifiers": []}
    )
    shippingData: dict[str, Any] = Field(default_factory=lambda: _empty_shipping())
    paymentData: dict[str, Any]
    packageAttachment: PackageAttachmentView
    sellers: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"id": SELLER, "name": "", "logo": "", "fulfillmentEndpoint": ""}]
    )
    callCenterOperatorData: str | None = None
    followUpEmail: str = ""
    lastMessage: str | None = None
    hostname: str = ""
    invoiceData: dict[str, Any] | None = None
    changesAttachment: dict[str, Any] = Field(
        default_factory=lambda: {"id": "changeAttachment", "changesData": []}
    )
    openTextField: str | None = None
    roundingError: int = 0
    orderFormId: str = ""
    commercialConditionData: str | None = None
    isCompleted: bool = True
    customData: str | None = None
    storePreferencesData: dict[str, Any]
    allowCancellation: bool
    allowEdition: bool = False
    isCheckedIn: bool = False
    marketplace: dict[str, Any] = Field(
        default_factory=lambda: {"baseURL": "", "isCertified": None, "name": ""}
    )
    authorizedDate: datetime | None = Field(description="payment approval; null while the payment is pending")
    invoicedDate: datetime | None
    cancelReason: str | None
    itemMetadata: dict[str, Any] = Field(default_factory=lambda: {"Items": []})
    subscriptionData: dict[str, Any] | None = None
    taxData: dict[str, Any] = Field(
        default_factory=lambda: {"areTaxesDesignatedByMarketplace": False, "taxInfoCollection": []}
    )
    checkedInPickupPointId: str = ""
    cancellationData: UserCancellationView | None = Field(
        description="null until the order is canceled (not while canceling)"
    )
    clientPreferencesData: dict[str, Any] = Field(
        default_factory=lambda: {"locale": "", "optinNewsLetter": False}
    )
    # Beside VTEX's fields, as in Get order: the window, the store's deadline, every request and denial.
    customerId: str
    gracePeriodEndDate: datetime | None
    cancellationDecisionEndDate: datetime | None
    cancellationRequests: list[CancellationRequestView]


def user_order_view(state: OrderState) -> UserOrderView:
    view = order_view(state)
    client = view.clientProfileData
    payment = view.paymentData.transactions[0].payments[0]
    done = state.cancellation is not None and state.cancellation.canceled_at is not None
    canceled = view.cancellationData if done else None
    return UserOrderView(
        orderId=view.orderId,
        sequence=view.sequence,
        origin=view.origin,
        salesChannel=view.salesChannel,
        status=view.status.value,
        statusDescription=view.statusDescription,
        value=view.value,
        creationDate=view.creationDate,
        lastChange=view.lastChange,
        orderGroup=view.orderId,
        totals=view.totals,
        items=[
            UserItemView(
                uniqueId=f"{view.orderId}-{index}",
                id=item.id,
                quantity=item.quantity,
                name=item.id,
                refId=item.id,
                sellerSku=item.id,
                price=item.price,
                listPrice=item.price,
                sellingPrice=item.price,
                priceDefinitions={
                    "sellingPrices": [{"value": item.price, "quantity": item.quantity}],
                    "calculatedSellingPrice": item.price,
                    "total": item.price * item.quantity,
                },
            )
            for index, item in enumerate(view.items)
        ],
        clientProfileData={
            "id": "clientProfileData",
            "email": client.email or "",
            "firstName": client.firstName or "",
            "lastName": client.lastName or "",
            "documentType": "",
            "document": client.document or "",
            "phone": client.phone or "",
            "corporateName": None,
            "tradeName": None,
            "corporateDocument": None,
            "stateInscription": None,
            "corporatePhone": None,
            "isCorporate": False,
            "userProfileId": client.userProfileId,
            "customerClass": None,
        },
        paymentData={
            "transactions": [
                {
                    "isActive": view.paymentData.transactions[0].isActive,
                    "transactionId": "",
                    "merchantName": "",
                    "payments": [_payment(payment.paymentSystemName, payment.group or "", payment.value)],
                }
            ]
        },
        packageAttachment=view.packageAttachment,
        storePreferencesData=_store_preferences(view.currencyCode),
        allowCancellation=view.allowCancellation,
        authorizedDate=view.authorizedDate,
        invoicedDate=view.invoicedDate,
        cancelReason=view.cancelReason,
        cancellationData=UserCancellationView(
            RequestedByUser=canceled.requestedByUser,
            RequestedBySystem=canceled.requestedBySystem,
            RequestedBySellerNotification=canceled.requestedBySellerNotification,
            RequestedByPaymentNotification=canceled.requestedByPaymentNotification,
            Reason=canceled.reason,
            CancellationDate=canceled.cancellationDate or view.lastChange,
        )
        if canceled is not None
        else None,
        customerId=view.customerId,
        gracePeriodEndDate=view.gracePeriodEndDate,
        cancellationDecisionEndDate=view.cancellationDecisionEndDate,
        cancellationRequests=view.cancellationRequests,
    )


def _payment(method: str, group: str, value: int) -> dict[str, Any]:
    """The order's one payment as VTEX's `Payment`: its method, group and value; the card's and the
    gateway's details, which this service never holds, empty."""
    empty_strings = ("id", "paymentSystem", "url", "dueDate", "giftCardProvider", "koinUrl", "accountId",
                     "parentAccountId", "bankIssuedInvoiceIdentificationNumber",
                     "bankIssuedInvoiceIdentificationNumberFormatted", "bankIssuedInvoiceBarCodeNumber",
                     "bankIssuedInvoiceBarCodeType")  # fmt: skip
    nulls = ("cardHolder", "cardNumber", "firstDigits", "lastDigits", "cvv2", "expireMonth", "expireYear",
             "giftCardId", "giftCardName", "giftCardCaption", "redemptionCode", "tid")  # fmt: skip
    return (
        dict.fromkeys(empty_strings, "")
        | dict.fromkeys(nulls)
        | {
            "paymentSystemName": method,
            "group": group,
            "value": value,
            "installments": 1,
            "referenceValue": value,
            "connectorResponses": {"Tid": "", "ReturnCode": "", "Message": "", "authId": ""},
            "giftCardAsDiscount": False,
            "billingAddress": {},
        }
    )


def _store_preferences(currency: str) -> dict[str, Any]:
    """The currency this order is in; its display details are left to the storefront (money is cents)."""
    return {
        "countryCode": "",
        "currencyCode": currency,
        "currencyFormatInfo": {
            "CurrencyDecimalDigits": 2,
            "CurrencyDecimalSeparator": ".",
            "CurrencyGroupSeparator": ",",
            "CurrencyGroupSize": 3,
            "StartsWithCurrencySymbol": True,
        },
        "currencyLocale": 0,
        "currencySymbol": "",
        "timeZone": "UTC",
    }


def _empty_additional_info() -> dict[str, Any]:
    return {
        "brandName": "",
        "brandId": "",
        "categoriesIds": "",
        "productClusterId": "",
        "commercialConditionId": "",
        "dimension": {"cubicweight": 0, "height": 0, "length": 0, "weight": 0, "width": 0},
        "offeringInfo": None,
        "offeringType": None,
        "offeringTypeId": None,
    }


def _empty_marketing() -> dict[str, Any]:
    fields = (
        "utmSource",
        "utmPartner",
        "utmMedium",
        "utmCampaign",
        "coupon",
        "utmiCampaign",
        "utmipage",
        "utmiPart",
    )
    return {"id": "marketingData", **dict.fromkeys(fields, ""), "marketingTags": []}


def _empty_shipping() -> dict[str, Any]:
    text = ("addressType", "receiverName", "addressId", "postalCode", "city", "state", "country", "street",
            "number", "neighborhood", "complement")  # fmt: skip
    address: dict[str, Any] = dict.fromkeys(text, "") | {
        "versionId": None,
        "entityId": None,
        "reference": None,
        "geoCoordinates": [],
    }
    return {"id": "shippingData", "address": address, "logisticsInfo": [], "trackingHints": None,
            "selectedAddresses": []}  # fmt: skip
