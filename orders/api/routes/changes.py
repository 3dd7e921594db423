"""Order modifications over REST, on VTEX's Order modifications paths (docs/modifications.md, docs/api.md):
create (PATCH, 202), preview, the history, one change, and the withdrawal of a change that waits for its
payment. The store's or the erp's app key acts as that actor.

As VTEX answers these operations, a request they can't take is 400 with the error envelope naming the
field: a body that doesn't fit (FastAPI's 422 elsewhere) and a refusal by the order's rules alike.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import Field

from domain.commands import MODIFICATION_ID_LENGTH, ModifiedLines, Replacement
from domain.lifecycle import Action
from domain.state import OrderState
from domain.text import ID_PATTERN, RequiredText, Text
from domain.wire import MAX_ITEMS
from orders.api.bodies import Body
from orders.api.change_views import (
    ChangeHistoryView,
    ChangeSummaryView,
    ChangeView,
    change_view,
    preview_view,
    queued_view,
)
from orders.api.errors import ERRORS, ApiError, ErrorEnvelope, invalid_request
from orders.api.provider import provider_of
from orders.api.routes.params import IdempotencyKey, OrderId, rest_path
from orders.api.security import Caller, Staff
from orders.client import CommandResult
from orders.errors import CommandRejected

CHANGES = rest_path(Action.MODIFY_ORDER)
CHANGE = f"{CHANGES}/{{changeRequestId}}"
REFUSED = {400: {"model": ErrorEnvelope, "description": "a field that doesn't fit, or refused by the order"}}
ANSWERS = {code: answer for code, answer in ERRORS.items() if code not in (409, 422)} | REFUSED


class BadInputIs400(APIRoute):
    """VTEX answers what it can't take with 400: so do these routes, the fields named, where the rest of
    the API answers FastAPI's 422."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as err:
                return invalid_request(err, 400)

        return route


router = APIRouter(tags=["order modifications"], route_class=BadInputIs400)
ChangeRequestId = Annotated[
    str, Path(alias="changeRequestId", min_length=1, max_length=MODIFICATION_ID_LENGTH, pattern=ID_PATTERN)
]


class ChangeBody(Body):
    """VTEX's Create order modifications body: `add` and `remove` (`{"items": [{"id", "quantity",
    "price"}]}`), `replace` (`[{"from": {"items"}, "to": {"items"}}]`), `reason`. `price` is in cents,
    needed for an sku the order doesn't hold."""

    reason: RequiredText
    add: ModifiedLines | None = None
    remove: ModifiedLines | None = None
    replace: Annotated[list[Replacement], Field(max_length=MAX_ITEMS)] = []

    def command(self, caller: Caller) -> dict[str, Any]:
        return caller.command(**self.model_dump(mode="json", by_alias=True, exclude_none=True))


class CancelChangeBody(Body):
    reason: Text = ""


async def _send(
    request: Request, order_id: str, action: Action, payload: dict[str, Any], key: str | None
) -> CommandResult:
    """The command as an update (or queued as a signal); a refusal is 400, but a sender's role (403)."""
    orders = await provider_of(request).get()
    try:
        return await orders.send(order_id, action, {**payload, "request_id": key})
    except CommandRejected as err:
        if err.code == "forbidden-actor":
            raise
        raise ApiError(400, err.code, err.reason) from None


def _modification(state: OrderState, change_id: str) -> ChangeView:
    found = next((m for m in state.modifications if m.id == change_id), None)
    if found is None:
        raise ApiError(404, "change-not-found", f"order {state.order_id} has no change {change_id}")
    return change_view(state, found)


@router.patch(CHANGES, status_code=202, response_model=ChangeView, responses=ANSWERS)
async def create_change(
    request: Request,
    caller: Staff,
    order_id: OrderId,
    body: ChangeBody,
    idempotency_key: IdempotencyKey = None,
) -> ChangeView:
    """Modify the order: add, remove or replace lines. A lower value applies at once (the difference
    voided or refunded); a higher one waits for the customer's payment of the difference
    (`status: waiting-payment`). With no worker answering in time it is queued (`status: queued`)."""
    payload = body.command(caller)
    result = await _send(request, order_id, Action.MODIFY_ORDER, payload, idempotency_key)
    if result.state is None:
        at = datetime.now(UTC)
        return queued_view(order_id, result.request_id, body.reason, caller.actor.value, caller.sender, at)
    # The caller's own: a request id is the caller's alone (docs/api.md, "Idempotency-Key").
    mine = (result.request_id, caller.actor, caller.sender)
    made = next(
        (m for m in reversed(result.state.modifications) if (m.request_id, m.actor, m.sender) == mine), None
    )
    if made is None:  # the request id named another command
        raise ApiError(400, "request-id-reused", f"Idempotency-Key {result.request_id} named another command")
    return change_view(result.state, made)


