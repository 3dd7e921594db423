"""The trust boundary (docs/reliability.md, "The trust boundary"): hostile and careless input, each through
the door it came from (the REST API over HTTP, the customer endpoint, the `orders` CLI, the official
`temporal` CLI), is refused or handled safely, and the order it was aimed at still completes with every effect
delivered."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from temporalio.testing import WorkflowEnvironment

from activities.delivery import EventSink, Undeliverable, verify
from domain.events import EventType, OrderEvent
from domain.lifecycle import Action, Status
from domain.state import OrderState
from orders.api import create_app
from orders.api.auth import MAX_APP_KEY_LENGTH, CredentialsError, load_credentials
from orders.api.bodies import OrderItemBody, PlaceOrderBody
from orders.api.routes.customer import OWNERSHIP_REFUSAL_SECONDS
from orders.client import OrdersClient
from orders.settings import Settings
from tests.kit.api import (
    CHECKOUT,
    ERP,
    PVT,
    SECRET,
    STORE,
    credentials_file,
    customer_token,
    service,
    serving,
)
from tests.kit.cli import in_thread, temporal_cli
from tests.kit.history import all_runs
from tests.kit.orders import place, reaches
from tests.kit.paths import ORDERS, ROOT
from tests.kit.polling import eventually
from tests.kit.processes import free_port
from tests.kit.receiver import SECRET as WEBHOOK_SECRET
from tests.kit.receiver import Receiver
from tests.kit.worker import settings_for
from worker import build_sink
from workflows.names import workflow_id


def refusal_notes(state: Any) -> list[str]:
    return [entry.note for entry in state.timeline if entry.refused]


# Request ids


async def test_a_request_id_outside_printable_ascii_is_refused_at_every_door_and_the_order_completes(
    dev_env: WorkflowEnvironment, tmp_path: Path, receiver: Receiver
) -> None:
    async with service(
        dev_env, tmp_path, grace_period_seconds=0, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET
    ) as svc:
        order_id = await place(svc.orders)
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        temporal = temporal_cli(dev_env)
        for bad in ("r\u00e9-1", "a\nb", "with space", "x" * 129):
            payload = json.dumps({"actor": "customer", "request_id": bad})
            signaled = await temporal("workflow", "signal", "--workflow-id", workflow_id(order_id),
                                      "--name", "request_cancellation", "--input", payload)  # fmt: skip
            assert signaled.returncode == 0, signaled.stderr
            updated = await temporal("workflow", "update", "execute", "--workflow-id", workflow_id(order_id),
                                     "--name", "request_cancellation", "--input", payload)  # fmt: skip
            assert updated.returncode != 0 and "request_id" in updated.stderr, updated.stderr[-500:]
        state = await eventually(lambda: svc.orders.state(order_id), lambda s: len(refusal_notes(s)) == 4)
        assert all("request_id" in note for note in refusal_notes(state))
        assert all(entry.request_id is None for entry in state.timeline if entry.refused)  # never shown
        assert state.status is Status.READY_FOR_HANDLING

        url = f"{CHECKOUT}/{order_id}/user-cancel-request"
        latin1 = await svc.http.post(url, json={}, headers=svc.customer("c-42", b"r\xe9-1"))
        assert latin1.status_code == 422 and "Idempotency-Key" in latin1.json()["error"]["message"]
        cli = await svc.cli("cancel", order_id, "--reason", "x", "--request-id", "two words")
        assert cli.returncode == 2 and "request_id" in cli.stderr, cli.stderr

        asked = await svc.http.post(url, json={"reason": "late"}, headers=svc.customer("c-42", "ok-1"))
        assert asked.status_code == 200, asked.text
        confirmed = await svc.http.post(f"{PVT}/{order_id}/cancel", headers=STORE)
        assert confirmed.status_code == 200, confirmed.text
        await dev_env.client.get_workflow_handle(workflow_id(order_id)).result()
    delivered = {key.split(":")[1] for key in receiver.done if key.startswith(f"{order_id}:")}
    assert {"store.decision-needed", "payment.void", "stock.release", "customer.notify"} <= delivered


async def test_request_ids_are_each_senders_own(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    async with service(dev_env, tmp_path, grace_period_seconds=0) as svc:
        first, second = await place(svc.orders), await place(svc.orders)
        await reaches(svc.orders, first, Status.READY_FOR_HANDLING)
        await reaches(svc.orders, second, Status.READY_FOR_HANDLING)

        key = f"cancel-{first}"
        url = f"{CHECKOUT}/{first}/user-cancel-request"
        asked = await svc.http.post(url, json={"reason": "x"}, headers=svc.customer("c-42", key))
        assert asked.status_code == 200 and asked.json()["receipt"] == key
        # The ERP's own "cancel-<id>" is its first cancel step's confirmation, not "already applied".
        confirmed = await svc.http.post(f"{PVT}/{first}/cancel", headers=ERP | {"Idempotency-Key": key})
        assert confirmed.status_code == 200, confirmed.text
        await reaches(svc.orders, first, Status.CANCELED)

        taken = f"invoice-{second}"
        url = f"{CHECKOUT}/{second}/user-cancel-request"
        await svc.http.post(url, json={}, headers=svc.customer("c-42", taken))
        deny = {"cancellationRequestId": taken, "denyReason": "already packed"}
        assert (
            await svc.http.post(f"{PVT}/{second}/deny-cancellation-request", json=deny, headers=STORE)
        ).is_success
        invoice = {"type": "Output", "invoiceNumber": "NF-1", "invoiceValue": 12990}
        invoiced = await svc.http.post(
            f"{PVT}/{second}/invoice", json=invoice, headers=ERP | {"Idempotency-Key": taken}
        )
        assert invoiced.status_code == 200, invoiced.text
        await reaches(svc.orders, second, Status.INVOICED)


async def test_the_erps_first_answer_outlives_2000_customer_commands(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with service(dev_env, tmp_path, grace_period_seconds=0) as svc:
        order_id = await place(svc.orders)
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        step = ERP | {"Idempotency-Key": "erp-step-1"}
        first = await svc.http.post(f"{PVT}/{order_id}/cancel", json={"reason": "fraud"}, headers=step)
        assert first.status_code == 200, first.text
        limiter = asyncio.Semaphore(8)
        url = f"{CHECKOUT}/{order_id}/user-cancel-request"

        async def customer_no_op(n: int) -> int:
            async with limiter:
                response = await svc.http.post(url, json={}, headers=svc.customer("c-42", f"c-{n}"))
                return response.status_code

        started = time.perf_counter()
        answers = await asyncio.gather(*(customer_no_op(n) for n in range(2000)))
        took = time.perf_counter() - started
        assert set(answers) <= {200, 202}, set(answers)
        retry = await svc.http.post(f"{PVT}/{order_id}/cancel", json={"reason": "fraud"}, headers=step)
        assert retry.status_code == 200 and retry.json() == first.json()  # its own first answer
        state = await reaches(svc.orders, order_id, Status.CANCELLATION_REQUESTED)
        assert state.cancellation is None  # the retry did not act as the confirming second step
        runs = len(await all_runs(dev_env.client, order_id))
    print(
        f"2,000 customer commands over REST in {took:.1f} s ({runs} runs); the ERP's retry got its own answer"
    )


async def test_an_old_request_id_reused_files_no_second_request_and_each_request_is_announced(
    dev_env: WorkflowEnvironment, tmp_path: Path, receiver: Receiver
) -> None:
    async with service(
        dev_env, tmp_path, grace_period_seconds=0, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET
    ) as svc:
        order_id = await place(svc.orders)
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        url = f"{CHECKOUT}/{order_id}/user-cancel-request"
        deny = f"{PVT}/{order_id}/deny-cancellation-request"
        for key in ("k-1", "k-2"):
            asked = await svc.http.post(url, json={}, headers=svc.customer("c-42", key))
            assert asked.status_code == 200, asked.text
            body = {"cancellationRequestId": key, "denyReason": "packed"}
            assert (await svc.http.post(deny, json=body, headers=STORE)).is_success
            for n in range(250):  # no-ops enough to evict every forgettable answer
                no_op = {"actor": "customer", "request_id": f"n{n}"}
                await svc.orders.send(order_id, Action.START_HANDLING, no_op, as_signal=True)
        again = await svc.http.post(url, json={}, headers=svc.customer("c-42", "k-1"))
        assert again.status_code == 200
        state = await svc.orders.state(order_id)
        assert [r.id for r in state.cancellation_requests] == ["k-1", "k-2"]  # k-1 again filed nothing
        needed = await eventually(
            lambda: asyncio.to_thread(
                lambda: sorted(k for k in receiver.done if k.startswith(f"{order_id}:store.decision-needed"))
            ),
            lambda keys: len(keys) == 2,
        )
    assert all(key.rsplit(":", 1)[1].isdigit() for key in needed)  # numbered, never the caller's key


async def test_an_app_keys_on_behalf_requests_never_answer_the_customers_own(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # An app key spelled as a customer id: its on-behalf requests (actor customer) must not share the
    # customer's request ids.
    colliding = {"X-VTEX-API-AppKey": "c-coll", "X-VTEX-API-AppToken": "c-coll-token-0123456789"}
    erp = {"appKey": "c-coll", "appToken": colliding["X-VTEX-API-AppToken"], "role": "erp"}
    async with service(dev_env, tmp_path, credentials=[erp], grace_period_seconds=0) as svc:
        order_id = await place(svc.orders, customer_id="c-coll")
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        same = {"Idempotency-Key": "same-key"}
        on_behalf = await svc.http.post(
            f"{PVT}/{order_id}/cancel", json={"requestedByUser": True}, headers=colliding | same
        )
        assert on_behalf.status_code == 200, on_behalf.text
        deny = {"cancellationRequestId": "same-key", "denyReason": "already packed"}
        denied = await svc.http.post(f"{PVT}/{order_id}/deny-cancellation-request", json=deny, headers=STORE)
        assert denied.status_code == 200, denied.text
        own = await svc.http.post(
            f"{CHECKOUT}/{order_id}/user-cancel-request",
            json={"reason": "mine"},
            headers=svc.customer("c-coll", "same-key"),
        )
        assert own.status_code == 200, own.text
        state = await svc.orders.state(order_id)
    assert state.status is Status.CANCELLATION_REQUESTED, state.status  # a request of its own, made
    assert [(r.sender, r.reason) for r in state.cancellation_requests] == [
        ("c-coll@app", ""),
        ("c-coll", "mine"),
    ]


def test_app_keys_leave_room_for_the_on_behalf_suffix(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    fits = {"appKey": "k" * MAX_APP_KEY_LENGTH, "appToken": "t" * 16, "role": "erp"}
    path.write_text(json.dumps([fits]))
    assert load_credentials(path)[0].app_key == fits["appKey"]
    path.write_text(json.dumps([fits, fits | {"appKey": "k" * 128}]))
    with pytest.raises(CredentialsError, match=f"1.appKey: .*at most {MAX_APP_KEY_LENGTH} characters"):
        load_credentials(path)


# Free text and displays


async def test_control_characters_are_refused_at_every_door_and_displays_escape_what_they_show(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with service(dev_env, tmp_path, grace_period_seconds=0) as svc:
        order_id = await place(svc.orders, customer_id="c-77")
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        for hostile in ("\x1b[2J\x1b[Hwiped", "\x1b]52;c;cm0gLXJmIH4=\x07", "over\rwrite", "\u202etxt.exe"):
            api = await svc.http.post(f"{PVT}/{order_id}/cancel", json={"reason": hostile}, headers=ERP)
            assert api.status_code == 422 and "reason" in api.json()["error"]["message"], api.text
            cli = await svc.cli("cancel", order_id, "--reason", hostile)
            assert cli.returncode == 2 and "reason" in cli.stderr and "\x1b" not in cli.stderr + cli.stdout
        signal = json.dumps({"actor": "customer", "reason": "\x1b[31mred", "request_id": "esc"})
        sent = await temporal_cli(dev_env)("workflow", "signal", "--workflow-id", workflow_id(order_id),
                                           "--name", "request_cancellation", "--input", signal)  # fmt: skip
        assert sent.returncode == 0
        state = await eventually(lambda: svc.orders.state(order_id), lambda s: bool(refusal_notes(s)))
        assert "reason" in refusal_notes(state)[0] and state.status is Status.READY_FOR_HANDLING

        # A line feed is allowed in a reason; in a table it is shown escaped, so it can't fake a row.
        fake_row = "late\nFAKE-ORDER  c-1  customer  1m  2026-12-01 00:00:00 UTC (in 1d)  refund me"
        asked = await svc.http.post(
            f"{CHECKOUT}/{order_id}/user-cancel-request",
            json={"reason": fake_row},
            headers=svc.customer("c-77"),
        )
        assert asked.status_code == 200, asked.text
        await eventually(
            lambda: svc.orders.list_orders(Status.CANCELLATION_REQUESTED, "c-77"),
            lambda found: len(found) == 1,
        )
        pending = await svc.cli("pending", "--customer", "c-77")
        status = await svc.cli("status", order_id)
    assert pending.returncode == 0 and len(pending.stdout.strip().splitlines()) == 2, pending.stdout
    assert "late\\nFAKE-ORDER" in pending.stdout and "late\\nFAKE-ORDER" in status.stdout
    assert not any(ch in pending.stdout + status.stdout for ch in "\x1b\r\u202e")


async def test_item_lines_invoice_numbers_and_emails_with_controls_are_422_naming_the_field(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with service(dev_env, tmp_path, grace_period_seconds=0) as svc:

        async def placed(**body: Any) -> httpx.Response:
            order = {"orderId": f"f-{uuid.uuid4().hex[:10]}", "customerId": "c-1", "total": 100} | body
            return await svc.http.post(PVT, json=order, headers=ERP)

        line = {"quantity": 1, "price": 100}
        for hostile in ("A\u001b[2J", "A\u202etxt", "A\u0007"):
            for key in ("sku", "id"):  # VTEX's `id` is the same field, named as sent
                answer = await placed(items=[line | {key: hostile}])
                refusal(answer, f"items.0.{key}")
            for email in (f"a{hostile}@example.com", f"a@ex{hostile}ample.com"):
                refusal(await placed(clientProfileData={"email": email}), "clientProfileData.email")
        twice = await placed(items=[line | {"sku": "A1"}, line | {"id": "A1"}])
        refusal(twice, "items", "appears twice")
        refusal(await placed(currency="usd"), "currency")
        refusal(await placed(items=[line | {"sku": "A1", "quantity": 100_001}]), "items.0.quantity")

        order_id = await place(svc.orders)
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        invoice = {"type": "Output", "invoiceNumber": "NF-1", "invoiceValue": 100}
        url = f"{PVT}/{order_id}/invoice"
        for hostile in ("NF\u001b[2J", "NF\u202e1"):
            refusal(await svc.http.post(url, json=invoice | {"invoiceNumber": hostile}, headers=ERP),
                    "invoiceNumber")  # fmt: skip
            item = {"id": hostile, "quantity": 1}
            refusal(await svc.http.post(url, json=invoice | {"items": [item]}, headers=ERP), "items.0.id")
        assert (await svc.orders.state(order_id)).invoices == []


def refusal(answer: httpx.Response, field: str, words: str = "") -> None:
    """A 422 in VTEX's envelope whose message names `field` (and says `words`)."""
    assert answer.status_code == 422, answer.text
    message = answer.json()["error"]["message"]
    assert answer.json()["error"]["code"] == "invalid-request" and field in message and words in message, (
        message
    )


