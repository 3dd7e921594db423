"""The REST API: VTEX's Orders API paths for cancellation, over `OrdersClient`.

Verdicts come from Temporal updates; when no worker answers in time the command is queued as the
same-named signal and the answer is 202 with the receipt. Every answer other than success is VTEX's
envelope `{"error": {"code", "message"}}`, FastAPI's own errors included, and no traceback ever
reaches a caller.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Body, FastAPI, Header, Path, Query, Request, Response, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.lifecycle import Action, Actor, Status
from domain.models import OrderState
from orders.api.auth import Authenticator
from orders.api.vtex import (
    ApiError,
    CancelBody,
    DenyBody,
    ErrorEnvelope,
    InvoiceBody,
    OrderList,
    OrderView,
    Paging,
    Placed,
    PlaceOrderBody,
    Receipt,
    command_date,
    list_item,
    order_view,
)
from orders.client import (
    CommandRejected,
    OrderNotFound,
    OrdersClient,
    OrdersError,
    OrderSummary,
    TemporalUnavailable,
)
from orders.settings import Settings

log = logging.getLogger("orders.api")

MAX_BODY_BYTES = 64 * 1024
DRAIN_BYTES = 1024 * 1024  # past this, an oversized body is cut off rather than read
CONNECT_TIMEOUT_SECONDS = 5.0
READY_TIMEOUT_SECONDS = 3.0
RETRY_AFTER_SECONDS = "5"
PVT = "/api/oms/pvt/orders"


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


# ASGI middleware


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, by Content-Length or as they stream in.

    The body is read here (it is small by construction) and replayed to the app, so the limit holds
    for chunked uploads that declare no length."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and not declared.isdigit():
            await error_response(400, "bad-request", "Content-Length is not a number")(scope, receive, send)
            return
        if declared is not None and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the caller left; nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send, more=message.get("more_body", False))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as a server would

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, more: bool = True) -> None:
        # Read (and drop) what is left of a modest body first: a server that answers and closes with
        # the request unread makes the caller's TCP stack reset, and the caller never sees the 413.
        drained = 0
        while more and drained <= DRAIN_BYTES:
            message = await receive()
            drained += len(message.get("body", b""))
            more = message["type"] == "http.request" and message.get("more_body", False)
        message = f"the request body is over {self.max_bytes // 1024} KiB"
        await error_response(413, "payload-too-large", message, {"Connection": "close"})(scope, receive, send)


class CatchAll:
    """Turn any unexpected exception into a 500 envelope; the traceback goes to the log only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            log.exception("unexpected error answering %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise  # half an answer is out; the server can only drop the connection
            response = error_response(500, "internal-error", "internal error; the server log has the details")
            await response(scope, receive, send)


# Temporal, connected lazily


class OrdersProvider:
    """The `OrdersClient`, connected on first use, so the API starts (and /readyz answers 503) while
    Temporal is still coming up, and reconnects once it is there."""

    RETRY_INTERVAL = 1.0  # after a failed attempt, answer 503 at once for this long

    def __init__(self, settings: Settings, orders: OrdersClient | None) -> None:
        self._settings = settings
        self._orders = orders
        self._lock = asyncio.Lock()
        self._failed: tuple[float, str] | None = None

    async def get(self) -> OrdersClient:
        if self._orders is not None:
            return self._orders
        async with self._lock:
            if self._orders is not None:
                return self._orders
            if self._failed and time.monotonic() - self._failed[0] < self.RETRY_INTERVAL:
                raise TemporalUnavailable(self._failed[1])
            try:
                self._orders = await asyncio.wait_for(
                    OrdersClient.connect(self._settings), CONNECT_TIMEOUT_SECONDS
                )
            except TimeoutError:
                self._failed = (time.monotonic(), "can't reach Temporal: connecting timed out")
                raise TemporalUnavailable(self._failed[1]) from None
            except TemporalUnavailable as err:
                self._failed = (time.monotonic(), str(err))
                raise
            self._failed = None
            return self._orders


def _provider(request: Request) -> OrdersProvider:
    provider: OrdersProvider = request.app.state.orders
    return provider


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# Authentication


app_key_header = APIKeyHeader(name="X-VTEX-API-AppKey", auto_error=False, scheme_name="AppKey")
app_token_header = APIKeyHeader(name="X-VTEX-API-AppToken", auto_error=False, scheme_name="AppToken")
bearer = HTTPBearer(auto_error=False, scheme_name="CustomerToken", bearerFormat="JWT")


# `async def`, though nothing here awaits: FastAPI runs a plain `def` dependency in its thread pool, a
# thread hop per request (about 1 ms of CPU and latency each, measured in docs/performance.md).
async def staff(
    request: Request,
    app_key: Annotated[str | None, Security(app_key_header)],
    app_token: Annotated[str | None, Security(app_token_header)],
) -> Actor:
    auth: Authenticator = request.app.state.auth
    return auth.staff(app_key, app_token)


async def customer(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> str:
    auth: Authenticator = request.app.state.auth
    return auth.customer(credentials.credentials if credentials else None)


Staff = Annotated[Actor, Security(staff)]
Customer = Annotated[str, Security(customer)]
OrderId = Annotated[str, Path(alias="orderId", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="repeat a call with the same key to get the first answer; nothing changes twice",
    ),
]

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope, "description": text}
    for code, text in {
        400: "malformed JSON",
        401: "missing or wrong credentials",
        403: "role not allowed",
        404: "unknown order",
        409: "refused by the order's rules",
        413: "body too large",
        422: "invalid field (named in the message)",
        503: "Temporal or its workers unreachable",
    }.items()
}
QUEUED: dict[int | str, dict[str, Any]] = {
    202: {"model": Receipt, "description": "no worker answered in time: queued, the receipt identifies it"}
}


