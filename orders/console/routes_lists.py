"""All orders (`/console/orders`: newest first, a page at a time with Temporal's page tokens, filtered by
status and customer; an order id goes straight to its page) and the report (`/console/report`:
docs/policy.md's figures as charts drawn on the server, from visibility)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from temporalio.service import RPCError

from domain.lifecycle import Status
from domain.text import ID_CHARS, MAX_ID_LENGTH, ORDER_ID
from orders.api.provider import OrdersProvider
from orders.console import charts, reads
from orders.console.auth import Staff, require_staff
from orders.console.pages import PREFIX, render
from orders.console.sessions import flash
from orders.errors import CommandRejected, OrdersError, unavailable
from orders.report import build_report, since_ago
from orders.settings import Settings

router = APIRouter()
Signed = Annotated[Staff, Depends(require_staff)]
PAGE_SIZE = 50
SPANS = {
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}


@router.get("/orders")
async def orders_list(
    request: Request,
    staff: Signed,
    status: Annotated[str, Query(max_length=32)] = "",
    customer: Annotated[str, Query(max_length=MAX_ID_LENGTH, pattern=rf"^{ID_CHARS}*$")] = "",
    order: Annotated[str, Query(max_length=MAX_ID_LENGTH)] = "",
    page: Annotated[str, Query(max_length=512)] = "",
) -> Response:
    provider: OrdersProvider = request.app.state.orders
    context: dict[str, Any] = {
        "statuses": list(Status),
        "status": status,
        "customer": customer,
        "order": order,
        "orders": [],
        "next_page": None,
        "first_page": bool(page),
    }
    known = [s.value for s in Status]
    if status and status not in known:  # refused as the API refuses it, never read as "any status"
        message = f"Unknown status {status!a}; one of {', '.join(known)}."
        return render(request, "orders.html", 400, unavailable=message, **context)
    chosen = {Status(status)} if status else None
    try:
        client = await provider.get()
        if order.strip():
            found = await reads.visible(client, order.strip()) if ORDER_ID.fullmatch(order.strip()) else None
            if found is not None:
                return RedirectResponse(f"{PREFIX}/orders/{found.order_id}", 303)
            flash(request, f"No order has the id {order.strip()}.", "error")
        listed = await client.list_page(chosen, customer.strip() or None, PAGE_SIZE, page or None)
    except CommandRejected as err:  # a page token this service did not give out: 422, as the API says
        return render(request, "orders.html", 422, unavailable=str(err), **context)
    except OrdersError as err:
        return render(request, "orders.html", 503, unavailable=str(err), **context)
    context |= {"orders": listed.orders, "next_page": listed.next_page}
    return render(request, "orders.html", **context)


@router.get("/report")
async def report(
    request: Request, staff: Signed, since: Annotated[str, Query(max_length=8)] = "30d"
) -> Response:
    settings: Settings = request.app.state.settings
    provider: OrdersProvider = request.app.state.orders
    since = since if since in SPANS else "30d"
    context: dict[str, Any] = {"since": since, "spans": list(SPANS)}
    try:
        client = await provider.get()
        figures = await build_report(client.temporal, since_ago(SPANS[since]), settings.catalogue)
    except RPCError as err:
        return render(request, "report.html", 503, unavailable=str(unavailable(err)), **context)
    except OrdersError as err:
        return render(request, "report.html", 503, unavailable=str(err), **context)
    return render(request, "report.html", report=figures, charts=charts.of(figures), **context)
