"""Faults that are quick to provoke (part of `make test`): bad input through every door, races between
commands, an event receiver that fails and hangs, and a flood of commands to one order.

Everything runs against real servers (the dev server, a real worker, a real HTTP receiver on
loopback, the `temporal` and `orders` command-line tools as subprocesses). What is checked is what a
user would check: the order's state and timeline, the events the merchant received, the exit code and
message, and the workflow's history (no workflow task failed or stuck in retry). The slow faults
(processes killed, servers restarted) are in tests/chaos/. docs/reliability.md has the figures.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, Status
from domain.limits import MAX_REFUSALS_KEPT
from orders.api import create_app
from orders.client import OrdersClient
from orders.errors import CommandRejected, InvalidOrderId, OrderNotFound, OrdersError
from orders.settings import Settings
from tests.kit.cli import in_thread, temporal_cli
from tests.kit.faults import SIGNALS_PER_RUN, flood
from tests.kit.history import all_runs, check_timeline, history_problems, moves, quiet, stuck
from tests.kit.orders import PAYMENT_AND_STOCK, place, reaches
from tests.kit.paths import ORDERS
from tests.kit.polling import eventually
from tests.kit.processes import children, free_port, kill, processes, start_worker
from tests.kit.receiver import SECRET, Receiver
from tests.kit.worker import effects_of, read_events, running_worker, settings_for
from workflows.names import WORKFLOW_TYPE, workflow_id
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

MEGABYTE = "x" * 1_000_000


# Bad input through every door


async def test_raw_signals_with_bad_payloads_are_refused_recorded_and_never_stall_the_order(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, grace_period_seconds=1)
    temporal = temporal_cli(dev_env)
    big = tmp_path / "megabyte.json"
    big.write_text(json.dumps({"actor": "customer", "reason": MEGABYTE}))
    binary = tmp_path / "binary"
    binary.write_bytes(b"\x00\xff not json")
    async with running_worker(dev_env.client, settings) as orders:
        order_id = await place(orders)
        await reaches(orders, order_id, Status.READY_FOR_HANDLING)
        wid = workflow_id(order_id)
        signal = ("workflow", "signal", "--workflow-id", wid, "--name")

        def invoice(value: str) -> str:
            return '{"actor": "erp", "invoice_number": "NF-1", "value": ' + value + "}"

        def request(**fields: str) -> str:
            return json.dumps({"actor": "customer", **fields})

        bad = [
            (("request_cancellation",), "actor: Field required"),  # no input at all
            (("invoice", "--input", invoice("12990"), "--input", "1"), "not 2 arguments"),
            (("start_handling", "--input", '"store"'), "valid dictionary"),
            (("start_handling", "--input", "[]"), "valid dictionary"),
            (("request_cancellation", "--input", '{"actor": "admin"}'), "actor: Input should be"),
            (("request_cancellation", "--input", '{"actor": 5}'), "actor: Input should be"),
            (("invoice", "--input", invoice("-5")), "value: Input should be greater than 0"),
            (("invoice", "--input", invoice("10000000000000")), "value: Input should be less than or equal"),
            (("invoice", "--input", invoice("true")), "not true/false"),
            (("invoice", "--input", invoice('"a lot"')), "value: Input should be a valid integer"),
            (("deny_cancellation", "--input", json.dumps({"actor": "store", "reason": "y" * 5000})),
             "at most 1000"),
            (("request_cancellation", "--input-file", str(big)), "reason: String should have at most 1000"),
            (("request_cancellation", "--input", request(requested_at="yesterday")), "requested_at"),
            (("request_cancellation", "--input", request(requested_at="2026-11-26T10:00:00")), "timezone"),
            (("request_cancellation", "--input-file", str(binary), "--input-meta", "encoding=binary/plain"),
             "valid dictionary"),
        ]  # fmt: skip
        for args, _ in bad:
            done = await temporal(*signal, *args)
            assert done.returncode == 0, done.stderr  # a signal is fire-and-forget: the server takes it
        # Not a command of this workflow, and a payload no converter can read: dropped by the SDK.
        assert (await temporal(*signal, "cancel_everything", "--input", "{}")).returncode == 0
        weird = await temporal(
            *signal, "request_cancellation", "--input-file", str(binary), "--input-meta", "encoding=x/y"
        )
        assert weird.returncode == 0

        state = await eventually(
            lambda: orders.state(order_id),
            lambda s: sum(e.refused for e in s.timeline) == len(bad),
            timeout=30,
        )
        refusals = [e.note for e in state.timeline if e.refused]
        for (args, reason), note in zip(bad, refusals, strict=True):
            assert note.startswith("refused: invalid ") and reason in note, (args[0], note)
            assert len(note) < 600  # the reason, never the payload echoed back
        assert (
            state.status is Status.READY_FOR_HANDLING
            and state.invoices == []
            and not state.cancellation_requests
        )
        handle = dev_env.client.get_workflow_handle(wid)
        await quiet(handle)
        assert history_problems((await handle.fetch_history()).events) == []
        # Still answering: a good command after all that is applied at once.
        done = await orders.send(order_id, Action.START_HANDLING, {"actor": "store"})
        assert done.state is not None and done.state.status is Status.HANDLING


async def test_a_raw_workflow_start_with_bad_input_or_another_orders_id_fails_at_once_and_sends_nothing(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """docs/lifecycle.md fixes an order's workflow id as `order-<orderId>`, and its event ids are its order
    id's: a start under another id would send effects that the real order's are then taken for."""
    settings = settings_for(tmp_path, grace_period_seconds=600)
    temporal = temporal_cli(dev_env)
    async with running_worker(dev_env.client, settings) as orders:
        real = await place(orders, total=5000, items=[])
        start = ("workflow", "start", "--task-queue", settings.task_queue, "--type", WORKFLOW_TYPE)
        bad = [
            (f"order-{real}-spoof", {"order_id": real, "customer_id": "c-attacker", "total": 1},
             f"order_id {real} belongs to workflow id order-{real}, not this one"),
            ("order-bad-1", {"order_id": "bad\u001b[31m1", "customer_id": "c-x", "total": 100},
             "invalid order input: order_id: String should match pattern"),
            ("order-bad-2", {"order_id": "bad-2", "customer_id": "c-x", "total": "lots"},
             "invalid order input: total: Input should be a valid integer"),
        ]  # fmt: skip
        for wid, body, _ in bad:
            started = await temporal(*start, "--workflow-id", wid, "--input", json.dumps(body))
            assert started.returncode == 0, started.stderr
            await temporal("workflow", "signal", "--workflow-id", wid, "--name", "request_cancellation",
                           "--input", '{"actor": "customer"}')  # fmt: skip
        for wid, _, reason in bad:
            handle = dev_env.client.get_workflow_handle(wid)
            with pytest.raises(WorkflowFailureError) as failed:
                await asyncio.wait_for(handle.result(), 15)
            assert reason in str(failed.value.cause), failed.value.cause
            assert history_problems((await handle.fetch_history()).events) == []  # failed once, not looping
        canceled = await orders.send(real, Action.REQUEST_CANCELLATION, {"actor": "erp"})
        assert canceled.state is not None
        await reaches(orders, real, Status.CANCELED)
        voids = [e for e in read_events(settings.event_log) if e["type"] == "payment.void"]
        assert [(e["order_id"], e["data"]["amount"]) for e in voids] == [(real, 5000)]


async def test_raw_updates_with_bad_payloads_are_refused_with_the_reason_and_leave_no_trace(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, grace_period_seconds=1)
    temporal = temporal_cli(dev_env)
    big = tmp_path / "megabyte.json"
    big.write_text(json.dumps({"actor": "store", "reason": MEGABYTE}))
    async with running_worker(dev_env.client, settings) as orders:
        order_id = await place(orders)
        await reaches(orders, order_id, Status.READY_FOR_HANDLING)
        handle = dev_env.client.get_workflow_handle(workflow_id(order_id))
        before = await quiet(handle)
        update = ("workflow", "update", "execute", "--workflow-id", workflow_id(order_id), "--name")
        cases = [
            (("request_cancellation",), "actor: Field required"),
            (("request_cancellation", "--input", '{"actor":"root"}'), "actor: Input should be"),
            (("invoice", "--input", '{"actor":"erp","invoice_number":"NF-1","value":-1}'), "greater than 0"),
            (
                ("invoice", "--input", '{"actor":"erp","invoice_number":"NF-1","value":1e20}'),
                "value: ",
            ),
            (
                ("invoice", "--input", '{"actor":"erp","invoice_number":"NF-1","value":false}'),
                "not true/false",
            ),
            (("deny_cancellation", "--input-file", str(big)), "at most 1000 characters"),
            (
                ("start_handling", "--input", '{"actor":"store"}', "--input", '{"actor":"store"}'),
                "not 2 arguments",
            ),
            (
                ("start_handling", "--input", '{"actor":"customer"}'),
                "only the store or the erp may start handling, not the customer",
            ),
            (("approve_payment", "--input", "{}"), "already approved"),
            (("cancel_everything", "--input", "{}"), "cancel_everything"),
        ]
        for args, reason in cases:
            done = await temporal(*update, *args)
            assert done.returncode != 0 and reason in done.stderr, (args[0], done.stdout, done.stderr[-500:])
            assert MEGABYTE[:2000] not in done.stderr
        # Refused updates are validated before they enter history: nothing was written.
        assert await quiet(handle) == before
        assert history_problems((await handle.fetch_history()).events) == []
        state = await orders.state(order_id)
        assert state.status is Status.READY_FOR_HANDLING and len(state.timeline) == 2


async def test_the_client_refuses_bad_input_before_it_reaches_the_order(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, grace_period_seconds=1)
    async with running_worker(dev_env.client, settings) as orders:
        order_id = await place(orders)
        await reaches(orders, order_id, Status.READY_FOR_HANDLING)
        handle = dev_env.client.get_workflow_handle(workflow_id(order_id))
        before = await quiet(handle)
        cases: list[tuple[Action, Any, str]] = [
            (Action.REQUEST_CANCELLATION, {"actor": "nobody"}, "actor"),
            (Action.REQUEST_CANCELLATION, {"actor": "customer", "reason": MEGABYTE}, "reason"),
            (Action.REQUEST_CANCELLATION, ["customer"], "payload"),
            (Action.INVOICE, {"actor": "erp", "invoice_number": "NF-1", "value": -12990}, "value"),
            (Action.INVOICE, {"actor": "erp", "invoice_number": "NF-1", "value": 10**40}, "value"),
            (Action.INVOICE, {"actor": "erp", "invoice_number": "NF-1", "value": True}, "value"),
            (Action.INVOICE, {"actor": "erp", "invoice_number": "", "value": 1}, "invoice_number"),
            (Action.DENY_CANCELLATION, {"actor": "store"}, "reason"),
            (Action.START_HANDLING, {"actor": "store", "request_id": "r" * 200}, "request_id"),
        ]
        for action, payload, named in cases:
            with pytest.raises(CommandRejected) as refused:
                await orders.send(order_id, action, payload)
            assert refused.value.code == "malformed" and named in str(refused.value), str(refused.value)
            assert len(str(refused.value)) < 600
        for bad_id in ("bad id!", "", "x" * 1_000_000, "1001\n"):
            started = time.monotonic()
            with pytest.raises(InvalidOrderId, match="an order id is 1-64 letters") as unknown:
                await orders.state(bad_id)
            assert isinstance(unknown.value, OrderNotFound) and len(str(unknown.value)) < 300
            with pytest.raises(InvalidOrderId):
                await orders.send(bad_id, Action.START_HANDLING, {"actor": "store"})
            assert time.monotonic() - started < 1  # refused at once, not after a timeout
        assert await quiet(handle) == before
        assert (await orders.state(order_id)).status is Status.READY_FOR_HANDLING


async def test_the_cli_refuses_bad_input_with_a_usage_exit_code_and_one_line(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, grace_period_seconds=1)
    env = os.environ | {
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "ORDERS_TASK_QUEUE": settings.task_queue,
    }

    async def orders_cli(*args: str) -> subprocess.CompletedProcess:
        return await in_thread(ORDERS, *args, env=env)

    async with running_worker(dev_env.client, settings) as orders:
        order_id = await place(orders)
        await reaches(orders, order_id, Status.READY_FOR_HANDLING)
        handle = dev_env.client.get_workflow_handle(workflow_id(order_id))
        before = await quiet(handle)
        cases = [
            (("invoice", order_id, "--number", "NF-1", "--value", "-129.90"), 2, "negative"),
            (("invoice", order_id, "--number", "NF-1", "--value", "99999999999999"), 2, "value"),
            (("invoice", order_id, "--number", "NF-1", "--value", "12.999"), 2, "decimal places"),
            (("invoice", order_id, "--number", "NF-1", "--value", "true"), 2, "not an amount"),
            (("cancel", order_id, "--reason", "r" * 100_000), 2, "reason"),
            (("cancel", order_id, "--reason", "x", "--as", "admin"), 2, "admin"),
            (("deny", order_id, "--reason", " "), 2, "reason"),
            (("status", "bad id!"), 3, "an order id is"),
            (("status", "x" * 100_000), 3, "an order id is"),
            (("cancel", "x" * 5000, "--reason", "x"), 3, "an order id is"),
        ]
        for args, code, named in cases:
            done = await orders_cli(*args)
            assert done.returncode == code, (args[:2], done.returncode, done.stderr[-300:])
            message = done.stderr.strip().splitlines()[-1]  # click's usage errors end with theirs
            assert named in message and "Traceback" not in done.stderr, done.stderr[-300:]
            assert len(done.stderr) < 2000
        assert await quiet(handle) == before
        assert (await orders.state(order_id)).status is Status.READY_FOR_HANDLING


async def test_the_rest_api_refuses_bad_input_and_the_order_is_unchanged(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps([{"appKey": "erp", "appToken": "erp-token-0f3c-2b8e", "role": "erp"}]))
    erp = {"X-VTEX-API-AppKey": "erp", "X-VTEX-API-AppToken": "erp-token-0f3c-2b8e"}
    settings = settings_for(tmp_path, grace_period_seconds=1, api_credentials=credentials)
    async with running_worker(dev_env.client, settings) as orders:
        app = create_app(settings, orders)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            order_id = await place(orders)
            await reaches(orders, order_id, Status.READY_FOR_HANDLING)
            handle = dev_env.client.get_workflow_handle(workflow_id(order_id))
            before = await quiet(handle)
            pvt = f"/api/oms/pvt/orders/{order_id}"
            invoice = {"type": "Output", "invoiceNumber": "NF-1", "invoiceValue": 12990}
            as_json, broken = {"Content-Type": "application/json"}, b'{"type": "Output", "invoiceNumber": '
            cases: list[tuple[str, dict[str, Any], int, str]] = [
                ("/invoice", {"json": invoice | {"invoiceValue": -12990}}, 422, "invoiceValue"),
                ("/invoice", {"json": invoice | {"invoiceValue": 10**30}}, 422, "invoiceValue"),
                ("/invoice", {"json": invoice | {"invoiceValue": True}}, 422, "invoiceValue"),
                ("/invoice", {"json": invoice | {"invoiceNumber": ["NF-1"]}}, 422, "invoiceNumber"),
                ("/invoice", {"json": invoice | {"issuanceDate": "soon"}}, 422, "issuanceDate"),
                ("/invoice", {"content": broken, "headers": as_json}, 400, "not valid JSON"),
                ("/cancel", {"json": {"reason": MEGABYTE}}, 413, "64 KiB"),
                ("/cancel", {"json": {"reason": "r" * 1001}}, 422, "reason"),
                ("/cancel", {"json": ["reason"]}, 422, "body"),
                ("/deny-cancellation-request", {"json": {"cancellationRequestId": 7}}, 422, "denyReason"),
                ("/start-handling", {"headers": {"Idempotency-Key": "k" * 129}}, 422, "Idempotency-Key"),
            ]  # fmt: skip
            for path, request, status, named in cases:
                headers = erp | request.pop("headers", {})
                response = await http.post(pvt + path, headers=headers, **request)
                assert response.status_code == status, (path, response.text[:300])
                error = response.json()["error"]
                assert named in error["message"] and len(response.text) < 2000, (path, response.text[:300])
            wrong = await http.post(
                pvt + "/cancel", headers={"X-VTEX-API-AppKey": "erp", "X-VTEX-API-AppToken": "guess"}
            )
            assert wrong.status_code == 401
        assert await quiet(handle) == before
        assert (await orders.state(order_id)).status is Status.READY_FOR_HANDLING


# Races: two commands at once have one outcome


async def verdict(sending: Any) -> str:
    """`accepted`, `queued` (sent as a signal) or the refusal's code, as the client reports it."""
    try:
        result = await sending
    except CommandRejected as refused:
        return refused.code
    except OrdersError as failed:
        return f"{type(failed).__name__}: {failed}"
    return "queued" if result.queued else "accepted"


