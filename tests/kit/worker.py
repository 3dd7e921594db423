"""One test's settings, a real worker polling its task queue, and the events that worker delivered."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from temporalio.client import Client

from orders.client import OrdersClient
from orders.settings import Settings
from worker import build_sink, build_worker


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for one test: its own data dir and task queue, store defaults as in production."""
    values: dict[str, Any] = {"data_dir": data_dir, "task_queue": f"orders-{uuid.uuid4().hex[:8]}"}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_worker(client: Client, settings: Settings, **options: Any) -> AsyncIterator[OrdersClient]:
    """A real worker polling `settings.task_queue`; yields the client callers use."""
    sink = build_sink(settings)
    try:
        async with build_worker(client, settings, sink, **options):
            yield OrdersClient(client, settings)
    finally:
        await sink.aclose()


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events a worker wrote to its event log (no webhook configured), in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def effects_of(settings: Settings, order_id: str) -> list[str]:
    """The types of the events delivered for one order, in order."""
    return [e["type"] for e in read_events(settings.event_log) if e["order_id"] == order_id]
