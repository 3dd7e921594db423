"""Waiting for work to be done: a closed-loop pool, the processes gone idle, workflows closed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable

from temporalio.client import Client

from bench.cluster import cpu_seconds

SETTLE_TIMEOUT = 120.0


async def pool(items: Iterable[str], concurrency: int, work: Callable[[str], Awaitable[None]]) -> None:
    """Run `work` over `items`, `concurrency` at a time (closed loop)."""
    queue = iter(items)

    async def runner() -> None:
        for item in queue:
            await work(item)

    await asyncio.gather(*(runner() for _ in range(concurrency)))


async def quiesce(
    pids: list[int], idle_share: float = 0.05, steady_share: float = 0.35, spread: float = 0.1
) -> None:
    """Wait until these processes together use under `idle_share` of a core for two intervals, or
    until their use has settled on a steady background: under `steady_share` of a core, within `spread`
    for four intervals (an in-memory server holding thousands of runs keeps using a fifth of a core or
    so when nothing is sent to it; a backlog being worked off uses far more, and unevenly)."""
    interval = 0.25
    shares: list[float] = []
    deadline = time.monotonic() + SETTLE_TIMEOUT
    before = sum(cpu_seconds(pid) for pid in pids)
    while time.monotonic() < deadline:
        await asyncio.sleep(interval)
        now = sum(cpu_seconds(pid) for pid in pids)
        shares.append((now - before) / interval)
        before = now
        if len(shares) >= 2 and max(shares[-2:]) < idle_share:
            return
        last = shares[-4:]
        if len(last) == 4 and max(last) < steady_share and max(last) - min(last) <= spread:
            return


async def close_times(client: Client, id_prefix: str, count: int) -> dict[str, float]:
    """Wait until `count` workflows whose id starts with `id_prefix` have closed; their close times."""
    query = f'WorkflowId STARTS_WITH "{id_prefix}" AND ExecutionStatus != "Running"'
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while (await client.count_workflows(query)).count < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"workflows {id_prefix}* did not all close within {SETTLE_TIMEOUT:.0f} s")
        await asyncio.sleep(0.25)
    closed: dict[str, float] = {}
    async for execution in client.list_workflows(query):
        if execution.close_time is not None:
            closed[execution.id] = execution.close_time.timestamp()
    return closed
