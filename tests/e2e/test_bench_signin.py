"""The sign-in flood benchmark's smoke run: `python -m bench.signin` end to end with a few reads and
flooders (real embedded server, worker and API processes). It checks that every figure is written; the
cost of a flood is measured by `make bench-signin`, never asserted in a test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.kit.paths import ROOT


def test_signin_bench_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "signin.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.signin", "--reads", "5", "--flooders", "4", "--out", str(out)],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert set(figures["modes"]) == {"bounded", "unbounded"}
    for mode in figures["modes"].values():
        for phase in ("alone", "flood"):
            assert mode[phase]["p50_ms"] > 0 and mode[phase]["p99_ms"] >= mode[phase]["p50_ms"]
        assert mode["p50_ratio"] > 0 and sum(mode["sign_in_answers"].values()) > 0
    assert "alone p50" in done.stdout
