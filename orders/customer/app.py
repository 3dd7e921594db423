"""The customer's "My orders" pages as an ASGI app of their own, mounted by the API under `/my-orders`
(SPEC §12) unless `ORDERS_CUSTOMER_PAGES=off`, when nothing is mounted and every path is the API's 404.

The console's machinery, with the pages' own settings: the signed session cookie (`Cookie`: another
name, path and salt, `SameSite=Lax` so the storefront's redirect brings it, a lifetime no longer than
the token's), revocation in a file of its own, the CSRF check on every POST, autoescaping templates and
the Content-Security-Policy that allows only the pages' own script and style. Error pages speak the
visitor's language; every answer counts against the session's rate limit (`limits`).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from orders.api.provider import OrdersProvider
from orders.console.app import SecurityHeaders
from orders.console.revoked import RevokedFile
from orders.console.sessions import (
    Cookie,
    Forbidden,
    SessionMiddleware,
    Sessions,
    require_csrf,
    signing_secret,
)
from orders.customer import access, routes
from orders.customer.access import REVOKED_FILE, AccessRefused, Gate
from orders.customer.limits import COMMANDS_PER_MINUTE, READS_PER_MINUTE, Limits
from orders.customer.links import MAX_TTL
from orders.customer.pages import HERE, PREFIX, message, templates
from orders.settings import Settings

COOKIE = Cookie(
    name="orders_my_orders",
    path=PREFIX,
    lifetime=int(MAX_TTL.total_seconds()),
    same_site="Lax",  # the storefront sends the customer here: a Strict cookie would stay behind
    salt="orders-my-orders-session",
    who="customer",
)
# Why a token let nobody in, as the page that says so: its status and its words.
REFUSALS = {"expired": 401, "invalid": 401, "revoked": 401, "disabled": 401}


class TooMany(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"{wait:.0f}")
        self.wait = wait


async def rate_limited(request: Request) -> None:
    """Each session may ask for so many pages and send so many forms a minute (`limits`); counted by
    who the session is for, so signing in again starts no new count."""
    who = access.visitor(request)
    # Nobody signed in: the session's own count, in a pool of its own (an address would be every
    # customer's behind a proxy; docs/customer-pages.md).
    key = f"{who.customer_id}/{who.order_id or '*'}" if who else f"sid:{request.session.get('sid', '')}"
    limit: Limits = request.app.state.commands if request.method == "POST" else request.app.state.reads
    wait = limit.wait(key, signed_in=who is not None)
    if wait:
        raise TooMany(wait)


def customer_app(settings: Settings, provider: OrdersProvider) -> FastAPI:
    app = FastAPI(
        title="My orders",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(require_csrf), Depends(rate_limited)],
    )
    app.state.settings = settings
    app.state.orders = provider
    revoked = RevokedFile(settings.data_dir / REVOKED_FILE)
    app.state.gate = Gate(settings, revoked)
    app.state.sessions = Sessions(signing_secret(settings), revoked, settings.console_secure_cookie, COOKIE)
    app.state.templates = templates()
    app.state.reads = Limits(READS_PER_MINUTE)
    app.state.commands = Limits(COMMANDS_PER_MINUTE)
    app.add_middleware(SessionMiddleware, sessions=app.state.sessions)
    app.add_middleware(SecurityHeaders, prefix=PREFIX)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(routes.router)
    install_error_pages(app)
    return app


def install_error_pages(app: FastAPI) -> None:
    async def forbidden(request: Request, exc: Exception) -> Response:
        return message(request, 403, "refused_title", "csrf")

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AccessRefused)
        if exc.why == "elsewhere":  # a guest link on another order's path: that order is unknown here
            return message(request, 404, "not_found_title", "not_found")
        return message(request, REFUSALS.get(exc.why, 401), "sign_in_title", exc.why)

    async def too_many(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TooMany)
        response = message(request, 429, "too_many_title", "too_many")
        response.headers["retry-after"] = str(max(1, round(exc.wait)))
        return response

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problem = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', 'invalid')}"
            for e in list(exc.errors())[:3]
        )
        return message(request, 400, "bad_request_title", "bad_request", problem=problem)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return message(request, 404, "not_found_title", "page_not_found")
        return HTMLResponse(str(exc.detail), exc.status_code)

    async def not_signed_in(request: Request, exc: Exception) -> Response:
        return message(request, 401, "sign_in_title", "sign_in_needed")

    app.add_exception_handler(routes.NotSignedIn, not_signed_in)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(AccessRefused, refused)
    app.add_exception_handler(TooMany, too_many)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)


def mount(api: FastAPI, settings: Settings, provider: OrdersProvider) -> None:
    """Serve the pages under `/my-orders` of the API, unless they are switched off."""
    if settings.customer_pages:
        api.mount(PREFIX, customer_app(settings, provider))
