"""`python -m bench.compare OTHER_CHECKOUT [...]`: this checkout's order workflow against another's,
on one server, in interleaved rounds (A, B, A, B, ...), so both see the same machine.

For trying a change to the workflow, the activities or the worker before it lands: copy the project,
change the copy, and compare. Each side has its own worker process (started in its checkout) and task
queue; the load generator, the server and the measurement are shared. Prints a table of both sides'
figures and B's ratio to A; `--out` writes them as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bench import cluster
from bench.cluster import ROOT, Temporal, cpu_seconds, start_worker
from bench.decisions import DecisionConfig, PathRun, _split
from bench.paths import ClientItems, ClientSignal, ClientUpdate
from bench.paths import Path as BenchPath
from bench.report import json_ready
from bench.stats import ratio
from orders.client import OrdersClient
from orders.converter import DATA_CONVERTER
from orders.settings import Settings

FIGURES = (
    "placed_per_s",
    "decided_per_s",
    "canceled_per_s",
    "decision_p50_ms",
    "light_decision_p50_ms",
    "light_decision_p99_ms",
    "canceled_p50_ms",
    "light_canceled_p50_ms",
)


async def compare(other: Path, backend: str, config: DecisionConfig, how: str) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="orders-compare-"))
    tag = uuid.uuid4().hex[:6]
    try:
        async with Temporal(backend, directory) as temporal:
            sides = {"A": ROOT, "B": other}
            workers = {}
            try:
                for side, checkout in sides.items():
                    workers[side] = await start_worker(
                        "orders", temporal, directory, checkout, name=f"side-{side}",
                        ORDERS_TASK_QUEUE=f"bench-{side}",
                    )  # fmt: skip
                client = await Client.connect(temporal.address, data_converter=DATA_CONVERTER)
                runs = {}
                for side in sides:
                    settings = Settings(_env_file=None, task_queue=f"bench-{side}")
                    orders = OrdersClient(client, settings)
                    path: BenchPath
                    if how == "items":
                        path = ClientItems(orders, directory / f"side-{side}-worker" / "events.jsonl")
                    else:
                        path = (ClientSignal if how == "signal" else ClientUpdate)(orders)
                    path.name = f"{path.name}_{side.lower()}"
                    processes = {"worker": workers[side], "server": _Server(temporal.pid)}
                    runs[side] = PathRun(path, client, config, processes, tag)
                for run in runs.values():
                    await run.warmup()
                for round_, count in enumerate(_split(config.orders, config.rounds)):
                    for side, run in runs.items():
                        await run.loaded(round_, count)
                        print(f"round {round_ + 1}/{config.rounds}: {side} done", file=sys.stderr, flush=True)
                for round_, count in enumerate(_split(config.light_orders, config.rounds)):
                    for run in runs.values():
                        await run.light(round_, count)
            finally:
                for worker in workers.values():
                    await worker.stop()
        results = {side: run.figures() for side, run in runs.items()}
        for figures in results.values():
            figures["cpu_ms_per_order_total"] = sum(figures["cpu_ms_per_order"].values())
        results["B_to_A"] = {
            key: ratio(results["B"][key], results["A"][key]) for key in (*FIGURES, "cpu_ms_per_order_total")
        }
        results["B_to_A"]["cpu_worker"] = ratio(
            results["B"]["cpu_ms_per_order"]["worker"], results["A"]["cpu_ms_per_order"]["worker"]
        )
        results["B_to_A"]["cpu_server"] = ratio(
            results["B"]["cpu_ms_per_order"]["server"], results["A"]["cpu_ms_per_order"]["server"]
        )
        results["checkouts"] = {"A": str(ROOT), "B": str(other)}
        return results
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class _Server:  # the dev server, seen as a process for CPU accounting
    def __init__(self, pid: int) -> None:
        self.pid = pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("other", type=Path, help="the other checkout (side B; this one is A)")
    parser.add_argument("--backend", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--orders", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--light-orders", type=int, default=24)
    parser.add_argument("--light-rate", type=float, default=2.0)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--signal", action="store_true", help="cancel through signals, not updates")
    which.add_argument("--items", action="store_true", help="cancel one item (an update), not the order")
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra `temporal server start-dev` flag for both sides (repeatable; --server-arg=...)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    cluster.SERVER_ARGS[:] = args.server_arg
    config = DecisionConfig(
        orders=args.orders,
        concurrency=args.concurrency,
        light_orders=args.light_orders,
        light_rate=args.light_rate,
        warmup=5,
        rounds=args.rounds,
    )
    how = "signal" if args.signal else "items" if args.items else "update"
    results = asyncio.run(compare(args.other.resolve(), args.backend, config, how))
    print("| figure | A | B | B / A |\n|---|---|---|---|")
    for key in (*FIGURES, "cpu_ms_per_order_total"):
        print(f"| {key} | {results['A'][key]:.1f} | {results['B'][key]:.1f} | {results['B_to_A'][key]:.2f} |")
    for part in ("worker", "server"):
        a, b = results["A"]["cpu_ms_per_order"][part], results["B"]["cpu_ms_per_order"][part]
        print(f"| cpu_ms_per_order.{part} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    if args.out:
        args.out.write_text(json.dumps(json_ready(results), indent=2) + "\n")


if __name__ == "__main__":
    main()
