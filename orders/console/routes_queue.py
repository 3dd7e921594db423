"""The queue (`/console`, docs/console.md): every order in `cancellation-requested`, soonest decision deadline
first, read from Temporal's visibility (`orders.queue.pending_requests`: search attributes and memo, one
list call, no worker needed); `Confirm selected` and `Deny selected` act on the ticked rows.

`/console/queue/rows` is the table's body alone: console.js fetches it every 2 s and swaps it in,
keeping the ticked boxes, so a new request shows up (and a decided one goes) without a reload.
"""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from domain.lifecycle import Action
from domain.reasons import Use
from domain.registry import COMMANDS, CommandRecord
from domain.text import ID_CHARS, MAX_ID_LENGTH
from orders.api.provider import OrdersProvider
from orders.client import new_request_id
from orders.console import actions, views
from orders.console.auth import Staff, require_staff
from orders.console.fields import Details, ReasonCode, RequestId
from orders.console.live import QueueCache
from orders.console.pages import PREFIX, fragment, render
from orders.console.roles import Operator
from orders.console.sessions import flash
from orders.errors import OrdersError
from orders.queue import PendingRequest, pending_requests
from orders.settings import Settings

router = APIRouter()
Signed = Annotated[Staff, Depends(require_staff)]
# A customer id or a reason code: the characters of an id, or nothing (no filter).
Filter = Annotated[str, Query(max_length=MAX_ID_LENGTH, pattern=rf"^{ID_CHARS}*$")]


async def _rows(request: Request, customer: str, reason: str, *, fresh: bool) -> list[views.QueueRow]:
    """The queue's rows: read now for a page, or at most a second old for a poll (`live.QueueCache`)."""
    provider: OrdersProvider = request.app.state.orders
    settings: Settings = request.app.state.settings
    cache: QueueCache = request.app.state.queue_cache
    orders = await provider.get()
    key = (customer.strip(), reason.strip())

    async def read() -> list[PendingRequest]:
        return await pending_requests(orders.temporal, key[0] or None, key[1] or None)

    pending = await (cache.fresh(key, read) if fresh else cache.recent(key, read))
    return views.queue_rows(pending, settings.catalogue, datetime.now(UTC))


@router.get("/")
async def queue(request: Request, staff: Signed, customer: Filter = "", reason: Filter = "") -> Response:
    settings: Settings = request.app.state.settings
    context: dict[str, Any] = {
        "customer": customer,
        "reason": reason,
        "reason_filter": views.queue_reason_filter(settings.catalogue),
        "deny_reasons": views.reason_choices(settings.catalogue, Use.DENY),
        "request_id": new_request_id(),
        "rows_url": f"{PREFIX}/queue/rows" + (f"?{request.url.query}" if request.url.query else ""),
    }
    try:
        rows = await _rows(request, customer, reason, fresh=True)
    except OrdersError as err:
        return render(request, "queue.html", 503, rows=[], unavailable=str(err), **context)
    return render(request, "queue.html", rows=rows, **context)


@router.get("/queue/rows")
async def queue_rows(request: Request, staff: Signed, customer: Filter = "", reason: Filter = "") -> Response:
    try:
        rows = await _rows(request, customer, reason, fresh=False)
    except OrdersError as err:
        return Response(str(err), 503)
    return _compact(request, bytes(fragment(request, "queue_rows.html", rows=rows).body))


def _compact(request: Request, body: bytes) -> Response:
    """The rows as the poll wants them: 304 when nothing changed since its last copy (time left moves
    once a minute), gzip otherwise. Only this fragment is compressed: it holds no secret (no CSRF
    token), so compression can't leak one (BREACH)."""
    etag = f'W/"{hashlib.sha256(body).hexdigest()[:24]}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Accept-Encoding, Cookie"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


OrderIds = Annotated[list[str], Form(alias="order")]


@router.post("/queue/confirm")
async def confirm_selected(
    request: Request,
    staff: Operator,
    order_ids: OrderIds = [],  # noqa: B006 - FastAPI copies defaults
    request_id: RequestId = "",
    back: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    return await _bulk(request, staff, order_ids, COMMANDS[Action.CONFIRM_CANCELLATION], request_id, back, {})


@router.post("/queue/deny")
async def deny_selected(
    request: Request,
    staff: Operator,
    order_ids: OrderIds = [],  # noqa: B006
    reason_code: ReasonCode = "",
    details: Details = "",
    request_id: RequestId = "",
    back: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    settings: Settings = request.app.state.settings
    try:
        reason = actions.reason_payload(settings.catalogue, Use.DENY, reason_code, details)
    except actions.FormProblem as err:
        flash(request, f"Deny selected: {err} Nothing was sent.", "error")
        return RedirectResponse(_back(back), 303)
    return await _bulk(
        request, staff, order_ids, COMMANDS[Action.DENY_CANCELLATION], request_id, back, reason
    )


async def _bulk(
    request: Request,
    staff: Staff,
    order_ids: list[str],
    record: CommandRecord[Any],
    request_id: str,
    back: str,
    fields: dict[str, str],
) -> Response:
    label = "Confirm selected" if record.action is Action.CONFIRM_CANCELLATION else "Deny selected"
    chosen = actions.unique(order_ids)
    if not chosen:
        flash(request, f"{label}: no order was selected.", "error")
        return RedirectResponse(_back(back), 303)
    if len(chosen) > actions.BULK_LIMIT:
        flash(request, f"{label}: select at most {actions.BULK_LIMIT} orders at a time.", "error")
        return RedirectResponse(_back(back), 303)
    provider: OrdersProvider = request.app.state.orders
    try:
        orders = await provider.get()
    except OrdersError as err:
        flash(request, f"{label}: nothing was sent: {err}", "error")
        return RedirectResponse(_back(back), 303)
    rid = actions.request_id(request_id)
    outcomes = await actions.send_many(orders, staff, chosen, record, rid, **fields)
    request.app.state.queue_cache.clear()
    done = sum(outcome.ok for outcome in outcomes)
    flash(request, f"{label}: {done} of {len(outcomes)} done.", "ok" if done == len(outcomes) else "error")
    for outcome in outcomes:
        flash(request, f"Order {outcome.order_id}: {outcome.text}", outcome.kind)
    return RedirectResponse(_back(back), 303)


def _back(back: str) -> str:
    """The queue page the form came from (with its filters), and never anywhere else."""
    if back.startswith(f"{PREFIX}/") and "//" not in back and "\\" not in back:
        return back
    return f"{PREFIX}/"
