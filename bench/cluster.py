"""What the benchmark runs on: the embedded Temporal (SQLite or in memory) on a free port, and the
worker(s) and the REST API each in a process of their own, so their memory and CPU are their own."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType

import httpx

from orders.embedded import EmbeddedTemporal, port_open

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")

ERP_KEY, ERP_TOKEN = "bench-erp", "bench-erp-token-5f1c2a"
ERP_HEADERS = {"X-VTEX-API-AppKey": ERP_KEY, "X-VTEX-API-AppToken": ERP_TOKEN}


def free_port(span: int = 0) -> int:
    """A free TCP port `p` (and `p + span` free too: the dev server's UI listens there)."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if port + span > 65535:
            continue
        if span == 0:
            return port
        with socket.socket() as other:
            try:
                other.bind(("127.0.0.1", port + span))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair found")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    """Resident set size of a process, MiB (Linux /proc)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return pages * PAGE_BYTES / 2**20


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


# Extra `temporal server start-dev` flags, for trying server settings (`python -m bench --server-arg`);
# none by default: the server runs exactly as `orders.embedded` starts it for users.
SERVER_ARGS: list[str] = []


class SqliteTemporal(EmbeddedTemporal):
    """The embedded Temporal as users run it (plus `SERVER_ARGS`, if any)."""

    def command(self) -> list[str]:
        return super().command() + SERVER_ARGS


class InMemoryTemporal(EmbeddedTemporal):
    """`temporal server start-dev` without `--db-filename`: everything in memory."""

    def command(self) -> list[str]:
        args = super().command()
        at = args.index("--db-filename")
        return args[:at] + args[at + 2 :] + SERVER_ARGS


class Temporal:
    """The embedded Temporal for one benchmark stage, on a free port and a fresh data dir."""

    def __init__(self, backend: str, directory: Path) -> None:
        if backend not in ("sqlite", "memory"):
            raise ValueError(backend)
        self.backend = backend
        self.directory = directory
        self.port = free_port(span=1000)
        kind = SqliteTemporal if backend == "sqlite" else InMemoryTemporal
        self.server = kind(directory / "temporal.db", self.port)

    @property
    def address(self) -> str:
        return f"localhost:{self.port}"

    @property
    def pid(self) -> int:
        process = self.server._process  # started by us: never an already running server
        assert process is not None
        return process.pid

    async def __aenter__(self) -> Temporal:
        self.directory.mkdir(parents=True, exist_ok=True)
        await self.server.__aenter__()
        if self.server._process is None:
            raise RuntimeError(f"port {self.port} was taken by another server")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.server.stop()


class Process:
    """A child process (worker or API) with its own log, ready when `ready` says so."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT) -> None:
        self.name = name
        self.cwd = cwd
        self.args = args
        self.env = env
        self.log = log
        self._process: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> float:
        return rss_mib(self.pid)

    async def start(self, ready: Callable[[], Awaitable[bool]] | None = None, timeout: float = 60) -> None:
        with self.log.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                *self.args, cwd=self.cwd, env=self.env, stdout=asyncio.subprocess.PIPE, stderr=log,
                start_new_session=True,
            )  # fmt: skip
        assert self._process.stdout is not None
        deadline = time.monotonic() + timeout
        if ready is None:  # wait for the READY line
            line = await asyncio.wait_for(self._process.stdout.readline(), timeout)
            if line.strip() != b"READY":
                await self.stop()
                raise RuntimeError(f"{self.name} did not start; see {self.log}")
        else:
            while not await ready():
                if self._process.returncode is not None or time.monotonic() > deadline:
                    await self.stop()
                    raise RuntimeError(f"{self.name} did not start; see {self.log}")
                await asyncio.sleep(0.1)
        self._drain = asyncio.create_task(self._drain_stdout())

    async def _drain_stdout(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        while await self._process.stdout.read(65536):
            pass

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drain


def child_env(temporal: Temporal, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker or API process: this Temporal, its own data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "ORDERS_DATA_DIR"))}
    env.update(
        TEMPORAL_ADDRESS=temporal.address,
        TEMPORAL_NAMESPACE="default",
        ORDERS_DATA_DIR=str(data_dir),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


async def start_worker(
    kind: str, temporal: Temporal, directory: Path, checkout: Path = ROOT, name: str = "", **env: str
) -> Process:
    """A worker process; `checkout`: another copy of the project whose workflow code it runs."""
    name = name or kind
    data_dir = directory / f"{name}-worker"
    data_dir.mkdir(parents=True, exist_ok=True)
    env.setdefault("PYTHONPATH", str(ROOT))  # `bench` from here if the checkout has none
    process = Process(
        f"{name} worker",
        [sys.executable, "-m", "bench.worker", kind],
        child_env(temporal, data_dir, **env),
        directory / f"{name}-worker.log",
        cwd=checkout,
    )
    await process.start()
    return process


async def start_api(temporal: Temporal, directory: Path, **env: str) -> tuple[Process, str]:
    """The REST API as users run it (`orders serve-api`), with an erp credential for the benchmark."""
    data_dir = directory / "api"
    data_dir.mkdir(parents=True, exist_ok=True)
    credentials = data_dir / "credentials.json"
    credentials.write_text(json.dumps([{"appKey": ERP_KEY, "appToken": ERP_TOKEN, "role": "erp"}]))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = Process(
        "REST API",
        [sys.executable, "-m", "orders.api.server", "--host", "127.0.0.1", "--port", str(port)],
        child_env(temporal, data_dir, ORDERS_API_CREDENTIALS=str(credentials), **env),
        directory / "api.log",
    )

    async def ready() -> bool:
        if not await port_open(port):
            return False
        async with httpx.AsyncClient(base_url=url, timeout=5) as http:
            try:
                return (await http.get("/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

    await process.start(ready)
    return process, url
