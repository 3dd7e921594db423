"""The command-line tools as people and scripts run them: the installed `orders` console script and the
`temporal` CLI, each a subprocess with one test's environment and nothing from the developer's shell."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Status
from orders.client import OrdersClient
from orders.settings import Settings
from tests.kit.paths import ORDERS
from tests.kit.polling import eventually
from tests.kit.processes import shell_without_settings


async def in_thread(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a command off the event loop (the worker shares it), capturing its output."""
    return await asyncio.to_thread(
        subprocess.run, list(args), env=env, capture_output=True, text=True, timeout=timeout
    )


def temporal_cli(env: WorkflowEnvironment) -> Callable[..., Any]:
    """The `temporal` CLI against `env`'s server."""
    target = env.client.service_client.config.target_host

    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        return await in_thread(shutil.which("temporal") or "temporal", *args, "--address", target)

    return run


def cli_environment(env: WorkflowEnvironment, settings: Settings) -> dict[str, str]:
    """What `orders` needs to reach `env`'s server and the worker on `settings.task_queue`."""
    return shell_without_settings() | {
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "ORDERS_TASK_QUEUE": settings.task_queue,
        "ORDERS_UPDATE_TIMEOUT_SECONDS": "3",
    }


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


@dataclass(frozen=True)
class Cli:
    """The `orders` command with one test's environment: the dev server, its task queue, data dir."""

    env: dict[str, str]
    cwd: Path

    async def __call__(self, *args: str, **env: str) -> Ran:
        return await run(ORDERS, *args, env={**self.env, **env}, cwd=self.cwd)

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            ORDERS, *args, env=self.env, cwd=self.cwd, stdout=asyncio.subprocess.PIPE
        )


async def run(program: Path, *args: str, env: dict[str, str], cwd: Path) -> Ran:
    """`program` awaited asynchronously (a blocking call would stall a worker sharing this loop)."""
    process = await asyncio.create_subprocess_exec(
        program, *args, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


def cli_for(env: WorkflowEnvironment, settings: Settings, tmp_path: Path, **extra: str) -> Cli:
    # Only this test's settings: nothing from the developer's shell, and no `.env` (cwd is tmp_path).
    base = shell_without_settings()
    base.update(
        TEMPORAL_ADDRESS=env.client.service_client.config.target_host,
        ORDERS_TASK_QUEUE=settings.task_queue,
        ORDERS_DATA_DIR=str(settings.data_dir),
        ORDERS_UPDATE_TIMEOUT_SECONDS="15",
    )
    return Cli({**base, **extra}, tmp_path)


def one_line_error(ran: Ran, code: int, *words: str) -> None:
    """`ran` failed with `code` and said why in one line (no traceback), naming each of `words`."""
    assert ran.code == code, ran
    assert len(ran.err.strip().splitlines()) == 1 and "Traceback" not in ran.err, ran.err
    for word in words:
        assert word in ran.err, ran.err


async def listed(client: OrdersClient, order_id: str, status: Status) -> None:
    """Wait until the search attributes show the order in `status` (visibility lags a moment)."""
    await eventually(
        lambda: client.list_orders(status=status, limit=1000),
        lambda found: order_id in {summary.order_id for summary in found},
    )
