"""What the tests share: the processes and servers they start, the order they place, the service they
run (a worker and the REST API on loopback), the credentials and tokens, and the looks at an order's
history. One module, so every test file reaches for the same helper."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import uvicorn
from fastapi import FastAPI
from temporalio.api.enums.v1 import EventType, TimeoutType, WorkflowTaskFailedCause
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.delivery import EventSink
from domain.lifecycle import Action, Status
from domain.models import OrderInput
from domain.state import OrderState
from orders.api import create_app
from orders.client import OrdersClient
from orders.settings import Settings
from tests.conftest import eventually, read_events, settings_for
from worker import build_sink, build_worker
from workflows.names import workflow_id

MINUTE, HOUR, DAY = 60, 60 * 60, 24 * 60 * 60


def history_problems(events: Any) -> list[str]:
    """Workflow task failures and timeouts in a history, each as `event: cause: message`."""
    problems = []
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failed = event.workflow_task_failed_event_attributes
            cause = WorkflowTaskFailedCause.Name(failed.cause)
            problems.append(f"{event.event_id} failed: {cause}: {failed.failure.message[:200]}")
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
            timeout = TimeoutType.Name(event.workflow_task_timed_out_event_attributes.timeout_type)
            problems.append(f"{event.event_id} timed out: {timeout}")
    return problems


async def all_runs(client: Client, order_id: str) -> list[tuple[str, list[Any]]]:
    """Every run of an order's workflow (continue-as-new makes several), oldest first, with its events."""
    runs: list[tuple[str, list[Any]]] = []
    handle = client.get_workflow_handle(workflow_id(order_id))
    run_id: str | None = (await handle.describe()).run_id
    while run_id:  # walk back from the newest run through each first event's previous run
        history = await client.get_workflow_handle(workflow_id(order_id), run_id=run_id).fetch_history()
        runs.insert(0, (run_id, list(history.events)))
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
    return runs


async def quiet(handle: WorkflowHandle[Any, Any]) -> int:
    """Wait until no workflow task or activity is in flight; the history's length then."""
    task_events = {
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    }
    closed = {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }

    async def length_if_quiet() -> int:
        events = (await handle.fetch_history()).events
        if events[-1].event_type in closed:
            return len(events)
        last_task = next(e.event_type for e in reversed(events) if e.event_type in task_events)
        scheduled = {
            e.event_id for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        }
        finished = {
            e.activity_task_completed_event_attributes.scheduled_event_id
            for e in events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
        }
        settled = last_task == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and scheduled <= finished
        return len(events) if settled else -1

    return await eventually(length_if_quiet, lambda n: n > 0, timeout=30, every=0.2)


def moves(state: OrderState) -> list[str]:
    return [e.to_status.value for e in state.timeline if not e.refused]


def check_timeline(state: OrderState) -> None:
    """One chain of moves from placement to the current status, in time order."""
    chain = [e for e in state.timeline if not e.refused]
    assert chain[0].from_status is None, chain
    for before, entry in itertools.pairwise(chain):
        assert entry.from_status is before.to_status and entry.at >= before.at, state.timeline
    assert chain[-1].to_status is state.status


def effects_of(settings: Settings, order_id: str) -> list[str]:
    return [e["type"] for e in read_events(settings.event_log) if e["order_id"] == order_id]