def test_a_domain_object_the_body_builds_refusing_it_is_a_422_not_a_500() -> None:
    # A body type looser than the domain's (a bug, as the sku was): the domain's refusal names the field.
    body = PlaceOrderBody.model_construct(
        orderId="o-1",
        customerId="c-1",
        total=1,
        items=[OrderItemBody.model_construct(sku="A\x1b", quantity=1, price=1)],
    )
    with pytest.raises(RequestValidationError) as raised:
        body.to_input()
    [error] = raised.value.errors()
    assert error["loc"] == ("body", "items", 0, "sku") and "control characters" in error["msg"]


async def test_an_invoice_number_with_a_line_feed_is_shown_escaped_by_orders_status(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with service(dev_env, tmp_path, grace_period_seconds=0) as svc:
        order_id = await place(svc.orders)
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        forged = "NF-1\n  Cancellation:  requested by store, confirmed by store"
        invoice = {"type": "Output", "invoiceNumber": forged, "invoiceValue": 100}
        sent = await svc.http.post(f"{PVT}/{order_id}/invoice", json=invoice, headers=ERP)
        assert sent.status_code == 200, sent.text
        status = await svc.cli("status", order_id)
    assert status.returncode == 0, status.stderr
    invoiced = [line for line in status.stdout.splitlines() if "Invoiced:" in line]
    assert len(invoiced) == 1 and "NF-1\\n  Cancellation:" in invoiced[0], status.stdout
    assert "  Cancellation:  requested by store, confirmed by store" not in status.stdout.splitlines()


async def test_a_reason_code_on_a_command_that_takes_none_is_refused_at_every_door(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with service(dev_env, tmp_path, payment_timeout_seconds=3600) as svc:
        order_id = await place(svc.orders)
        await reaches(svc.orders, order_id, Status.WINDOW_TO_CANCEL)
        pending = await place(svc.orders, payment_approved=False)
        await reaches(svc.orders, pending, Status.PAYMENT_PENDING)
        temporal = temporal_cli(dev_env)
        bogus = {"actor": "store", "reason_code": "totally-bogus", "request_id": "bogus"}
        cases = [
            (order_id, "extend_grace_period", bogus | {"seconds": 60}),
            (pending, "deny_payment", bogus | {"actor": "erp"}),
        ]
        for target, name, payload in cases:
            updated = await temporal("workflow", "update", "execute", "--workflow-id", workflow_id(target),
                                     "--name", name, "--input", json.dumps(payload))  # fmt: skip
            assert updated.returncode != 0, updated.stdout
            assert f"{name} takes no reason_code" in updated.stderr, updated.stderr[-500:]
            signaled = await temporal("workflow", "signal", "--workflow-id", workflow_id(target),
                                      "--name", name, "--input", json.dumps(payload))  # fmt: skip
            assert signaled.returncode == 0, signaled.stderr
        for target, name, _ in cases:
            state = await eventually(
                lambda order=target: svc.orders.state(order), lambda s: bool(refusal_notes(s))
            )
            assert f"{name} takes no reason_code" in refusal_notes(state)[0]
            assert "totally-bogus" not in {e.reason_code for e in state.timeline}
        assert (await svc.orders.state(pending)).status is Status.PAYMENT_PENDING
        cli = await svc.cli("extend", order_id, "--window", "1h")  # without a code, as before
        assert cli.returncode == 0, cli.stderr


# Lists


async def test_a_status_repeated_in_the_filter_counts_once(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    customer = f"c-{uuid.uuid4().hex[:6]}"
    async with service(dev_env, tmp_path, grace_period_seconds=0) as svc:
        placed = [await place(svc.orders, customer_id=customer) for _ in range(30)]
        for order_id in placed:
            await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        query = {"f_customer": customer, "per_page": 100}
        await eventually(
            lambda: svc.http.get(PVT, params=query | {"f_status": "ready-for-handling"}, headers=ERP),
            lambda r: len(r.json()["list"]) == 30,
        )

        async def timed(statuses: str) -> tuple[float, list[str]]:
            started = time.perf_counter()
            response = await svc.http.get(PVT, params=query | {"f_status": statuses}, headers=ERP)
            assert response.status_code == 200, response.text
            return time.perf_counter() - started, [o["orderId"] for o in response.json()["list"]]

        once, listed = await timed("ready-for-handling")
        repeated, listed_again = await timed(",".join(["ready-for-handling"] * 200))
    print(f"f_status once: {1000 * once:.0f} ms; the same status 200 times: {1000 * repeated:.0f} ms")
    assert sorted(listed) == sorted(placed) and listed_again == listed  # each order once, same order
    assert repeated < 3 * once + 0.2, (once, repeated)  # one search, not 200 (it took 2.6 s)


async def test_a_repeated_f_status_parameter_merges_as_the_comma_form_does(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    customer = f"c-{uuid.uuid4().hex[:6]}"
    async with service(dev_env, tmp_path) as svc:
        canceled, open_ = (
            await place(svc.orders, customer_id=customer),
            await place(svc.orders, customer_id=customer),
        )
        assert (await svc.http.post(f"{PVT}/{canceled}/cancel", headers=ERP)).status_code == 200
        await reaches(svc.orders, canceled, Status.CANCELED)
        await reaches(svc.orders, open_, Status.WINDOW_TO_CANCEL)

        async def listed(*statuses: str) -> list[str]:
            query = [("f_customer", customer), *(("f_status", s) for s in statuses)]
            answer = await svc.http.get(PVT, params=query, headers=ERP)
            assert answer.status_code == 200, answer.text
            return sorted(o["orderId"] for o in answer.json()["list"])

        both = sorted([canceled, open_])
        await eventually(lambda: listed("canceled,window-to-cancel"), lambda found: found == both)
        assert await listed("canceled", "window-to-cancel") == both
        assert await listed("canceled", "canceled,canceled", "window-to-cancel") == both
        assert await listed("canceled", "canceled") == [canceled]
        bad = await svc.http.get(PVT, params=[("f_status", "canceled"), ("f_status", "shipped")], headers=ERP)
    refusal(bad, "f_status", "shipped")


# Ownership


async def test_another_customers_order_is_an_unknown_order_with_or_without_a_worker(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(
        tmp_path,
        api_credentials=credentials_file(tmp_path),
        customer_token_secret=SECRET,
        update_timeout_seconds=2,
    )
    orders = OrdersClient(dev_env.client, settings)  # no worker polls this task queue
    order_id = await place(orders, customer_id="c-owner")
    unknown = f"f-{uuid.uuid4().hex[:10]}"
    async with serving(create_app(settings, orders)) as url, httpx.AsyncClient(base_url=url) as http:

        async def ask(order: str, customer: str) -> tuple[float, httpx.Response]:
            started = time.perf_counter()
            response = await http.post(
                f"{CHECKOUT}/{order}/user-cancel-request", headers=customer_token(customer)
            )
            return time.perf_counter() - started, response

        not_yours_took, not_yours = await ask(order_id, "c-other")
        _, unknown_answer = await ask(unknown, "c-other")
        owner_took, owners = await ask(order_id, "c-owner")
    print(
        f"no worker: another customer's order 404 in {1000 * not_yours_took:.0f} ms, "
        f"the owner's 202 in {1000 * owner_took:.0f} ms"
    )
    assert not_yours.status_code == unknown_answer.status_code == 404
    assert not_yours.text.replace(order_id, "ID") == unknown_answer.text.replace(unknown, "ID")
    assert not_yours_took < settings.update_timeout_seconds  # no wait for a worker that would tell
    assert owners.status_code == 202  # queued for its owner, once the update timeout passed (not twice it)
    assert settings.update_timeout_seconds <= owner_took < settings.update_timeout_seconds + 1


async def test_another_customers_order_and_an_unknown_one_take_the_same_time(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(
        tmp_path, api_credentials=credentials_file(tmp_path), customer_token_secret=SECRET
    )
    orders = OrdersClient(dev_env.client, settings)  # ownership needs no worker
    profile = {"first_name": "Ana", "last_name": "Lima", "email": "ana@example.com"}
    theirs = await place(orders, customer_id="c-owner", client=profile)
    unknown = f"f-{uuid.uuid4().hex[:10]}"
    token = customer_token("c-other")
    async with serving(create_app(settings, orders)) as url, httpx.AsyncClient(base_url=url) as http:

        async def took(order: str) -> float:
            started = time.perf_counter()
            response = await http.post(f"{CHECKOUT}/{order}/user-cancel-request", json={}, headers=token)
            elapsed = time.perf_counter() - started
            assert response.status_code == 404, response.text
            return elapsed

        for _ in range(10):  # warm up both paths
            await took(theirs), await took(unknown)
        # In pairs, so whatever else loads the machine weighs on both alike; compared by the median of
        # each pair's difference, what an attacker averaging many calls would see.
        pairs = [(await took(theirs), await took(unknown)) for _ in range(150)]
    gap = statistics.median(mine - missing for mine, missing in pairs)
    not_yours, unknown_took = (statistics.median(kind) for kind in zip(*pairs, strict=True))
    print(
        f"404 medians of 150 calls: another's order {1000 * not_yours:.2f} ms, an unknown one "
        f"{1000 * unknown_took:.2f} ms; median gap {1000 * gap:+.2f} ms"
    )
    assert min(min(pair) for pair in pairs) >= OWNERSHIP_REFUSAL_SECONDS
    assert abs(gap) < 0.4e-3, gap  # it was 1.3-1.7 ms here (0.9 ms in the review)


# Secrets and tokens


@pytest.mark.parametrize(
    ("command", "variable", "value"),
    [
        ([ORDERS, "serve-api"], "ORDERS_CUSTOMER_TOKEN_SECRET", "x"),
        ([ORDERS, "serve-api"], "ORDERS_WEBHOOK_SECRET", "31-bytes-is-one-byte-too-short!"),
        ([sys.executable, "worker.py"], "ORDERS_WEBHOOK_SECRET", "short"),
    ],
)
async def test_secrets_below_their_floor_refuse_to_start(
    command: list[str], variable: str, value: str
) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "ORDERS_"))}
    env = base | {variable: value, "ORDERS_API_PORT": str(free_port())}
    done = await asyncio.to_thread(
        lambda: __import__("subprocess").run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
        )
    )
    assert done.returncode == 2, done.stderr[-500:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0] and "32 bytes" in lines[0], done.stderr
    assert value not in done.stderr  # the secret itself is never shown


async def test_a_short_app_token_refuses_to_start(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps([{"appKey": "erp", "appToken": "guessable", "role": "erp"}]))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "ORDERS_"))}
    env = base | {"ORDERS_API_CREDENTIALS": str(credentials)}
    done = await in_thread(ORDERS, "serve-api", "--port", str(free_port()), env=env)
    assert done.returncode == 2 and "appToken" in done.stderr and "guessable" not in done.stderr, done.stderr