# Commands


@dataclass(frozen=True)
class Verdict:
    receipt: Receipt
    queued: bool  # no worker answered in time: sent as a signal, to be applied when one does

    def answer(self, response: Response) -> Receipt:
        if self.queued:
            response.status_code = 202
        return self.receipt


async def run_command(
    request: Request, order_id: str, action: Action, payload: dict[str, Any], idempotency_key: str | None
) -> Verdict:
    """Send a command as an update (verdict) or, when no worker answers in time, as a signal (202)."""
    orders = await _provider(request).get()
    # Stamped here, so the signal that may follow the update carries the same request id and time.
    command = {
        **payload,
        "request_id": idempotency_key or uuid.uuid4().hex,
        "requested_at": datetime.now(UTC),
    }
    result = await orders.send(order_id, action, command)
    date = command_date(result.state, result.request_id)
    return Verdict(Receipt(date=date, orderId=order_id, receipt=result.request_id), result.queued)


def _parse_statuses(raw: str | None) -> list[Status | None]:
    if raw is None or not raw.strip():
        return [None]
    statuses: list[Status | None] = []
    for value in (part.strip() for part in raw.split(",")):
        try:
            statuses.append(Status(value))
        except ValueError:
            known = ", ".join(s.value for s in Status)
            raise ApiError(
                422, "invalid-request", f"f_status (query): unknown status {value!r}; one of {known}"
            ) from None
    return statuses


# Routes


