# ruff: noqa: RUF001
# (the multiplication sign and the en dash in the tables are meant)
"""Ratios to the floor, the issue's targets, the tables, and the JSON written to `BENCH_OUT`."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.stats import ratio, rounded

FLOOR = "floor"
OURS = ("client_update", "client_items", "client_signal", "rest")
JUDGED = "client_update"  # the four ratios are the erp's path: the client's update
# Figures compared with the floor's; for throughput higher is better, for times lower is.
RATIO_FIGURES = (
    "placed_per_s",
    "decided_per_s",
    "canceled_per_s",
    "decision_p50_ms",
    "decision_p99_ms",
    "light_decision_p50_ms",
    "light_decision_p99_ms",
    "canceled_p50_ms",
    "canceled_p99_ms",
    "light_canceled_p50_ms",
    "light_canceled_p99_ms",
    "cpu_ms_per_order_total",
)
# The goals, each a ratio to the floor in the same run: (figure, limit, higher is better).
GOALS = (
    ("placed_per_s", 0.8, True),
    ("decided_per_s", 0.9, True),
    ("decision_p50_ms", 1.15, False),
    ("canceled_p50_ms", 1.25, False),
)
GOAL_NAMES = {
    "placed_per_s": "placed/s",
    "decided_per_s": "decided/s",
    "decision_p50_ms": "decision p50",
    "canceled_p50_ms": "to `canceled` p50",
}
RSS_RATIO_MAX = 1.5
LATENESS_P99_MAX_S = 2.0
REPORT_GROWTH_MAX = 1.5  # the report's time at 5,000 orders to its time at 1,000


def machine() -> dict[str, Any]:
    cpu_model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        total_kib = int(meminfo.readline().split()[1])
    try:
        temporal_cli = subprocess.run(
            ["temporal", "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except OSError:
        temporal_cli = "not on PATH"
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(total_kib / 2**20, 1),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "temporalio": metadata.version("temporalio"),
        "temporal_cli": temporal_cli,
        "loadavg_start": list(os.getloadavg()),
    }


def with_ratios(paths: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every path's figures; each of ours as a ratio to the floor's (`ratio`); one item to the whole
    order (`ratio_whole`); what REST adds to the client's update path."""
    for figures in paths.values():
        figures["cpu_ms_per_order_total"] = sum(figures["cpu_ms_per_order"].values())
    floor = paths[FLOOR]
    for name in OURS:
        if name in paths:
            paths[name]["ratio"] = {key: ratio(paths[name][key], floor[key]) for key in RATIO_FIGURES}
    if "client_items" in paths and "client_update" in paths:
        items, whole = paths["client_items"], paths["client_update"]
        items["ratio_whole"] = {key: ratio(items[key], whole[key]) for key in RATIO_FIGURES}
        history = items.get("history", {})
        items["ratio_whole"] |= {
            f"history_{key}": ratio(value, whole["history"].get(key, float("nan")))
            for key, value in history.items()
            if isinstance(value, int | float) and key != "sampled"
        }
    if "rest" in paths and "client_update" in paths:
        rest, client = paths["rest"], paths["client_update"]
        rest["rest_adds_p50_ms"] = rest["decision_p50_ms"] - client["decision_p50_ms"]
        rest["rest_adds_light_p50_ms"] = rest["light_decision_p50_ms"] - client["light_decision_p50_ms"]
    return paths


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each judged on the figures of this run."""
    found: list[dict[str, Any]] = []

    def add(name: str, where: str, value: float, limit: float, higher_is_better: bool) -> None:
        met = not math.isnan(value) and (value >= limit if higher_is_better else value <= limit)
        found.append({"target": name, "where": where, "value": value, "limit": limit, "met": met})

    for backend, paths in results.get("decisions", {}).items():
        if JUDGED not in paths:
            continue
        where = f"{backend}, {paths[JUDGED]['label']}"
        for key, limit, higher in GOALS:
            sign = "≥" if higher else "≤"
            value = paths[JUDGED]["ratio"][key]
            add(f"{GOAL_NAMES[key]} {sign} {limit}× the floor", where, value, limit, higher)
    scale = results.get("scale")
    if scale:
        where = f"{scale['backend']}, {scale['open_target']} open orders"
        add(
            "worker RSS at 10k open ≤ 1.5× at 1k",
            where,
            scale["rss_ratio_last_to_first"],
            RSS_RATIO_MAX,
            False,
        )
        add("timer lateness p99 ≤ 2 s", f"{where}, {scale['arrival_rate_per_s']:.0f} orders/s",
            scale["lateness_p99_s"], LATENESS_P99_MAX_S, False)  # fmt: skip
    report = results.get("report")
    if report and report.get("growth_5k_to_1k") is not None:
        add("report's time at 5,000 orders ≤ 1.5× at 1,000", f"{report['backend']}, `build_report`",
            report["growth_5k_to_1k"], REPORT_GROWTH_MAX, False)  # fmt: skip
    return found


def json_ready(value: Any) -> Any:
    """Floats rounded, NaN as null."""
    if isinstance(value, float):
        return rounded(value, 3)
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value


def out_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get("BENCH_OUT") or "bench-results.json")
