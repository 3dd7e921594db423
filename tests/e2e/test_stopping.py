"""Ctrl-C on `make run`, pressed in a real terminal: a pseudo-terminal whose line discipline turns the
key (`\\x03`) into SIGINT for the foreground process group, as a terminal does. Every stop is clean: no
traceback, no error line, the API and the worker both say they stopped, and make ends as a Ctrl-C'd
program ends (by SIGINT, silently). Ten times in a row on one data directory, since the traceback this
replaced came in two tries of three (docs/reliability.md, "Stopping"); then twice while it starts.

The first try starts the embedded Temporal and checks it is stopped too; the nine after it use a dev
server started once (TEMPORAL_ADDRESS), the way a deployment runs it, which spares the test nine starts
of the embedded server: the API and the worker are what stop on Ctrl-C either way."""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.kit.paths import ROOT
from tests.kit.processes import dev_server, free_port

MAKE = shutil.which("make")
TRIES = 10
READY = ("worker polling", "Application startup complete")
STOPPED = ("orders.worker: stopping", "Finished server process")


@dataclass
class Terminal:
    """`make run` in a pseudo-terminal of its own, its output read as a person would see it."""

    pid: int
    fd: int
    output: bytes = field(default=b"")

    @classmethod
    def make_run(cls, env: dict[str, str], cwd: Path) -> Terminal:
        pid, fd = pty.fork()
        if pid == 0:  # the child: a session of its own, the pty its controlling terminal
            os.chdir(cwd)
            os.execvpe(MAKE or "make", ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "run"],
                       env)  # fmt: skip
        return cls(pid, fd)

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace")

    def read(self, timeout: float) -> bool:
        """Read what is there within `timeout`; False once the terminal is closed (everyone exited)."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the last process holding the terminal is gone
            return False
        self.output += chunk
        return bool(chunk)

    def read_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.read(max(deadline - time.monotonic(), 0)):
            pass

    def wait_for(self, words: tuple[str, ...], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(word in self.text for word in words):
            assert time.monotonic() < deadline, f"not {words} within {timeout} s:\n{self.text[-3000:]}"
            assert self.read(0.2), f"`make run` ended before {words}:\n{self.text[-3000:]}"

    def ctrl_c(self) -> int:
        """Press Ctrl-C and read to the end; the exit status as a shell sees it (-2: ended by SIGINT)."""
        os.write(self.fd, b"\x03")
        deadline = time.monotonic() + 60
        while self.read(1.0):
            if time.monotonic() > deadline:
                os.killpg(self.pid, signal.SIGKILL)
                pytest.fail(f"`make run` did not stop within 60 s of Ctrl-C:\n{self.text[-3000:]}")
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def clean(terminal: Terminal, code: int) -> None:
    text = terminal.text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text, text[-3000:]
    assert not [line for line in text.splitlines() if " ERROR " in line or "make: ***" in line], text[-3000:]
    assert code in (0, -signal.SIGINT), (code, text[-3000:])


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_ctrl_c_stops_make_run_cleanly_ten_times_in_ten(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "ORDERS_"))}
    env |= {
        "ORDERS_DATA_DIR": str(tmp_path / "data"),
        "ORDERS_API_PORT": str(free_port()),
        "ORDERS_EMBEDDED_PORT": str(free_port(pair=True)),
        "PYTHONUNBUFFERED": "1",
    }
    pid_file = tmp_path / "data" / "temporal.pid"
    own_port = free_port(pair=True)
    temporal = dev_server(tmp_path / "own.db", own_port, tmp_path / "own.log")
    try:
        for attempt in range(TRIES):
            own = {"TEMPORAL_ADDRESS": f"localhost:{own_port}"} if attempt else {}
            terminal = Terminal.make_run(env | own, tmp_path)
            terminal.wait_for(READY, timeout=120)
            clean(terminal, terminal.ctrl_c())
            assert all(word in terminal.text for word in STOPPED), (
                f"try {attempt + 1}:\n{terminal.text[-3000:]}"
            )
            assert not pid_file.exists(), "the embedded Temporal was left running"
        for delay in (0.5, 3.0):  # while the service starts: still no traceback
            terminal = Terminal.make_run(env, tmp_path)
            terminal.read_for(delay)
            clean(terminal, terminal.ctrl_c())
            assert not pid_file.exists(), "the embedded Temporal was left running"
    finally:
        temporal.stop()
