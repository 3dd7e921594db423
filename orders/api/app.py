"""The REST API: VTEX's Orders API paths for cancellation, over `OrdersClient`.

Verdicts come from Temporal updates; when no worker answers in time the command is queued as the
same-named signal and the answer is 202 with the receipt. Every answer other than success is VTEX's
envelope `{"error": {"code", "message"}}`, FastAPI's own errors included, and no traceback ever
reaches a caller. `create_app` puts the rooms together: `errors` (the envelope), `middleware`,
`provider` (Temporal, connected lazily), `security` (who may call), `commands` and the `routes`.
docs/api.md is the reference, with each place where VTEX's documents disagree and what we chose.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from orders import telemetry
from orders.api import docs
from orders.api.auth import Authenticator
from orders.api.errors import install_error_handlers
from orders.api.middleware import MAX_BODY_BYTES, BodyLimit, CatchAll, RelativeRedirects
from orders.api.provider import OrdersProvider
from orders.api.routes import changes, customer, items, links, listing, ops, policy, staff
from orders.client import OrdersClient
from orders.console.app import mount as mount_console
from orders.customer.app import mount as mount_customer_pages
from orders.errors import TemporalUnavailable
from orders.settings import Settings
from orders.version import package_version

log = logging.getLogger("orders.api")


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

    # /docs (Swagger UI) loads its script and style from this process (fastapi-offline ships them),
    # not from a CDN: it works offline and behind a strict proxy. No /redoc: its bundle fetches a logo
    # from cdn.redoc.ly, and /docs reads the same OpenAPI document. Our /docs page is `docs.install`'s:
    # fastapi-offline's carries no security headers.
    app = FastAPIOffline(
        docs_url=None,
        redoc_url=None,
        title="Orders API",
        summary="Order cancellation on Temporal, with VTEX's Orders API paths and bodies",
        version=package_version(),
        lifespan=lifespan,
        static_url="/docs-assets",
    )
    app.state.settings = settings
    app.state.auth = auth
    app.state.orders = provider
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    docs.install(app)
    app.add_middleware(RelativeRedirects)
    app.add_middleware(CatchAll)  # added last: outermost of ours
    if settings.proxies:
        # Who the client is (the console's sign-in throttle) and whether it came over HTTPS (the
        # Secure cookie), from the headers of the proxies named, and only theirs (docs/deploying.md).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.proxies)
    for routes in (ops, listing, staff, items, changes, policy, customer, links):
        app.include_router(routes.router)
    mount_console(app, settings, provider)  # the staff console under /console (docs/console.md)
    mount_customer_pages(
        app, settings, provider
    )  # "My orders" under /my-orders (docs/customer-pages.md), unless off
    if tracing := telemetry.active():
        tracing.instrument_app(app)  # a server span per request, the console's pages included
    return app
