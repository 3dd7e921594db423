"""The order page (`/console/orders/<orderId>`, docs/console.md): one `state` query, and the buttons the rules
allow the signed-in role now. Each button POSTs (with the CSRF token and the form's request id), and the
answer comes back on the same page after a redirect: what happened, or the rule's reason for refusing.

With no worker answering, the page says so and shows what Temporal's visibility knows of the order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from domain.registry import RECORDS
from domain.spans import fmt_span
from domain.text import ORDER_ID
from orders.api.provider import OrdersProvider
from orders.client import OrdersClient, new_request_id
from orders.console import actions, reads, roles, views
from orders.console.auth import Staff, require_staff
from orders.console.fields import (
    AddQuantity,
    Details,
    LineRemovals,
    LineSkus,
    ModificationId,
    Price,
    Quantity,
    ReasonCode,
    RequestId,
    Sku,
)
from orders.console.pages import PREFIX, render
from orders.console.roles import Operator
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
    return render(
        request,
        "order.html",
        code,
        order_id=order_id,
        request_id=new_request_id(),
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
    own = pending is not None and roles.is_own(pending.actor, pending.sender, staff)
    shown = views.buttons(state, staff.role, now, settings.catalogue, may_confirm=not own)
    return _page(
        request,
        order_id,
        state=state,
        now=now,
        buttons=shown if roles.may_act(staff) else [],
        own_request=own and roles.may_act(staff),
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


BY_SLUG = {views.slug_of(record): record for record in RECORDS if record.console is not None}


@router.post("/orders/{order_id}/{command}")
async def act(
    request: Request,
    order_id: str,
    command: str,
    staff: Operator,
    reason_code: ReasonCode = "",
    details: Details = "",
    seconds: Annotated[int, Form(ge=views.EXTEND_MIN, le=views.EXTEND_MAX)] = views.EXTEND_MIN,
    sku: Sku = "",
    quantity: Quantity = 1,
    request_id: RequestId = "",
    line_sku: LineSkus = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    line_remove: LineRemovals = [],  # noqa: B006
    add_sku: Sku = "",
    add_quantity: AddQuantity = 0,
    add_price: Price = "",
    modification_id: ModificationId = "",
) -> Response:
    """A button of the order page: the command its record names, with what its form asks for."""
    record = BY_SLUG.get(command)
    if record is None:
        return render(request, "message.html", 404, title="Not found", message="No such action.")
    settings: Settings = request.app.state.settings
    form = views.form_of(record.model)
    fields: dict[str, Any] = {}
    try:
        if record.reason_use is not None:
            use = record.reason_use(staff.role)
            fields |= actions.reason_payload(settings.catalogue, use, reason_code, details)
        if form is views.FormKind.EXTEND:
            fields |= {"seconds": seconds, "reason": f"by {fmt_span(seconds)}"}
        if form is views.FormKind.LINES:
            if not sku:
                raise actions.FormProblem("Choose a line.")
            fields["items"] = [{"sku": sku, "quantity": quantity}]
        if form is views.FormKind.MODIFY:
            added = actions.Added(add_sku.strip(), add_quantity, add_price.strip())
            fields |= actions.modification(details, list(zip(line_sku, line_remove, strict=False)), added)
        if form is views.FormKind.MODIFICATION:
            fields |= {"modification_id": modification_id, "reason": details.strip()}
    except actions.FormProblem as err:
        flash(request, f"{err} Nothing was sent.", "error")
        return RedirectResponse(f"{PREFIX}/orders/{order_id}", 303)
    rid = actions.request_id(request_id)
    return await _act(
        request, order_id, lambda orders: actions.send(orders, staff, order_id, record, rid, **fields)
    )