@asynccontextmanager
async def second_client(env: WorkflowEnvironment, settings: Settings) -> AsyncIterator[OrdersClient]:
    """Another caller with its own connection to Temporal (another API replica, the CLI, a script)."""
    client = await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        data_converter=pydantic_data_converter,
    )
    yield OrdersClient(client, settings)


FINAL = (Status.CANCELED, Status.INVOICED)


async def test_cancel_and_invoice_at_once_end_in_one_outcome_with_effects_once(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, grace_period_seconds=1)
    async with running_worker(dev_env.client, settings) as orders, second_client(dev_env, settings) as erp:
        ids = [await place(orders) for _ in range(6)]
        for order_id in ids:
            await reaches(orders, order_id, Status.READY_FOR_HANDLING)
        pending = ids[:3]  # the store asked once already: its second request confirms
        for order_id in pending:
            await orders.send(order_id, Action.REQUEST_CANCELLATION, {"actor": "store", "reason": "no stock"})

        async def race(order_id: str) -> tuple[str, str]:
            cancel = orders.send(
                order_id, Action.REQUEST_CANCELLATION, {"actor": "store", "reason": "no stock"}
            )
            invoice = erp.send(
                order_id, Action.INVOICE, {"actor": "erp", "invoice_number": "NF-1", "value": 12990}
            )
            return await asyncio.gather(verdict(cancel), verdict(invoice))

        verdicts = await asyncio.gather(*(race(order_id) for order_id in ids))
        outcomes = []
        for order_id, (cancel, invoice) in zip(ids, verdicts, strict=True):
            final = await eventually(
                lambda o=order_id: orders.state(o), lambda s: s.status in FINAL, timeout=20
            )
            check_timeline(final)
            await quiet(dev_env.client.get_workflow_handle(workflow_id(order_id)))
            effects = effects_of(settings, order_id)
            undone = [e for e in effects if e in PAYMENT_AND_STOCK]
            if final.status is Status.CANCELED:
                assert cancel == "accepted" and invoice in ("canceling", "final"), (cancel, invoice)
                assert final.invoices == [] and sorted(undone) == ["payment.void", "stock.release"]
            else:
                assert invoice == "accepted" and final.invoiced_value == 12990 and undone == []
                assert cancel in ("accepted", "final"), cancel  # a first request the invoice then declined
                assert all(r.denied for r in final.cancellation_requests)
            if order_id not in pending:
                assert final.status is Status.INVOICED  # a first request only asks; the invoice wins
            outcomes.append(final.status.value)
        assert set(outcomes) <= {"canceled", "invoiced"}


