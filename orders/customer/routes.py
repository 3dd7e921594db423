"""The pages (SPEC §12): sign in with the storefront's token or a guest link (both leave the address at
once, by a 303), the list of the customer's orders, an order's page with the buttons the rules allow,
each button's confirming page and form, the order's version for the live refresh, and sign out.

Another customer's order, an unknown one and an order a guest link isn't for are the same 404 page,
after the same ownership check (`own_order`, padded to one time: SPEC §9).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from domain.lifecycle import Status
from domain.state import OrderState
from domain.text import MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_REQUEST_ID_LENGTH, MAX_TEXT
from domain.wire import MAX_ITEMS, MAX_QUANTITY
from orders.api.routes.customer import own_order
from orders.client import OrdersClient, new_request_id
from orders.console.sessions import flash
from orders.customer import access, actions, views
from orders.customer.access import Gate, Visitor
from orders.customer.pages import PREFIX, message, render, speaker
from orders.errors import CommandRejected, OrderNotFound, OrdersError, TemporalUnavailable
from orders.settings import Settings

log = logging.getLogger("orders.customer")
router = APIRouter()
LIST_PAGE = 20  # orders a list page shows
Token = Annotated[str, Query(min_length=1, max_length=4096)]
GuestToken = Annotated[str | None, Query(alias="access", min_length=1, max_length=4096)]


class NotSignedIn(Exception):
    pass


def _visitor(request: Request) -> Visitor:
    found = access.visitor(request)
    if found is None:
        raise NotSignedIn()
    return found


def _not_found(request: Request) -> Response:
    return message(request, 404, "not_found_title", "not_found")


def _order_page(order_id: str) -> str:
    return f"{PREFIX}/{order_id}"


@router.get("/sign-in")
async def sign_in(request: Request, token: Token | None = None) -> Response:
    if token is None:
        return message(request, 401, "sign_in_title", "sign_in_needed")
    gate: Gate = request.app.state.gate
    access.sign_in(request, gate.customer(token))  # a refusal is its own page (app.install_error_pages)
    return RedirectResponse(f"{PREFIX}/", 303)


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    access.sign_out(request, gate.revoked)
    return RedirectResponse(f"{PREFIX}/signed-out", 303)


@router.get("/signed-out")
async def signed_out(request: Request) -> Response:
    return message(request, 200, "signed_out_title", "signed_out")


@router.get("/")
async def order_list(
    request: Request, after: Annotated[str | None, Query(max_length=600)] = None
) -> Response:
    visitor = _visitor(request)
    if visitor.order_id is not None:  # a guest sees the one order the link is for
        return RedirectResponse(_order_page(visitor.order_id), 303)
    orders = await request.app.state.orders.get()
    try:
        page = await orders.list_page(customer_id=visitor.customer_id, size=LIST_PAGE, page_token=after)
    except CommandRejected:  # a page token this service never gave out
        return message(request, 400, "bad_request_title", "bad_request", problem="after")
    except TemporalUnavailable:
        return message(request, 503, "unavailable_title", "unavailable")
    return render(request, "list.html", orders=page.orders, next_page=page.next_page)


async def _owned(request: Request, order_id: str) -> tuple[Visitor, OrdersClient]:
    """The visitor and the client, once the order is theirs (and, for a guest, the link's)."""
    visitor = _visitor(request)
    owner = visitor.customer_id if visitor.may_open(order_id) else ""  # no customer has the id ""
    await own_order(request, order_id, owner)
    return visitor, await request.app.state.orders.get()


@router.get("/{order_id}")
async def order_page(request: Request, order_id: str, access_token: GuestToken = None) -> Response:
    if (
        access_token is not None
    ):  # a guest link: sign in for this order, and take the token out of the address
        gate: Gate = request.app.state.gate
        access.sign_in(request, gate.guest(access_token, order_id))
        return RedirectResponse(_order_page(order_id), 303)
    try:
        visitor, orders = await _owned(request, order_id)
        summary = await orders.summary(order_id)  # first: a change after it is a newer version
        state = await orders.state(order_id)
    except OrderNotFound:
        return _not_found(request)
    except OrdersError:
        return message(request, 503, "unavailable_title", "unavailable")
    settings: Settings = request.app.state.settings
    now = datetime.now(UTC)
    said = speaker(request)
    denied = views.denial(state)
    return render(
        request,
        "order.html",
        order_id=order_id,
        state=state,
        now=now,
        guest=visitor.order_id is not None,
        offered=actions.offered(state, now),
        amounts=views.amounts(state),
        steps=views.timeline(state, said, settings.catalogue),
        denied=denied,
        deny_reason=views.deny_reason(denied, settings.catalogue, said) if denied else "",
        version=views.version(summary),
        window_open=state.status is Status.WINDOW_TO_CANCEL and state.inside_grace_window(now),
        views=views,
    )


@router.get("/{order_id}/version")
async def version(request: Request, order_id: str) -> Response:
    """What the page's script polls: the order's version (visibility, no worker needed)."""
    try:
        _, orders = await _owned(request, order_id)
        summary = await orders.summary(order_id)
    except OrderNotFound:
        return JSONResponse({"error": "not found"}, 404)
    except OrdersError:
        return JSONResponse({"error": "unavailable"}, 503)
    return JSONResponse({"version": views.version(summary)}, headers={"cache-control": "no-store"})


async def _state_for(
    request: Request, order_id: str, slug: str
) -> tuple[Visitor, OrdersClient, OrderState, actions.CustomerAction]:
    action = actions.BY_SLUG.get(slug)
    if action is None:
        raise OrderNotFound(order_id)
    visitor, orders = await _owned(request, order_id)
    return visitor, orders, await orders.state(order_id), action


@router.get("/{order_id}/{slug}")
async def confirm_page(request: Request, order_id: str, slug: str) -> Response:
    """The button's confirming page: its form, with a request id made now (a resubmit acts once)."""
    try:
        _, _, state, action = await _state_for(request, order_id, slug)
    except OrderNotFound:
        return _not_found(request)
    except OrdersError:
        return message(request, 503, "unavailable_title", "unavailable")
    if action not in actions.offered(state, datetime.now(UTC)):
        said = speaker(request)
        flash(request, said.t("refused", reason=said.status(state.status)), "error")
        return RedirectResponse(_order_page(order_id), 303)
    settings: Settings = request.app.state.settings
    return render(
        request,
        "confirm.html",
        order_id=order_id,
        state=state,
        action=action,
        request_id=new_request_id(),
        reasons=views.reason_choices(settings.catalogue, speaker(request)),
    )


@router.post("/{order_id}/{slug}")
async def act(
    request: Request,
    order_id: str,
    slug: str,
    reason_code: Annotated[str, Form(max_length=MAX_ID_LENGTH)] = "",
    details: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    request_id: Annotated[str, Form(max_length=MAX_REQUEST_ID_LENGTH)] = "",
    sku: Annotated[list[str], Form(max_length=MAX_ITEMS)] = [],  # noqa: B006 - FastAPI copies defaults
    quantity: Annotated[list[int], Form(max_length=MAX_ITEMS)] = [],  # noqa: B006
) -> Response:
    said = speaker(request)
    try:
        visitor, orders, state, action = await _state_for(request, order_id, slug)
    except OrderNotFound:
        return _not_found(request)
    except OrdersError:
        flash(request, said.t("not_sent"), "error")
        return RedirectResponse(_order_page(order_id), 303)
    settings: Settings = request.app.state.settings
    lines = [(s[:MAX_NAME_LENGTH], max(0, min(q, MAX_QUANTITY))) for s, q in zip(sku, quantity, strict=False)]
    rid = actions.request_id(request_id)
    try:
        payload = actions.command(
            action, state, settings.catalogue, visitor.customer_id, rid, reason_code, details, lines
        )
    except actions.FormProblem as err:
        flash(request, said.t(err.key), "error")
        return RedirectResponse(f"{_order_page(order_id)}/{slug}", 303)
    try:
        result = await orders.send(order_id, action.action, payload)
    except CommandRejected as err:
        flash(request, said.t("refused", reason=err.reason), "error")
    except OrdersError:
        flash(request, said.t("not_sent"), "error")
    else:
        log.info(
            "my orders: customer %s sent %s to order %s", visitor.customer_id, action.action.value, order_id
        )
        flash(request, said.t("queued") if result.queued else said.said(action.done), "ok")
    return RedirectResponse(_order_page(order_id), 303)
