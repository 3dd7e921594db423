"""A first run as a new user makes it, with real processes: `make run` and `orders serve-api` on a port
that is taken, the worker on an embedded port another Temporal holds (and on the one its own earlier
run left behind), reads with no worker, `orders --version`, and `orders list` newest placement first."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, Status
from orders.embedded import pid_running
from tests.kit.cli import cli_for, listed, one_line_error, run
from tests.kit.orders import place
from tests.kit.paths import ORDERS, ROOT
from tests.kit.polling import eventually
from tests.kit.processes import children, free_port, kill, processes, start_worker
from tests.kit.worker import running_worker, settings_for

MAKE = shutil.which("make")


@contextmanager
def listening() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "ORDERS_"))}
    return base | {"ORDERS_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"} | extra


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
async def test_make_run_stops_at_once_in_one_line_when_the_api_port_is_taken(tmp_path: Path) -> None:
    with listening() as port:
        env = clean_env(tmp_path, ORDERS_API_PORT=str(port), ORDERS_EMBEDDED_PORT=str(free_port(pair=True)))
        started = time.monotonic()
        ran = await run(Path(MAKE or "make"), "--no-print-directory", "-f", str(ROOT / "Makefile"), "run",
                        env=env, cwd=tmp_path)  # fmt: skip
    assert ran.code != 0 and time.monotonic() - started < 20
    ours = [line for line in ran.err.splitlines() if line.startswith("make run:")]
    assert ours == [
        f"make run: can't serve the API on 127.0.0.1:{port}: the port is in use (another `make run`, or "
        "another program); set ORDERS_API_PORT (or --port) to a free port, or ORDERS_API_HOST (or --host)"
    ], ran.err
    assert "Traceback" not in ran.err and not (tmp_path / "data" / "temporal.db").exists()  # nothing started


async def test_serve_api_on_a_taken_port_says_so_in_one_line(tmp_path: Path) -> None:
    with listening() as port:
        ran = await run(ORDERS, "serve-api", "--port", str(port), env=clean_env(tmp_path), cwd=tmp_path)
        from_settings = await run(ORDERS, "serve-api", env=clean_env(tmp_path, ORDERS_API_PORT=str(port)),
                                  cwd=tmp_path)  # fmt: skip
    for answer in (ran, from_settings):
        one_line_error_anywhere(answer.err, f"can't serve the API on 127.0.0.1:{port}: the port is in use")
        assert answer.code == 1


def one_line_error_anywhere(err: str, text: str) -> None:
    """The log may say other things first; the error itself is one line, and no traceback."""
    assert "Traceback" not in err and [line for line in err.splitlines() if text in line], err


async def test_the_worker_refuses_another_temporal_on_its_embedded_port(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with listening() as port:
        async with processes() as started:
            worker = start_worker(settings, tmp_path / "worker.log", ORDERS_EMBEDDED_PORT=str(port))
            started.append(worker)
            code = await eventually(lambda: asyncio.to_thread(worker.popen.poll), lambda c: c is not None)
    log = worker.log.read_text()
    assert code == 1, log
    one_line_error_anywhere(log, f"something else already listens on localhost:{port}")
    assert f"TEMPORAL_ADDRESS=localhost:{port}" in log and "ORDERS_EMBEDDED_PORT" in log


async def test_a_worker_killed_outright_finds_its_own_embedded_temporal_again(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    port = free_port(pair=True)
    async with processes() as started:
        first = start_worker(settings, tmp_path / "worker-1.log", ORDERS_EMBEDDED_PORT=str(port))
        started.append(first)
        await first.logged("worker polling", timeout=90)
        [server] = [p for p in children(first.pid) if "temporal" in Path(f"/proc/{p}/cmdline").read_text()]
        first.sigkill()  # its server runs in a session of its own: it outlives the worker
        second = start_worker(settings, tmp_path / "worker-2.log", ORDERS_EMBEDDED_PORT=str(port))
        started.append(second)
        try:
            await second.logged("worker polling", timeout=90)
            assert "an earlier worker started" in second.log.read_text()
            second.stop()  # stopping the service stops its Temporal too, though another worker started it
            await eventually(lambda: asyncio.to_thread(pid_running, server), lambda up: not up, timeout=20)
        finally:
            second.stop()
            kill(server)


async def test_reads_that_need_a_worker_exit_4_without_one(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    orders = cli_for(dev_env, settings, tmp_path, ORDERS_UPDATE_TIMEOUT_SECONDS="1")
    order_id = f"nw-{uuid.uuid4().hex[:8]}"
    assert (await orders("place", order_id, "--customer", "c", "--total", "10")).code == 0
    status, watch = await asyncio.gather(orders("status", order_id), orders("watch", order_id))
    one_line_error(status, 4, f"no worker answered for order {order_id}")
    one_line_error(watch, 4, f"no worker answered for order {order_id}")


async def test_version(tmp_path: Path) -> None:
    from importlib import metadata

    ran = await run(ORDERS, "--version", env=clean_env(tmp_path), cwd=tmp_path)
    assert (ran.code, ran.out) == (0, f"orders {metadata.version('order-cancellation')}\n")


async def test_list_shows_the_newest_placement_first_finished_or_not(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    customer = f"c-{uuid.uuid4().hex[:8]}"
    async with running_worker(dev_env.client, settings) as client:
        older = await place(client, customer_id=customer, grace_period_seconds=3600)  # stays open: running
        await asyncio.sleep(0.01)  # distinct placement times
        newer = await place(client, customer_id=customer, grace_period_seconds=3600)
        await client.send(newer, Action.REQUEST_CANCELLATION, {"actor": "store", "reason": "gone"})
        await eventually(lambda: client.status(newer), lambda s: s is Status.CANCELED)
        await listed(client, newer, Status.CANCELED)
        cli = cli_for(dev_env, settings, tmp_path)
        ran = await cli("list", "--customer", customer)
        first = await cli("list", "--customer", customer, "--limit", "1")
        token = first.out.splitlines()[-1].rsplit(" ", 1)[-1]
        second = await cli("list", "--customer", customer, "--limit", "1", "--after", token)
        bad = await cli("list", "--after", "not-a-token")
    assert ran.code == 0, ran
    rows = [line.split("  ")[:2] for line in ran.out.splitlines()[1:]]  # columns: two spaces apart
    assert [[cell.strip() for cell in row] for row in rows] == [
        [newer, "Canceled"],
        [older, "Cancellation window"],
    ], ran.out
    assert first.out.splitlines()[1].split()[0] == newer and "--after" in first.out.splitlines()[-1]
    assert second.out.splitlines()[1:] and second.out.splitlines()[1].split()[0] == older, second.out
    assert all("--after" not in line for line in second.out.splitlines())  # the last page
    assert bad.code == 2 and "page token" in bad.err, bad
