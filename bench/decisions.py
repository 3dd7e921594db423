"""Placing and canceling orders on every path, against the baseline, on one embedded Temporal.

Per path, in this order:
1. warm-up: a few orders placed and canceled, not measured;
2. loaded: `orders` orders placed at `concurrency` (placed/s), then all of them canceled at the same
   concurrency (decided/s, decision latency); then each order's close time (the workflow completes once
   `canceled` and every effect is delivered) gives the time to `canceled` (for one item canceled, the
   order goes on: the moment its history went quiet, effects recorded);
3. light load: `light_orders` more, canceled one every 1/`light_rate` s (decision latency when the
   machine is not saturated: what one caller sees).
Between phases the worker and the server are left to go idle, so no phase pays for the one before.
Histories are read after a phase's CPU is counted: what each path costs Temporal (`bench.histories`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

import httpx
from temporalio.client import Client

from bench.cluster import Process, Temporal, cpu_seconds, own_cpu_seconds, start_api, start_worker
from bench.histories import cost, histories, settled_at, typical_cost
from bench.paths import ClientItems, ClientSignal, ClientUpdate, Floor, Path, Rest
from bench.stats import percentile
from bench.waiting import close_times, pool, quiesce
from orders.client import OrdersClient
from orders.converter import DATA_CONVERTER
from orders.settings import Settings

TASK_QUEUE = "bench-orders"
COST_SAMPLE = 5  # histories read per round for the cost of a path whose times need none


@dataclass(frozen=True)
class DecisionConfig:
    orders: int
    concurrency: int
    light_orders: int
    light_rate: float
    warmup: int
    rounds: int = 1


class PathRun:
    """One path measured on one server: the figures of the issue, in milliseconds and per second.

    Its phases run in rounds interleaved with the other paths' (`run_backend`), so a slow drift in
    what else the machine runs weighs on every path alike."""

    def __init__(
        self, path: Path, client: Client, config: DecisionConfig, processes: dict[str, Any], tag: str
    ) -> None:
        self.path, self.client, self.config, self.processes = path, client, config, processes
        self.prefix = f"{tag}-{path.name.replace('_', '-')}"
        self.placing = self.deciding = self.canceling = 0.0
        self.sent: dict[str, float] = {}
        self.decided: dict[str, float] = {}
        self.closed: dict[str, float] = {}
        self.light_sent: dict[str, float] = {}
        self.light_decided: dict[str, float] = {}
        self.light_closed: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.costs: list[dict[str, int]] = []

    def _cpu(self) -> dict[str, float]:
        figures = {name: process.cpu() for name, process in self.processes.items()}
        figures["loadgen"] = own_cpu_seconds()
        return figures

    async def _settle(self) -> None:
        await quiesce([p.pid for p in self.processes.values()])

    async def _decide(self, keys: list[str], sent: dict[str, float], decided: dict[str, float]) -> None:
        async def one(key: str) -> None:
            sent[key] = time.time()
            await self.path.decide(key)
            decided[key] = time.time()

        await pool(keys, self.config.concurrency, one)

    async def _closed(self, phase: str, count: int) -> dict[str, float]:
        """Every order's close time; for a path whose runs go on, wait for the effects (times: later)."""
        if not self.path.closes:
            assert isinstance(self.path, ClientItems)
            await self.path.wait_effects(self._keys(phase, count))
            return {}
        closed = await close_times(self.client, self.path.workflow_id(f"{self.prefix}-{phase}-"), count)
        return {key: closed[self.path.workflow_id(key)] for key in self._keys(phase, count)}

    async def _from_histories(
        self, keys: list[str], decided: dict[str, float], closed: dict[str, float]
    ) -> dict[str, float]:
        """Read after the phase's CPU is counted: the effects' time of a run that goes on, and the
        path's cost (from every history read, or from a few). Returns the close times."""
        every = not self.path.closes
        chosen = keys if every else keys[:: max(1, len(keys) // COST_SAMPLE)][:COST_SAMPLE]
        found = await histories(self.client, [self.path.workflow_id(k) for k in chosen])
        events = {k: found[self.path.workflow_id(k)] for k in chosen}
        self.costs += [cost(e) for e in events.values()]
        if not self.path.closes:
            closed = {k: settled_at(events[k]) or decided[k] for k in keys}
        return closed

    def _keys(self, phase: str, count: int) -> list[str]:
        return [f"{self.prefix}-{phase}-{i}" for i in range(count)]

    async def warmup(self) -> None:
        if not self.config.warmup:
            return
        keys = self._keys("w", self.config.warmup)
        await pool(keys, self.config.concurrency, self.path.place)
        await self._settle()
        await self._decide(keys, {}, {})
        await self._closed("w", len(keys))
        await self._settle()

    async def loaded(self, round_: int, count: int) -> None:
        """Place `count` orders at the set concurrency, then cancel them all at the same concurrency."""
        phase = f"l{round_}"
        keys = self._keys(phase, count)
        cpu_before = self._cpu()
        started = time.perf_counter()
        await pool(keys, self.config.concurrency, self.path.place)
        self.placing += time.perf_counter() - started
        await self._settle()
        sent: dict[str, float] = {}
        decided: dict[str, float] = {}
        await self._decide(keys, sent, decided)
        closed = await self._closed(phase, count)
        await self._settle()
        for name, seconds in self._cpu().items():
            self.cpu[name] = self.cpu.get(name, 0.0) + seconds - cpu_before[name]
        closed = await self._from_histories(keys, decided, closed)
        first = min(sent.values())
        self.deciding += max(decided.values()) - first
        self.canceling += max(closed.values()) - first
        self.sent |= sent
        self.decided |= decided
        self.closed |= closed

    async def light(self, round_: int, count: int) -> None:
        """`count` more orders, canceled one every 1/`light_rate` s: what one caller sees."""
        phase = f"s{round_}"
        keys = self._keys(phase, count)
        await pool(keys, self.config.concurrency, self.path.place)
        await self._settle()
        sent: dict[str, float] = {}
        decided: dict[str, float] = {}
        tasks = []
        begin = time.perf_counter()
        for i, key in enumerate(keys):
            delay = begin + i / self.config.light_rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self._decide([key], sent, decided)))
        await asyncio.gather(*tasks)
        closed = await self._closed(phase, count)
        await self._settle()
        closed = await self._from_histories(keys, decided, closed)
        await self._settle()
        self.light_sent |= sent
        self.light_decided |= decided
        self.light_closed |= closed

    def figures(self) -> dict[str, Any]:
        keys, light = list(self.sent), list(self.light_sent)
        decision = [1000 * (self.decided[k] - self.sent[k]) for k in keys]
        canceled = [1000 * (self.closed[k] - self.sent[k]) for k in keys]
        light_decision = [1000 * (self.light_decided[k] - self.light_sent[k]) for k in light]
        light_canceled = [1000 * (self.light_closed[k] - self.light_sent[k]) for k in light]
        n = len(keys)
        return {
            "label": self.path.label,
            "orders": n,
            "concurrency": self.config.concurrency,
            "rounds": self.config.rounds,
            "light_orders": len(light),
            "light_rate": self.config.light_rate,
            "placed_per_s": n / self.placing,
            "decided_per_s": n / self.deciding,
            "canceled_per_s": n / self.canceling,
            "decision_p50_ms": percentile(decision, 50),
            "decision_p99_ms": percentile(decision, 99),
            "canceled_p50_ms": percentile(canceled, 50),
            "canceled_p99_ms": percentile(canceled, 99),
            "light_decision_p50_ms": percentile(light_decision, 50),
            "light_decision_p99_ms": percentile(light_decision, 99),
            "light_canceled_p50_ms": percentile(light_canceled, 50),
            "light_canceled_p99_ms": percentile(light_canceled, 99),
            "cpu_ms_per_order": {name: 1000 * seconds / n for name, seconds in self.cpu.items()},
            "queued": getattr(self.path, "queued", 0),
            "history": typical_cost(self.costs),
        }


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


