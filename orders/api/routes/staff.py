"""The merchant's routes, VTEX's private `/api/oms/pvt/orders` paths: place and read orders, and the
commands (cancel, deny a cancellation request, start handling, invoice, approve the payment), each
acting as the store or the erp the caller's app key is for (listing is in `routes.listing`).

Status codes are VTEX's where VTEX documents one (deny's refusals and a cancel of a partially invoiced
order: 400; start handling out of turn: 409 `OMS003`), and 409 for the other refusals.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from domain.lifecycle import Action, Status
from domain.visibility import MEMO_KEY, OrderMemo
from orders.api.bodies import CancelBody, DenyBody, InvoiceBody, PlaceOrderBody
from orders.api.commands import QUEUED, cancel_refusal, run_command
from orders.api.errors import ERRORS, ApiError
from orders.api.provider import provider_of
from orders.api.receipts import Placed, Receipt
from orders.api.routes.params import IdempotencyKey, OrderId, rest_path
from orders.api.security import Staff
from orders.api.views import OrderView, order_view
from orders.client import OrdersClient
from orders.errors import OrdersError
from orders.placement import PlacementMemo
from orders.reads import OrderSummary

PVT = "/api/oms/pvt/orders"
DENY = ERRORS | QUEUED | {400: {"description": "refused: unknown or no pending request, order final"}}

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


@router.get(f"{PVT}/{{orderId}}", response_model=OrderView, responses=ERRORS)
async def get_order(request: Request, caller: Staff, order_id: OrderId) -> OrderView:
    """The order as VTEX's Get order shows it, cancellation data and requests included."""
    orders = await provider_of(request).get()
    return order_view(await orders.state(order_id))


@router.post(rest_path(Action.REQUEST_CANCELLATION), response_model=Receipt, responses=ERRORS | QUEUED)
async def cancel_order(
    request: Request,
    response: Response,
    caller: Staff,
    order_id: OrderId,
    idempotency_key: IdempotencyKey = None,
    body: Annotated[CancelBody | None, Body()] = None,
) -> Receipt:
    """Cancel. Inside the cancellation window the order is canceled at once; after it the first
    call requests the cancellation and the second confirms it, as in VTEX. With `requestedByUser`
    true the request is the customer's, made on their behalf: judged as one (after the window it
    waits for the store) and shown as one (`cancellationData.requestedByUser`). The receipt is the
    request's `cancellationRequestId`."""
    said = {"reason": body.reason, "reason_code": body.reasonCode} if body else {}
    if body is not None and body.requestedByUser:
        payload = caller.for_customer(**said)
    else:
        payload = caller.command(**said)
    verdict = await run_command(
        request, order_id, Action.REQUEST_CANCELLATION, payload, idempotency_key, cancel_refusal
    )
    return verdict.answer(response)


@router.post(rest_path(Action.DENY_CANCELLATION), response_model=Receipt, responses=DENY)
@router.post(
    "/api/orders/pvt/document/{orderId}/deny-cancellation-request", response_model=Receipt, responses=DENY
)
async def deny_cancellation(
    request: Request,
    response: Response,
    caller: Staff,
    order_id: OrderId,
    body: DenyBody,
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    """Decline the pending cancellation request; the order goes back to where it was. Refusals are
    400, as VTEX documents them (unknown `cancellationRequestId`, nothing pending, order final). The
    request waiting is read from the order's memo, which needs no worker: with none running the
    command is queued (202) like any other."""
    orders = await provider_of(request).get()
    _check_pending(await orders.summary(order_id), body.cancellationRequestId, idempotency_key)
    payload = caller.command(reason=body.denyReason, reason_code=body.reasonCode)
    verdict = await run_command(
        request, order_id, Action.DENY_CANCELLATION, payload, idempotency_key, lambda _: 400
    )
    return verdict.answer(response)


@router.post(
    rest_path(Action.START_HANDLING),
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


@router.post(rest_path(Action.INVOICE), response_model=Receipt, responses=ERRORS | QUEUED)
async def invoice(
    request: Request,
    response: Response,
    caller: Staff,
    order_id: OrderId,
    body: InvoiceBody,
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    """Invoice notification. `Output` invoices covering the total make the order invoiced; less is a
    partial invoice, after which the order can't be canceled. An `Input` (return) invoice lowers what a
    partially invoiced order has invoiced; once nothing stays invoiced it can be canceled again. An
    invoiced order is final: a return can't reopen it."""
    payload = caller.command(
        invoice_number=body.invoiceNumber,
        value=body.invoiceValue,
        issued_at=body.issuanceDate,
        kind=body.kind,
    )
    verdict = await run_command(request, order_id, Action.INVOICE, payload, idempotency_key)
    return verdict.answer(response)


@router.post(
    rest_path(Action.APPROVE_PAYMENT),
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
    """A repeated placement is fine; the same id for another customer or total is a caller's bug. Read
    from the order's search attributes and memo: no worker needed."""
    try:
        existing = await orders.summary(body.orderId)
    except OrdersError:
        return  # can't compare now: the order exists, and is left as it is
    placed, raw = PlacementMemo.from_memo(existing.memo), existing.memo.get(MEMO_KEY)
    if placed and placed.total is not None:
        total = placed.total
    else:  # started some other way (the `temporal` CLI): what the workflow shows
        total = OrderMemo.model_validate(raw).value if isinstance(raw, dict) else body.total
    if existing.customer_id != body.customerId or total != body.total:
        raise ApiError(
            409,
            "order-exists",
            f"order {body.orderId} already exists with another customer or total; it was left as it was",
        )


def _check_pending(order: OrderSummary, request_id: str, idempotency_key: str | None) -> None:
    """The store declines a request by its id: refuse an id that is not the one waiting (400, as VTEX)."""
    raw = order.memo.get(MEMO_KEY)
    pending = OrderMemo.model_validate(raw).pending if isinstance(raw, dict) else None
    if pending is not None and pending.request_id != request_id:
        raise ApiError(
            400,
            "not-pending",
            f"cancellation request {request_id} is not the one waiting for a decision "
            f"({pending.request_id} is)",
        )
    if pending is None and order.status is not Status.CANCELLATION_REQUESTED and idempotency_key is None:
        raise ApiError(
            400,
            "no-pending-request",
            f"order {order.order_id} has no cancellation request waiting for a decision "
            f"(it is {order.status.phrase})",
        )
    # With an Idempotency-Key, the order itself answers: a repeat as it did the first time, anything
    # else with "no cancellation request is waiting" (400).