async def test_customer_tokens_need_iat_and_a_bounded_lifetime(tmp_path: Path) -> None:
    import jwt

    settings = settings_for(tmp_path, customer_token_secret=SECRET, customer_token_max_lifetime_seconds=3600)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        now = int(time.time())

        async def with_claims(claims: dict[str, Any]) -> httpx.Response:
            token = jwt.encode({"sub": "c-1", **claims}, SECRET, algorithm="HS256")
            return await http.post(
                f"{CHECKOUT}/o-1/user-cancel-request", headers={"Authorization": f"Bearer {token}"}
            )

        no_iat = await with_claims({"exp": now + 60})
        too_long = await with_claims({"iat": now, "exp": now + 7200})
        # PyJWT reads digit strings as numbers; the lifetime check then did str - int (a 500).
        as_strings = [
            await with_claims({"iat": now, "exp": str(now + 60)}),
            await with_claims({"iat": str(now), "exp": now + 60}),
            await with_claims({"iat": now, "exp": now + 60, "nbf": str(now)}),
            await with_claims({"iat": True, "exp": now + 60}),
        ]
    assert no_iat.status_code == 401 and "iat" in no_iat.json()["error"]["message"]
    assert too_long.status_code == 401 and "3600 s at most" in too_long.json()["error"]["message"]
    for claim, answer in zip(("exp", "iat", "nbf", "iat"), as_strings, strict=True):
        assert answer.status_code == 401, answer.text
        assert f"{claim} must be a number" in answer.json()["error"]["message"], answer.text