@contextlib.asynccontextmanager
async def stack(temporal: Temporal, directory: FsPath) -> AsyncIterator[dict[str, Any]]:
    """The workers and the API for one server, each in its own process."""
    started: list[Process] = []
    try:
        baseline = await start_worker("baseline", temporal, directory)
        started.append(baseline)
        orders = await start_worker("orders", temporal, directory, ORDERS_TASK_QUEUE=TASK_QUEUE)
        started.append(orders)
        api, url = await start_api(temporal, directory, ORDERS_TASK_QUEUE=TASK_QUEUE)
        started.append(api)
        yield {"baseline": baseline, "orders": orders, "api": api, "url": url}
    finally:
        for process in reversed(started):
            await process.stop()


async def run_backend(
    backend: str, config: DecisionConfig, directory: FsPath, log: Callable[[str], None]
) -> dict[str, Any]:
    """Every path on one embedded Temporal (`sqlite` or `memory`)."""
    tag = uuid.uuid4().hex[:6]
    async with Temporal(backend, directory / backend) as temporal, stack(temporal, directory / backend) as s:
        client = await Client.connect(temporal.address, data_converter=DATA_CONVERTER)
        settings = Settings(_env_file=None, task_queue=TASK_QUEUE)
        orders = OrdersClient(client, settings)
        limits = httpx.Limits(
            max_connections=4 * config.concurrency, max_keepalive_connections=4 * config.concurrency
        )
        async with httpx.AsyncClient(base_url=s["url"], limits=limits, timeout=60) as http:
            server = _ServerProcess(temporal.pid)
            floor = {"worker": s["baseline"], "server": server}
            ours = {"worker": s["orders"], "server": server}
            event_log = directory / backend / "orders-worker" / "events.jsonl"
            plans: list[tuple[Path, dict[str, Any]]] = [
                (Floor(client), floor),
                (ClientUpdate(orders), ours),
                (ClientItems(orders, event_log), ours),
                (ClientSignal(orders), ours),
                (Rest(orders, http), {"worker": s["orders"], "server": server, "api": s["api"]}),
            ]
            runs = [PathRun(path, client, config, processes, tag) for path, processes in plans]
            for run in runs:
                await run.warmup()
            log(f"  {backend}: server, workers and API up; warm-up done")
            for round_, count in enumerate(_split(config.orders, config.rounds)):
                for run in runs:
                    began = time.monotonic()
                    await run.loaded(round_, count)
                    log(f"  {backend}: round {round_ + 1}/{config.rounds}, {run.path.label}: "
                        f"{count} orders in {time.monotonic() - began:.1f} s")  # fmt: skip
            for round_, count in enumerate(_split(config.light_orders, config.rounds)):
                for run in runs:
                    await run.light(round_, count)
            log(f"  {backend}: light-load phases done")
        return {run.path.name: run.figures() for run in runs}


class _ServerProcess:
    """The dev server seen as a `Process` for CPU accounting."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)