@router.post(f"{CHANGES}/preview", response_model=ChangeSummaryView, responses=ANSWERS)
async def preview_change(
    request: Request, caller: Staff, order_id: OrderId, body: ChangeBody
) -> ChangeSummaryView:
    """What the change would do (the order's value before and after, the difference), changing nothing."""
    orders = await provider_of(request).get()
    try:
        preview = await orders.preview(order_id, body.command(caller))
    except CommandRejected as err:
        raise ApiError(400, err.code, err.reason) from None
    if preview.refused is not None:
        raise ApiError(400, preview.refused.code, preview.refused.reason)
    at = datetime.now(UTC)
    return preview_view(order_id, preview, body.reason, caller.actor.value, caller.sender, at)


@router.get(CHANGES, response_model=ChangeHistoryView, responses=ANSWERS)
async def change_history(request: Request, caller: Staff, order_id: OrderId) -> ChangeHistoryView:
    """Every change of the order, oldest first, applied, waiting or lapsed."""
    state = await (await provider_of(request).get()).state(order_id)
    return ChangeHistoryView(requests=[change_view(state, m) for m in state.modifications])


@router.get(CHANGE, response_model=ChangeView, responses=ANSWERS)
async def change_details(
    request: Request, caller: Staff, order_id: OrderId, change_id: ChangeRequestId
) -> ChangeView:
    state = await (await provider_of(request).get()).state(order_id)
    return _modification(state, change_id)


@router.post(rest_path(Action.CANCEL_MODIFICATION), response_model=ChangeView, responses=ANSWERS)
async def cancel_change(
    request: Request,
    caller: Staff,
    order_id: OrderId,
    change_id: ChangeRequestId,
    body: CancelChangeBody | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response | ChangeView:
    """Withdraw a change that waits for its payment: it lapses, the order stays as it was. A change that
    was applied can't be withdrawn (make another)."""
    reason = body.reason if body else ""
    return await _settle(
        request, caller, order_id, change_id, Action.CANCEL_MODIFICATION, reason, idempotency_key
    )


async def _settle(
    request: Request,
    caller: Caller,
    order_id: str,
    change_id: str,
    action: Action,
    reason: str,
    key: str | None,
) -> Response | ChangeView:
    payload = caller.command(modification_id=change_id, reason=reason)
    result = await _send(request, order_id, action, payload, key)
    if result.state is None:  # no worker answered in time: queued
        at = datetime.now(UTC)
        queued = queued_view(order_id, change_id, reason, caller.actor.value, caller.sender, at)
        return JSONResponse(queued.model_dump(mode="json", by_alias=True, exclude_none=True), 202)
    return _modification(result.state, change_id)


@router.post(rest_path(Action.APPROVE_MODIFICATION_PAYMENT), response_model=ChangeView, responses=ANSWERS)
async def modification_paid(
    request: Request,
    caller: Staff,
    order_id: OrderId,
    change_id: ChangeRequestId,
    body: CancelChangeBody | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response | ChangeView:
    """Ours: the payment of a waiting change's difference was approved (the payment gateway's word, sent
    by the erp): the change applies. Not in VTEX's API, whose gateway settles it."""
    reason = body.reason if body else ""
    return await _settle(
        request, caller, order_id, change_id, Action.APPROVE_MODIFICATION_PAYMENT, reason, idempotency_key
    )


@router.post(rest_path(Action.DENY_MODIFICATION_PAYMENT), response_model=ChangeView, responses=ANSWERS)
async def modification_payment_denied(
    request: Request,
    caller: Staff,
    order_id: OrderId,
    change_id: ChangeRequestId,
    body: CancelChangeBody | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response | ChangeView:
    """Ours: the payment of a waiting change's difference was refused: the change lapses, the order stays
    as it was, and the store and the customer are told."""
    reason = body.reason if body else ""
    return await _settle(
        request, caller, order_id, change_id, Action.DENY_MODIFICATION_PAYMENT, reason, idempotency_key
    )
