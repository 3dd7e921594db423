"""Every endpoint the API implements, answering as VTEX's OpenAPI schema says (tests/vtex/, checked with
openapi-core by `tests.vtex_schema`, whose allowances docs/api.md lists): one flow through each
operation's success and its refusals, then a check that each (operation, status) was validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from orders.api import create_app
from tests.kit.api import ERP, PVT, SECRET, STORE, STOREFRONT, credentials_file, customer_token, serving
from tests.kit.orders import place
from tests.kit.polling import eventually
from tests.kit.vtex_schema import SCHEMA, VtexSchema
from tests.kit.worker import running_worker, settings_for

ORDER = f"{PVT}/{{orderId}}"
DENY = f"{ORDER}/deny-cancellation-request"
DOCUMENT_DENY = "/api/orders/pvt/document/{orderId}/deny-cancellation-request"
USER_CANCEL = "/api/checkout/pub/orders/{orderId}/user-cancel-request"
USER = "/api/oms/user/orders"
USER_ORDER = f"{USER}/{{orderId}}"
CHANGES = "/api/order-system/orders/{orderId}/changes"
CHANGE = f"{CHANGES}/{{changeRequestId}}"
EXPECTED = {
    ("POST", PVT, 201), ("POST", PVT, 200), ("POST", PVT, 422), ("POST", PVT, 401),
    ("GET", PVT, 200), ("GET", PVT, 422), ("GET", PVT, 403),
    ("GET", ORDER, 200), ("GET", ORDER, 404),
    ("POST", f"{ORDER}/cancel", 200), ("POST", f"{ORDER}/cancel", 400), ("POST", f"{ORDER}/cancel", 409),
    ("POST", f"{ORDER}/start-handling", 204), ("POST", f"{ORDER}/start-handling", 409),
    ("POST", f"{ORDER}/invoice", 200), ("POST", f"{ORDER}/invoice", 409), ("POST", f"{ORDER}/invoice", 422),
    ("POST", DENY, 200), ("POST", DENY, 400), ("POST", DOCUMENT_DENY, 400),
    ("POST", f"{ORDER}/payment-approved", 200),
    ("POST", USER_CANCEL, 200), ("POST", USER_CANCEL, 404),
    ("GET", USER, 200), ("GET", USER, 401), ("GET", USER_ORDER, 200), ("GET", USER_ORDER, 404),
    ("POST", f"{ORDER}/customer-link", 200),
    ("PATCH", CHANGES, 202), ("PATCH", CHANGES, 400), ("GET", CHANGES, 200),
    ("POST", f"{CHANGES}/preview", 200), ("POST", f"{CHANGES}/preview", 400),
    ("GET", CHANGE, 200), ("GET", CHANGE, 404),
    ("POST", f"{CHANGE}/cancel", 200), ("POST", f"{CHANGE}/cancel", 400),
}  # fmt: skip


def test_the_schema_copy_is_vtexs_file_as_recorded() -> None:
    import hashlib

    digest = hashlib.sha256(SCHEMA.read_bytes()).hexdigest()
    assert digest in SCHEMA.with_name("SOURCE.md").read_text(), "tests/vtex/SOURCE.md names another file"


async def test_every_endpoint_answers_as_vtexs_schema_says(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    vtex = VtexSchema()
    settings = settings_for(
        tmp_path, api_credentials=credentials_file(tmp_path), customer_token_secret=SECRET
    )
    async with (
        running_worker(dev_env.client, settings) as orders,
        serving(create_app(settings, orders)) as url,
        httpx.AsyncClient(base_url=url, event_hooks={"response": [vtex.hook]}) as http,
    ):
        ana = {"customer_id": "c-schema", "client": {"first_name": "Ana", "email": "ana@example.com"}}

        async def status(order_id: str, wanted: str) -> None:
            async def read() -> str:
                return str((await http.get(f"{PVT}/{order_id}", headers=ERP)).json()["status"])

            await eventually(read, lambda s: s == wanted)

        # Placing (ours), and the answers every path shares.
        kept = await place(http, grace_period_seconds=1800, **ana)
        again = {"orderId": kept, "customerId": "c-schema", "total": 12990}
        assert (await http.post(PVT, json=again, headers=ERP)).status_code == 200
        assert (await http.post(PVT, json={}, headers=ERP)).status_code == 422
        assert (await http.post(PVT, json=again)).status_code == 401
        assert (await http.get(f"{PVT}/no-such-order", headers=ERP)).status_code == 404
        assert (await http.get(PVT, headers=STOREFRONT)).status_code == 403

        # Inside the window: cancel at once; then it is final.
        assert (await http.post(f"{PVT}/{kept}/cancel", json={"reason": "r"}, headers=ERP)).status_code == 200
        await status(kept, "canceled")
        assert (await http.post(f"{PVT}/{kept}/cancel", headers=ERP)).status_code == 409

        # After the window: the customer asks, the store declines on both deny paths, then handles.
        late = await place(http, grace_period_seconds=0, payment={"method": "pix"}, **ana)
        await status(late, "ready-for-handling")
        user = USER_CANCEL.format(orderId=late)
        assert (
            await http.post(user, json={"reason": "x"}, headers=customer_token("c-other"))
        ).status_code == 404
        asked = await http.post(user, json={"reason": "x"}, headers=customer_token("c-schema"))
        assert asked.status_code == 200
        deny = DENY.format(orderId=late)
        wrong = {"cancellationRequestId": "nope", "denyReason": "shipped"}
        assert (await http.post(deny, json=wrong, headers=STORE)).status_code == 400
        assert (await http.get(f"{PVT}/{late}", headers=STORE)).json()["cancellationData"] is not None
        right = wrong | {"cancellationRequestId": asked.json()["receipt"]}
        assert (await http.post(deny, json=right, headers=STORE)).status_code == 200
        assert (
            await http.post(DOCUMENT_DENY.format(orderId=late), json=right, headers=STORE)
        ).status_code == 400
        assert (await http.post(f"{PVT}/{late}/start-handling", headers=STORE)).status_code == 204
        assert (await http.post(f"{PVT}/{late}/start-handling", headers=STORE)).status_code == 409

        # Invoices: partial, refused return, the cancel VTEX answers 400, a return, the rest.
        invoice = f"{PVT}/{late}/invoice"
        sold = {
            "type": "Output",
            "invoiceNumber": "NF-1",
            "invoiceValue": "5000",
            "issuanceDate": "2026-11-26",
        }
        assert (await http.post(invoice, json=sold | {"type": "Gift"}, headers=ERP)).status_code == 422
        assert (await http.post(invoice, json=sold, headers=ERP)).status_code == 200
        too_much = sold | {"type": "Input", "invoiceNumber": "NF-R", "invoiceValue": "9000"}
        assert (await http.post(invoice, json=too_much, headers=ERP)).status_code == 409
        assert (await http.post(f"{PVT}/{late}/cancel", headers=ERP)).status_code == 400
        returned = too_much | {"invoiceValue": "1000"}
        assert (await http.post(invoice, json=returned, headers=ERP)).status_code == 200
        assert (await http.get(f"{PVT}/{late}", headers=ERP)).status_code == 200
        rest = sold | {"invoiceNumber": "NF-2", "invoiceValue": "8990"}
        assert (await http.post(invoice, json=rest, headers=ERP)).status_code == 200
        await status(late, "invoiced")

        # Payment approval, and a two-step cancel left pending.
        pending = await place(http, grace_period_seconds=0, payment_approved=False, **ana)
        assert (await http.post(f"{PVT}/{pending}/payment-approved", headers=ERP)).status_code == 200
        await status(pending, "ready-for-handling")
        assert (await http.post(f"{PVT}/{pending}/cancel", headers=STORE)).status_code == 200
        assert (await http.get(f"{PVT}/{pending}", headers=ERP)).status_code == 200

        # Order modifications: lower (applied), preview, higher (waiting, then withdrawn), the history.
        changed = await place(
            http,
            grace_period_seconds=0,
            items=[{"sku": "A1", "quantity": 2, "price": 6495}, {"sku": "B2", "quantity": 1, "price": 3000}],
            total=15990,
            **ana,
        )
        await status(changed, "ready-for-handling")
        changes = CHANGES.format(orderId=changed)
        swap = {
            "from": {"items": [{"id": "A1", "quantity": 1}]},
            "to": {"items": [{"id": "A2", "quantity": 1, "price": 5990}]},
        }
        lower = {
            "reason": "a size down",
            "replace": [swap],
            "remove": {"items": [{"id": "B2", "quantity": 1}]},
        }
        applied = await http.patch(changes, json=lower, headers=ERP)
        assert applied.status_code == 202 and applied.json()["status"] == "applied", applied.text
        assert applied.json()["totalChangeValue"] == -3505
        higher = {"reason": "add a cable", "add": {"items": [{"id": "C3", "quantity": 1, "price": 1990}]}}
        preview = await http.post(f"{changes}/preview", json=higher, headers=STORE)
        assert preview.status_code == 200 and preview.json()["totalChangeValue"] == 1990
        bad = {"reason": "x", "add": {"items": [{"id": "Z9", "quantity": 1}]}}
        refused = await http.post(f"{changes}/preview", json=bad, headers=STORE)
        assert refused.status_code == 400 and "add.items[0].price" in refused.json()["error"]["message"]
        waiting = await http.patch(changes, json=higher, headers=STORE)
        assert waiting.status_code == 202 and waiting.json()["status"] == "waiting-payment"
        change_id = waiting.json()["requestId"]
        assert (
            await http.patch(changes, json={"reason": "x", "add": {"items": []}}, headers=STORE)
        ).status_code == 400
        assert (await http.get(f"{changes}/{change_id}", headers=STORE)).json()["inProgress"] is True
        assert (await http.get(f"{changes}/{changed}-m9", headers=STORE)).status_code == 404
        withdraw = await http.post(
            f"{changes}/{change_id}/cancel", json={"reason": "no cable"}, headers=STORE
        )
        assert withdraw.status_code == 200 and withdraw.json()["status"] == "lapsed"
        assert (
            await http.post(f"{changes}/{change_id}/cancel", json={"reason": "again"}, headers=STORE)
        ).status_code == 400
        history = (await http.get(changes, headers=ERP)).json()["requests"]
        assert [change["status"] for change in history] == ["applied", "lapsed"]
        got = (await http.get(f"{PVT}/{changed}", headers=ERP)).json()  # Get order: as modified
        assert got["value"] == 12485 and [(i["id"], i["quantity"]) for i in got["items"]] == [
            ("A1", 1),
            ("A2", 1),
        ]
        assert [c["discountValue"] for c in got["changesAttachment"]["changesData"]] == [3505]

        # Lists: filtered, paged, empty, refused.
        assert (await http.get(f"{PVT}?f_customer=c-schema&per_page=2", headers=ERP)).status_code == 200
        assert (
            await http.get(f"{PVT}?f_customer=c-schema&page=2&per_page=2", headers=ERP)
        ).status_code == 200
        assert (await http.get(f"{PVT}?f_customer=nobody-here", headers=ERP)).status_code == 200
        assert (await http.get(f"{PVT}?f_status=nope", headers=ERP)).status_code == 422

        # The customer's own (VTEX's user endpoints, behind the customer pages): a canceled order, an
        # invoiced one, one pending a decision, one whose payment is pending; another's is 404.
        mine = customer_token("c-schema")
        assert (await http.get(USER, headers=mine)).status_code == 200
        assert (await http.get(f"{USER}?per_page=2&page=2", headers=mine)).status_code == 200
        assert (await http.get(USER)).status_code == 401
        unpaid = await place(http, grace_period_seconds=1800, payment_approved=False, **ana)
        for order_id in (kept, late, pending, unpaid):
            assert (await http.get(f"{USER}/{order_id}", headers=mine)).status_code == 200
        assert (await http.get(f"{USER}/{late}", headers=customer_token("c-other"))).status_code == 404
        link = await http.post(f"{PVT}/{late}/customer-link", json={"ttlSeconds": 600}, headers=STORE)
        assert link.status_code == 200

    missing = EXPECTED - set(vtex.seen)
    assert not missing, f"not validated: {sorted(missing)}"


@pytest.mark.parametrize(
    "body",
    [
        {"orderId": "x", "value": "12990"},  # VTEX's value is an integer of cents
        {"orderId": "x", "origin": "Store"},  # origin is one of VTEX's three
        {"orderId": "x", "cancellationData": {"requestedByUser": "yes"}},  # A1: the camelCase schema
    ],
)
def test_the_checker_refuses_what_vtexs_schema_refuses(body: dict[str, Any]) -> None:
    import json

    with pytest.raises(AssertionError, match="does not match VTEX's schema"):
        VtexSchema().check("GET", f"{PVT}/x", 200, "application/json", json.dumps(body).encode())
