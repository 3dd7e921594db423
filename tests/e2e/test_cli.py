"""The `orders` tool as people and scripts use it: the installed console script, run as a subprocess
against the dev server, with a real worker in this process (so every subprocess is awaited
asynchronously: a blocking call would stall the worker sharing this event loop)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import socket
import uuid
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Status
from domain.state import OrderState
from tests.kit.cli import Cli, cli_for, listed, one_line_error, run
from tests.kit.paths import BIN, ORDERS
from tests.kit.polling import eventually
from tests.kit.worker import read_events, running_worker, settings_for

TEMPORAL = BIN / "temporal"
PENDING_QUERY = 'OrderStatus="cancellation-requested"'


def utc(at: object) -> str:
    assert at is not None
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")  # type: ignore[attr-defined]


def ids(prefix: str, *names: str) -> list[str]:
    return [f"{prefix}-{name}" for name in names]


async def test_store_staff_session(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    """One order through every store-staff command, from placing to invoiced."""
    settings = settings_for(tmp_path)
    orders = cli_for(dev_env, settings, tmp_path)
    uid = uuid.uuid4().hex[:8]
    order, customer = f"{uid}-1001", f"c-{uid}"
    async with running_worker(dev_env.client, settings) as client:
        placed = await orders(
            "place",
            order,
            "--customer",
            customer,
            "--total",
            "129.90",
            "--item",
            "A1:2:64.95",
            "--grace",
            "2s",
        )
        assert placed.code == 0 and f"Order {order} placed" in placed.out and "open for 2s" in placed.out
        state = await client.state(order)
        assert (state.total, state.items[0].price, state.grace_period_seconds) == (12990, 6495, 2)

        await eventually(lambda: client.status(order), lambda s: s is Status.READY_FOR_HANDLING)
        handling = await orders("start-handling", order)
        assert (
            handling.code == 0 and "handling started" in handling.out and "Preparing delivery" in handling.out
        )

        requested = await orders("cancel", order, "--reason", "changed my mind", "--as", "customer")
        state = await client.state(order)
        assert requested.code == 0 and state.status is Status.CANCELLATION_REQUESTED
        assert "waiting for the store" in requested.out
        assert f"until {utc(state.decision_deadline)}" in requested.out

        as_json, shown = await asyncio.gather(orders("status", order, "--json"), orders("status", order))
        assert as_json.code == 0 and as_json.json() == (await client.state(order)).model_dump(mode="json")
        assert shown.code == 0
        for words in (
            "Cancellation requested (cancellation-requested)",
            f"Grace period:  {utc(state.grace_deadline)} (over)",
            "by customer",
            '"changed my mind"',
            f"decide by {utc(state.decision_deadline)} (in 29d 23h)",
            "Cancellation window → Ready for handling  by system: cancellation window over",
            "Preparing delivery → Cancellation requested  by customer",
        ):
            assert words in shown.out, shown.out

        await listed(client, order, Status.CANCELLATION_REQUESTED)
        # Short reads: orders other tests left on this server have no worker any more.
        pending, pending_json, by_status, temporal = await asyncio.gather(
            orders("pending", ORDERS_UPDATE_TIMEOUT_SECONDS="3"),
            orders("pending", "--json", ORDERS_UPDATE_TIMEOUT_SECONDS="3"),
            orders("list", "--status", "cancellation-requested", "--json"),
            run(TEMPORAL, "workflow", "list", "--query", PENDING_QUERY, "-o", "json",
                env=orders.env, cwd=tmp_path),
        )  # fmt: skip
        assert temporal.code == 0, temporal.err
        from_temporal = {execution["execution"]["workflowId"] for execution in temporal.json()}  # type: ignore[attr-defined]
        assert pending_json.code == 0
        assert {f"order-{p['order_id']}" for p in pending_json.json()} == from_temporal  # type: ignore[attr-defined]
        assert {f"order-{s['order_id']}" for s in by_status.json()} == from_temporal  # type: ignore[attr-defined]
        mine = next(p for p in pending_json.json() if p["order_id"] == order)  # type: ignore[attr-defined]
        assert mine["requested_by"] == "customer" and mine["reason"] == "changed my mind"
        assert mine["decision_deadline"] == state.decision_deadline.isoformat()  # type: ignore[union-attr]
        row = next(line for line in pending.out.splitlines() if line.startswith(order))
        assert customer in row and "customer" in row and utc(state.decision_deadline) in row

        denied = await orders("deny", order, "--reason", "already shipped")
        assert denied.code == 0 and "cancellation request denied" in denied.out
        assert "Preparing delivery (handling)" in denied.out

        partial = await orders("invoice", order, "--number", "NF-1", "--value", "50")
        assert partial.code == 0 and "partially invoiced" in partial.out
        assert "Invoiced: BRL 50.00 of BRL 129.90" in partial.out

        refused = await orders("cancel", order, "--reason", "too late")
        one_line_error(refused, 1, order, "partially invoiced orders can't be canceled")

        returned = await orders("invoice", order, "--number", "R-1", "--value", "20", "--return")
        assert returned.code == 0 and "Invoiced: BRL 30.00 of BRL 129.90" in returned.out

        full = await orders("invoice", order, "--number", "NF-2", "--value", "99.90", "--json")
        result = full.json()
        assert full.code == 0 and result["queued"] is False  # type: ignore[index]
        assert OrderState.model_validate(result["state"]).status is Status.INVOICED  # type: ignore[index]

        one_line_error(await orders("confirm", order), 1, "invoiced orders are final")

        await listed(client, order, Status.INVOICED)
        mine_listed = await orders("list", "--customer", customer, "--json")
        assert mine_listed.json() == [
            {
                "order_id": order,
                "status": "invoiced",
                "status_description": "Invoiced",
                "customer_id": customer,
                "placed_at": mine_listed.json()[0]["placed_at"],  # type: ignore[index]
                "closed": True,
            }
        ]
        table = await orders("list", "--customer", customer)
        assert table.out.splitlines()[0].split() == ["ORDER", "STATUS", "CUSTOMER", "PLACED"]
        assert table.out.splitlines()[1].split()[:3] == [order, "Invoiced", customer]


async def test_cancel_at_once_then_in_two_steps_while_watching(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    orders = cli_for(dev_env, settings, tmp_path)
    early, late = ids(uuid.uuid4().hex[:8], "early", "late")
    async with running_worker(dev_env.client, settings) as client:
        placed = await asyncio.gather(
            orders("place", early, "--customer", "c-1", "--total", "59.90", "--pending-payment"),
            orders("place", late, "--customer", "c-1", "--total", "10", "--grace", "0s", "--captured"),
        )
        assert [p.code for p in placed] == [0, 0] and "payment pending" in placed[0].out

        approved = await orders("approve-payment", early)
        assert approved.code == 0 and "Cancellation window (window-to-cancel)" in approved.out
        assert "left); a cancellation now cancels at once" in approved.out
        shown = await orders("status", early)
        assert "Cancellation window (window-to-cancel)" in shown.out and "29m" in shown.out

        canceled = await orders("cancel", early, "--reason", "duplicate order")
        assert canceled.code == 0 and "canceled inside the cancellation window" in canceled.out
        assert "The payment is voided, the stock released" in canceled.out

        await eventually(lambda: client.status(late), lambda s: s is Status.READY_FOR_HANDLING)
        watch = await orders.start("watch", late, "--interval", "0.2")
        assert watch.stdout is not None
        so_far = [(await asyncio.wait_for(watch.stdout.readline(), 30)).decode().split("  ")[1] for _ in "ab"]
        assert so_far == [
            "Placed → Cancellation window",
            "Cancellation window → Ready for handling",
        ]  # as tail -f

        requested = await orders("cancel", late, "--reason", "out of stock")
        assert requested.code == 0 and "cancellation requested; confirm to cancel" in requested.out
        confirmed = await orders("confirm", late, "--request-id", f"confirm-{late}")
        assert confirmed.code == 0 and "cancellation confirmed" in confirmed.out
        assert "The payment is refunded" in confirmed.out

        rest, _ = await asyncio.wait_for(watch.communicate(), 30)
        assert watch.returncode == 0
        changes = [line.split("  ")[1] for line in rest.decode().splitlines()]
        assert changes == [
            "Ready for handling → Cancellation requested",
            "Cancellation requested → Canceling",
            "Canceling → Canceled",
        ]
        assert (await client.status(early)) is Status.CANCELED
        # A script retrying with its request_id gets the first answer, even from the finished order.
        again = await orders("confirm", late, "--request-id", f"confirm-{late}")
        assert again.code == 0 and again.out.splitlines()[0] == confirmed.out.splitlines()[0]
    kinds = {(event["order_id"], event["type"]) for event in read_events(settings.event_log)}
    assert {(early, "payment.void"), (late, "payment.refund")} <= kinds


async def test_exit_codes_for_usage_not_found_and_unreachable(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    orders = cli_for(dev_env, settings_for(tmp_path), tmp_path)
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    no_address = {k: v for k, v in orders.env.items() if k != "TEMPORAL_ADDRESS"}
    embedded = Cli(no_address | {"ORDERS_EMBEDDED_PORT": closed.rsplit(":", 1)[1]}, tmp_path)
    ran = await asyncio.gather(
        orders("place", "1", "--customer", "c", "--total", "1.234"),
        orders("place", "1", "--customer", "c", "--total", "-5"),
        orders("place", "1", "--customer", "c", "--total", "10", "--grace", "5x"),
        orders("cancel", "1", "--as", "customer"),
        orders("status", missing),
        orders("confirm", missing),
        orders("status", "1", TEMPORAL_ADDRESS=closed),
        orders("list", TEMPORAL_ADDRESS=closed),
        embedded("status", "1"),
        orders("place", "1", "--customer", "c", "--total", "10", "--grace", "30"),
        orders("extend", "1", "--decision", "7"),
        orders("report", "--since", "30"),
    )
    one_line_error(ran[0], 2, "more than 2 decimal places")
    one_line_error(ran[1], 2, "can't be negative")
    one_line_error(ran[2], 2, "not a duration")
    one_line_error(ran[3], 2, "--reason is required with --as customer")
    one_line_error(ran[4], 3, f"order {missing} not found")
    one_line_error(ran[5], 3, f"order {missing} not found")
    one_line_error(ran[6], 4, "can't reach Temporal: check that TEMPORAL_ADDRESS (or TEMPORAL_PROFILE) names")
    one_line_error(ran[7], 4, "can't reach Temporal")
    assert closed not in ran[6].err  # what to do, not where
    # The embedded server is what's meant when no address is set: its variable is named.
    one_line_error(
        ran[8], 4, "can't reach Temporal: start the service with `make run`", "ORDERS_EMBEDDED_PORT"
    )
    assert closed not in ran[8].err
    # A number without a unit, for every duration option: refused, naming the units.
    one_line_error(ran[9], 2, "'30' has no unit: write 30s, 30m, 30h or 30d")
    one_line_error(ran[10], 2, "'7' has no unit: write 7s, 7m, 7h or 7d")
    one_line_error(ran[11], 2, "'30' has no unit")
    helped = await orders("--help")
    assert helped.code == 0 and "Exit codes:" in helped.out and "4  Temporal unreachable" in helped.out


async def test_commands_queue_as_signals_when_no_worker_runs(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    orders = cli_for(dev_env, settings, tmp_path, ORDERS_UPDATE_TIMEOUT_SECONDS="1")
    canceled, approved = ids(uuid.uuid4().hex[:8], "queued", "signaled")
    placed = await asyncio.gather(
        orders("place", canceled, "--customer", "c-2", "--total", "10"),
        orders("place", approved, "--customer", "c-2", "--total", "10", "--pending-payment"),
    )
    assert [p.code for p in placed] == [0, 0]

    queued, signaled, unread = await asyncio.gather(
        orders("cancel", canceled, "--reason", "wrong size"),
        orders("approve-payment", approved, "--signal"),
        orders("status", canceled),
    )
    assert queued.code == 0 and "queued as a signal: no worker answered in time" in queued.out
    assert "applies when a worker runs" in queued.out
    match = re.search(r"request id ([0-9a-f-]{36})", queued.out)
    assert match, queued.out
    assert signaled.code == 0 and "approve the payment: sent as a signal" in signaled.out
    one_line_error(unread, 4, f"no worker answered for order {canceled}")

    async with running_worker(dev_env.client, settings) as client:
        state = await eventually(lambda: client.state(canceled), lambda s: s.status is Status.CANCELED)
        assert state.cancellation is not None and state.cancellation.request_id == match.group(1)
        # Judged by when it was asked (inside the window), and applied once, however it arrived.
        assert [e.to_status for e in state.timeline if not e.refused].count(Status.CANCEL) == 1
        await eventually(lambda: client.status(approved), lambda s: s is Status.WINDOW_TO_CANCEL)


@pytest.mark.skipif(
    importlib.util.find_spec("orders.api.server") is None, reason="orders.api.server is not written yet"
)
async def test_serve_api_serves_http(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    orders = cli_for(dev_env, settings_for(tmp_path), tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = await asyncio.create_subprocess_exec(
        ORDERS, "serve-api", "--port", str(port), env=orders.env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def answer() -> int | None:
                try:
                    return (await http.get("/api/oms/pvt/orders")).status_code
                except httpx.TransportError:
                    return None

            # Any HTTP answer (401 without credentials included) shows the API is serving.
            assert await eventually(answer, lambda code: code is not None, timeout=20, every=0.2)
    finally:
        server.terminate()
        await server.wait()


async def test_a_second_terminal_finds_temporal_through_dot_env_and_orders_temporal_too(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """Nothing exported: the port of the Temporal `make run` would start, or the address of another, in
    `.env` (docs/configuration.md); `orders temporal` hands it to the `temporal` CLI, which alone would
    look on 7233."""
    port = dev_env.client.service_client.config.target_host.rsplit(":", 1)[1]
    shell = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "ORDERS_"))}
    order_id = f"env-{uuid.uuid4().hex[:8]}"
    (tmp_path / ".env").write_text(f"ORDERS_EMBEDDED_PORT={port}  # as make run's\n")
    placed = await run(ORDERS, "place", order_id, "--customer", "c", "--total", "10", env=shell, cwd=tmp_path)
    assert placed.code == 0, placed
    workflow = ["workflow", "describe", "--workflow-id", f"order-{order_id}"]
    described = await run(ORDERS, "temporal", *workflow, env=shell, cwd=tmp_path)
    assert described.code == 0 and f"order-{order_id}" in described.out, described
    helped = await run(ORDERS, "temporal", "--help", env=shell, cwd=tmp_path)
    assert helped.code == 0 and "The Temporal CLI manages" in helped.out, helped  # temporal's own
    # TEMPORAL_* in .env count too, and win over the embedded port, as in the environment.
    address = dev_env.client.service_client.config.target_host
    (tmp_path / ".env").write_text(f"TEMPORAL_ADDRESS={address}\nORDERS_EMBEDDED_PORT=1\n")
    listed_ = await run(ORDERS, "list", "--customer", "c", "--json", env=shell, cwd=tmp_path)
    assert listed_.code == 0 and order_id in listed_.out, listed_
    described = await run(ORDERS, "temporal", *workflow, env=shell, cwd=tmp_path)
    assert described.code == 0 and f"order-{order_id}" in described.out, described


async def test_a_second_cancel_needs_no_reason_and_place_says_which_total_wins(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    order_id = f"two-{uuid.uuid4().hex[:8]}"
    async with running_worker(dev_env.client, settings) as client:
        orders = cli_for(dev_env, settings, tmp_path)
        lines = ("--total", "89.90", "--item", "A1:1:89.91")
        placed = await orders("place", order_id, "--customer", "c", *lines, "--grace", "0s")
        await eventually(lambda: client.status(order_id), lambda s: s is Status.READY_FOR_HANDLING)
        asked = await orders("cancel", order_id, "--reason", "out of stock")
        confirmed = await orders("cancel", order_id)  # the second step: no --reason
        await eventually(lambda: client.status(order_id), lambda s: s is Status.CANCELED)
        state = await client.state(order_id)
    assert placed.code == 0, placed
    assert placed.out.splitlines() == [
        f"Order {order_id} placed for customer c, BRL 89.90: payment approved; no cancellation window (a "
        "request waits for the store).",
        "  The items add up to BRL 89.91: the total is what is charged, and what canceling voids or refunds; "
        "canceled items refund at most what remains of it.",
    ]
    assert asked.code == 0 and "cancellation requested; confirm to cancel" in asked.out, asked
    assert confirmed.code == 0 and "cancellation confirmed" in confirmed.out, confirmed
    assert state.total == 8990 and state.cancellation is not None
