"""The REST API's ASGI middleware: `BodyLimit` refuses oversized bodies with 413 before they reach a
route, `CatchAll` turns any unexpected exception into a 500 envelope, the traceback to the log only, and
`RelativeRedirects` keeps the Host header out of redirects.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orders.api.errors import error_response

log = logging.getLogger("orders.api")

MAX_BODY_BYTES = 64 * 1024
DRAIN_BYTES = 1024 * 1024  # past this, an oversized body is cut off rather than read


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
        refusal = f"the request body is over {self.max_bytes // 1024} KiB"
        await error_response(413, "payload-too-large", refusal, {"Connection": "close"})(scope, receive, send)


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


class RelativeRedirects:
    """Redirects the app's routers make for a missing slash (`/console` -> `/console/`) name the request's
    own host from its Host header, which a caller chooses, and the scheme uvicorn saw (plain HTTP behind a
    proxy that terminates TLS): answer them as the path alone, which the browser resolves against the
    address it used."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if not host and scope.get("server"):
            server_host, server_port = scope["server"]
            host = f"{server_host}:{server_port}" if server_port else str(server_host)

        async def relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                message["headers"] = [
                    (name, own_path(value, host) if name.lower() == b"location" else value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, relative)


def own_path(location: bytes, host: str) -> bytes:
    """`http://<host>/a?b` -> `/a?b` when `<host>` is the request's own; any other location as it is."""
    parts = urlsplit(location.decode("latin-1"))
    if parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower():
        # One leading slash: `//evil.example/` (or `/\\evil.example/`) would be another site to a browser.
        path = "/" + parts.path.lstrip("/\\") + (f"?{parts.query}" if parts.query else "")
        return path.encode("latin-1")
    return location