async def test_confirm_and_deny_at_once_end_in_one_outcome(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, grace_period_seconds=1)
    async with running_worker(dev_env.client, settings) as orders, second_client(dev_env, settings) as other:
        ids = [await place(orders) for _ in range(6)]
        for order_id in ids:
            await reaches(orders, order_id, Status.READY_FOR_HANDLING)
            await orders.send(order_id, Action.REQUEST_CANCELLATION, {"actor": "customer", "reason": "late"})

        async def race(order_id: str) -> tuple[str, str]:
            confirm = orders.send(order_id, Action.CONFIRM_CANCELLATION, {"actor": "store"})
            deny = other.send(order_id, Action.DENY_CANCELLATION, {"actor": "erp", "reason": "shipped"})
            return await asyncio.gather(verdict(confirm), verdict(deny))

        verdicts = await asyncio.gather(*(race(order_id) for order_id in ids))
        for order_id, (confirm, deny) in zip(ids, verdicts, strict=True):
            assert sorted([confirm, deny]).count("accepted") == 1, (confirm, deny)
            state = await eventually(
                lambda o=order_id: orders.state(o), lambda s: s.status is not Status.CANCEL, timeout=20
            )
            check_timeline(state)
            await quiet(dev_env.client.get_workflow_handle(workflow_id(order_id)))
            effects = effects_of(settings, order_id)
            request = state.cancellation_requests[0]
            if confirm == "accepted":
                assert deny in ("canceling", "final", "no-pending-request"), deny
                assert state.status is Status.CANCELED and not request.denied
                assert sorted(e for e in effects if e in PAYMENT_AND_STOCK) == [
                    "payment.void",
                    "stock.release",
                ]
                assert effects.count("customer.notify") == 1  # told once: canceled
            else:
                assert confirm == "no-pending-request", confirm
                assert state.status is Status.READY_FOR_HANDLING and request.denied
                assert not PAYMENT_AND_STOCK & set(effects) and effects.count("customer.notify") == 1


