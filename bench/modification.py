"""What an order modification costs Temporal, beside a cancellation's (docs/performance.md, "A
modification"): `python -m bench.modification [--orders 20]`.

On one embedded in-memory Temporal with the orders worker in a process of its own (as `make bench` runs
it), each path places its orders (the same two lines), decides each one (a cancellation in the window,
one item canceled, a modification applied at once, a modification paid), waits until the effects are
delivered and the processes are idle, then reads every history: workflow tasks, activities, local
activities, upserts, timers, events, and the actions Temporal Cloud would bill (`bench.histories`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
from pathlib import Path as FsPath
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.cluster import Temporal, start_worker
from bench.histories import COST_FIGURES, actions, cost, histories
from bench.paths import ClientItems, ClientModify, ClientModifyPaid, ClientUpdate
from bench.waiting import close_times, pool, quiesce
from orders.client import OrdersClient
from orders.settings import Settings

TASK_QUEUE = "bench-orders"
CONCURRENCY = 4
FIGURES = (*COST_FIGURES, "actions")


async def measure(orders: int, directory: FsPath) -> dict[str, dict[str, Any]]:
    async with Temporal("memory", directory / "memory") as temporal:
        worker = await start_worker("orders", temporal, directory, ORDERS_TASK_QUEUE=TASK_QUEUE)
        try:
            client = await Client.connect(temporal.address, data_converter=pydantic_data_converter)
            ours = OrdersClient(client, Settings(_env_file=None, task_queue=TASK_QUEUE))
            event_log = directory / "orders-worker" / "events.jsonl"
            paths = [
                ClientUpdate(ours),
                ClientItems(ours, event_log),
                ClientModify(ours, event_log),
                ClientModifyPaid(ours, event_log),
            ]
            found: dict[str, dict[str, Any]] = {}
            for path in paths:
                keys = [f"mod-{path.name.replace('_', '-')}-{i}" for i in range(orders)]
                await pool(keys, CONCURRENCY, path.place)
                await quiesce([worker.pid, temporal.pid])
                await pool(keys, CONCURRENCY, path.decide)
                if isinstance(path, ClientItems):
                    await path.wait_effects(keys)
                else:
                    await close_times(client, path.workflow_id("mod-client-update-"), orders)
                await quiesce([worker.pid, temporal.pid])
                events = await histories(client, [path.workflow_id(key) for key in keys])
                each = [cost(history) | {"actions": actions(history)} for history in events.values()]
                found[path.name] = {"label": path.label} | {
                    figure: statistics.median(c[figure] for c in each) for figure in FIGURES
                }
                found[path.name]["range"] = {
                    f: [min(c[f] for c in each), max(c[f] for c in each)] for f in FIGURES
                }
            return found
        finally:
            await worker.stop()


def table(found: dict[str, dict[str, Any]]) -> str:
    heads = ["path", *FIGURES]
    rows = [[figures["label"], *(f"{figures[f]:g}" for f in FIGURES)] for figures in found.values()]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.modification", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=20, help="orders per path (default 20)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    directory = FsPath(tempfile.mkdtemp(prefix="orders-bench-modification-"))
    try:
        found = asyncio.run(measure(args.orders, directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps(found, indent=2) if args.json else table(found))


if __name__ == "__main__":
    main()
