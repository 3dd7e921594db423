"""The console as an ASGI app of its own, mounted by the API under `/console` (`mount`): its own error
pages (HTML, not the API's JSON envelope), session cookie, CSRF check on every POST, static files and
templates (Jinja2, autoescape on for every template), and a Content-Security-Policy that allows only
its own script and style, so even a missed escape could not run a customer's script.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orders.api.provider import OrdersProvider
from orders.console import routes_auth, routes_lists, routes_order, routes_queue
from orders.console.auth import NeedsSignIn, Throttle
from orders.console.guard import PasswordChecks
from orders.console.live import QueueCache
from orders.console.pages import FETCH_HEADER, HERE, PREFIX, render, templates
from orders.console.revoked import FILE_NAME as REVOKED_FILE
from orders.console.revoked import RevokedFile
from orders.console.sessions import (
    Forbidden,
    SessionMiddleware,
    Sessions,
    require_csrf,
    signing_secret,
)
from orders.console.users import UsersFile
from orders.settings import Settings

log = logging.getLogger("orders.console")

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp, prefix: str = PREFIX) -> None:
        self.app = app
        self.static = f"{prefix}/static/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Static files may be kept, and revalidated (their ETag) on each use; pages never are.
        static = scope["type"] == "http" and scope["path"].startswith(self.static)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        kept = static and name == "cache-control"
                        headers.append((name.encode(), b"no-cache" if kept else value.encode()))
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def console_app(settings: Settings, provider: OrdersProvider) -> FastAPI:
    app = FastAPI(
        title="Orders console",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(require_csrf)],
    )
    app.state.settings = settings
    app.state.orders = provider
    app.state.users = UsersFile(settings.console_users_file)
    if not app.state.users.users():  # a broken accounts file stops the start (UsersFileError)
        log.warning(
            "the staff console has no accounts yet (%s): create one with "
            "`orders console add-user NAME --role store`",
            settings.console_users_file,
        )
    app.state.throttle = Throttle()
    app.state.password_checks = PasswordChecks(
        settings.console_signin_concurrency, settings.console_signin_per_client
    )
    app.state.queue_cache = QueueCache()
    revoked = RevokedFile(settings.console_users_file.with_name(REVOKED_FILE))
    app.state.sessions = Sessions(signing_secret(settings), revoked, settings.console_secure_cookie)
    app.state.templates = templates()
    app.add_middleware(SessionMiddleware, sessions=app.state.sessions)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for routes in (routes_auth, routes_queue, routes_order, routes_lists):
        app.include_router(routes.router)
    install_error_pages(app)
    return app


def install_error_pages(app: FastAPI) -> None:
    async def needs_sign_in(request: Request, exc: Exception) -> Response:
        if request.headers.get(FETCH_HEADER):
            return Response("signed out", 401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{PREFIX}/signin?next={quote(target, safe='/')}", 303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        return render(request, "message.html", 403, title="Refused", message=str(exc))

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', 'invalid')}"
            for e in list(exc.errors())[:3]
        )
        return render(request, "message.html", 400, title="Bad request", message=problems)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not found", 405: "Not allowed"}.get(exc.status_code, "Error")
        message = "There is no such page in the console." if exc.status_code == 404 else str(exc.detail)
        return render(request, "message.html", exc.status_code, title=title, message=message)

    app.add_exception_handler(NeedsSignIn, needs_sign_in)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)


def mount(api: FastAPI, settings: Settings, provider: OrdersProvider) -> None:
    """Serve the console under `/console` of the API (`/console` itself redirects to `/console/`)."""
    api.mount(PREFIX, console_app(settings, provider))
