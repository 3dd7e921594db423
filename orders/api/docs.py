"""The API's own pages (`/docs`: Swagger UI, whose script and style fastapi-offline ships under
`/docs-assets`; `/openapi.json`) share an origin with the staff console, so they get the console's
security headers (docs/console.md, "Security"): a Content-Security-Policy without `unsafe-inline`, the
page's one inline script allowed by its hash, no framing, `nosniff`. Every other answer of the API is
JSON and gets the same frame and sniffing protection.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orders.console.app import SECURITY_HEADERS as CONSOLE_HEADERS
from orders.console.pages import PREFIX as CONSOLE

DOCS, ASSETS = "/docs", "/docs-assets"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
# What every answer outside the console carries; the console sets its own (orders/console/app.py).
COMMON = {name: value for name, value in CONSOLE_HEADERS.items() if name != "content-security-policy"}
COMMON.pop("cache-control")  # the API's answers and the docs' assets keep their own caching
JSON_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def docs_page(app: FastAPI) -> tuple[str, str]:
    """Swagger UI's page for `app` and the CSP that allows exactly its inline script (no OAuth2 flows
    here, so no redirect page)."""
    html = bytes(
        get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=None,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        ).body
    ).decode()
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in INLINE_SCRIPT.findall(html)
    )
    policy = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
    return html, policy


def install(app: FastAPI) -> None:
    """`/docs` with its policy, and the headers on every answer outside the console."""
    html, policy = docs_page(app)

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(html)

    app.add_middleware(SecurityHeaders, docs_policy=policy)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, docs_policy: str) -> None:
        self.app = app
        self.docs_policy = docs_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path or path == CONSOLE or path.startswith(f"{CONSOLE}/"):
            await self.app(scope, receive, send)
            return
        docs = path == DOCS or path.startswith(f"{ASSETS}/")
        wanted = COMMON | {"content-security-policy": self.docs_policy if docs else JSON_POLICY}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                headers.extend(
                    (k.encode(), v.encode()) for k, v in wanted.items() if k.encode() not in present
                )
            await send(message)

        await self.app(scope, receive, with_headers)
