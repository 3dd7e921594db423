"""The customer's routes, with the customer's bearer token: the storefront asks to cancel the caller's own
order (VTEX's public `/api/checkout/pub` path), and reads the caller's orders (VTEX's `/api/oms/user`
paths, which also back the customer's own pages under /my-orders).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from domain.lifecycle import Action, Actor
from orders.api.bodies import CancelBody
from orders.api.commands import QUEUED, run_command
from orders.api.errors import ERRORS
from orders.api.list_views import OrderList
from orders.api.provider import provider_of
from orders.api.receipts import Receipt
from orders.api.routes.listing import MAX_PAGE_NUMBER, listed
from orders.api.routes.params import IdempotencyKey, OrderId
from orders.api.security import Customer
from orders.api.user_views import UserOrderView, user_order_view
from orders.errors import OrderNotFound
from orders.listing import MAX_PAGE

router = APIRouter(tags=["customer"])
USER = "/api/oms/user/orders"

# The least time an ownership refusal takes; above what the check itself takes (about 1-2 ms, loopback).
OWNERSHIP_REFUSAL_SECONDS = 0.005


@router.post(
    "/api/checkout/pub/orders/{orderId}/user-cancel-request",
    response_model=Receipt,
    responses=ERRORS | QUEUED,
)
async def user_cancel_request(
    request: Request,
    response: Response,
    customer_id: Customer,
    order_id: OrderId,
    idempotency_key: IdempotencyKey = None,
    body: Annotated[CancelBody | None, Body()] = None,
) -> Receipt:
    """The customer asks to cancel their order: canceled at once inside the cancellation window,
    otherwise a request the store confirms or declines. Another customer's order is 404, answered as
    for an order that doesn't exist, at once, with or without a worker running."""
    await own_order(request, order_id, customer_id)
    said = {"reason": body.reason, "reason_code": body.reasonCode} if body else {}
    payload = {"actor": Actor.CUSTOMER, "sender": customer_id, **said}
    verdict = await run_command(request, order_id, Action.REQUEST_CANCELLATION, payload, idempotency_key)
    return verdict.answer(response)


async def own_order(request: Request, order_id: str, customer_id: str) -> None:
    """Ownership first, from the `CustomerId` search attribute (one call that needs no worker): another
    customer's order is answered exactly as one that doesn't exist, and in the same time: every
    refusal takes at least `OWNERSHIP_REFUSAL_SECONDS` from the start of the check."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    orders = await provider_of(request).get()
    if await orders.customer_of(order_id) != customer_id:
        # Describing an order that exists costs the server more than a miss: padded, the two look alike.
        await asyncio.sleep(max(0.0, started + OWNERSHIP_REFUSAL_SECONDS - loop.time()))
        raise OrderNotFound(order_id)


@router.get(USER, response_model=OrderList, responses=ERRORS)
async def user_orders(
    request: Request,
    response: Response,
    customer_id: Customer,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE_NUMBER)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 15,
    page_token: Annotated[str | None, Query(max_length=600, description="a page's X-Next-Page-Token")] = None,
) -> OrderList:
    """The caller's own orders, newest first, paged as VTEX's List orders (from visibility: no worker
    needed). VTEX's `clientEmail` is not needed: the token says whose orders they are."""
    return await listed(request, response, set(), customer_id, page, per_page, page_token)


@router.get(f"{USER}/{{orderId}}", response_model=UserOrderView, responses=ERRORS)
async def user_order(request: Request, customer_id: Customer, order_id: OrderId) -> UserOrderView:
    """One of the caller's orders, as VTEX's "Retrieve user order details" shows it, with Get order's
    window, decision deadline and requests. Another customer's order is 404, as for one that doesn't
    exist, at once."""
    await own_order(request, order_id, customer_id)
    orders = await provider_of(request).get()
    return user_order_view(await orders.state(order_id))
