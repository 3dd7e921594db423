"""The console benchmark's smoke run: `python -m bench.console` end to end on a few orders (real
embedded server, worker and API processes). It checks that every figure is written; speed is measured
by `make bench-console`, never asserted in a test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.kit.paths import ROOT


def test_console_bench_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "console.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.console", "--orders", "5", "--runs", "2", "--out", str(out)],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert figures["orders"] == 5 and figures["visibility_rows"] == 5
    for part in ("queue_page", "queue_rows_fragment"):
        assert {"p50_ms", "max_ms", "min_ms", "bytes", "wire_bytes"} <= set(figures[part])
        assert figures[part]["p50_ms"] > 0
    assert "GET /console/" in done.stdout