async def test_the_same_command_from_two_clients_at_once_applies_once(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, grace_period_seconds=1)
    async with running_worker(dev_env.client, settings) as orders, second_client(dev_env, settings) as other:
        same_id, two_ids, store_twice = [await place(orders) for _ in range(3)]
        for order_id in (same_id, two_ids, store_twice):
            await reaches(orders, order_id, Status.READY_FOR_HANDLING)

        # A retry racing its original (same request id), as an update twice and as a signal.
        body = {"actor": "customer", "reason": "late", "request_id": "req-1"}
        verdicts = await asyncio.gather(
            verdict(orders.send(same_id, Action.REQUEST_CANCELLATION, body)),
            verdict(other.send(same_id, Action.REQUEST_CANCELLATION, body)),
            verdict(other.send(same_id, Action.REQUEST_CANCELLATION, body, as_signal=True)),
        )
        assert verdicts == ["accepted", "accepted", "queued"]
        # Two customers' devices asking at once, each with its own id: one request waits.
        verdicts = await asyncio.gather(
            verdict(orders.send(two_ids, Action.REQUEST_CANCELLATION, {"actor": "customer"})),
            verdict(other.send(two_ids, Action.REQUEST_CANCELLATION, {"actor": "customer"})),
        )
        assert verdicts == ["accepted"] * 2
        for order_id in (same_id, two_ids):
            handle = dev_env.client.get_workflow_handle(workflow_id(order_id))
            await quiet(handle)
            state = await orders.state(order_id)
            assert state.status is Status.CANCELLATION_REQUESTED and len(state.cancellation_requests) == 1
            assert moves(state) == ["window-to-cancel", "ready-for-handling", "cancellation-requested"]
            assert effects_of(settings, order_id).count("store.decision-needed") == 1
        assert (await orders.state(same_id)).cancellation_requests[0].id == "req-1"

        # Two staff members clicking "Cancel order" at once: the VTEX two steps, request then
        # confirmation, so the order is canceled, once.
        verdicts = await asyncio.gather(
            verdict(orders.send(store_twice, Action.REQUEST_CANCELLATION, {"actor": "store"})),
            verdict(other.send(store_twice, Action.REQUEST_CANCELLATION, {"actor": "erp"})),
        )
        assert verdicts == ["accepted"] * 2
        final = await reaches(orders, store_twice, Status.CANCELED)
        check_timeline(final)
        assert moves(final)[-3:] == ["cancellation-requested", "cancel", "canceled"]
        await quiet(dev_env.client.get_workflow_handle(workflow_id(store_twice)))
        effects = effects_of(settings, store_twice)
        assert sorted(e for e in effects if e in PAYMENT_AND_STOCK) == ["payment.void", "stock.release"]