def add_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], responses={503: ERRORS[503]})
    async def readyz(request: Request) -> dict[str, str]:
        """Temporal is reachable (and the order search attributes exist)."""
        orders = await _provider(request).get()
        try:
            await asyncio.wait_for(orders.list_orders(limit=1), READY_TIMEOUT_SECONDS)
        except TimeoutError:
            raise TemporalUnavailable("Temporal did not answer within 3 s") from None
        return {"status": "ready"}

    @app.post(PVT, status_code=201, response_model=Placed, tags=["orders"], responses=ERRORS)
    async def place_order(request: Request, response: Response, actor: Staff, body: PlaceOrderBody) -> Placed:
        """Place an order (the workflow input in camelCase). Idempotent by `orderId`: placing an
        existing order leaves it as it is (200, `created` false); a different customer or total is 409."""
        orders = await _provider(request).get()
        placed = await orders.place(body.to_input())
        response.headers["Location"] = f"{PVT}/{body.orderId}"
        if not placed.created:
            await _same_order_or_conflict(request, orders, body)
            response.status_code = 200
        return Placed(orderId=body.orderId, created=placed.created, date=datetime.now(UTC))

    @app.get(PVT, response_model=OrderList, tags=["orders"], responses=ERRORS)
    async def list_orders(
        request: Request,
        actor: Staff,
        f_status: Annotated[str | None, Query(description="status, or several separated by commas")] = None,
        f_customer: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        page: Annotated[int, Query(ge=1, le=1000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=100)] = 15,
    ) -> OrderList:
        """Orders by status and/or customer, newest first, paged as VTEX's list."""
        statuses = _parse_statuses(f_status)
        orders = await _provider(request).get()
        wanted = page * per_page + 1  # one more than the page, to know whether another follows
        found: list[OrderSummary] = []
        for status in statuses:
            found += await orders.list_orders(status=status, customer_id=f_customer, limit=wanted)
        epoch = datetime.min.replace(tzinfo=UTC)
        found.sort(key=lambda s: s.placed_at or epoch, reverse=True)
        shown = found[(page - 1) * per_page : page * per_page]
        return OrderList(
            list=[list_item(s) for s in shown],
            paging=Paging(currentPage=page, perPage=per_page, hasMore=len(found) > page * per_page),
        )

    @app.get(f"{PVT}/{{orderId}}", response_model=OrderView, tags=["orders"], responses=ERRORS)
    async def get_order(request: Request, actor: Staff, order_id: OrderId) -> OrderView:
        """The order as VTEX's Get order shows it, cancellation data and requests included."""
        orders = await _provider(request).get()
        return order_view(await orders.state(order_id))

    @app.post(f"{PVT}/{{orderId}}/cancel", response_model=Receipt, tags=["orders"], responses=ERRORS | QUEUED)
    async def cancel_order(
        request: Request,
        response: Response,
        actor: Staff,
        order_id: OrderId,
        idempotency_key: IdempotencyKey = None,
        body: Annotated[CancelBody | None, Body()] = None,
    ) -> Receipt:
        """Cancel. Inside the cancellation window the order is canceled at once; after it the first
        call requests the cancellation and the second confirms it, as in VTEX."""
        payload = {"actor": actor, "reason": body.reason if body else ""}
        verdict = await run_command(request, order_id, Action.REQUEST_CANCELLATION, payload, idempotency_key)
        return verdict.answer(response)

    @app.post(
        f"{PVT}/{{orderId}}/deny-cancellation-request",
        response_model=Receipt,
        tags=["orders"],
        responses=ERRORS | QUEUED,
    )
    async def deny_cancellation(
        request: Request,
        response: Response,
        actor: Staff,
        order_id: OrderId,
        body: DenyBody,
        idempotency_key: IdempotencyKey = None,
    ) -> Receipt:
        """Decline the pending cancellation request; the order goes back to where it was."""
        orders = await _provider(request).get()
        state = await orders.state(order_id)
        _check_pending(state, body.cancellationRequestId)
        payload = {"actor": actor, "reason": body.denyReason}
        verdict = await run_command(request, order_id, Action.DENY_CANCELLATION, payload, idempotency_key)
        return verdict.answer(response)

    @app.post(
        f"{PVT}/{{orderId}}/start-handling",
        status_code=204,
        response_class=Response,
        tags=["orders"],
        responses=ERRORS | QUEUED,
    )
    async def start_handling(
        request: Request,
        actor: Staff,
        order_id: OrderId,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        """Start handling; only from ready-for-handling (otherwise 409 OMS003)."""
        verdict = await run_command(
            request, order_id, Action.START_HANDLING, {"actor": actor}, idempotency_key
        )
        if verdict.queued:
            return JSONResponse(verdict.receipt.model_dump(mode="json"), 202)
        return Response(status_code=204)

    @app.post(
        f"{PVT}/{{orderId}}/invoice", response_model=Receipt, tags=["orders"], responses=ERRORS | QUEUED
    )
    async def invoice(
        request: Request,
        response: Response,
        actor: Staff,
        order_id: OrderId,
        body: InvoiceBody,
        idempotency_key: IdempotencyKey = None,
    ) -> Receipt:
        """Invoice notification. Invoices covering the total make the order invoiced; less is a
        partial invoice, after which the order can't be canceled."""
        payload = {
            "actor": actor,
            "invoice_number": body.invoiceNumber,
            "value": body.invoiceValue,
            "issued_at": body.issuanceDate,
        }
        verdict = await run_command(request, order_id, Action.INVOICE, payload, idempotency_key)
        return verdict.answer(response)

    @app.post(
        f"{PVT}/{{orderId}}/payment-approved",
        response_model=Receipt,
        tags=["orders"],
        responses=ERRORS | QUEUED,
    )
    async def payment_approved(
        request: Request,
        response: Response,
        actor: Staff,
        order_id: OrderId,
        idempotency_key: IdempotencyKey = None,
    ) -> Receipt:
        """The payment of a payment-pending order is approved; the cancellation window starts now."""
        verdict = await run_command(
            request, order_id, Action.APPROVE_PAYMENT, {"actor": actor}, idempotency_key
        )
        return verdict.answer(response)

    @app.post(
        "/api/checkout/pub/orders/{orderId}/user-cancel-request",
        response_model=Receipt,
        tags=["customer"],
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
        otherwise a request the store confirms or declines. Another customer's order is 404."""
        orders = await _provider(request).get()
        state = await orders.state(order_id)
        if state.customer_id != customer_id:
            raise OrderNotFound(order_id)  # the same answer as an unknown order: nothing leaks
        payload = {"actor": Actor.CUSTOMER, "reason": body.reason if body else ""}
        verdict = await run_command(request, order_id, Action.REQUEST_CANCELLATION, payload, idempotency_key)
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


# Errors


def _where(loc: tuple[Any, ...]) -> str:
    source, rest = (str(loc[0]), loc[1:]) if loc else ("body", ())
    path = ".".join(str(part) for part in rest)
    if source == "body":
        return path or "body"
    return f"{path} ({source})" if path else source


async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        detail = (broken.get("ctx") or {}).get("error", "")
        return error_response(400, "malformed-json", f"the body is not valid JSON: {detail}".rstrip(": "))
    parts = [f"{_where(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in errors[:5]]
    return error_response(422, "invalid-request", "; ".join(parts))


async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def on_orders_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OrdersError)
    if isinstance(exc, OrderNotFound):
        return error_response(404, "order-not-found", str(exc))
    if isinstance(exc, TemporalUnavailable):
        log.warning("answering 503: %s", exc)
        return error_response(503, "unavailable", str(exc), {"Retry-After": RETRY_AFTER_SECONDS})
    if isinstance(exc, CommandRejected):
        if exc.code == "request-id-reused":
            return error_response(422, exc.code, f"Idempotency-Key reused for another command: {exc.reason}")
        status = {"malformed": 422, "forbidden-actor": 403}.get(exc.code, 409)
        return error_response(status, exc.code, exc.reason)
    return error_response(409, "order-closed", str(exc))  # e.g. a workflow an operator terminated


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        message = f"{request.method} {request.url.path} is not an endpoint of this API; see /docs"
        return error_response(404, "not-found", message, headers)
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(405, "method-not-allowed", message, headers)
    return error_response(exc.status_code, "http-error", str(exc.detail), headers)


# The app


def create_app(settings: Settings, orders: OrdersClient | None = None) -> FastAPI:
    """The API over `orders`; with none, it connects to Temporal (per `settings`) on first use."""
    auth = Authenticator.from_settings(settings)  # a broken credentials file stops the start here
    provider = OrdersProvider(settings, orders)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            await provider.get()
        except TemporalUnavailable as err:
            log.warning("%s; /readyz answers 503 until Temporal is reachable", err)
        yield

    app = FastAPI(
        title="Orders API",
        summary="Order cancellation on Temporal, with VTEX's Orders API paths and bodies",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.auth = auth
    app.state.orders = provider
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(OrdersError, on_orders_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(CatchAll)  # added last: outermost of ours
    add_routes(app)
    return app
