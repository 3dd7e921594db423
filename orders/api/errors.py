"""How the REST API answers anything but success: VTEX's envelope `{"error": {"code", "message"}}`.

`ApiError` is raised where a request is refused; the exception handlers turn it, the client's typed
errors (unknown order, refused command, Temporal unreachable) and FastAPI's own (invalid request,
unknown path) into the envelope, and `ERRORS` documents them in the OpenAPI document.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from orders.api.receipts import Out
from orders.errors import CommandRejected, OrderNotFound, OrdersError, TemporalUnavailable

log = logging.getLogger("orders.api")

RETRY_AFTER_SECONDS = "5"


class ApiError(Exception):
    """An answer other than success, rendered as VTEX's `{"error": {"code", "message"}}`."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class ErrorDetail(Out):
    code: str
    message: str


class ErrorEnvelope(Out):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope, "description": text}
    for code, text in {
        400: "malformed JSON; refusals VTEX documents as 400",
        401: "missing or wrong credentials",
        403: "role not allowed",
        404: "unknown order",
        409: "refused by the order's rules",
        413: "body too large",
        422: "invalid field (named in the message)",
        503: "Temporal or its workers unreachable",
    }.items()
}


class ErrorJSONResponse(JSONResponse):
    media_type = "application/json; charset=utf-8"


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return ErrorJSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


def _where(loc: tuple[Any, ...]) -> str:
    source, rest = (str(loc[0]), loc[1:]) if loc else ("body", ())
    path = ".".join(str(part) for part in rest)
    if source == "body":
        return path or "body"
    return f"{path} ({source})" if path else source


async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return invalid_request(exc)


def invalid_request(exc: RequestValidationError, status: int = 422) -> JSONResponse:
    """The envelope for a request whose fields don't fit, each named; malformed JSON is always 400."""
    errors = list(exc.errors())
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        detail = (broken.get("ctx") or {}).get("error", "")
        return error_response(400, "malformed-json", f"the body is not valid JSON: {detail}".rstrip(": "))
    parts = [f"{_where(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in errors[:5]]
    return error_response(status, "invalid-request", "; ".join(parts))


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
        return error_response(rejection_status(exc), exc.code, exc.reason)
    return error_response(409, "order-closed", str(exc))  # e.g. a workflow an operator terminated


# Not the order's rules: the command itself is wrong, or its sender may not send it.
NOT_RULES = {"malformed": 422, "request-id-reused": 422, "forbidden-actor": 403}


def rejection_status(exc: CommandRejected) -> int:
    """The status of a refused command: 409 for the order's rules (VTEX's Conflict, as for OMS003)."""
    return NOT_RULES.get(exc.code, 409)


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


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with the envelope: FastAPI's invalid requests, ours, the client's, unknown paths."""
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(OrdersError, on_orders_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
