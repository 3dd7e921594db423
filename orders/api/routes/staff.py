"""The merchant's routes, VTEX's private `/api/oms/pvt/orders` paths: place, list and read orders, and
the commands (cancel, deny a cancellation request, start handling, invoice, approve the payment), each
acting as the store or the erp the caller's app key is for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from domain.lifecycle import Action, Status
from domain.state import OrderState
from domain.text import MAX_ID_LENGTH
from orders.api.bodies import CancelBody, DenyBody, InvoiceBody, PlaceOrderBody
from orders.api.commands import QUEUED, run_command
from orders.api.errors import ERRORS, ApiError
from orders.api.provider import provider_of
from orders.api.routes.params import IdempotencyKey, OrderId
from orders.api.security import Staff
from orders.api.views import OrderList, OrderView, Paging, Placed, Receipt, list_item, order_view
from orders.client import OrdersClient
from orders.errors import OrdersError
from orders.listing import MAX_PAGE

PVT = "/api/oms/pvt/orders"
MAX_PAGE_NUMBER = 100  # pages are walked with page tokens: a far page costs its predecessors

router = APIRouter(tags=["orders"])


@router.post(PVT, status_code=201, response_model=Placed, responses=ERRORS)
async def place_order(request: Request, response: Response, caller: Staff, body: PlaceOrderBody) -> Placed:
    """Place an order (the workflow input in camelCase). Idempotent by `orderId`: placing an
    existing order leaves it as it is (200, `created` false); a different customer or total is 409."""
    orders = await provider_of(request).get()
    placed = await orders.place(body.to_input())
    response.headers["Location"] = f"{PVT}/{body.orderId}"
    if not placed.created:
        await _same_order_or_conflict(request, orders, body)
        response.status_code = 200
    return Placed(orderId=body.orderId, created=placed.created, date=datetime.now(UTC))


@router.get(PVT, response_model=OrderList, responses=ERRORS)
async def list_orders(
    request: Request,
    caller: Staff,
    f_status: Annotated[str | None, Query(description="status, or several separated by commas")] = None,
    f_customer: Annotated[str | None, Query(min_length=1, max_length=MAX_ID_LENGTH)] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE_NUMBER)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 15,
) -> OrderList:
    """Orders by status and/or customer, newest first, paged as VTEX's list (each page is read with
    Temporal's page tokens; a status repeated in `f_status` counts once)."""
    statuses = _parse_statuses(f_status)
    orders = await provider_of(request).get()
    token: str | None = None
    for _ in range(page - 1):  # earlier pages: walked, not shown
        skipped = await orders.list_page(statuses, f_customer, per_page, token)
        token = skipped.next_page
        if token is None:
            return OrderList(list=[], paging=Paging(currentPage=page, perPage=per_page, hasMore=False))
    shown = await orders.list_page(statuses, f_customer, per_page, token)
    return OrderList(
        list=[list_item(s) for s in shown.orders],
        paging=Paging(currentPage=page, perPage=per_page, hasMore=shown.next_page is not None),
    )


@router.get(f"{PVT}/{{orderId}}", response_model=OrderView, responses=ERRORS)
async def get_order(request: Request, caller: Staff, order_id: OrderId) -> OrderView:
    """The order as VTEX's Get order shows it, cancellation data and requests included."""
    orders = await provider_of(request).get()
    return order_view(await orders.state(order_id))


@router.post(f"{PVT}/{{orderId}}/cancel", response_model=Receipt, responses=ERRORS | QUEUED)
async def cancel_order(
    request: Request,
    response: Response,
    caller: Staff,
    order_id: OrderId,
    idempotency_key: IdempotencyKey = None,
    body: Annotated[CancelBody | None, Body()] = None,
) -> Receipt:
    """Cancel. Inside the cancellation window the order is canceled at once; after it the first
    call requests the cancellation and the second confirms it, as in VTEX."""
    payload = caller.command(reason=body.reason if body else "")
    verdict = await run_command(request, order_id, Action.REQUEST_CANCELLATION, payload, idempotency_key)
    return verdict.answer(response)