# Errors


async def test_errors_never_show_internal_addresses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("TEMPORAL_ADDRESS", f"127.0.0.1:{port}")
    settings = settings_for(tmp_path, api_credentials=credentials_file(tmp_path))
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        answer = await http.get(f"{PVT}/o-1", headers=ERP)
    assert answer.status_code == 503, answer.text
    assert str(port) not in answer.text and "127.0.0.1" not in answer.text and "tonic" not in answer.text
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "ORDERS_"))}
    cli = await in_thread(ORDERS, "status", "o-1", env=base | {"TEMPORAL_ADDRESS": f"127.0.0.1:{port}"})
    assert cli.returncode == 4 and len(cli.stderr.strip().splitlines()) == 1, cli.stderr
    assert str(port) not in cli.stderr and "check that TEMPORAL_ADDRESS" in cli.stderr


# Events


class RefusingToBuild:
    """The worker's real sink, except that one kind of event can't be built (as an event with a header
    no retry can encode couldn't)."""

    def __init__(self, sink: EventSink, kind: EventType) -> None:
        self._sink, self._kind = sink, kind

    async def deliver(self, event: OrderEvent) -> None:
        if event.type is self._kind:
            raise Undeliverable(f"{event.type.value}: UnicodeEncodeError")
        await self._sink.deliver(event)

    async def aclose(self) -> None:
        await self._sink.aclose()


