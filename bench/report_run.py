"""The cancellation report over 10,000 orders (issue 14): `orders.report.build_report` and `orders report
--json`, timed against a server whose visibility holds that many orders with known outcomes.

The orders are placed through `OrdersClient.place` (as every door does) at high concurrency, and their
commands sent as signals, so a tenth of the machine's time goes to making them; in fifths:
untouched (window open), canceled inside the window (customer, `changed-mind`), payment denied, canceled
after the store confirmed a late request, and a late request the store denied. Once visibility shows
every order where it should be, the report is built `runs` times in this process (a fresh client each
time) and `runs` times by the CLI as users run it, end to end; its counts are checked against the mix.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path as FsPath
from typing import Any

from temporalio.client import Client

from bench.cluster import Temporal, child_env, start_worker
from bench.paths import order_input
from bench.stats import percentile
from bench.waiting import pool, quiesce
from domain.lifecycle import Action
from orders.client import OrdersClient
from orders.converter import DATA_CONVERTER
from orders.report import build_report
from orders.settings import Settings
from workflows.names import WORKFLOW_TYPE, workflow_id

TASK_QUEUE = "bench-report"
KINDS = ("untouched", "inside_window", "payment_denied", "after_confirmation", "denied")
LATE_GRACE = 1  # seconds: the late kinds' windows close while the others are placed
SETTLE_TIMEOUT = 1800.0
CHANGED_MIND = {"actor": "customer", "reason_code": "changed-mind"}
DECLINED = {"actor": "system", "reason": "declined"}


@dataclass(frozen=True)
class ReportConfig:
    orders: int
    runs: int = 3
    concurrency: int = 64
    backend: str = "memory"


def expected(counts: dict[str, int]) -> dict[str, int]:
    """What the report must say of the mix (decisions: the store's, on the late requests)."""
    return {
        "placed": sum(counts.values()),
        "canceled": counts["inside_window"] + counts["payment_denied"] + counts["after_confirmation"],
        "inside-window": counts["inside_window"],
        "payment-denied": counts["payment_denied"],
        "after-confirmation": counts["after_confirmation"],
        "requests_denied": counts["denied"],
    }


def found(report: Any) -> dict[str, int]:
    paths = report.canceled_by_path
    return {
        "placed": report.placed,
        "canceled": report.canceled,
        "inside-window": paths.get("inside-window", 0),
        "payment-denied": paths.get("payment-denied", 0),
        "after-confirmation": paths.get("after-confirmation", 0),
        "requests_denied": report.requests_denied,
    }


class ReportRun:
    def __init__(self, config: ReportConfig, directory: FsPath, log: Any) -> None:
        self.config, self.directory, self.log = config, directory / "report", log
        self.tag = uuid.uuid4().hex[:6]

    async def run(self) -> dict[str, Any]:
        config = self.config
        since = datetime.now(UTC) - timedelta(minutes=1)
        async with Temporal(config.backend, self.directory) as temporal:
            worker = await start_worker("orders", temporal, self.directory, ORDERS_TASK_QUEUE=TASK_QUEUE)
            try:
                client = await Client.connect(temporal.address, data_converter=DATA_CONVERTER)
                settings = Settings(_env_file=None, task_queue=TASK_QUEUE)
                orders = OrdersClient(client, settings)
                began = time.monotonic()
                counts = await self._create(orders)
                created = time.monotonic() - began
                await self._visible(client, counts)
                settled = time.monotonic() - began
                await quiesce([worker.pid, temporal.pid])
                self.log(f"  report: {sum(counts.values())} orders in visibility ({settled:.0f} s); timing")
                library, report = await self._library(temporal.address, since, settings)
                cli = await self._cli(temporal, since)
            finally:
                await worker.stop()
        rows = sum(counts.values())
        want, got = expected(counts), found(report)
        return {
            "backend": config.backend,
            "orders": rows,
            "mix": counts,
            "create_seconds": created,
            "settle_seconds": settled,
            "build_report_s": library,
            "build_report_p50_s": percentile(library, 50),
            "build_report_max_s": max(library),
            "build_report_rows_per_s": rows / percentile(library, 50),
            "cli_s": cli,
            "cli_p50_s": percentile(cli, 50),
            "cli_max_s": max(cli),
            "cli_rows_per_s": rows / percentile(cli, 50),
            "expected": want,
            "found": got,
            "counts_match": want == got,
        }

    async def _create(self, orders: OrdersClient) -> dict[str, int]:
        keys = [f"{self.tag}-r-{i}" for i in range(self.config.orders)]
        kind_of = {key: KINDS[i % len(KINDS)] for i, key in enumerate(keys)}

        async def place(key: str) -> None:
            kind = kind_of[key]
            late = kind in ("after_confirmation", "denied")
            order = order_input(key, LATE_GRACE if late else 3600)
            if kind == "payment_denied":
                order = order.model_copy(update={"payment_approved": False})
            await orders.place(order)
            if kind == "inside_window":
                await orders.send(key, Action.REQUEST_CANCELLATION, CHANGED_MIND, as_signal=True)
            elif kind == "payment_denied":
                await orders.send(key, Action.DENY_PAYMENT, DECLINED, as_signal=True)

        async def late(key: str) -> None:
            await orders.send(key, Action.REQUEST_CANCELLATION, {"actor": "customer"}, as_signal=True)
            if kind_of[key] == "after_confirmation":
                await orders.send(key, Action.CONFIRM_CANCELLATION, {"actor": "store"}, as_signal=True)
            else:
                await orders.send(key, Action.DENY_CANCELLATION, {"actor": "store", "reason": "shipped"},
                                  as_signal=True)  # fmt: skip

        await pool(keys, self.config.concurrency, place)
        self.log(f"  report: {len(keys)} orders placed")
        await asyncio.sleep(LATE_GRACE + 1)  # the late windows have all closed
        late_keys = [k for k in keys if kind_of[k] in ("after_confirmation", "denied")]
        await pool(late_keys, self.config.concurrency, late)
        return {kind: sum(1 for k in keys if kind_of[k] == kind) for kind in KINDS}

    async def _visible(self, client: Client, counts: dict[str, int]) -> None:
        """Until visibility shows every order in the status its commands lead to."""
        wanted = {
            "window-to-cancel": counts["untouched"],
            "canceled": counts["inside_window"] + counts["payment_denied"] + counts["after_confirmation"],
            "ready-for-handling": counts["denied"],
        }
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            seen = {}
            for status in wanted:
                query = (
                    f'WorkflowType = "{WORKFLOW_TYPE}" AND WorkflowId STARTS_WITH "{workflow_id(self.tag)}" '
                    f'AND OrderStatus = "{status}"'
                )
                seen[status] = (await client.count_workflows(query)).count
            if seen == wanted:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"visibility shows {seen}, expected {wanted}")
            await asyncio.sleep(1)

    async def _library(self, address: str, since: datetime, settings: Settings) -> tuple[list[float], Any]:
        times, report = [], None
        for _ in range(self.config.runs):
            began = time.perf_counter()
            client = await Client.connect(address, data_converter=DATA_CONVERTER)
            report = await build_report(client, since, settings.catalogue)
            times.append(time.perf_counter() - began)
        return times, report

    async def _cli(self, temporal: Temporal, since: datetime) -> list[float]:
        """`orders report --json` in a process of its own, as users run it (interpreter start included)."""
        span = int((datetime.now(UTC) - since).total_seconds()) + 60
        env = child_env(temporal, self.directory / "cli", ORDERS_TASK_QUEUE=TASK_QUEUE)
        orders_cli = FsPath(sys.executable).parent / "orders"
        times = []
        for _ in range(self.config.runs):
            began = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                str(orders_cli), "report", "--json", "--since", f"{span}s", env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, err = await process.communicate()
            times.append(time.perf_counter() - began)
            if process.returncode != 0:
                raise RuntimeError(f"orders report --json failed: {err.decode()[-500:]}")
        return times


async def run_report(config: ReportConfig, directory: FsPath, log: Any) -> dict[str, Any]:
    os.makedirs(directory / "report" / "cli", exist_ok=True)
    return await ReportRun(config, directory, log).run()
