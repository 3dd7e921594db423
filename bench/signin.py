"""`python -m bench.signin [--reads 100] [--flooders 100]`: what a flood of console sign-ins costs the API.

On the embedded Temporal (SQLite file), with the project's worker and the REST API each in a process of
their own (`orders.api.server`, as users run it), it times an authenticated API read (`GET` of one order
with an erp app key), one after another, first `--reads` times alone, then for as long as a flood lasts:
`--flooders` clients, each from an address of its own on loopback (127.0.x.y), each signing in to the
console once with a user name that doesn't exist, all at once. Each sign-in costs an Argon2 check; one
turned away (429) is sent again a second later, until every flooder's was checked, so both runs below do
the same hashing work. It does so twice: with the API's bound on password checks (orders/console/guard.py,
the default), and with it lifted (ORDERS_CONSOLE_SIGNIN_CONCURRENCY and _PER_CLIENT at 256, as 1.0 ran).
It prints p50 and p99 of the read alone and during the flood, their ratios, how long the flood took and
how often sign-ins were turned away; with --out it writes them as JSON. See docs/performance.md
("Sign-in flood").
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
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx

from bench.cluster import ERP_HEADERS, Process, Temporal, start_api, start_worker
from bench.report import machine
from bench.stats import percentile, ratio, rounded

PVT = "/api/oms/pvt/orders"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
RETRY_SECONDS = 1.0  # a flooder turned away (429) tries again this much later
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


async def flooder(stack: AsyncExitStack, url: str, source: str) -> tuple[httpx.AsyncClient, dict[str, str]]:
    """A client at `source` with the sign-in form it will send, its page fetched (not timed). Plain HTTP:
    no certificates loaded (`verify=False`), which would hold the loop for seconds over 100 clients."""
    transport = httpx.AsyncHTTPTransport(local_address=source, verify=False)
    http = await stack.enter_async_context(
        httpx.AsyncClient(base_url=url, transport=transport, timeout=300, verify=False)
    )
    page = await http.get("/console/signin")
    found = CSRF.search(page.text)
    assert found is not None, page.status_code
    return http, {"username": f"nobody-{source}", "password": "wrong-guess-123", "csrf": found[1]}


async def sign_in_once(http: httpx.AsyncClient, form: dict[str, str], seen: Counter[str]) -> None:
    """One sign-in as nobody: again a second after each 429, until it is checked."""
    while True:
        answer = await http.post("/console/signin", data=form)
        seen[str(answer.status_code)] += 1
        if answer.status_code != 429:
            return
        await asyncio.sleep(RETRY_SECONDS)


async def reads_until(
    http: httpx.AsyncClient, order_id: str, flood: asyncio.Future[Any], api: Process
) -> tuple[list[float], float]:
    """Timed reads, one after another, for as long as `flood` lasts; and the API's largest resident
    memory seen meanwhile (MiB): each Argon2 check holds 64 MiB while it runs."""
    took: list[float] = []
    rss = api.rss()
    while not flood.done():
        took += await timed_reads(http, order_id, 1)
        rss = max(rss, api.rss())
    return took, rss


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
            seen: Counter[str] = Counter()
            sources = [f"127.0.{1 + n // 250}.{2 + n % 250}" for n in range(flooders)]
            async with AsyncExitStack() as stack:
                ready = await asyncio.gather(*(flooder(stack, url, source) for source in sources))
                await timed_reads(http, order_id, 1)  # the reads' connection in use again, not timed
                cpu_before, began = api.cpu(), time.monotonic()
                flood = asyncio.gather(*(sign_in_once(client, form, seen) for client, form in ready))
                flooded, rss = await reads_until(http, order_id, flood, api)
                await flood
                elapsed, cpu = time.monotonic() - began, api.cpu() - cpu_before
    finally:
        await api.stop()
    alone_figures, flood_figures = figures(alone), figures(flooded)
    return {
        "alone": alone_figures,
        "flood": flood_figures,
        "p50_ratio": rounded(ratio(percentile(flooded, 50), percentile(alone, 50))),
        "p99_ratio": rounded(ratio(percentile(flooded, 99), percentile(alone, 99))),
        "flood_seconds": rounded(elapsed, 1),
        "reads_during_flood": len(flooded),
        "api_cpu_seconds_during_flood": rounded(cpu, 1),
        "api_rss_mib_max": rounded(rss, 0),
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
    lines = [f"An API read (GET one order), {results['reads']} times alone, and during "
             f"{results['flooders']} clients' sign-ins:"]  # fmt: skip
    for name, mode in results["modes"].items():
        alone, flood = mode["alone"], mode["flood"]
        answers = ", ".join(
            f"{count} x {status}" for status, count in sorted(mode["sign_in_answers"].items())
        )
        lines += [
            f"  {name:9} alone p50 {alone['p50_ms']} ms, p99 {alone['p99_ms']} ms; "
            f"flooded p50 {flood['p50_ms']} ms, p99 {flood['p99_ms']} ms: "
            f"x{mode['p50_ratio']} and x{mode['p99_ratio']}",
            f"            the flood took {mode['flood_seconds']} s ({mode['reads_during_flood']} reads); "
            f"sign-ins answered: {answers}; API CPU {mode['api_cpu_seconds_during_flood']} s, "
            f"memory at most {mode['api_rss_mib_max']} MiB",
        ]
    lines.append("  {nproc} x {cpu_model}".format(**results["machine"]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.signin", description=__doc__)
    parser.add_argument(
        "--reads", type=int, default=100, help="timed reads alone (during the flood: as many as fit)"
    )
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