@router.post(
    f"{PVT}/{{orderId}}/deny-cancellation-request",
    response_model=Receipt,
    responses=ERRORS | QUEUED,
)
async def deny_cancellation(
    request: Request,
    response: Response,
    caller: Staff,
    order_id: OrderId,
    body: DenyBody,
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    """Decline the pending cancellation request; the order goes back to where it was."""
    orders = await provider_of(request).get()
    state = await orders.state(order_id)
    _check_pending(state, body.cancellationRequestId)
    payload = caller.command(reason=body.denyReason)
    verdict = await run_command(request, order_id, Action.DENY_CANCELLATION, payload, idempotency_key)
    return verdict.answer(response)


@router.post(
    f"{PVT}/{{orderId}}/start-handling",
    status_code=204,
    response_class=Response,
    responses=ERRORS | QUEUED,
)
async def start_handling(
    request: Request,
    caller: Staff,
    order_id: OrderId,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Start handling; only from ready-for-handling (otherwise 409 OMS003)."""
    verdict = await run_command(request, order_id, Action.START_HANDLING, caller.command(), idempotency_key)
    if verdict.queued:
        return JSONResponse(verdict.receipt.model_dump(mode="json"), 202)
    return Response(status_code=204)


@router.post(f"{PVT}/{{orderId}}/invoice", response_model=Receipt, responses=ERRORS | QUEUED)
async def invoice(
    request: Request,
    response: Response,
    caller: Staff,
    order_id: OrderId,
    body: InvoiceBody,
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    """Invoice notification. Invoices covering the total make the order invoiced; less is a
    partial invoice, after which the order can't be canceled."""
    payload = caller.command(
        invoice_number=body.invoiceNumber, value=body.invoiceValue, issued_at=body.issuanceDate
    )
    verdict = await run_command(request, order_id, Action.INVOICE, payload, idempotency_key)
    return verdict.answer(response)


@router.post(
    f"{PVT}/{{orderId}}/payment-approved",
    response_model=Receipt,
    responses=ERRORS | QUEUED,
)
async def payment_approved(
    request: Request,
    response: Response,
    caller: Staff,
    order_id: OrderId,
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    """The payment of a payment-pending order is approved; the cancellation window starts now."""
    verdict = await run_command(request, order_id, Action.APPROVE_PAYMENT, caller.command(), idempotency_key)
    return verdict.answer(response)


async def _same_order_or_conflict(request: Request, orders: OrdersClient, body: PlaceOrderBody) -> None:
    """A repeated placement is fine; the same id for another customer or total is a caller's bug."""
    try:
        state = await orders.state(body.orderId)
    except OrdersError:
        return  # can't compare now (e.g. still starting): the order exists, and is left as it is
    if state.customer_id != body.customerId or state.total != body.total:
        raise ApiError(
            409,
            "order-exists",
            f"order {body.orderId} already exists with another customer or total; it was left as it was",
        )


def _check_pending(state: OrderState, request_id: str) -> None:
    """The store declines a request by its id: refuse an id that is not the one waiting."""
    pending = state.pending_request
    known = {r.id for r in state.cancellation_requests}
    if pending is not None and pending.id != request_id:
        raise ApiError(
            409,
            "not-pending",
            f"cancellation request {request_id} is not the one waiting for a decision ({pending.id} is)",
        )
    if pending is None and request_id not in known:
        raise ApiError(
            409, "no-pending-request", f"order {state.order_id} has no cancellation request {request_id}"
        )
    # A past request's id goes through: the order answers a repeat (same Idempotency-Key) as it did
    # the first time, and anything else with "no cancellation request is waiting".


def _parse_statuses(raw: str | None) -> set[Status]:
    """The statuses asked for, each once (an empty set: all)."""
    statuses: set[Status] = set()
    for value in (part.strip() for part in (raw or "").split(",")):
        if not value:
            continue
        try:
            statuses.add(Status(value))
        except ValueError:
            known = ", ".join(s.value for s in Status)
            raise ApiError(
                422, "invalid-request", f"f_status (query): unknown status {value!a}; one of {known}"
            ) from None
    return statuses