async def test_an_event_no_retry_can_send_is_recorded_and_the_order_goes_on(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, grace_period_seconds=0)
    sink = RefusingToBuild(build_sink(settings), EventType.STORE_DECISION_NEEDED)
    async with service(dev_env, tmp_path, sink=sink, grace_period_seconds=0) as svc:
        order_id = await place(svc.orders)
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        await svc.orders.send(order_id, Action.REQUEST_CANCELLATION, {"actor": "customer"})
        await svc.orders.send(order_id, Action.CONFIRM_CANCELLATION, {"actor": "store"})
        handle = dev_env.client.get_workflow_handle(workflow_id(order_id), result_type=OrderState)
        final = await handle.result()
    assert [(f.type, "UnicodeEncodeError" in f.error) for f in final.failed_events] == [
        (EventType.STORE_DECISION_NEEDED, True)
    ]
    assert {e.split(":")[1] for e in final.effects} == {"payment.void", "stock.release", "customer.notify"}


def test_verify_compares_bytes_and_never_raises_on_a_strange_header() -> None:
    body = b'{"id": "1"}'
    assert verify(body, WEBHOOK_SECRET, "sha256=\u00e9\u00e9") is False
    assert verify(body, WEBHOOK_SECRET, "\ud800") is False
    assert verify(body, WEBHOOK_SECRET, b"sha256=\xff") is False


@pytest.mark.parametrize(
    ("name", "secret", "refused"),
    [
        # A webhook secret's key is base64 after `whsec_` (Standard Webhooks): 24 bytes is too short.
        ("webhook_secret", "whsec_" + "A" * 32, True),
        ("webhook_secret", "whsec_" + "A" * 44, False),
        # The customer token secret signs with its own bytes: a `whsec_` prefix is just 6 more of them.
        ("customer_token_secret", "whsec_" + "A" * 26, False),
        ("customer_token_secret", "s" * 31, True),
    ],
)
def test_secret_floors_count_the_bytes_that_sign(name: str, secret: str, refused: bool) -> None:
    values: dict[str, Any] = {name: secret}
    if refused:
        with pytest.raises(ValidationError, match=f"{name}[\\s\\S]*at least 32 bytes"):
            Settings(**values)
    else:
        assert Settings(**values).model_dump()[name] is not None
