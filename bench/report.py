# ruff: noqa: RUF001
# (the multiplication sign and the en dash in the tables are meant)
"""Ratios to the baseline, the issue's targets, the tables, and the JSON written to `BENCH_OUT`."""

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

FLOORS = ("baseline", "floor_effects")
OURS = ("client_update", "client_items", "client_signal", "rest")
WHOLE_ORDER = ("client_update", "client_signal", "rest")  # the targets are theirs
# Figures compared with the baseline's; for throughput higher is better, for times lower is.
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
EFFECTS_THROUGHPUT_MIN = 0.9  # decided/s, to the floor with effects (issue 12.7)
EFFECTS_LATENCY_MAX = 1.15  # decision p50 under load, to the floor with effects (issue 12.7)
LATENCY_MAX = 1.25  # light-load decision p50, to the raw floor
REST_ADDS_MAX_MS = 5.0
RSS_RATIO_MAX = 1.5
LATENESS_P99_MAX_S = 2.0


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
    """Every path's figures; each of ours as a ratio to the raw floor's (`ratio`) and to the floor with
    effects' (`ratio_effects`), the floor with effects to the raw floor's; one item to the whole order."""
    for figures in paths.values():
        figures["cpu_ms_per_order_total"] = sum(figures["cpu_ms_per_order"].values())
    base, effects = paths["baseline"], paths.get("floor_effects")
    for name in ("floor_effects", *OURS):
        if name in paths:
            paths[name]["ratio"] = {key: ratio(paths[name][key], base[key]) for key in RATIO_FIGURES}
        if name in OURS and name in paths and effects is not None:
            paths[name]["ratio_effects"] = {
                key: ratio(paths[name][key], effects[key]) for key in RATIO_FIGURES
            }
    if effects is not None and "recorded_decided_per_s" in effects:
        strict = {
            "decided_per_s": "recorded_decided_per_s",
            "decision_p50_ms": "recorded_decision_p50_ms",
            "decision_p99_ms": "recorded_decision_p99_ms",
            "light_decision_p50_ms": "recorded_light_decision_p50_ms",
        }
        for name in OURS:
            if name in paths:
                paths[name]["ratio_effects_recorded"] = {
                    ours: ratio(paths[name][ours], effects[theirs]) for ours, theirs in strict.items()
                }
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
        for name in WHOLE_ORDER:
            if name not in paths:
                continue
            where = f"{backend}, {paths[name]['label']}"
            fx, raw = paths[name].get("ratio_effects"), paths[name]["ratio"]
            if fx is not None:
                add("decided/s ≥ 0.9× floor with effects", where, fx["decided_per_s"],
                    EFFECTS_THROUGHPUT_MIN, True)  # fmt: skip
                add("decision p50 ≤ 1.15× floor with effects (loaded)", where, fx["decision_p50_ms"],
                    EFFECTS_LATENCY_MAX, False)  # fmt: skip
            strict = paths[name].get("ratio_effects_recorded")
            if strict is not None:
                add("strict: decided/s ≥ 0.9× floor with effects recorded", where, strict["decided_per_s"],
                    EFFECTS_THROUGHPUT_MIN, True)  # fmt: skip
                add("strict: decision p50 ≤ 1.15× floor with effects recorded", where,
                    strict["decision_p50_ms"], EFFECTS_LATENCY_MAX, False)  # fmt: skip
            add("decision p50 ≤ 1.25× raw floor (light load)", where, raw["light_decision_p50_ms"],
                LATENCY_MAX, False)  # fmt: skip
        if "rest" in paths and "client_update" in paths:
            # Judged at light load: under saturation both paths' latency is queueing, and their difference
            # swings by hundreds of milliseconds from run to run (it is in the table, not judged).
            add(
                "REST adds ≤ 5 ms p50 over the client (light load)",
                backend,
                paths["rest"]["rest_adds_light_p50_ms"],
                REST_ADDS_MAX_MS,
                False,
            )
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
