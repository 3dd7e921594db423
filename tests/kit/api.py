"""The REST API as the tests run it: uvicorn on a loopback port in the test's event loop, the app keys
of each role, customer tokens, and `service` (a real worker and the API on the session's dev server)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import uvicorn
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from activities.delivery import EventSink
from orders.api import create_app
from orders.client import OrdersClient
from orders.settings import Settings
from tests.kit.cli import ORDERS, cli_environment, in_thread
from tests.kit.polling import eventually
from tests.kit.worker import settings_for
from worker import build_sink, build_worker

SECRET = "customer-token-secret-for-the-api-tests-0123456789"
ERP = {"X-VTEX-API-AppKey": "erp-key", "X-VTEX-API-AppToken": "erp-token-8b1f0c-5e6a"}
STORE = {"X-VTEX-API-AppKey": "store-key", "X-VTEX-API-AppToken": "store-token-4d2a9e-1c7f"}
STOREFRONT = {"X-VTEX-API-AppKey": "front-key", "X-VTEX-API-AppToken": "front-token-77c3b1-0b9d"}
CREDENTIALS = [
    {"appKey": h["X-VTEX-API-AppKey"], "appToken": h["X-VTEX-API-AppToken"], "role": role}
    for h, role in ((ERP, "erp"), (STORE, "store"), (STOREFRONT, "storefront"))
]
PVT = "/api/oms/pvt/orders"
CHECKOUT = "/api/checkout/pub/orders"


def customer_token(sub: str, expires_in: float = 3600, secret: str = SECRET, **claims: Any) -> dict[str, str]:
    now = int(time.time())
    payload = {"sub": sub, "iat": now, "exp": int(now + expires_in), **claims}
    return {"Authorization": f"Bearer {jwt.encode(payload, secret, algorithm='HS256')}"}


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """uvicorn on a loopback port of its own, in this event loop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # No proxy headers, as `orders serve-api` runs it: uvicorn's default trusts X-Forwarded-For from loopback.
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on", proxy_headers=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))

    async def started() -> bool:
        return server.started

    try:
        await eventually(started, bool, timeout=10, every=0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def credentials_file(directory: Path, extra: list[dict[str, str]] | None = None) -> Path:
    path = directory / "credentials.json"
    path.write_text(json.dumps(CREDENTIALS + (extra or [])))
    return path


@dataclass
class Service:
    """A real worker and the REST API over loopback HTTP, on the session's dev server."""

    http: httpx.AsyncClient
    orders: OrdersClient
    settings: Settings
    env: WorkflowEnvironment

    async def cli(self, *args: str, **extra: str) -> Any:
        environment = cli_environment(self.env, self.settings) | extra
        return await in_thread(ORDERS, *args, env=environment)

    def customer(self, customer_id: str, key: str | bytes | None = None) -> dict[str, Any]:
        headers: dict[str, Any] = customer_token(customer_id)
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers


@asynccontextmanager
async def service(
    env: WorkflowEnvironment,
    tmp_path: Path,
    sink: EventSink | None = None,
    credentials: list[dict[str, str]] | None = None,
    **overrides: Any,
) -> AsyncIterator[Service]:
    # `credentials`: app keys beside the usual ERP, STORE and STOREFRONT ones.
    files = credentials_file(tmp_path, credentials)
    settings = settings_for(tmp_path, api_credentials=files, customer_token_secret=SECRET, **overrides)
    sink = sink or build_sink(settings)
    try:
        async with (
            build_worker(env.client, settings, sink),
            serving(create_app(settings, OrdersClient(env.client, settings))) as url,
            httpx.AsyncClient(base_url=url, timeout=30) as http,
        ):
            yield Service(http, OrdersClient(env.client, settings), settings, env)
    finally:
        await sink.aclose()
