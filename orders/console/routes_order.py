"""The order page (`/console/orders/<orderId>`, SPEC §10): one `state` query, and the buttons the rules
allow the signed-in role now. Each button POSTs (with the CSRF token and the form's request id), and the
answer comes back on the same page after a redirect: what happened, or the rule's reason for refusing.

With no worker answering, the page says so and shows what Temporal's visibility knows of the order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from domain.lifecycle import Action
from domain.reasons import Use
from domain.text import ORDER_ID
from orders.api.provider import OrdersProvider
from orders.client import OrdersClient, new_request_id
from orders.console import actions, reads, roles, views
from orders.console.auth import Staff, require_staff
from orders.console.fields import Details, Quantity, ReasonCode, RequestId, Sku
from orders.console.pages import PREFIX, render
from orders.console.roles import Confirmer, Operator
from orders.console.sessions import flash
from orders.errors import OrderNotFound, OrdersError, TemporalUnavailable
from orders.settings import Settings

router = APIRouter()
Signed = Annotated[Staff, Depends(require_staff)]
NO_WORKER = (
    "No worker is answering: the order's details can't be read right now. "
    "What Temporal's visibility knows of it is below; the queue still works."
)


def _page(request: Request, order_id: str, code: int = 200, **context: object) -> Response:
    settings: Settings = request.app.state.settings
    return render(
        request,
        "order.html",
        code,
        order_id=order_id,
        request_id=new_request_id(),
        deny_reasons=views.reason_choices(settings.catalogue, Use.DENY),
        store_reasons=views.reason_choices(settings.catalogue, Use.STORE),
        extend_choices=views.EXTEND_CHOICES,
        views=views,
        **context,
    )


@router.get("/orders/{order_id}")
async def order_page(request: Request, order_id: str, staff: Signed) -> Response:
    if not ORDER_ID.fullmatch(order_id):
        return render(request, "message.html", 404, title="Not found", message="No order has that id.")
    provider: OrdersProvider = request.app.state.orders
    now = datetime.now(UTC)
    try:
        orders = await provider.get()
        state = await orders.state(order_id)
    except OrderNotFound:
        return render(request, "message.html", 404, title="Not found", message=f"Order {order_id} not found.")
    except TemporalUnavailable as err:
        summary = await _visible(request, order_id)
        message = NO_WORKER if summary is not None else str(err)
        return _page(request, order_id, 503, state=None, summary=summary, unavailable=message, now=now)
    except OrdersError as err:
        return _page(request, order_id, 409, state=None, summary=None, unavailable=str(err), now=now)
    settings: Settings = request.app.state.settings
    pending = state.pending_request
    return _page(
        request,
        order_id,
        state=state,
        now=now,
        buttons=views.buttons(state, staff.role, now),
        own_request=pending is not None and roles.is_own(pending.actor, pending.sender, staff),
        catalogue=settings.catalogue,
    )


async def _visible(request: Request, order_id: str) -> reads.Visible | None:
    try:
        orders = await request.app.state.orders.get()
        return await reads.visible(orders, order_id)
    except OrdersError:
        return None


Act = Callable[[OrdersClient], Awaitable[actions.Outcome]]


async def _act(request: Request, order_id: str, act: Act) -> Response:
    if not ORDER_ID.fullmatch(order_id):
        return render(request, "message.html", 404, title="Not found", message="No order has that id.")
    provider: OrdersProvider = request.app.state.orders
    try:
        orders = await provider.get()
    except OrdersError as err:
        flash(request, f"Nothing was sent: {err}", "error")
    else:
        outcome = await act(orders)
        request.app.state.queue_cache.clear()
        flash(request, outcome.text, outcome.kind)
    return RedirectResponse(f"{PREFIX}/orders/{order_id}", 303)


@router.post("/orders/{order_id}/confirm")
async def confirm(request: Request, order_id: str, staff: Confirmer, request_id: RequestId = "") -> Response:
    rid = actions.request_id(request_id)
    return await _act(
        request,
        order_id,
        lambda orders: actions.send(orders, staff, order_id, Action.CONFIRM_CANCELLATION, rid),
    )


@router.post("/orders/{order_id}/deny")
async def deny(
    request: Request,
    order_id: str,
    staff: Operator,
    reason_code: ReasonCode = "",
    details: Details = "",
    request_id: RequestId = "",
) -> Response:
    return await _with_reason(
        request, order_id, staff, Action.DENY_CANCELLATION, Use.DENY, reason_code, details, request_id
    )


@router.post("/orders/{order_id}/cancel")
async def cancel(
    request: Request,
    order_id: str,
    staff: Operator,
    reason_code: ReasonCode = "",
    details: Details = "",
    request_id: RequestId = "",
) -> Response:
    return await _with_reason(
        request, order_id, staff, Action.REQUEST_CANCELLATION, Use.STORE, reason_code, details, request_id
    )


async def _with_reason(
    request: Request,
    order_id: str,
    staff: Staff,
    action: Action,
    use: Use,
    code: str,
    details: str,
    request_id: str,
) -> Response:
    settings: Settings = request.app.state.settings
    try:
        reason = actions.reason_payload(settings.catalogue, use, code, details)
    except actions.FormProblem as err:
        flash(request, f"{err} Nothing was sent.", "error")
        return RedirectResponse(f"{PREFIX}/orders/{order_id}", 303)
    rid = actions.request_id(request_id)
    return await _act(
        request, order_id, lambda orders: actions.send(orders, staff, order_id, action, rid, **reason)
    )


@router.post("/orders/{order_id}/start-handling")
async def start_handling(
    request: Request, order_id: str, staff: Operator, request_id: RequestId = ""
) -> Response:
    rid = actions.request_id(request_id)
    return await _act(
        request, order_id, lambda orders: actions.send(orders, staff, order_id, Action.START_HANDLING, rid)
    )


@router.post("/orders/{order_id}/extend")
async def extend(
    request: Request,
    order_id: str,
    staff: Operator,
    seconds: Annotated[int, Form(ge=views.EXTEND_MIN, le=views.EXTEND_MAX)] = views.EXTEND_MIN,
    request_id: RequestId = "",
) -> Response:
    rid = actions.request_id(request_id)
    extend_by = {"seconds": seconds, "reason": f"by {views.span(seconds)}"}
    return await _act(
        request,
        order_id,
        lambda orders: actions.send(orders, staff, order_id, Action.EXTEND_GRACE_PERIOD, rid, **extend_by),
    )


@router.post("/orders/{order_id}/cancel-items")
async def cancel_items(
    request: Request,
    order_id: str,
    staff: Operator,
    sku: Sku,
    quantity: Quantity,
    reason_code: ReasonCode = "",
    details: Details = "",
    request_id: RequestId = "",
) -> Response:
    """The store cancels some of one line at once (SPEC §3 "Items"); the last items cancel the order."""
    settings: Settings = request.app.state.settings
    try:
        reason = actions.reason_payload(settings.catalogue, Use.STORE, reason_code, details)
    except actions.FormProblem as err:
        flash(request, f"{err} Nothing was sent.", "error")
        return RedirectResponse(f"{PREFIX}/orders/{order_id}", 303)
    rid, items = actions.request_id(request_id), [{"sku": sku, "quantity": quantity}]
    return await _act(
        request,
        order_id,
        lambda orders: actions.send(orders, staff, order_id, Action.CANCEL_ITEMS, rid, items=items, **reason),
    )
