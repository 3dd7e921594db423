"""`python -m bench.console [--orders 1000] [--runs 10]`: how fast the staff console's queue renders.

On the embedded Temporal as users run it (SQLite file), with the project's worker and the REST API each
in a process of their own (`orders.api.server`, which serves the console), it puts `--orders` orders in
`cancellation-requested` (placed with no grace period, then the customer's request sent as a signal),
waits until visibility lists them all, signs in, and times `GET /console/` (the whole page: the
visibility read, 1,000 rows rendered, sent) and `GET /console/queue/rows` (what the page polls every 2 s).
It prints the figures and, with --out, writes them as JSON. See docs/performance.md ("Console").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.cluster import Temporal, start_api, start_worker
from bench.report import machine
from domain.lifecycle import Action
from domain.models import OrderInput
from orders.client import OrdersClient
from orders.console.live import QueueCache
from orders.console.users import UsersFile
from orders.queue import pending_requests
from orders.settings import Settings

PASSWORD = "quiet-harbor-lantern-58"  # console passwords may not contain the user name
CONCURRENCY = 32


def log(message: str) -> None:
    print(f"[bench.console] {message}", file=sys.stderr, flush=True)


async def fill(orders: OrdersClient, count: int) -> float:
    """`count` orders waiting for the store's decision; seconds until visibility lists them all."""
    began = time.monotonic()
    limiter = asyncio.Semaphore(CONCURRENCY)
    run = uuid.uuid4().hex[:6]

    async def one(index: int) -> None:
        async with limiter:
            order_id = f"q{run}-{index:05d}"
            order = OrderInput(
                order_id=order_id,
                customer_id=f"c-{index % 97}",
                total=1000 + index,
                items=[{"sku": "A1", "quantity": 1, "price": 1000 + index}],  # type: ignore[list-item]
                grace_period_seconds=0,
            )
            await orders.place(order)
            request = {"actor": "customer", "reason": f"request {index}", "reason_code": "changed-mind"}
            await orders.send(order_id, Action.REQUEST_CANCELLATION, request, as_signal=True)

    await asyncio.gather(*(one(index) for index in range(count)))
    while len(await pending_requests(orders.temporal)) < count:
        await asyncio.sleep(0.5)
    return time.monotonic() - began


async def timed(
    http: httpx.AsyncClient, path: str, runs: int, must_contain: str, pause: float = 0.0
) -> dict[str, float]:
    took = []
    for _ in range(runs):
        await asyncio.sleep(pause)
        began = time.perf_counter()
        response = await http.get(path)
        took.append(time.perf_counter() - began)
        assert response.status_code == 200 and must_contain in response.text, response.status_code
    return {
        "p50_ms": statistics.median(took) * 1000,
        "max_ms": max(took) * 1000,
        "min_ms": min(took) * 1000,
        "bytes": len(response.content),
        "wire_bytes": int(response.headers.get("content-length", len(response.content))),
    }


async def run(count: int, runs: int, directory: Path) -> dict[str, Any]:
    async with Temporal("sqlite", directory / "temporal") as temporal:
        worker = await start_worker("orders", temporal, directory)
        users = UsersFile(directory / "api" / "console-users.json")
        users.add("bench", "store", PASSWORD)
        api, url = await start_api(temporal, directory)
        try:
            os.environ["TEMPORAL_ADDRESS"] = temporal.address
            settings = Settings(_env_file=None)
            orders = await OrdersClient.connect(settings)
            log(f"placing {count} orders and asking to cancel each")
            filled = await fill(orders, count)
            log(f"{count} requests in the queue after {filled:.1f} s")
            began = time.perf_counter()
            listed = await pending_requests(orders.temporal)
            visibility_ms = (time.perf_counter() - began) * 1000
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                page = await http.get("/console/signin")
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
                assert csrf is not None
                form = {"username": "bench", "password": PASSWORD, "csrf": csrf.group(1), "next": "/console/"}
                assert (await http.post("/console/signin", data=form)).status_code == 303
                await http.get("/console/")  # first render: templates compiled
                page_figures = await timed(http, "/console/", runs, f'id="queue-count">{count}<')
                # The poll shares one read a second (orders/console/live.py): wait that out, to time a read.
                rows_figures = await timed(
                    http, "/console/queue/rows", runs, f'data-count="{count}"', pause=QueueCache().ttl + 0.1
                )
        finally:
            await api.stop()
            await worker.stop()
    return {
        "orders": count,
        "runs": runs,
        "fill_seconds": filled,
        "visibility_read_ms": visibility_ms,
        "visibility_rows": len(listed),
        "queue_page": page_figures,
        "queue_rows_fragment": rows_figures,
        "machine": machine() | {"loadavg_end": list(os.getloadavg())},
    }


def render(figures: dict[str, Any]) -> str:
    page, rows = figures["queue_page"], figures["queue_rows_fragment"]
    return "\n".join(
        [
            f"Console queue with {figures['orders']} pending requests ({figures['runs']} runs each):",
            f"  GET /console/             p50 {page['p50_ms']:.0f} ms, max {page['max_ms']:.0f} ms "
            f"({page['bytes'] / 1024:.0f} KiB; {page['wire_bytes'] / 1024:.0f} KiB sent)",
            f"  GET /console/queue/rows   p50 {rows['p50_ms']:.0f} ms, max {rows['max_ms']:.0f} ms "
            f"({rows['bytes'] / 1024:.0f} KiB; {rows['wire_bytes'] / 1024:.0f} KiB sent, gzip)",
            f"  the visibility read alone {figures['visibility_read_ms']:.0f} ms; "
            f"filling the queue took {figures['fill_seconds']:.1f} s",
            "  {nproc} x {cpu_model}; load average {load:.2f} at the end".format(
                load=figures["machine"]["loadavg_end"][0], **figures["machine"]
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--orders", type=int, default=1000, help="pending requests in the queue")
    parser.add_argument("--runs", type=int, default=10, help="timed GETs of each page")
    parser.add_argument("--out", help="write the figures as JSON here too")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs and logs")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="orders-bench-console-"))
    try:
        figures = asyncio.run(run(args.orders, args.runs, directory))
    finally:
        if args.keep:
            log(f"data dirs and logs kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    if args.out:
        Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")
    print(render(figures))


if __name__ == "__main__":
    main()