async def test_a_request_at_the_grace_deadline_is_judged_by_when_it_was_made(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """The timer fires at the deadline while requests arrive around it: each is judged by its stamp."""
    settings = settings_for(tmp_path, grace_period_seconds=2)
    offsets_ms = [-400, -150, -40, -10, 10, 40, 150, 400]
    async with running_worker(dev_env.client, settings) as orders:
        ids = [await place(orders) for _ in offsets_ms]
        deadlines = [(await orders.state(order_id)).grace_deadline for order_id in ids]

        async def request_at(order_id: str, deadline: datetime, offset_ms: int) -> datetime:
            moment = deadline + timedelta(milliseconds=offset_ms)
            await asyncio.sleep(max((moment - datetime.now(UTC)).total_seconds(), 0))
            stamp = datetime.now(UTC)
            body = {"actor": "customer", "reason": "at the deadline", "requested_at": stamp.isoformat()}
            await orders.send(order_id, Action.REQUEST_CANCELLATION, body)
            return stamp

        stamps = await asyncio.gather(
            *(request_at(o, d, ms) for o, d, ms in zip(ids, deadlines, offsets_ms, strict=True))
        )
        for order_id, deadline, stamp in zip(ids, deadlines, stamps, strict=True):
            state = await eventually(
                lambda o=order_id: orders.state(o), lambda s: s.status is not Status.CANCEL, timeout=20
            )
            check_timeline(state)
            effects = effects_of(settings, order_id)
            if stamp < deadline:
                assert state.status is Status.CANCELED, (stamp, deadline, moves(state))
                assert sorted(e for e in effects if e in PAYMENT_AND_STOCK) == [
                    "payment.void",
                    "stock.release",
                ]
            else:
                assert state.status is Status.CANCELLATION_REQUESTED, (stamp, deadline, moves(state))
                assert moves(state) == ["window-to-cancel", "ready-for-handling", "cancellation-requested"]
                assert not PAYMENT_AND_STOCK & set(effects)
        assert {s < d for s, d in zip(stamps, deadlines, strict=True)} == {True, False}  # both sides hit


# The event receiver fails, then hangs past the timeout


async def test_every_effect_arrives_once_through_a_failing_and_hanging_receiver(
    dev_env: WorkflowEnvironment, tmp_path: Path, receiver: Receiver
) -> None:
    def behaviour(event: dict[str, Any], attempt: int) -> str:
        if event["type"] == "order.status-changed":
            return "ok"
        return {1: "hang", 2: "fail"}.get(attempt, "ok")  # past the 0.5 s timeout, then 500, then 200

    receiver.behaviour, receiver.hang_seconds = behaviour, 1.5
    settings = settings_for(
        tmp_path, webhook_url=receiver.url, webhook_secret=SECRET, webhook_timeout_seconds=0.5
    )
    async with running_worker(dev_env.client, settings) as orders:
        order_id = await place(orders, payment={"method": "credit-card", "captured": True})
        result = await orders.send(
            order_id, Action.REQUEST_CANCELLATION, {"actor": "customer", "reason": "oops"}
        )
        assert result.state is not None and result.state.status is Status.CANCEL
        seen: list[Status] = []

        async def status() -> Status:
            seen.append((await orders.state(order_id)).status)
            return seen[-1]

        await eventually(status, lambda s: s is Status.CANCELED, timeout=40, every=0.2)
        assert seen.count(Status.CANCEL) >= 3  # canceling for as long as payment and stock were refused
        final = await orders.state(order_id)

    canceled_at = next(e.at for e in final.timeline if e.to_status is Status.CANCELED).timestamp()
    tries = receiver.tries(order_id)
    for effect in ("payment.refund", "stock.release", "customer.notify"):
        assert tries[f"{order_id}:{effect}"] == 3, tries  # hang, 500, then accepted: same key each time
    with receiver.lock:
        attempts = [a for a in receiver.attempts if a.key.startswith(f"{order_id}:")]
        done = {key: event for key, (_, event) in receiver.done.items() if key.startswith(f"{order_id}:")}
        done_at = {key: at for key, (at, _) in receiver.done.items()}
    assert all(a.signed for a in attempts) and {a.key for a in attempts} == set(done)
    assert sorted(final.effects) == sorted(k for k, e in done.items() if e["type"] != "order.status-changed")
    # Canceled only after the receiver did the payment and stock work (wall clock of this machine).
    wall = time.time() - time.monotonic()
    for effect in ("payment.refund", "stock.release"):
        assert done_at[f"{order_id}:{effect}"] + wall <= canceled_at + 0.05
    assert [
        e["data"]["to_status"]
        for e in sorted(
            (e for e in done.values() if e["type"] == "order.status-changed"), key=lambda e: e["id"]
        )
    ] == ["window-to-cancel", "cancel", "canceled"]


async def test_a_compensation_whose_first_attempt_fails_shows_the_order_in_cancel_to_staff(
    dev_env: WorkflowEnvironment, tmp_path: Path, receiver: Receiver
) -> None:
    """On the happy path visibility goes from `window-to-cancel` to `canceled` in one upsert; an order
    whose refund is refused shows `cancel` (staff find it stuck there) until the refund goes through,
    and what the first attempt delivered is not delivered again."""

    def behaviour(event: dict[str, Any], attempt: int) -> str:
        return "fail" if event["type"] == "payment.void" and attempt <= 3 else "ok"

    receiver.behaviour = behaviour
    settings = settings_for(tmp_path, webhook_url=receiver.url, webhook_secret=SECRET)
    query = 'OrderStatus = "cancel" AND WorkflowId = "{}"'
    async with running_worker(dev_env.client, settings) as orders:
        order_id = await place(orders)
        result = await orders.send(order_id, Action.REQUEST_CANCELLATION, {"actor": "customer"})
        assert result.state is not None and result.state.status is Status.CANCEL
        shown = query.format(workflow_id(order_id))
        await eventually(lambda: dev_env.client.count_workflows(shown), lambda c: c.count == 1, timeout=15)
        final = await reaches(orders, order_id, Status.CANCELED, timeout=30)
        canceled = shown.replace('"cancel"', '"canceled"')
        await eventually(lambda: dev_env.client.count_workflows(canceled), lambda c: c.count == 1)
    tries = receiver.tries(order_id)
    assert tries[f"{order_id}:payment.void"] == 4, tries
    assert tries[f"{order_id}:stock.release"] == 1, tries  # delivered by the first attempt: not again
    # `canceled` went with the compensation, after its last effect, stamped with the move's time.
    with receiver.lock:
        done = {key: done for key, done in receiver.done.items() if key.startswith(f"{order_id}:")}
    statuses = sorted(
        (e for _, e in done.values() if e["type"] == "order.status-changed"), key=lambda e: e["id"]
    )
    assert [e["data"]["to_status"] for e in statuses] == ["window-to-cancel", "cancel", "canceled"]
    moved = next(e.at for e in final.timeline if e.to_status is Status.CANCELED)
    assert datetime.fromisoformat(statuses[-1]["occurred_at"]) == moved
    assert done[f"{order_id}:customer.notify"][0] <= done[statuses[-1]["id"]][0]


async def test_a_status_receiver_refusing_holds_up_no_command_and_every_status_event_arrives_once(
    dev_env: WorkflowEnvironment, tmp_path: Path, receiver: Receiver
) -> None:
    """Status events the order makes itself get one attempt inside its workflow task (a local activity);
    when the receiver refuses it, the retries go as an activity, and a command sent meanwhile is answered."""

    def behaviour(event: dict[str, Any], attempt: int) -> str:
        return "fail" if event["type"] == "order.status-changed" and attempt <= 2 else "ok"

    receiver.behaviour = behaviour
    settings = settings_for(tmp_path, webhook_url=receiver.url, webhook_secret=SECRET)
    async with running_worker(dev_env.client, settings) as orders:
        order_id = await place(orders)
        await eventually(lambda: asyncio.to_thread(receiver.tries, order_id), lambda t: len(t) >= 1)
        sent = time.monotonic()
        result = await orders.send(order_id, Action.REQUEST_CANCELLATION, {"actor": "customer"})
        answered = time.monotonic() - sent
        assert result.state is not None and result.state.status is Status.CANCEL
        await reaches(orders, order_id, Status.CANCELED, timeout=30)
        await eventually(
            lambda: asyncio.to_thread(lambda: [k for k in receiver.done if k.startswith(order_id)]),
            lambda done: len(done) == 6,  # 3 status events, payment, stock, customer
            timeout=30,
        )
    with receiver.lock:
        done = [event for key, (_, event) in receiver.done.items() if key.startswith(f"{order_id}:")]
    statuses = sorted((e for e in done if e["type"] == "order.status-changed"), key=lambda e: e["id"])
    assert [e["data"]["to_status"] for e in statuses] == ["window-to-cancel", "cancel", "canceled"]
    assert all(n == 3 for k, n in receiver.tries(order_id).items() if "status-changed" in k)
    assert answered < 5, answered
    # The refund doesn't wait for the status receiver: payment and stock were done before it took `cancel`.
    with receiver.lock:
        done_at = {key: at for key, (at, _) in receiver.done.items()}
    for effect in ("payment.void", "stock.release"):
        assert done_at[f"{order_id}:{effect}"] < done_at[f"{order_id}:order.status-changed:2"]
    print(f"cancel answered in {answered * 1000:.0f} ms while the status receiver refused")


# A flood of commands to one order


@pytest_asyncio.fixture(scope="module")
async def flood_env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server of its own that suggests continuing as new after 400 events (default 4 Ki), with
    the cap of signals per run recommended in docs/reliability.md (default 10,000)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=shutil.which("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_extra_args=[
            "--headless",
            "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=400",
            "--dynamic-config-value", f"history.maximumSignalsPerExecution={SIGNALS_PER_RUN}",
        ],
    )  # fmt: skip
    async with env:
        yield env


