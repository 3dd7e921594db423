"""VTEX's List orders answer (`GET /api/oms/pvt/orders`): each order as visibility shows it (search
attributes and memo, so listing needs no worker and no query per order), VTEX's paging and its stats.

Every field VTEX's schema requires of a list item is here; those this service has no data for carry
VTEX's own empty values (null where the schema allows it, "" or false where it doesn't). docs/api.md
lists them and the decisions (stats over the page shown, facets keyed by the values present).
"""

from __future__ import annotations

import builtins
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import Field

from domain.lifecycle import Status
from domain.visibility import MEMO_KEY, OrderMemo
from orders.api.receipts import Out
from orders.placement import PlacementMemo
from orders.reads import OrderSummary


class VtexJSONResponse(JSONResponse):
    """VTEX serves List orders as `application/json; charset=utf-8` (the media type its schema names)."""

    media_type = "application/json; charset=utf-8"


class ListItemView(Out):
    orderId: str
    creationDate: datetime
    clientName: str
    items: str | None = Field(None, description="always null, as in VTEX since 2018")
    totalValue: int
    paymentNames: str
    status: Status
    statusDescription: str
    marketPlaceOrderId: str | None = None
    sequence: str
    salesChannel: str
    affiliateId: str = ""
    origin: str
    workflowInErrorState: bool = False
    workflowInRetry: bool = False
    lastMessageUnread: str | None = None
    ShippingEstimatedDate: str | None = None
    ShippingEstimatedDateMax: str | None = None
    ShippingEstimatedDateMin: str | None = None
    orderIsComplete: bool = True
    listId: str | None = None
    listType: str | None = None
    authorizedDate: datetime | None
    callCenterOperatorName: str | None = None
    totalItems: int
    currencyCode: str
    customerId: str


class Paging(Out):
    total: int
    pages: int
    currentPage: int
    perPage: int


class Bucket(Out):
    """Solr-style statistics of one value over a set of orders, as VTEX's `stats` carry them."""

    Count: int
    Max: int
    Mean: float
    Min: int
    Missing: int = 0
    StdDev: float
    Sum: int
    SumOfSquares: int
    Facets: Any = None

    @classmethod
    def of(cls, values: list[int], facets: Any = None) -> Bucket:
        n, total, squares = len(values), sum(values), sum(v * v for v in values)
        spread = math.sqrt(max(n * squares - total * total, 0) / (n * (n - 1))) if n > 1 else 0.0
        return cls(
            Count=n,
            Max=max(values, default=0),
            Mean=total / n if n else 0.0,
            Min=min(values, default=0),
            StdDev=spread,
            Sum=total,
            SumOfSquares=squares,
            Facets=facets,
        )


class Stats(Out):
    stats: dict[str, Bucket]


class OrderList(Out):
    list: builtins.list[ListItemView]
    facets: builtins.list[str] = []
    paging: Paging
    stats: Stats


def list_item(summary: OrderSummary) -> ListItemView:
    memo = _order_memo(summary)
    placement = PlacementMemo.from_memo(summary.memo) or PlacementMemo()
    return ListItemView(
        orderId=summary.order_id,
        creationDate=summary.placed_at or datetime.min,
        clientName=placement.client_name,
        totalValue=memo.value if memo else 0,
        paymentNames=placement.payment_method,
        status=summary.status,
        statusDescription=summary.status.display_name,
        sequence=summary.order_id,
        salesChannel=placement.sales_channel,
        origin=placement.origin,
        authorizedDate=summary.placed_at if placement.authorized_at_placement else None,
        totalItems=memo.items if memo else 0,
        currencyCode=memo.currency if memo else "",
        customerId=summary.customer_id,
    )


def stats_of(items: Iterable[ListItemView]) -> Stats:
    """VTEX's `stats` of total value and item count, faceted by origin and currency, over `items`."""
    shown = list(items)

    def faceted(value: Callable[[ListItemView], int]) -> Bucket:
        facets: dict[str, dict[str, Bucket]] = {}
        for name, key in (("origin", _origin), ("currencyCode", _currency)):
            groups: dict[str, list[int]] = defaultdict(list)
            for item in shown:
                groups[key(item)].append(value(item))
            facets[name] = {group: Bucket.of(values) for group, values in sorted(groups.items())}
        return Bucket.of([value(item) for item in shown], facets)

    return Stats(stats={"totalValue": faceted(_total), "totalItems": faceted(_count)})


def _order_memo(summary: OrderSummary) -> OrderMemo | None:
    raw = summary.memo.get(MEMO_KEY)
    return OrderMemo.model_validate(raw) if isinstance(raw, dict) else None


def _origin(item: ListItemView) -> str:
    return item.origin


def _currency(item: ListItemView) -> str:
    return item.currencyCode


def _total(item: ListItemView) -> int:
    return item.totalValue


def _count(item: ListItemView) -> int:
    return item.totalItems
