# ruff: noqa: RUF001
# (the multiplication sign and the en dash in the tables are meant)
"""The tables `python -m bench` prints, in Markdown, so a run's output pastes into docs/performance.md."""

from __future__ import annotations

import math
from typing import Any

from bench.histories import COST_FIGURES
from bench.report import FLOOR, GOAL_NAMES, GOALS, JUDGED
from bench.stats import ratio


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _ratios(figures: dict[str, Any]) -> dict[str, Any] | None:
    """Ours to the floor (the floor has none)."""
    found: dict[str, Any] | None = figures.get("ratio")
    return found


def _cell(figures: dict[str, Any], key: str, digits: int = 1) -> str:
    text, ratios = _num(figures[key], digits), _ratios(figures)
    if ratios is not None:
        text += f" ({_num(ratios[key], 2)}×)"
    return text


def _pair(figures: dict[str, Any], p50: str, p99: str) -> str:
    text, ratios = f"{_num(figures[p50], 0)} / {_num(figures[p99], 0)}", _ratios(figures)
    if ratios is not None:
        text += f" ({_num(ratios[p50], 2)}× / {_num(ratios[p99], 2)}×)"
    return text


def goals_table(decisions: dict[str, dict[str, Any]]) -> str:
    """The issue's four ratios, the client's update path to the floor, every server side by side."""
    backends = list(decisions)
    head = "| | " + " | ".join(f"{b}: floor | {b}: ours | {b}: ratio" for b in backends) + " | goal |"
    lines = [head, "|---|" + "---|---|---|" * len(backends) + "---|"]
    for key, limit, higher in GOALS:
        digits = 1 if key.endswith("per_s") else 0
        cells = []
        for backend in backends:
            floor, ours = decisions[backend][FLOOR], decisions[backend][JUDGED]
            value = ours["ratio"][key]
            met = not math.isnan(value) and (value >= limit if higher else value <= limit)
            mark = f"{_num(value, 2)}×" if met else f"**{_num(value, 2)}×**"
            cells.append(f"{_num(floor[key], digits)} | {_num(ours[key], digits)} | {mark}")
        unit = " ms" if key.endswith("_ms") else ""
        sign = "≥" if higher else "≤"
        lines.append(f"| {GOAL_NAMES[key]}{unit} | " + " | ".join(cells) + f" | {sign} {limit}× |")
    return "\n".join(lines)


def history_table(paths: dict[str, Any]) -> str:
    """What each path costs Temporal per order, placement included, read from the runs' histories."""
    lines = [
        "| path | " + " | ".join(key.replace("_", " ") for key in COST_FIGURES) + " |",
        "|---|" + "---|" * len(COST_FIGURES),
    ]
    for figures in paths.values():
        history = figures.get("history") or {}
        if history:
            cells = " | ".join(_num(history[key], 0) for key in COST_FIGURES)
            lines.append(f"| {figures['label']} | {cells} |")
    return "\n".join(lines)


def items_line(paths: dict[str, Any]) -> str:
    """One item canceled beside the whole order (the update path)."""
    items = paths.get("client_items")
    if not items or "ratio_whole" not in items:
        return ""
    whole, r = paths["client_update"], items["ratio_whole"]
    parts = [
        f"decided/s {_num(items['decided_per_s'])} against {_num(whole['decided_per_s'])} "
        f"({_num(r['decided_per_s'], 2)}×)",
        f"decision p50 {_num(items['decision_p50_ms'], 0)} ms against {_num(whole['decision_p50_ms'], 0)} "
        f"({_num(r['decision_p50_ms'], 2)}×)",
        f"CPU {_num(items['cpu_ms_per_order_total'], 0)} ms/order against "
        f"{_num(whole['cpu_ms_per_order_total'], 0)} ({_num(r['cpu_ms_per_order_total'], 2)}×)",
    ]
    for key in ("workflow_tasks", "activities", "events"):
        if f"history_{key}" in r:
            parts.append(
                f"{key.replace('_', ' ')} {_num(items['history'][key], 0)} against "
                f"{_num(whole['history'][key], 0)}"
            )
    return "One item against the whole order (update path): " + "; ".join(parts) + "."


def decision_table(backend: str, paths: dict[str, Any], description: str) -> str:
    floor = paths[FLOOR]
    lines = [
        f"**{backend}** ({description}): {floor['orders']} orders per path at concurrency "
        f"{floor['concurrency']}, in {floor['rounds']} rounds; light load: {floor['light_orders']} "
        f"cancellations at {_num(floor['light_rate'])}/s. Ratios: ours to the floor. One item: "
        "canceled/s and to `canceled` count to its effects recorded (the order goes on).",
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
    lines += ["", history_table(paths)]
    items = items_line(paths)
    if items:
        lines += ["", items]
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


def report_table(report: dict[str, Any]) -> str:
    """The cancellation report's time as the orders in visibility grow (issue 24)."""
    mix = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in report["mix"].items())
    lines = [
        f"**report** ({report['backend']} server): the first {report['real_orders']} orders real ones, "
        f"made in {_num(report['settle_seconds'], 0)} s, the rest copies of what visibility holds of them; "
        f"in all: {mix}. p50 of {len(report['sizes'][0]['counted_s'])} runs, seconds.",
        "",
        "| orders in visibility | `build_report` (counts) | read every order (as 1.0) "
        "| `orders report --json` (a process) | counts as the mix says | both reports agree |",
        "|---|---|---|---|---|---|",
    ]
    first = report["sizes"][0]

    def yes(value: bool) -> str:
        return "yes" if value else "**no**"

    for row in report["sizes"]:
        growth = ratio(row["counted_p50_s"], first["counted_p50_s"])
        read = ratio(row["read_p50_s"], first["read_p50_s"])
        lines.append(
            f"| {row['orders']} | {_num(row['counted_p50_s'], 3)} ({_num(growth, 2)}×) "
            f"| {_num(row['read_p50_s'], 2)} ({_num(read, 2)}×) | {_num(row['cli_p50_s'], 2)} "
            f"| {yes(row['counts_match'])} | {yes(row['reports_agree'])} |"
        )
    if report.get("growth_5k_to_1k") is not None:
        lines += [
            "",
            f"From 1,000 to 5,000 orders `build_report` takes {_num(report['growth_5k_to_1k'], 2)}× as long, "
            f"the CLI {_num(report['cli_growth_5k_to_1k'], 2)}×.",
        ]
    return "\n".join(lines)