LIMIT = "exceeded workflow execution limit for signal events"


async def test_a_flood_of_commands_continues_as_new_and_keeps_state_timers_and_answers(
    flood_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, grace_period_seconds=6)  # the grace timer fires mid-flood
    async with running_worker(flood_env.client, settings) as orders:
        order_id = await place(orders)
        before = await orders.state(order_id)
        assert before.grace_deadline is not None
        handle = flood_env.client.get_workflow_handle(workflow_id(order_id))
        # Refused inside the window and remembered (an update refused by its validator leaves no trace).
        early = {"actor": "store", "request_id": "early-1"}
        await orders.send(order_id, Action.START_HANDLING, early, as_signal=True)

        started = time.monotonic()
        answers, updates = await asyncio.gather(
            flood(handle, 2000, concurrency=4),
            asyncio.gather(
                *(verdict(orders.send(order_id, Action.APPROVE_PAYMENT, {"actor": "erp"})) for _ in range(50))
            ),
        )
        flooded = time.monotonic() - started
        # More than 10 updates at once to one order: Temporal refuses the rest, the client queues them. A
        # worker that can't keep up (a busy machine) lets a run reach the cap: the server refuses the
        # signals past it, and says why (an update queued as a signal then too).
        assert set(answers) <= {"taken", LIMIT}, answers
        assert all(u in {"already-approved", "queued"} or LIMIT in u for u in updates), updates

        await quiet(handle)
        state = await orders.state(order_id)
        runs = await all_runs(flood_env.client, order_id)
        lengths = [len(events) for _, events in runs]
        print(f"flood: 2,000 signals ({answers}) and 50 updates in {flooded:.1f} s; runs of {lengths} events")
        # Bounded: a run continues as new at the server's suggestion (400 events here) or after
        # COMMANDS_PER_RUN commands when the worker keeps up, at the cap of signals when it does not.
        assert len(runs) >= 2 and max(lengths) <= SIGNALS_PER_RUN + 400, lengths
        assert [problem for _, events in runs for problem in stuck(events)] == []
        # The grace timer survived the continues-as-new and fired at the deadline, mid-flood or after.
        if datetime.now(UTC) < before.grace_deadline + timedelta(seconds=1):
            state = await reaches(orders, order_id, Status.READY_FOR_HANDLING, timeout=15)
        assert moves(state) == ["window-to-cancel", "ready-for-handling"], moves(state)
        expired = state.timeline[[e.refused for e in state.timeline].index(False, 1)]
        assert expired.at == before.grace_deadline and expired.actor == "system"
        assert state.grace_deadline == before.grace_deadline and state.invoices == []
        assert sum(e.refused for e in state.timeline) == MAX_REFUSALS_KEPT  # recorded, capped
        # Answers survive too: the early command's retry is answered as then (OMS003), though handling
        # could start now; 2,000 commands without a request id did not push it out.
        with pytest.raises(CommandRejected) as again:
            await orders.send(order_id, Action.START_HANDLING, early)
        assert again.value.code == "OMS003"
        done = await orders.send(order_id, Action.START_HANDLING, {"actor": "store"})
        assert done.state is not None and done.state.status is Status.HANDLING
        assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING


