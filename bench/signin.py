"""`python -m bench.signin [--reads 100] [--flooders 100]`: what a flood of console sign-ins costs the API.

On the embedded Temporal (SQLite file), with the project's worker and the REST API each in a process of
their own (`orders.api.server`, as users run it), it times an authenticated API read (`GET` of one order
with an erp app key), one after another, first alone, then while `--flooders` clients sign in to the
console with user names that don't exist, each from an address of its own on loopback (127.0.0.x) and
each again as soon as it is answered. Every such sign-in costs an Argon2 check unless it is turned away
(429). It does so twice: with the API's bound on password checks (orders/console/guard.py, the default),
and with it lifted (ORDERS_CONSOLE_SIGNIN_CONCURRENCY and _PER_CLIENT at 256, as 1.0 ran). It prints p50
and p99 of the read alone and during the flood, their ratios, and what the flood got; with --out it
writes them as JSON. See docs/performance.md ("Sign-in flood").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench.cluster import ERP_HEADERS, Temporal, start_api, start_worker
from bench.report import machine
from bench.stats import percentile, ratio, rounded

PVT = "/api/oms/pvt/orders"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
WARMUP_SECONDS = 2.0  # the flood runs this long before reads are timed: every flooder is at it by then
MODES = {
    "bounded": {},
    "unbounded": {"ORDERS_CONSOLE_SIGNIN_CONCURRENCY": "256", "ORDERS_CONSOLE_SIGNIN_PER_CLIENT": "256"},
}


def log(message: str) -> None:
    print(f"[bench.signin] {message}", file=sys.stderr, flush=True)


async def timed_reads(http: httpx.AsyncClient, order_id: str, count: int) -> list[float]:
    took = []
    for _ in range(count):
        began = time.perf_counter()
        answer = await http.get(f"{PVT}/{order_id}", headers=ERP_HEADERS)
        took.append(time.perf_counter() - began)
        assert answer.status_code == 200, answer.text
    return took


async def flooder(url: str, source: str, stop: asyncio.Event, seen: Counter[str]) -> None:
    """One client signing in as nobody, again and again, until `stop`."""
    transport = httpx.AsyncHTTPTransport(local_address=source)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=120) as http:
        page = await http.get("/console/signin")
        found = CSRF.search(page.text)
        assert found is not None, page.status_code
        attempt = 0
        while not stop.is_set():
            attempt += 1
            form = {"username": f"nobody-{source}-{attempt}", "password": "wrong-guess-123", "csrf": found[1]}
            try:
                answer = await http.post("/console/signin", data=form)
                seen[str(answer.status_code)] += 1
            except httpx.HTTPError as err:
                seen[type(err).__name__] += 1


def figures(took: list[float]) -> dict[str, float | None]:
    return {
        "p50_ms": rounded(percentile(took, 50) * 1000, 1),
        "p99_ms": rounded(percentile(took, 99) * 1000, 1),
        "max_ms": rounded(max(took) * 1000, 1),
    }


async def one_mode(
    name: str, temporal: Temporal, directory: Path, reads: int, flooders: int
) -> dict[str, Any]:
    api, url = await start_api(temporal, directory / name, **MODES[name])
    try:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            order_id = f"s{uuid.uuid4().hex[:8]}"
            body = {"orderId": order_id, "customerId": "c-bench", "total": 1000}
            assert (await http.post(PVT, json=body, headers=ERP_HEADERS)).status_code == 201
            await timed_reads(http, order_id, 10)  # warm
            alone = await timed_reads(http, order_id, reads)
            stop, seen = asyncio.Event(), Counter[str]()
            sources = [f"127.0.{1 + n // 250}.{2 + n % 250}" for n in range(flooders)]
            tasks = [asyncio.create_task(flooder(url, source, stop, seen)) for source in sources]
            await asyncio.sleep(WARMUP_SECONDS)
            cpu_before, began = api.cpu(), time.monotonic()
            flooded = await timed_reads(http, order_id, reads)
            elapsed, cpu = time.monotonic() - began, api.cpu() - cpu_before
            stop.set()
            await asyncio.gather(*tasks)
    finally:
        await api.stop()
    alone_figures, flood_figures = figures(alone), figures(flooded)
    return {
        "alone": alone_figures,
        "flood": flood_figures,
        "p50_ratio": rounded(ratio(percentile(flooded, 50), percentile(alone, 50))),
        "p99_ratio": rounded(ratio(percentile(flooded, 99), percentile(alone, 99))),
        "flood_seconds": rounded(elapsed, 1),
        "api_cpu_seconds_during_flood": rounded(cpu, 1),
        "sign_in_answers": dict(seen),
    }


async def run(reads: int, flooders: int, directory: Path) -> dict[str, Any]:
    async with Temporal("sqlite", directory / "temporal") as temporal:
        worker = await start_worker("orders", temporal, directory)
        try:
            results = {}
            for name in MODES:
                log(f"{name}: {reads} reads alone, then during a flood from {flooders} clients")
                results[name] = await one_mode(name, temporal, directory, reads, flooders)
        finally:
            await worker.stop()
    return {
        "reads": reads,
        "flooders": flooders,
        "modes": results,
        "machine": machine() | {"loadavg_end": list(os.getloadavg())},
    }


def render(results: dict[str, Any]) -> str:
    lines = [f"An API read (GET one order), {results['reads']} times, alone and during "
             f"{results['flooders']} clients' sign-in flood:"]  # fmt: skip
    for name, mode in results["modes"].items():
        alone, flood = mode["alone"], mode["flood"]
        answers = ", ".join(
            f"{count} x {status}" for status, count in sorted(mode["sign_in_answers"].items())
        )
        lines += [
            f"  {name:9} alone p50 {alone['p50_ms']} ms, p99 {alone['p99_ms']} ms; "
            f"flooded p50 {flood['p50_ms']} ms, p99 {flood['p99_ms']} ms: "
            f"x{mode['p50_ratio']} and x{mode['p99_ratio']}",
            f"            sign-ins answered during the run: {answers}; "
            f"API CPU {mode['api_cpu_seconds_during_flood']} s in {mode['flood_seconds']} s",
        ]
    lines.append("  {nproc} x {cpu_model}".format(**results["machine"]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.signin", description=__doc__)
    parser.add_argument("--reads", type=int, default=100, help="timed reads alone and during the flood")
    parser.add_argument("--flooders", type=int, default=100, help="clients signing in at once (up to 500)")
    parser.add_argument("--out", help="write the figures as JSON here too")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs and logs")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="orders-bench-signin-"))
    try:
        results = asyncio.run(run(args.reads, min(args.flooders, 500), directory))
    finally:
        if args.keep:
            log(f"data dirs and logs kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))


if __name__ == "__main__":
    main()
