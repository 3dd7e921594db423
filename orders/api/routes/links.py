"""`POST /api/oms/pvt/orders/{orderId}/customer-link`: a guest link to the customer's page of one order
(SPEC §12, docs/customer-pages.md), for the store's staff and backend (roles store and erp), e.g. for
an email to a customer who bought without an account. `orders customer-link` makes the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import Field

from orders.api.errors import ERRORS, ApiError
from orders.api.provider import provider_of
from orders.api.receipts import Out
from orders.api.routes.params import OrderId
from orders.api.security import Staff
from orders.customer import links
from orders.errors import OrderNotFound
from orders.settings import Settings

PVT = "/api/oms/pvt/orders"
router = APIRouter(tags=["customer pages"])


class CustomerLinkBody(Out):
    ttlSeconds: int = Field(
        int(links.DEFAULT_TTL.total_seconds()),
        ge=int(links.MIN_TTL.total_seconds()),
        le=int(links.MAX_TTL.total_seconds()),
        description="how long the link works: 7 days unless said, 30 days at most",
    )


class CustomerLink(Out):
    url: str = Field(description="/my-orders/<orderId>?access=<token> on ORDERS_PUBLIC_URL")
    expiresAt: datetime


@router.post(f"{PVT}/{{orderId}}/customer-link", response_model=CustomerLink, responses=ERRORS)
async def customer_link(
    request: Request,
    caller: Staff,
    order_id: OrderId,
    body: Annotated[CustomerLinkBody | None, Body()] = None,
) -> CustomerLink:
    """A link that opens this order's customer page for its customer, and nothing else; it expires."""
    settings: Settings = request.app.state.settings
    orders = await provider_of(request).get()
    customer = await orders.customer_of(order_id)
    if customer is None:
        raise OrderNotFound(order_id)
    ttl = timedelta(seconds=(body or CustomerLinkBody()).ttlSeconds)
    try:
        url, expires = links.mint(settings, order_id, customer, ttl, datetime.now(UTC))
    except links.LinkRefused:
        raise ApiError(
            409,
            "customer-pages-off",
            "customer links need ORDERS_CUSTOMER_TOKEN_SECRET and the customer pages on "
            "(ORDERS_CUSTOMER_PAGES)",
        ) from None
    return CustomerLink(url=url, expiresAt=expires)