# Security: secrets stay out of logs and histories


async def test_webhook_secrets_never_reach_the_logs_or_the_history(
    dev_env: WorkflowEnvironment, tmp_path: Path, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.behaviour = lambda event, attempt: "fail" if attempt == 1 else "ok"  # failures get logged
    password, token = "pa55-w0rd-9f2c", "tok-4b8e-SECRET"
    url = receiver.url.replace("http://", f"http://hooks:{password}@") + f"?token={token}"
    settings = settings_for(tmp_path, webhook_url=url, webhook_secret=SECRET)
    caplog.set_level(logging.DEBUG)
    async with running_worker(dev_env.client, settings) as orders:
        order_id = await place(orders)
        await orders.send(order_id, Action.REQUEST_CANCELLATION, {"actor": "customer"})
        await reaches(orders, order_id, Status.CANCELED, timeout=30)
        handle = dev_env.client.get_workflow_handle(workflow_id(order_id))
        await quiet(handle)
        history = (await handle.fetch_history()).to_json()
    assert receiver.tries(order_id) and all(a.signed for a in receiver.attempts)  # signed, failed, retried
    logged = caplog.text
    assert "HTTP Request: POST http://127.0.0.1" in logged  # httpx's own log line, with the URL shown safe
    for secret in (password, token, SECRET):
        assert secret not in logged and secret not in history


@pytest.mark.parametrize("field", ["decisionTimeoutSeconds", "paymentTimeoutSeconds"])
async def test_the_rest_api_refuses_an_absurd_timeout_as_invalid(tmp_path: Path, field: str) -> None:
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps([{"appKey": "erp", "appToken": "erp-token-0f3c-2b8e", "role": "erp"}]))
    settings = settings_for(tmp_path, api_credentials=credentials)
    app = create_app(settings, OrdersClient(None, settings))  # type: ignore[arg-type]  # refused before use
    erp = {"X-VTEX-API-AppKey": "erp", "X-VTEX-API-AppToken": "erp-token-0f3c-2b8e"}
    body = {"orderId": "o-1", "customerId": "c-1", "total": 100, field: 10**15}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        response = await http.post("/api/oms/pvt/orders", json=body, headers=erp)
    assert response.status_code == 422 and field in response.text, response.text


