"""Thousands of open orders: worker memory as they pile up, and how late grace timers fire among them.

1. Ramp: `open_target` orders are placed as fast as the machine takes them (`ramp_concurrency`
   placements in flight, at most `ramp_backlog` not yet processed by the worker), each with a long grace
   period (1-2 h, spread at random), so they all stay open. The worker process's RSS is read when 1/10,
   1/2 and all of them are open (placed, and processed by the worker: their placement event is in its
   event log). How fast the worker processed them is the machine's placement capacity.
2. Steady: orders then keep arriving at a sustained rate for `steady` seconds, each with a short grace
   period (`grace` range, so deadlines spread over time) whose timer fires during the run, while the
   ramp's orders stay open. The rate is `steady_share` of the ramp's capacity unless set (`rate`): an
   order's expiry costs about what its placement did, so half the capacity is what the machine sustains
   with room to spare. Lateness: the deadline the workflow set its timer for → the moment Temporal
   recorded the order's move to `ready-for-handling` (the history event of the workflow task that made
   it), for every order whose deadline fell while arrivals went on (up to `lateness_sample` of them, at
   random).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.cluster import Temporal, cpu_seconds, own_cpu_seconds, start_worker
from bench.decisions import TASK_QUEUE
from bench.paths import order_input
from bench.stats import percentile
from bench.waiting import pool, quiesce
from orders.client import OrdersClient
from orders.converter import DATA_CONVERTER
from orders.settings import Settings
from workflows.names import workflow_id

PLACED = b'"to_status":"window-to-cancel"'
READY = b'"to_status":"ready-for-handling"'
READY_PAYLOAD = b'"ready-for-handling"'
RAMP_GRACE = (3600, 7200)
RAMP_TIMEOUT = 1800.0


@dataclass(frozen=True)
class ScaleConfig:
    open_target: int
    steady: float
    grace: tuple[int, int]
    drain: float
    lateness_sample: int
    backend: str = "memory"
    ramp_concurrency: int = 32
    ramp_backlog: int = 200  # orders placed and not yet processed by the worker, at most
    steady_share: float = 0.5
    rate: float | None = None  # steady arrivals per second; None: `steady_share` of the ramp's rate

    @property
    def checkpoints(self) -> list[int]:
        return [self.open_target // 10, self.open_target // 2, self.open_target]


class EventCounter:
    """Counts placements and expiries in the worker's event log, reading only what was appended."""

    def __init__(self, path: FsPath) -> None:
        self.path = path
        self.offset = 0
        self.tail = b""
        self.placed = 0
        self.ready = 0

    def poll(self) -> tuple[int, int]:
        if self.path.exists():
            with self.path.open("rb") as log:
                log.seek(self.offset)
                chunk = log.read()
            self.offset += len(chunk)
            data = self.tail + chunk
            cut = data.rfind(b"\n") + 1
            complete, self.tail = data[:cut], data[cut:]
            self.placed += complete.count(PLACED)
            self.ready += complete.count(READY)
        return self.placed, self.ready


async def _deadline_and_ready(client: Client, order_id: str) -> tuple[float | None, float | None]:
    """(the grace deadline, when `ready-for-handling` was recorded), from the order's history.

    The deadline is the one the workflow set its timer for: the timer's duration counted from the
    workflow task that started it (the workflow's `now()` there), whatever the workflow counts the
    window from."""
    history = await client.get_workflow_handle(workflow_id(order_id)).fetch_history()
    task_started = deadline = ready = None
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            task_started = event.event_time.ToDatetime().timestamp()
        elif event.event_type == EventType.EVENT_TYPE_TIMER_STARTED and deadline is None and task_started:
            timeout = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            deadline = task_started + timeout.total_seconds()
        elif event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            status = fields.get("OrderStatus")
            if status is not None and status.data == READY_PAYLOAD:
                ready = event.event_time.ToDatetime().timestamp()
                break
    return deadline, ready


