"""The cancellation report as the orders pile up (issue 24): `orders.report.build_report` (counts), the
report as 1.0 built it (`bench.report_reading`, every order read) and `orders report --json` (a process,
end to end), timed over 1,000 to 50,000 orders in visibility.

The first `real` orders are placed through `OrdersClient.place` (as every door does) at high concurrency,
their commands sent as signals, in fifths: untouched (window open), canceled inside the window
(customer, `changed-mind`), payment denied, canceled after the store confirmed a late request, and a late
request the store denied. Once visibility shows each where its commands lead, both reports are checked
against the mix and against each other. The rest, up to each size, are copies of what visibility holds of
those orders (their search attributes and memo, the decision times drawn anew), started on a task queue no
worker polls, with a start delay, so that they cost the server a visibility row and nothing else: what
the report reads is the same, and 50,000 orders take minutes to make instead of half an hour.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path as FsPath
from typing import Any

from temporalio.client import Client, WorkflowExecution
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from bench.cluster import Temporal, child_env, start_worker
from bench.paths import order_input
from bench.report_reading import report_by_reading
from bench.stats import percentile
from bench.waiting import pool, quiesce
from domain.lifecycle import Action
from domain.visibility import MEMO_KEY
from orders.client import OrdersClient
from orders.converter import DATA_CONVERTER
from orders.report import Report, build_report
from orders.settings import Settings
from workflows.names import WORKFLOW_TYPE, workflow_id
from workflows.search_attributes import BY_NAME, DECISION_SECONDS

TASK_QUEUE = "bench-report"
NOBODY = "bench-report-copies"  # no worker polls it: the copies only sit in visibility
KINDS = ("untouched", "inside_window", "payment_denied", "after_confirmation", "denied")
LATE_GRACE = 1  # seconds: the late kinds' windows close while the others are placed
SETTLE_TIMEOUT = 1800.0
CHANGED_MIND = {"actor": "customer", "reason_code": "changed-mind"}
DECLINED = {"actor": "system", "reason": "declined"}
CONCURRENCY = 64


@dataclass(frozen=True)
class ReportConfig:
    sizes: tuple[int, ...]  # orders in visibility at each timing; the first are all real orders
    runs: int = 3
    backend: str = "memory"

    @property
    def real(self) -> int:
        return self.sizes[0]


def expected(counts: dict[str, int]) -> dict[str, int]:
    """What the report must say of the mix (decisions: the store's, on the late requests)."""
    return {
        "placed": sum(counts.values()),
        "canceled": counts["inside_window"] + counts["payment_denied"] + counts["after_confirmation"],
        "inside-window": counts["inside_window"],
        "payment-denied": counts["payment_denied"],
        "after-confirmation": counts["after_confirmation"],
        "requests_denied": counts["denied"],
        "decisions": counts["after_confirmation"] + counts["denied"],
    }


def found(report: Report) -> dict[str, int]:
    paths = report.canceled_by_path
    return {
        "placed": report.placed,
        "canceled": report.canceled,
        "inside-window": paths.get("inside-window", 0),
        "payment-denied": paths.get("payment-denied", 0),
        "after-confirmation": paths.get("after-confirmation", 0),
        "requests_denied": report.requests_denied,
        "decisions": report.decisions,
    }


def same(a: Report, b: Report) -> bool:
    return a.model_dump(exclude={"until"}) == b.model_dump(exclude={"until"})


class ReportRun:
    def __init__(self, config: ReportConfig, directory: FsPath, log: Any) -> None:
        self.config, self.directory, self.log = config, directory / "report", log
        self.tag = uuid.uuid4().hex[:6]
        self.since = datetime.now(UTC) - timedelta(minutes=1)
        self.rng = random.Random(24)
        self.counts: dict[str, int] = {}

    async def run(self) -> dict[str, Any]:
        config = self.config
        async with Temporal(config.backend, self.directory) as temporal:
            worker = await start_worker("orders", temporal, self.directory, ORDERS_TASK_QUEUE=TASK_QUEUE)
            try:
                client = await Client.connect(temporal.address, data_converter=DATA_CONVERTER)
                orders = OrdersClient(client, Settings(_env_file=None, task_queue=TASK_QUEUE))
                began = time.monotonic()
                counts = self.counts = await self._create(orders)
                await self._visible(client, counts)
                settled = time.monotonic() - began
                await quiesce([worker.pid, temporal.pid])
                self.log(f"  report: {config.real} real orders in visibility ({settled:.0f} s)")
                exemplars = await self._exemplars(client)
                sizes: list[dict[str, Any]] = []
                for size in config.sizes:
                    made = await self._copies(client, exemplars, size, counts)
                    sizes.append(await self._time(client, temporal, size, made))
            finally:
                await worker.stop()
        by_size = {row["orders"]: row for row in sizes}
        first, five = by_size.get(1000), by_size.get(5000)
        return {
            "backend": config.backend,
            "real_orders": config.real,
            "mix": counts,
            "settle_seconds": settled,
            "sizes": sizes,
            "growth_5k_to_1k": five["counted_p50_s"] / first["counted_p50_s"] if first and five else None,
            "cli_growth_5k_to_1k": five["cli_p50_s"] / first["cli_p50_s"] if first and five else None,
            "counts_match": all(row["counts_match"] for row in sizes),
            "reports_agree": all(row["reports_agree"] for row in sizes),
        }

    async def _create(self, orders: OrdersClient) -> dict[str, int]:
        keys = [f"{self.tag}-r-{i}" for i in range(self.config.real)]
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

        await pool(keys, CONCURRENCY, place)
        await asyncio.sleep(LATE_GRACE + 1)  # the late windows have all closed
        late_keys = [k for k in keys if kind_of[k] in ("after_confirmation", "denied")]
        await pool(late_keys, CONCURRENCY, late)
        return {kind: sum(1 for k in keys if kind_of[k] == kind) for kind in KINDS}

    def _only_ours(self) -> str:
        return f'WorkflowType = "{WORKFLOW_TYPE}" AND WorkflowId STARTS_WITH "{workflow_id(self.tag)}"'

    async def _visible(self, client: Client, counts: dict[str, int]) -> None:
        """Until visibility shows every real order in the status its commands lead to."""
        wanted = {
            "window-to-cancel": counts["untouched"],
            "canceled": counts["inside_window"] + counts["payment_denied"] + counts["after_confirmation"],
            "ready-for-handling": counts["denied"],
        }
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while True:
            seen = {}
            for status in wanted:
                query = f'{self._only_ours()} AND OrderStatus = "{status}"'
                seen[status] = (await client.count_workflows(query)).count
            if seen == wanted:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"visibility shows {seen}, expected {wanted}")
            await asyncio.sleep(1)

    async def _exemplars(self, client: Client) -> dict[str, WorkflowExecution]:
        """One real order of each kind (the first five), as visibility holds it."""
        handles = [client.get_workflow_handle(workflow_id(f"{self.tag}-r-{i}")) for i in range(len(KINDS))]
        described = await asyncio.gather(*(handle.describe() for handle in handles))
        return dict(zip(KINDS, described, strict=True))

    async def _copies(
        self, client: Client, exemplars: dict[str, WorkflowExecution], size: int, counts: dict[str, int]
    ) -> int:
        """Copies of the exemplars until visibility holds `size` orders in all; updates `counts`."""
        have = sum(counts.values())
        if size <= have:
            return 0
        keys = list(range(have, size))
        began = time.monotonic()

        async def copy(n: int) -> None:
            kind = KINDS[n % len(KINDS)]
            await self._copy(client, exemplars[kind], f"{self.tag}-c-{n}")
            counts[kind] += 1

        await pool([str(n) for n in keys], CONCURRENCY, lambda n: copy(int(n)))
        query = self._only_ours()
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while (await client.count_workflows(query)).count < size:
            if time.monotonic() > deadline:
                raise TimeoutError(f"visibility never showed {size} orders")
            await asyncio.sleep(0.5)
        self.log(f"  report: {len(keys)} copies in {time.monotonic() - began:.0f} s, {size} orders in all")
        return len(keys)

    async def _copy(self, client: Client, exemplar: WorkflowExecution, key: str) -> None:
        memo = dict((await exemplar.memo()).items())
        pairs = [p for p in exemplar.typed_search_attributes if p.key.name in BY_NAME]
        order = dict(memo.get(MEMO_KEY) or {})
        decisions = [dict(decision) for decision in order.get("decisions", [])]
        if decisions:  # a decision time of its own, from a minute to a few days, as in a store
            seconds = round(min(self.rng.lognormvariate(8, 1.5), 30 * 86400.0), 6)
            asked = datetime.fromisoformat(decisions[0]["requested_at"])
            decisions[0]["decided_at"] = (asked + timedelta(seconds=seconds)).isoformat()
            order["decisions"] = decisions
            memo[MEMO_KEY] = order
            pairs = [p for p in pairs if p.key.name != DECISION_SECONDS.name]
            pairs.append(SearchAttributePair(DECISION_SECONDS, seconds))
        await client.start_workflow(
            WORKFLOW_TYPE,
            order_input(key),
            id=workflow_id(key),
            task_queue=NOBODY,
            search_attributes=TypedSearchAttributes(pairs),
            memo=memo,
            start_delay=timedelta(days=30),
        )

    async def _time(self, client: Client, temporal: Temporal, size: int, copies: int) -> dict[str, Any]:
        """Both reports and the CLI, `runs` times each, over the orders in visibility now."""
        await quiesce([temporal.pid])
        address = temporal.address
        counted_s, read_s, counted, read = [], [], None, None
        for _ in range(self.config.runs):
            began = time.perf_counter()
            fresh = await Client.connect(address, data_converter=DATA_CONVERTER)
            counted = await build_report(fresh, self.since, Settings(_env_file=None).catalogue)
            counted_s.append(time.perf_counter() - began)
        for _ in range(self.config.runs if size <= 10_000 else 1):
            began = time.perf_counter()
            fresh = await Client.connect(address, data_converter=DATA_CONVERTER)
            read = await report_by_reading(fresh, self.since, Settings(_env_file=None).catalogue)
            read_s.append(time.perf_counter() - began)
        cli = await self._cli(temporal)
        assert counted is not None and read is not None
        self.log(
            f"  report over {size} orders: counted {percentile(counted_s, 50):.2f} s, "
            f"read {percentile(read_s, 50):.2f} s, CLI {percentile(cli, 50):.2f} s"
        )
        return {
            "orders": size,
            "copies": copies,
            "counted_s": counted_s,
            "counted_p50_s": percentile(counted_s, 50),
            "read_s": read_s,
            "read_p50_s": percentile(read_s, 50),
            "cli_s": cli,
            "cli_p50_s": percentile(cli, 50),
            "found": found(counted),
            "expected": expected(self.counts),
            "counts_match": found(counted) == expected(self.counts),
            "reports_agree": same(counted, read),
        }

    async def _cli(self, temporal: Temporal) -> list[float]:
        """`orders report --json` in a process of its own, as users run it (interpreter start included)."""
        span = int((datetime.now(UTC) - self.since).total_seconds()) + 60
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
    (directory / "report" / "cli").mkdir(parents=True, exist_ok=True)
    return await ReportRun(config, directory, log).run()
