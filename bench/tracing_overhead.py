"""`python -m bench.tracing_overhead [--orders N] [--rounds R] [--on]`: what tracing costs the worker and
the client, in this process's CPU time per order (docs/observability.md, "Cost").

Each order is placed, then canceled inside its window (an update, the compensation's activity, its
events to the local event log), by a worker and a client in this process against an in-memory dev
server in another. Off (no endpoint) is the default; `--on` traces into memory through the same code
`OTEL_EXPORTER_OTLP_ENDPOINT` turns on. Run it from an older checkout's directory for the "before".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, Status
from domain.models import OrderInput
from orders.client import OrdersClient
from orders.settings import Settings
from worker import build_sink, build_worker
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES


@contextmanager
def traced_in_memory() -> Iterator[None]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from orders import telemetry

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    with telemetry.activated(telemetry.Tracing(provider)):
        yield


async def one_order(orders: OrdersClient) -> None:
    order_id = f"t-{uuid.uuid4().hex[:10]}"
    body = {
        "order_id": order_id,
        "customer_id": "c-1",
        "total": 1000,
        "items": [{"sku": "A", "quantity": 1, "price": 1000}],
    }
    await orders.place(OrderInput.model_validate(body))
    await orders.send(order_id, Action.REQUEST_CANCELLATION, {"actor": "store", "reason": "bench"})
    while (await orders.state(order_id)).status is not Status.CANCELED:
        await asyncio.sleep(0.01)


async def run(count: int, rounds: int, on: bool) -> dict[str, Any]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=shutil.which("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_extra_args=["--headless"],
    )
    per_order: list[float] = []
    async with env:
        with tempfile.TemporaryDirectory() as data, ExitStack() as stack:
            if on:
                stack.enter_context(traced_in_memory())
            settings = Settings(_env_file=None, data_dir=Path(data), task_queue="bench-tracing")
            client = await connect_like_the_service(env, settings)
            sink = build_sink(settings)
            async with build_worker(client, settings, sink):
                orders = OrdersClient(client, settings)
                await asyncio.gather(*(one_order(orders) for _ in range(10)))  # warm-up
                for _ in range(rounds):
                    started = time.process_time()
                    for chunk in range(0, count, 10):
                        await asyncio.gather(*(one_order(orders) for _ in range(min(10, count - chunk))))
                    per_order.append((time.process_time() - started) / count * 1000)
            await sink.aclose()
    return {
        "tracing": "on" if on else "off",
        "orders": count,
        "cpu_ms_per_order": per_order,
        "median_cpu_ms_per_order": statistics.median(per_order),
    }


async def connect_like_the_service(env: WorkflowEnvironment, settings: Settings) -> Client:
    """As `orders.connection.connect` does, where it exists (the tracing interceptor when on)."""
    try:
        from temporalio.envconfig import ClientConfigProfile

        from orders.connection import connect

        profile = ClientConfigProfile(
            address=env.client.service_client.config.target_host, namespace="default"
        )
        return await connect(settings, profile)
    except ImportError:
        return env.client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--on", action="store_true", help="trace into memory")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.orders, args.rounds, args.on))), flush=True)
    os._exit(0)  # skip the teardown the SDK's Rust threads can abort (worker.py `_exit`)


if __name__ == "__main__":
    main()