class ScaleRun:
    def __init__(self, config: ScaleConfig, directory: FsPath, log: Any) -> None:
        self.config, self.directory, self.log = config, directory / "scale", log
        self.tag = uuid.uuid4().hex[:6]
        self.rng = random.Random(7)
        self.rss_at: dict[int, float] = {}
        self.samples: list[dict[str, float]] = []
        self.failures = 0
        self.acked = 0

    async def run(self) -> dict[str, Any]:
        config = self.config
        async with Temporal(config.backend, self.directory) as temporal:
            worker = await start_worker("orders", temporal, self.directory, ORDERS_TASK_QUEUE=TASK_QUEUE)
            try:
                client = await Client.connect(temporal.address, data_converter=DATA_CONVERTER)
                settings = Settings(_env_file=None, task_queue=TASK_QUEUE)
                self.orders = OrdersClient(client, settings)
                counter = EventCounter(self.directory / "orders-worker" / "events.jsonl")
                rss_idle = worker.rss()
                begin = time.monotonic()
                sampler = asyncio.create_task(self._sample(worker, counter, begin))
                try:
                    ramp = await self._ramp(counter, begin)
                    await quiesce([worker.pid, temporal.pid])
                    rss_ramped = worker.rss()
                    rate = config.rate or config.steady_share * ramp["capacity_per_s"]
                    self.log(f"  scale: steady arrivals at {rate:.1f}/s for {config.steady:.0f} s")
                    cpu_before = (worker.cpu(), cpu_seconds(temporal.pid), own_cpu_seconds())
                    steady = await self._steady(rate)
                    await asyncio.sleep(config.drain)
                    stopped_at = time.time()
                    cpu_after = (worker.cpu(), cpu_seconds(temporal.pid), own_cpu_seconds())
                    steady_seconds = time.time() - steady["began"]
                    rss_end = worker.rss()
                finally:
                    sampler.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sampler
            finally:
                await worker.stop()
            lateness, not_fired = await self._lateness(client, steady, stopped_at)

        first = self.rss_at.get(config.checkpoints[0], float("nan"))
        last = self.rss_at.get(config.checkpoints[-1], float("nan"))
        cpu = dict(
            zip(
                ("worker", "server", "loadgen"),
                (a - b for a, b in zip(cpu_after, cpu_before, strict=True)),
                strict=True,
            )
        )
        return {
            "backend": config.backend,
            "open_target": config.open_target,
            "ramp_seconds": ramp["seconds"],
            "ramp_capacity_per_s": ramp["capacity_per_s"],
            "placement_failures": self.failures,
            "worker_rss_idle_mib": rss_idle,
            "worker_rss_mib": {str(mark): self.rss_at.get(mark, float("nan")) for mark in config.checkpoints},
            "worker_rss_ramped_mib": rss_ramped,
            "worker_rss_end_mib": rss_end,
            "rss_ratio_last_to_first": last / first,
            "arrival_rate_per_s": steady["placed"] / config.steady,
            "arrival_rate_target_per_s": rate,
            "arrivals_behind_max_s": steady["behind"],
            "steady_seconds": config.steady,
            "grace_seconds": list(config.grace),
            "steady_cpu_share": {name: seconds / steady_seconds for name, seconds in cpu.items()},
            "timers_measured": len(lateness),
            "timers_not_fired": not_fired,
            "lateness_p50_s": percentile(lateness, 50),
            "lateness_p99_s": percentile(lateness, 99),
            "lateness_max_s": max(lateness) if lateness else float("nan"),
            "samples": self.samples[:: max(1, len(self.samples) // 200)],
        }

    async def _sample(self, worker: Any, counter: EventCounter, begin: float) -> None:
        while True:
            placed, ready = counter.poll()
            open_now, rss = placed - ready, worker.rss()
            self.samples.append({"t": time.monotonic() - begin, "open": open_now, "rss_mib": rss})
            for mark in self.config.checkpoints:
                if mark not in self.rss_at and open_now >= mark:
                    self.rss_at[mark] = rss
                    self.log(f"  scale: {open_now} open orders, worker RSS {rss:.0f} MiB")
            await asyncio.sleep(0.5)

    async def _place(self, key: str, grace: int) -> None:
        try:
            await self.orders.place(order_input(key, grace))
            self.acked += 1
        except Exception:
            self.failures += 1

    async def _ramp(self, counter: EventCounter, begin: float) -> dict[str, float]:
        """Place as fast as the worker takes them: at most `ramp_backlog` orders placed and not yet
        processed (more only queues work in Temporal, and evicts orders from the worker's cache before
        their next task, which then replays them: the machine would go slower, not faster)."""
        config = self.config
        keys = [f"{self.tag}-open-{i}" for i in range(config.open_target)]
        graces = {k: self.rng.randint(*RAMP_GRACE) for k in keys}

        async def place(key: str) -> None:
            while self.acked - counter.poll()[0] >= config.ramp_backlog:
                await asyncio.sleep(0.05)
            await self._place(key, graces[key])

        await pool(keys, config.ramp_concurrency, place)
        self.log(f"  scale: {config.open_target} orders placed; waiting for the worker to take them all")
        deadline = time.monotonic() + RAMP_TIMEOUT
        while counter.placed < config.open_target - self.failures and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        seconds = time.monotonic() - begin
        return {"seconds": seconds, "capacity_per_s": counter.placed / seconds}

    async def _steady(self, rate: float) -> dict[str, Any]:
        config = self.config
        graces: dict[str, int] = {}
        placed_at: dict[str, float] = {}
        tasks: set[asyncio.Task[None]] = set()
        in_flight = asyncio.Semaphore(256)
        behind = 0.0
        began, wall = time.monotonic(), time.time()

        async def place(key: str) -> None:
            try:
                await self._place(key, graces[key])
            finally:
                in_flight.release()

        i = 0
        while (due := i / rate) < config.steady:
            delay = began + due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                behind = max(behind, -delay)
            key = f"{self.tag}-steady-{i}"
            graces[key] = self.rng.randint(*config.grace)
            placed_at[key] = time.time()
            await in_flight.acquire()
            task = asyncio.create_task(place(key))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        await asyncio.gather(*tasks)
        return {"began": wall, "ended": time.time(), "placed": i, "graces": graces, "placed_at": placed_at,
                "behind": behind}  # fmt: skip

    async def _lateness(
        self, client: Client, steady: dict[str, Any], stopped_at: float
    ) -> tuple[list[float], int]:
        """Lateness of the timers whose deadline fell while orders kept arriving."""
        graces, placed_at = steady["graces"], steady["placed_at"]
        keys = [k for k in graces if placed_at[k] + graces[k] <= steady["ended"]]
        keys = self.rng.sample(keys, min(len(keys), self.config.lateness_sample))
        self.log(f"  scale: reading {len(keys)} histories for timer lateness")
        lateness: list[float] = []
        not_fired = 0
        fetch = asyncio.Semaphore(16)

        async def measure(key: str) -> None:
            nonlocal not_fired
            async with fetch:
                deadline, ready = await _deadline_and_ready(client, key)
            if deadline is None:
                return
            if ready is None:  # had not fired when the worker stopped: at least this late
                not_fired += 1
                ready = stopped_at
            lateness.append(ready - deadline)

        await asyncio.gather(*(measure(k) for k in keys))
        return lateness, not_fired


async def run_scale(config: ScaleConfig, directory: FsPath, log: Any) -> dict[str, Any]:
    return await ScaleRun(config, directory, log).run()