# A dead embedded server


async def test_the_worker_exits_non_zero_when_its_embedded_temporal_dies(tmp_path: Path) -> None:
    """`python worker.py` on the embedded default: if the Temporal it started dies, the worker exits 1 (a
    supervisor then restarts both) instead of polling a dead address forever. When the server dies while
    the SDK's worker is still starting, its shutdown waits on retried calls; the worker's shutdown deadline
    (5 s) ends that wait (about one run in ten under load)."""
    settings = settings_for(tmp_path)
    async with processes() as started:
        embedded = {"ORDERS_EMBEDDED_PORT": str(free_port(pair=True))}
        worker = start_worker(settings, tmp_path / "worker.log", **embedded)
        started.append(worker)
        await worker.logged("worker polling", timeout=90)
        servers = [p for p in children(worker.pid) if "temporal" in Path(f"/proc/{p}/cmdline").read_text()]
        assert len(servers) == 1, servers
        kill(servers[0])
        killed = time.monotonic()
        code = await eventually(
            lambda: asyncio.to_thread(worker.popen.poll), lambda c: c is not None, timeout=15
        )
        log = worker.log.read_text()
    assert code == 1, log[-2000:]
    assert "the embedded Temporal exited with code -9" in log and "Traceback" not in log
    print(f"worker exited {time.monotonic() - killed:.1f} s after its server died")
