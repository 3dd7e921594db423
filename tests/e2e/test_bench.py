"""The benchmark's smoke run: `python -m bench --quick` end to end, on real servers and processes.

It checks that the run writes every figure and every ratio the issue asks for; it asserts nothing
about speed (speed is measured by `make bench`, never in a test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.kit.paths import ROOT

PATH_FIGURES = {
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
    "cpu_ms_per_order",
    "cpu_ms_per_order_total",
}
OURS = ("client_update", "client_items", "client_signal", "rest")
FLOOR = "floor"
HISTORY = {
    "workflow_tasks", "activities", "local_activities", "upserts", "memo_upserts", "timers", "events",
    "billable_actions",
}  # fmt: skip


def number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def test_quick_bench_writes_every_figure_and_ratio(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "BENCH_OUT": str(out)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=420,  # a hang guard: about a minute on a quiet machine, minutes on a busy one
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "| target |" in run.stdout  # the table was printed
    results = json.loads(out.read_text())

    assert results["mode"] == "quick"
    assert {"nproc", "cpu_model", "memory_gib", "temporalio"} <= set(results["machine"])
    paths = results["decisions"]["sqlite"]
    assert set(paths) == {FLOOR, *OURS}
    for name, figures in paths.items():
        missing = {key for key in PATH_FIGURES if not number(figures.get(key)) and key != "cpu_ms_per_order"}
        assert not missing, f"{name}: missing figures {missing}"
        assert {"worker", "server", "loadgen"} <= set(figures["cpu_ms_per_order"])
        assert figures["queued"] == 0, f"{name}: commands fell back to signals"
        assert all(number(figures["history"][key]) for key in HISTORY), f"{name}: {figures['history']}"
    for name in OURS:
        ratios = paths[name]["ratio"]
        missing = {key for key in PATH_FIGURES - {"cpu_ms_per_order"} if not number(ratios.get(key))}
        assert not missing, f"{name}: missing ratios {missing}"
    floor = paths[FLOOR]["history"]
    assert (floor["activities"], floor["timers"], floor["billable_actions"]) == (1, 1, 4)
    assert number(paths["client_items"]["ratio_whole"]["cpu_ms_per_order_total"])
    assert isinstance(paths["rest"]["rest_adds_p50_ms"], int | float)
    assert isinstance(paths["rest"]["rest_adds_light_p50_ms"], int | float)

    scale = results["scale"]
    marks = [str(m) for m in (scale["open_target"] // 10, scale["open_target"] // 2, scale["open_target"])]
    assert all(number(scale["worker_rss_mib"][m]) for m in marks), scale["worker_rss_mib"]
    for key in ("rss_ratio_last_to_first", "lateness_p50_s", "lateness_p99_s", "arrival_rate_per_s"):
        assert isinstance(scale[key], int | float), key
    assert scale["timers_measured"] > 0

    costs = results["costs"]
    assert set(costs["ours"]) == {
        "invoiced", "canceled_in_window", "confirmed", "denied_then_invoiced", "items_canceled", "reminded",
    } | ({"modified"} - set(costs["pending"]))  # fmt: skip
    canceled = costs["ours"]["canceled_in_window"]
    assert (canceled["starts"], canceled["updates"], canceled["total"]) == (1, 1, 6), canceled
    assert costs["ours"]["reminded"]["timers"] == 5  # the window, three reminders, the decision

    report = results["report"]
    assert report["counts_match"] and report["reports_agree"], report["sizes"]
    assert [row["orders"] for row in report["sizes"]] == [60, 150]
    for row in report["sizes"]:
        assert all(number(row[key]) for key in ("counted_p50_s", "read_p50_s", "cli_p50_s")), row

    targets = {t["target"] for t in results["targets"]}
    assert len(targets) == 6  # the four goals (SQLite only, quick), RSS and lateness
    assert all(isinstance(t["met"], bool) for t in results["targets"])