async def in_thread(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run a command off the event loop (the worker shares it), capturing its output."""
    return await asyncio.to_thread(
        subprocess.run, list(args), env=env, capture_output=True, text=True, timeout=timeout
    )


def temporal_cli(env: WorkflowEnvironment) -> Callable[..., Any]:
    target = env.client.service_client.config.target_host

    async def run(*args: str) -> subprocess.CompletedProcess:
        return await in_thread(shutil.which("temporal") or "temporal", *args, "--address", target)

    return run


async def place(orders: OrdersClient, **overrides: Any) -> str:
    order_id = overrides.pop("order_id", f"f-{uuid.uuid4().hex[:10]}")
    body = {
        "order_id": order_id,
        "customer_id": "c-42",
        "total": 12990,
        "items": [{"sku": "A1", "quantity": 2, "price": 6495}],
    } | overrides
    assert (await orders.place(OrderInput.model_validate(body))).created
    return order_id


async def reaches(orders: OrdersClient, order_id: str, status: Status, timeout: float = 15) -> OrderState:
    return await eventually(lambda: orders.state(order_id), lambda s: s.status is status, timeout=timeout)


SECRET = "customer-token-secret-for-the-api-tests-0123456789"


ERP = {"X-VTEX-API-AppKey": "erp-key", "X-VTEX-API-AppToken": "erp-token-8b1f0c-5e6a"}


STORE = {"X-VTEX-API-AppKey": "store-key", "X-VTEX-API-AppToken": "store-token-4d2a9e-1c7f"}


STOREFRONT = {"X-VTEX-API-AppKey": "front-key", "X-VTEX-API-AppToken": "front-token-77c3b1-0b9d"}


CREDENTIALS = [
    {"appKey": h["X-VTEX-API-AppKey"], "appToken": h["X-VTEX-API-AppToken"], "role": role}
    for h, role in ((ERP, "erp"), (STORE, "store"), (STOREFRONT, "storefront"))
]


PVT = "/api/oms/pvt/orders"


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


CHECKOUT = "/api/checkout/pub/orders"


ORDERS_CLI = str(Path(sys.executable).with_name("orders"))


@dataclass
class Service:
    """A real worker and the REST API over loopback HTTP, on the session's dev server."""

    http: httpx.AsyncClient
    orders: OrdersClient
    settings: Settings
    env: WorkflowEnvironment

    async def cli(self, *args: str, **extra: str) -> Any:
        environment = cli_environment(self.env, self.settings) | extra
        return await in_thread(ORDERS_CLI, *args, env=environment)

    def customer(self, customer_id: str, key: str | bytes | None = None) -> dict[str, Any]:
        headers: dict[str, Any] = customer_token(customer_id)
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers


def cli_environment(env: WorkflowEnvironment, settings: Settings) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "ORDERS_"))}
    return base | {
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "ORDERS_TASK_QUEUE": settings.task_queue,
        "ORDERS_UPDATE_TIMEOUT_SECONDS": "3",
    }


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


@dataclass
class Shop:
    orders: OrdersClient
    settings: Settings
    env: WorkflowEnvironment

    async def place(self, **overrides: Any) -> str:
        order_id = overrides.pop("order_id", uuid.uuid4().hex[:10])
        body = {
            "order_id": order_id,
            "customer_id": "c-42",
            "total": 12990,
            "items": [{"sku": "A1", "quantity": 2, "price": 6495}],
        }
        placed = await self.orders.place(OrderInput.model_validate(body | overrides))
        assert placed.created
        return order_id

    async def send(self, order_id: str, action: Action, **payload: Any) -> OrderState:
        # Stamp commands with the server's skipped clock, as a client's clock agrees with a real server's.
        payload.setdefault("requested_at", (await self.env.get_current_time()).isoformat())
        result = await self.orders.send(order_id, action, payload, update_timeout=30)
        assert result.state is not None
        return result.state

    async def reaches(self, order_id: str, status: Status) -> OrderState:
        return await eventually(lambda: self.orders.state(order_id), lambda s: s.status is status)

    async def skip(self, seconds: int) -> None:
        await self.env.sleep(seconds)

    async def skip_until_timer_fires(self, order_id: str) -> None:
        """With no worker, the test server stops skipping once a fired timer awaits a workflow task."""
        sleeping = asyncio.create_task(self.env.sleep(31 * MINUTE))
        handle = self.orders.temporal.get_workflow_handle(workflow_id(order_id))

        async def fired() -> bool:
            history = await handle.fetch_history()
            return any(e.event_type == EventType.EVENT_TYPE_TIMER_FIRED for e in history.events)

        await eventually(fired, bool)
        sleeping.cancel()

    async def final(self, order_id: str) -> OrderState:
        handle = self.orders.temporal.get_workflow_handle(workflow_id(order_id), result_type=OrderState)
        return await handle.result()

    def effects(self, order_id: str) -> Counter[str]:
        return Counter(e["type"] for e in read_events(self.settings.event_log) if e["order_id"] == order_id)
