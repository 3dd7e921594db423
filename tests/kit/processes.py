"""Real processes for the tests: `python worker.py` as users run it, `temporal server start-dev`, each in a
session of its own and stopped at the end whatever happened."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from orders.embedded import temporal_binary
from orders.settings import Settings
from tests.kit.paths import ROOT
from tests.kit.polling import eventually
from workflows.search_attributes import cli_flags as search_attribute_flags


def free_port(pair: bool = False) -> int:
    """A loopback port nobody listens on (and, with `pair`, port + 1000 too, for a server's UI)."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port > 64000 or not pair:
            if not pair:
                return port
            continue
        with socket.socket() as ui:
            try:
                ui.bind(("127.0.0.1", port + 1000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


def kill(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


@dataclass
class Process:
    """A process this test started, in a session of its own; its output goes to `log`."""

    popen: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(
        cls, args: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT
    ) -> Process:
        with log.open("ab") as out:
            popen = subprocess.Popen(
                args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return cls(popen, log)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def sigkill(self) -> None:
        kill(self.pid)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.sigkill()

    async def logged(self, text: str, timeout: float = 60) -> None:
        async def seen() -> bool:
            assert self.alive() or text in self.log.read_text(errors="replace"), self.log.read_text()[-2000:]
            return text in self.log.read_text(errors="replace")

        await eventually(seen, bool, timeout=timeout, every=0.2)


def dev_server(database: Path, port: int, log: Path, *dynamic_config: str) -> Process:
    """`temporal server start-dev` on a SQLite file, as the embedded server runs (headless here)."""
    args = [
        temporal_binary(), "server", "start-dev", "--headless",
        "--db-filename", str(database), "--port", str(port), "--log-level", "error",
    ]  # fmt: skip
    args += search_attribute_flags()
    for value in dynamic_config:
        args += ["--dynamic-config-value", value]
    return Process.start(args, log)


def shell_without_settings() -> dict[str, str]:
    """This process's environment without any TEMPORAL_*/ORDERS_* variable a developer may have set."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "ORDERS_"))}


def worker_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = shell_without_settings() | {
        "ORDERS_DATA_DIR": str(settings.data_dir),
        "ORDERS_TASK_QUEUE": settings.task_queue,
        "ORDERS_UPDATE_TIMEOUT_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
    }
    if settings.webhook_url:
        env["ORDERS_WEBHOOK_URL"] = settings.webhook_url
    if settings.webhook_secret:
        env["ORDERS_WEBHOOK_SECRET"] = settings.webhook_secret.get_secret_value()
    return env | extra


def start_worker(settings: Settings, log: Path, **extra: str) -> Process:
    return Process.start([sys.executable, "worker.py"], log, worker_env(settings, **extra))


async def connect(port: int, timeout: float = 30) -> Client:
    async def attempt() -> Client | None:
        try:
            return await Client.connect(f"localhost:{port}", data_converter=pydantic_data_converter)
        except RuntimeError:
            return None

    client = await eventually(attempt, lambda c: c is not None, timeout=timeout, every=0.3)
    assert client is not None
    return client


@asynccontextmanager
async def processes() -> AsyncIterator[list[Process]]:
    """Every process a test starts is stopped at the end, whatever happened."""
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in reversed(started):
            with suppress(Exception):
                process.stop()
