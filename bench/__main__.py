# ruff: noqa: RUF001
# (the multiplication sign and the en dash in the tables are meant)
"""`python -m bench [--quick] [--sqlite|--memory] ...`: see docs/performance.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bench import cluster
from bench.costs import cost_table, run_costs
from bench.decisions import DecisionConfig, run_backend
from bench.report import json_ready, machine, out_path, targets, with_ratios
from bench.report_run import ReportConfig, run_report
from bench.scale import ScaleConfig, run_scale
from bench.tables import decision_table, goals_table, report_table, scale_table, targets_table

FULL_DECISIONS = DecisionConfig(
    orders=240, concurrency=32, light_orders=30, light_rate=2.0, warmup=10, rounds=3
)
QUICK_DECISIONS = DecisionConfig(orders=16, concurrency=8, light_orders=3, light_rate=5.0, warmup=0)
FULL_SCALE = ScaleConfig(open_target=10_000, steady=90, grace=(20, 40), drain=10, lateness_sample=3000)
QUICK_SCALE = ScaleConfig(
    open_target=100, steady=6, grace=(2, 4), drain=2, lateness_sample=200, ramp_concurrency=16
)
FULL_REPORT = ReportConfig(sizes=(1_000, 5_000, 10_000, 50_000))
QUICK_REPORT = ReportConfig(sizes=(60, 150), runs=1)
BACKENDS = {"sqlite": "embedded, SQLite file, as users run it", "memory": "embedded, in memory"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="CI smoke run: small numbers, under a minute")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite", action="store_true", help="decisions on the SQLite-persisted server only")
    which.add_argument("--memory", action="store_true", help="decisions on the in-memory server only")
    parser.add_argument("--orders", type=int, help="orders per path (loaded phase)")
    parser.add_argument("--concurrency", type=int, help="commands in flight at once (loaded phase)")
    parser.add_argument("--rounds", type=int, help="rounds the paths take turns in (default 3; quick 1)")
    parser.add_argument("--light-orders", type=int, help="cancellations in the light-load phase")
    parser.add_argument("--light-rate", type=float, help="cancellations per second in the light-load phase")
    parser.add_argument("--no-scale", action="store_true", help="skip the open-orders scale run")
    parser.add_argument("--only-scale", action="store_true", help="run the scale part only")
    parser.add_argument("--no-costs", action="store_true", help="skip the billable actions per path")
    parser.add_argument(
        "--costs-against", help="another checkout whose paths' actions are counted beside ours"
    )
    parser.add_argument("--no-report", action="store_true", help="skip the cancellation report's part")
    parser.add_argument("--only-report", action="store_true", help="run the cancellation report part only")
    parser.add_argument(
        "--report-sizes",
        help="orders in visibility at each timing of the report, comma-separated, the first all real "
        "orders (default 1000,5000,10000,50000)",
    )
    parser.add_argument("--scale-open", type=int, help="open orders to reach (default 10000)")
    parser.add_argument(
        "--scale-rate", type=float, help="steady arrivals per second (default: half the ramp's capacity)"
    )
    parser.add_argument("--scale-steady", type=float, help="seconds of steady arrivals")
    parser.add_argument("--scale-backend", choices=sorted(BACKENDS), help="server of the scale run")
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        metavar="FLAG",
        help="extra `temporal server start-dev` flag to try a server setting (repeatable; --server-arg=...)",
    )
    parser.add_argument("--out", help="where the JSON goes (default $BENCH_OUT or bench-results.json)")
    parser.add_argument("--keep", action="store_true", help="keep the servers' data dirs and logs")
    return parser.parse_args(argv)


def configs(
    args: argparse.Namespace,
) -> tuple[list[str], DecisionConfig, ScaleConfig | None, ReportConfig | None]:
    decisions = QUICK_DECISIONS if args.quick else FULL_DECISIONS
    scale = QUICK_SCALE if args.quick else FULL_SCALE
    report = QUICK_REPORT if args.quick else FULL_REPORT
    if args.report_sizes:
        report = replace(report, sizes=tuple(int(size) for size in args.report_sizes.split(",")))
    overrides = {
        "orders": args.orders,
        "concurrency": args.concurrency,
        "light_orders": args.light_orders,
        "light_rate": args.light_rate,
        "rounds": args.rounds,
    }
    decisions = replace(decisions, **{k: v for k, v in overrides.items() if v is not None})
    scale_overrides = {
        "open_target": args.scale_open,
        "rate": args.scale_rate,
        "steady": args.scale_steady,
        "backend": args.scale_backend,
    }
    scale = replace(scale, **{k: v for k, v in scale_overrides.items() if v is not None})
    if args.sqlite or args.quick:
        backends = ["sqlite"]
    elif args.memory:
        backends = ["memory"]
    else:
        backends = ["sqlite", "memory"]
    if args.only_scale or args.only_report:
        backends = []
    skip_scale = args.no_scale or args.only_report
    skip_report = args.no_report or args.only_scale
    return backends, decisions, None if skip_scale else scale, None if skip_report else report


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    backends, decisions, scale, report = configs(args)
    cluster.SERVER_ARGS[:] = args.server_arg
    began = time.monotonic()
    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "config": {
            "decisions": asdict(decisions),
            "scale": asdict(scale) if scale else None,
            "report": asdict(report) if report else None,
        },
        "tuning": {k: v for k, v in os.environ.items() if k.startswith("ORDERS_WORKER_")},
        "server_args": args.server_arg,
        "decisions": {},
    }
    directory = Path(tempfile.mkdtemp(prefix="orders-bench-"))
    try:
        for backend in backends:
            log(f"decisions on the {backend} server ({BACKENDS[backend]})")
            paths = await run_backend(backend, decisions, directory, log)
            results["decisions"][backend] = with_ratios(paths)
        if not (args.no_costs or args.only_scale or args.only_report):
            log("costs: billable actions per path")
            against = Path(args.costs_against).resolve() if args.costs_against else None
            results["costs"] = await run_costs(directory, log, 1 if args.quick else 3, against)
        if scale is not None:
            log(f"scale: {scale.open_target} open orders on the {scale.backend} server")
            results["scale"] = await run_scale(scale, directory, log)
        if report is not None:
            log(f"report: {', '.join(map(str, report.sizes))} orders in visibility, {report.backend} server")
            results["report"] = await run_report(report, directory, log)
    finally:
        if args.keep:
            log(f"data dirs and logs kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    results["targets"] = targets(results)
    results["machine"]["loadavg_end"] = list(os.getloadavg())
    results["duration_s"] = time.monotonic() - began
    return results


def render(results: dict[str, Any]) -> str:
    parts = []
    if results["decisions"]:
        parts.append(goals_table(results["decisions"]))
    for backend, paths in results["decisions"].items():
        parts.append(decision_table(backend, paths, BACKENDS[backend]))
    if results.get("costs"):
        parts.append(
            "**cost per order** in Temporal Cloud's billable actions\n\n" + cost_table(results["costs"])
        )
    if results.get("scale"):
        parts.append(scale_table(results["scale"]))
    if results.get("report"):
        parts.append(report_table(results["report"]))
    parts.append(targets_table(results["targets"]))
    m = results["machine"]
    parts.append(
        f"{m['nproc']} × {m['cpu_model']}, {m['memory_gib']} GiB; load average "
        f"{m['loadavg_start'][0]:.2f} at the start, {m['loadavg_end'][0]:.2f} at the end; "
        f"{results['duration_s']:.0f} s in all"
    )
    return "\n\n".join(parts)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that the servers and workers this run started are stopped


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _interrupt)
    results = asyncio.run(run(args))
    target = out_path(args.out)
    target.write_text(json.dumps(json_ready(results), indent=2) + "\n")
    print(render(results))
    log(f"figures written to {target}")


if __name__ == "__main__":
    main()
