"""Line-level cancellation through the doors on the dev server: the CLI, the REST API and the events a
real receiver gets, amounts and items exact (tests/workflow/test_items_flow.py has every path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Status
from tests.kit.api import CHECKOUT, ERP, PVT, service
from tests.kit.orders import TWO_LINES, place, reaches
from tests.kit.polling import eventually
from tests.kit.receiver import SECRET as WEBHOOK_SECRET
from tests.kit.receiver import Receiver


async def test_items_through_the_cli_and_the_rest_api_reach_a_real_receiver(
    dev_env: WorkflowEnvironment, tmp_path: Path, receiver: Receiver
) -> None:
    async with service(
        dev_env, tmp_path, grace_period_seconds=0, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET
    ) as svc:
        order_id = await place(svc.orders, items=TWO_LINES, payment={"method": "card", "captured": True})
        await reaches(svc.orders, order_id, Status.READY_FOR_HANDLING)
        cli = await svc.cli(
            "cancel", order_id, "--item", "A1:1", "--reason", "damaged", "--reason-code", "out-of-stock"
        )
        assert cli.returncode == 0 and "items canceled by the store" in cli.stdout, cli.stderr
        # Get order and list orders agree on what is left: 9990 of 12990, in 2 units of 3.
        got = (await svc.http.get(f"{PVT}/{order_id}", headers=ERP)).json()
        assert (got["value"], sum(item["quantity"] for item in got["items"])) == (9990, 2)

        async def listed() -> dict[str, Any]:
            page = (await svc.http.get(f"{PVT}?f_status=ready-for-handling", headers=ERP)).json()
            return next((row for row in page["list"] if row["orderId"] == order_id), {})

        row = await eventually(listed, lambda r: r.get("totalValue") == 9990)
        assert row["totalItems"] == 2
        again = {"orderId": order_id, "customerId": "c-42", "total": 12990}  # as placed: no conflict
        assert (await svc.http.post(PVT, json=again, headers=ERP)).status_code == 200
        bad = await svc.cli("cancel", order_id, "--item", "A1:5", "--reason", "x")
        assert bad.returncode == 1 and "items[0]: 5 of A1 asked, 1 left" in bad.stderr
        twice = {"items": [{"id": "A1", "quantity": 1}, {"id": "A1", "quantity": 1}]}
        duplicate = await svc.http.post(f"{PVT}/{order_id}/cancel-items", json=twice, headers=ERP)
        assert duplicate.status_code == 422 and "appears twice" in duplicate.text
        z9 = {"items": [{"id": "Z9", "quantity": 1}]}
        unknown = await svc.http.post(f"{PVT}/{order_id}/cancel-items", json=z9, headers=ERP)
        assert unknown.status_code == 409 and "items[0]: sku Z9" in unknown.json()["error"]["message"]
        url = f"{CHECKOUT}/{order_id}/user-cancel-items-request"
        b2 = {"items": [{"id": "B2", "quantity": 1}], "reason": "wrong size"}
        asked = await svc.http.post(url, json=b2, headers=svc.customer("c-42"))
        assert asked.status_code == 200, asked.text
        await reaches(svc.orders, order_id, Status.CANCELLATION_REQUESTED)
        assert (
            await svc.http.post(f"{PVT}/{order_id}/cancel", headers=ERP)
        ).status_code == 409  # items pending
        other = await svc.http.post(
            url, json={"items": [{"id": "B2", "quantity": 1}]}, headers=svc.customer("c-9")
        )
        assert other.status_code == 404
        state = await svc.orders.state(order_id)
        assert state.pending_request is not None and [i.sku for i in state.pending_request.items] == ["B2"]

        async def delivered() -> list[tuple[str, Any]]:
            with receiver.lock:
                done = [event for key, (_, event) in receiver.done.items() if key.startswith(f"{order_id}:")]
            return [(e["type"], e["data"].get("amount")) for e in done if e["type"] != "order.status-changed"]

        got = await eventually(delivered, lambda d: ("customer.notify", 3000) in d)
    assert ("payment.refund", 3000) in got and ("stock.release", None) in got
    assert ("store.decision-needed", None) in got
    assert sorted(key for key in receiver.tries(order_id) if "payment" in key) == [
        f"{order_id}:payment.refund:3"
    ]
