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

OURS = ("client_update", "client_signal", "rest")
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
THROUGHPUT_MIN = 0.8
LATENCY_MAX = 1.25
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
    """Every path's figures, and each of ours as a ratio to the baseline's."""
    for figures in paths.values():
        figures["cpu_ms_per_order_total"] = sum(figures["cpu_ms_per_order"].values())
    base = paths["baseline"]
    for name in OURS:
        if name in paths:
            paths[name]["ratio"] = {key: ratio(paths[name][key], base[key]) for key in RATIO_FIGURES}
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
        for name in OURS:
            if name not in paths:
                continue
            r = paths[name]["ratio"]
            where = f"{backend}, {paths[name]['label']}"
            add("decision throughput ≥ 0.8× baseline", where, r["decided_per_s"], THROUGHPUT_MIN, True)
            add(
                "decision latency p50 ≤ 1.25× baseline (loaded)",
                where,
                r["decision_p50_ms"],
                LATENCY_MAX,
                False,
            )
            add(
                "decision latency p50 ≤ 1.25× baseline (light load)",
                where,
                r["light_decision_p50_ms"],
                LATENCY_MAX,
                False,
            )
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


# Tables (Markdown, so a run's output pastes into docs/performance.md as it is)


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _cell(figures: dict[str, Any], key: str, digits: int = 1) -> str:
    text = _num(figures[key], digits)
    if "ratio" in figures:
        text += f" ({_num(figures['ratio'][key], 2)}×)"
    return text


def _pair(figures: dict[str, Any], p50: str, p99: str) -> str:
    text = f"{_num(figures[p50], 0)} / {_num(figures[p99], 0)}"
    if "ratio" in figures:
        text += f" ({_num(figures['ratio'][p50], 2)}× / {_num(figures['ratio'][p99], 2)}×)"
    return text


def decision_table(backend: str, paths: dict[str, Any], description: str) -> str:
    base = paths["baseline"]
    lines = [
        f"**{backend}** ({description}): {base['orders']} orders per path at concurrency "
        f"{base['concurrency']}, in {base['rounds']} rounds; light load: {base['light_orders']} "
        f"cancellations at {_num(base['light_rate'])}/s",
        "",
        "| path | placed/s | decided/s | canceled/s | decision p50 / p99 ms "
        "| light-load decision p50 / p99 ms | to `canceled` p50 / p99 ms | CPU ms/order |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for figures in paths.values():
        lines.append(
            f"| {figures['label']} | {_cell(figures, 'placed_per_s')} | {_cell(figures, 'decided_per_s')} "
            f"| {_cell(figures, 'canceled_per_s')} | {_pair(figures, 'decision_p50_ms', 'decision_p99_ms')} "
            f"| {_pair(figures, 'light_decision_p50_ms', 'light_decision_p99_ms')} "
            f"| {_pair(figures, 'canceled_p50_ms', 'canceled_p99_ms')} "
            f"| {_cell(figures, 'cpu_ms_per_order_total', 0)} |"
        )
    if "rest" in paths:
        rest = paths["rest"]
        lines += [
            "",
            f"REST adds {_num(rest['rest_adds_p50_ms'])} ms p50 over the client's update path under load, "
            f"{_num(rest['rest_adds_light_p50_ms'])} ms at light load.",
        ]
    return "\n".join(lines)


def scale_table(scale: dict[str, Any]) -> str:
    marks = list(scale["worker_rss_mib"])
    first = scale["worker_rss_mib"][marks[0]]
    lines = [
        f"**scale** ({scale['backend']} server): {scale['open_target']} orders placed as fast as the machine "
        f"takes them ({_num(scale['ramp_capacity_per_s'])}/s, {_num(scale['ramp_seconds'], 0)} s), each "
        "with a 1–2 h window so all stay open",
        "",
        "| open orders | worker RSS MiB | × at " + marks[0] + " |",
        "|---|---|---|",
    ]
    for mark in marks:
        rss = scale["worker_rss_mib"][mark]
        lines.append(f"| {mark} | {_num(rss, 0)} | {_num(ratio(rss, first), 2)} |")
    lines += [
        "",
        f"Then {_num(scale['arrival_rate_per_s'])} orders/s for {_num(scale['steady_seconds'], 0)} s "
        f"(half that capacity) with {scale['grace_seconds'][0]}–{scale['grace_seconds'][1]} s windows, among "
        f"the open ones: timer lateness (deadline → `ready-for-handling`) over {scale['timers_measured']} "
        f"timers p50 {_num(scale['lateness_p50_s'], 2)} s, p99 {_num(scale['lateness_p99_s'], 2)} s, "
        f"max {_num(scale['lateness_max_s'], 2)} s"
        + (
            f" ({scale['timers_not_fired']} not fired by the end, counted as late as the end)"
            if scale["timers_not_fired"]
            else ""
        )
        + f"; worker RSS {_num(scale['worker_rss_end_mib'], 0)} MiB at the end.",
    ]
    return "\n".join(lines)


def targets_table(found: list[dict[str, Any]]) -> str:
    lines = ["| target | where | value | met |", "|---|---|---|---|"]
    for t in found:
        lines.append(
            f"| {t['target']} | {t['where']} | {_num(t['value'], 2)} | {'yes' if t['met'] else '**no**'} |"
        )
    return "\n".join(lines)


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
