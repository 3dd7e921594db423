"""The REST API end to end: uvicorn on loopback, the dev server, and a real worker.

Every endpoint's happy path, every error code of the issue in VTEX's envelope, the two-step cancel
after a real (1 s) grace timer, idempotent repeats, customer tokens, and the response bodies checked
field by field against VTEX's names and types. Every answer of a VTEX path is also validated against
VTEX's own OpenAPI schema as it arrives (`tests.vtex_schema`, with the allowances docs/api.md lists).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import jwt
import pytest
import pytest_asyncio
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from orders.api import create_app
from orders.api.auth import CredentialsError
from orders.client import OrdersClient
from orders.settings import Settings
from tests.kit.api import ERP, PVT, SECRET, STORE, STOREFRONT, credentials_file, customer_token, serving
from tests.kit.orders import place
from tests.kit.polling import eventually
from tests.kit.vtex_schema import VtexSchema
from tests.kit.worker import read_events, running_worker, settings_for

# Shapes


def iso(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.tzinfo is not None


def integer(value: Any) -> bool:
    return type(value) is int  # bool is an int in Python; VTEX's money is a plain integer of cents


def of(kind: type) -> Callable[[Any], bool]:
    return lambda value: type(value) is kind


def optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


ORDER_FIELDS: dict[str, Callable[[Any], bool]] = {
    "orderId": of(str),
    "sequence": of(str),
    "origin": of(str),
    "salesChannel": of(str),
    "customerId": of(str),
    "status": of(str),
    "statusDescription": of(str),
    "value": integer,
    "currencyCode": of(str),
    "creationDate": iso,
    "lastChange": iso,
    "authorizedDate": optional(iso),
    "invoicedDate": optional(iso),
    "cancelReason": optional(of(str)),
    "isCompleted": of(bool),
    "workflowIsInError": of(bool),
    "allowCancellation": of(bool),
    "totals": of(list),
    "items": of(list),
    "clientProfileData": of(dict),
    "paymentData": of(dict),
    "storePreferencesData": of(dict),
    "gracePeriodEndDate": optional(iso),
    "cancellationDecisionEndDate": optional(iso),
    "isPartiallyInvoiced": of(bool),
    "invoicedValue": integer,
    "cancellationData": optional(of(dict)),
    "cancellationRequests": of(list),
    "packageAttachment": of(dict),
}
CANCELLATION_DATA_FIELDS: dict[str, Callable[[Any], bool]] = {
    "requestedByUser": of(bool),
    "requestedBySystem": of(bool),
    "requestedBySellerNotification": of(bool),
    "requestedByPaymentNotification": of(bool),
    "reason": of(str),
    "reasonCode": of(str),
    "reasonLabel": of(str),
    "cancellationDate": iso,  # left out until the order is canceled
    "cancellationRequestId": of(str),
}
CANCELLATION_REQUEST_FIELDS: dict[str, Callable[[Any], bool]] = {
    "id": of(str),
    "reason": of(str),
    "reasonCode": of(str),
    "reasonLabel": of(str),
    "cancellationRequestDate": iso,
    "requestedByUser": of(bool),
    "deniedBySeller": of(bool),
    "deniedBySellerReason": optional(of(str)),
    "deniedBySellerReasonCode": optional(of(str)),
    "deniedBySellerReasonLabel": optional(of(str)),
    "cancellationRequestDenyDate": optional(iso),
}
PACKAGE_FIELDS: dict[str, Callable[[Any], bool]] = {
    "type": lambda v: v in ("Output", "Input"),
    "invoiceNumber": of(str),
    "invoiceValue": integer,
    "issuanceDate": iso,
}
ITEM_FIELDS: dict[str, Callable[[Any], bool]] = {"id": of(str), "quantity": integer, "price": integer}
RECEIPT_FIELDS: dict[str, Callable[[Any], bool]] = {"date": iso, "orderId": of(str), "receipt": of(str)}


def shaped(
    body: Any, fields: dict[str, Callable[[Any], bool]], may_omit: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """`body` has exactly these fields (less those it `may_omit`), each of its VTEX type."""
    assert isinstance(body, dict), body
    assert set(fields) - may_omit <= set(body) <= set(fields), (
        f"fields differ: {sorted(set(body) ^ set(fields))}"
    )
    wrong = {name: body[name] for name, check in fields.items() if name in body and not check(body[name])}
    assert not wrong, f"wrong types: {wrong}"
    return body


def order_shaped(body: Any) -> dict[str, Any]:
    shaped(body, ORDER_FIELDS)
    for item in body["items"]:
        shaped(item, ITEM_FIELDS)
    if body["cancellationData"] is not None:
        shaped(body["cancellationData"], CANCELLATION_DATA_FIELDS, frozenset({"cancellationDate"}))
    [total] = body["totals"]
    assert total["id"] == "Items" and integer(total["value"]), total
    assert body["clientProfileData"]["userProfileId"] == body["customerId"]
    assert body["storePreferencesData"] == {"currencyCode": body["currencyCode"]}
    [transaction] = body["paymentData"]["transactions"]
    assert isinstance(transaction["isActive"], bool) and len(transaction["payments"]) == 1
    for request in body["cancellationRequests"]:
        shaped(request, CANCELLATION_REQUEST_FIELDS)
    shaped(body["packageAttachment"], {"packages": of(list)})
    for package in body["packageAttachment"]["packages"]:
        shaped(package, PACKAGE_FIELDS)
    return body


def receipt(response: httpx.Response, order_id: str, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = shaped(response.json(), RECEIPT_FIELDS)
    assert body["orderId"] == order_id
    return body


def refused(response: httpx.Response, status: int, code: str | None = None, names: str = "") -> str:
    """An error in VTEX's envelope, with no traceback; `names` must appear in the message."""
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    if code is not None:
        assert body["error"]["code"] == code, body
    assert names in body["error"]["message"], body
    return cast(str, body["error"]["message"])


# The running API


@dataclass
class Api:
    http: httpx.AsyncClient
    orders: OrdersClient
    settings: Settings

    async def order(self, order_id: str) -> dict[str, Any]:
        response = await self.http.get(f"{PVT}/{order_id}", headers=ERP)
        assert response.status_code == 200, response.text
        return order_shaped(response.json())

    async def reaches(self, order_id: str, status: str) -> dict[str, Any]:
        return await eventually(lambda: self.order(order_id), lambda o: o["status"] == status)

    async def cancel(self, order_id: str, headers: dict[str, str] = ERP, **body: Any) -> httpx.Response:
        return await self.http.post(f"{PVT}/{order_id}/cancel", json=body or None, headers=headers)

    def events(self, order_id: str) -> list[str]:
        return [e["type"] for e in read_events(self.settings.event_log) if e["order_id"] == order_id]


@pytest_asyncio.fixture(scope="module")
async def api(dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    directory = tmp_path_factory.mktemp("api")
    settings = settings_for(
        directory, api_credentials=credentials_file(directory), customer_token_secret=SECRET
    )
    async with (
        running_worker(dev_env.client, settings) as orders,
        serving(create_app(settings, orders)) as url,
        httpx.AsyncClient(base_url=url, event_hooks={"response": [VtexSchema().hook]}) as http,
    ):
        yield Api(http, orders, settings)


@asynccontextmanager
async def in_process(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api",
        event_hooks={"response": [VtexSchema().hook]},
    ) as http:
        yield http


# Operations and documentation


async def test_health_readiness_and_docs(api: Api) -> None:
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    assert (await api.http.get("/readyz")).json() == {"status": "ready"}
    assert (await api.http.get("/redoc")).status_code == 404  # its bundle fetches a logo from a CDN
    for page in ("/docs",):
        html = (await api.http.get(page)).text
        assert "swagger" in html.lower()
        # Offline: every script, style and icon is served by the API itself, none from a CDN.
        assets = set(re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html))
        assets |= set(re.findall(r"""url:\s*["']([^"']+)["']""", html))
        assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
        assert "http://" not in html and "https://" not in html.replace("https://github.com", ""), html
        for asset in assets:
            served = await api.http.get(asset)
            assert served.status_code == 200 and served.content, asset
    paths = (await api.http.get("/openapi.json")).json()["paths"]
    assert {f"{PVT}/{{orderId}}/cancel", "/api/checkout/pub/orders/{orderId}/user-cancel-request"} <= set(
        paths
    )


# Placing and reading


async def test_place_and_get_order_field_by_field(api: Api) -> None:
    profile = {
        "firstName": "Ana",
        "lastName": "Lima",
        "email": "ana@example.com",
        "phone": "+55 11 5555-0100",
    }
    # The body as VTEX spells it (an item's sku as `id`, a field we don't keep), sent as it is.
    order_id = f"o-{uuid.uuid4().hex[:10]}"
    body = {
        "orderId": order_id,
        "customerId": "c-42",
        "total": 12990,
        "gracePeriodSeconds": 1800,
        "currency": "USD",
        "items": [{"id": "SKU-9", "quantity": 2, "price": 6000}],
        "payment": {"method": "credit-card"},
        "salesChannel": "2",
        "origin": "Fulfillment",
        "clientProfileData": profile | {"document": "123.456.789-00", "documentType": "cpf"},
    }
    placed = await api.http.post(PVT, json=body, headers=ERP)
    assert placed.status_code == 201, placed.text
    order = await api.order(order_id)
    assert order["orderId"] == order_id == order["sequence"] and order["customerId"] == "c-42"
    assert (order["origin"], order["salesChannel"]) == ("Fulfillment", "2")
    assert (order["status"], order["statusDescription"]) == ("window-to-cancel", "Cancellation window")
    assert (order["value"], order["currencyCode"], order["invoicedValue"]) == (12990, "USD", 0)
    assert order["items"] == [{"id": "SKU-9", "quantity": 2, "price": 6000}]
    assert order["totals"] == [{"id": "Items", "name": "Items Total", "value": 12000}]
    assert order["clientProfileData"] == profile | {"userProfileId": "c-42", "document": "123.456.789-00"}
    assert order["paymentData"] == {
        "transactions": [
            {
                "isActive": True,
                "payments": [{"paymentSystemName": "credit-card", "group": "creditCard", "value": 12990}],
            }
        ]
    }
    assert order["allowCancellation"] is True and order["isPartiallyInvoiced"] is False
    assert order["cancellationData"] is None and order["cancellationRequests"] == []
    assert order["cancelReason"] is None and order["invoicedDate"] is None
    assert order["packageAttachment"] == {"packages": []}
    assert order["isCompleted"] is True and order["workflowIsInError"] is False
    approved = datetime.fromisoformat(order["authorizedDate"])
    assert datetime.fromisoformat(order["gracePeriodEndDate"]) - approved == timedelta(seconds=1800)
    assert order["cancellationDecisionEndDate"] is None
    bad = {"orderId": "x2", "customerId": "c", "total": 1, "clientProfileData": {"email": "not-an-email"}}
    refused(
        await api.http.post(PVT, json=bad, headers=ERP), 422, "invalid-request", "clientProfileData.email"
    )
    bad = {"orderId": "x2", "customerId": "c", "total": 1, "origin": "Elsewhere"}
    refused(await api.http.post(PVT, json=bad, headers=ERP), 422, "invalid-request", "origin")


async def test_place_is_idempotent_by_order_id_and_refuses_a_different_order(api: Api) -> None:
    order_id = await place(api.http)
    body = {"orderId": order_id, "customerId": "c-42", "value": 12990}  # VTEX's `value` works too
    again = await api.http.post(PVT, json=body, headers=ERP)
    assert again.status_code == 200, again.text
    assert shaped(again.json(), {"orderId": of(str), "created": of(bool), "date": iso})["created"] is False
    assert again.headers["Location"] == f"{PVT}/{order_id}"
    other = await api.http.post(PVT, json=body | {"customerId": "c-other"}, headers=ERP)
    refused(other, 409, "order-exists", order_id)


async def test_invalid_bodies_name_the_field(api: Api) -> None:
    refused(
        await api.http.post(PVT, json={"orderId": "x1", "total": 1}, headers=ERP), 422, None, "customerId"
    )
    bad_total = {"orderId": "x1", "customerId": "c", "total": -5}
    refused(await api.http.post(PVT, json=bad_total, headers=ERP), 422, "invalid-request", "total")
    bad_item = {"orderId": "x1", "customerId": "c", "total": 5, "items": [{"sku": "A", "quantity": 0}]}
    message = refused(await api.http.post(PVT, json=bad_item, headers=ERP), 422)
    assert "items.0.quantity" in message and "items.0.price" in message
    broken = await api.http.post(
        PVT, content=b'{"orderId": ', headers=ERP | {"Content-Type": "application/json"}
    )
    refused(broken, 400, "malformed-json", "not valid JSON")
    refused(await api.http.post(PVT, json=["not", "an", "object"], headers=ERP), 422)
    refused(await api.http.get(f"{PVT}/bad id!", headers=ERP), 422, "invalid-request", "orderId (path)")
    long_key = {"Idempotency-Key": "k" * 129}
    refused(await api.cancel("x1", headers=ERP | long_key), 422, None, "Idempotency-Key (header)")


async def test_unknown_order_route_and_method(api: Api) -> None:
    refused(await api.http.get(f"{PVT}/no-such-order", headers=ERP), 404, "order-not-found", "no-such-order")
    refused(await api.cancel("no-such-order"), 404, "order-not-found")
    refused(await api.http.get("/api/oms/pvt/nothing-here", headers=ERP), 404, "not-found")
    refused(await api.http.delete(f"{PVT}/x1", headers=ERP), 405, "method-not-allowed")


# Cancellation


async def test_cancel_inside_the_window_cancels_at_once(api: Api) -> None:
    order_id = await place(api.http, grace_period_seconds=1800)
    first = receipt(await api.cancel(order_id, reason="customer called", headers=STORE), order_id)
    order = await api.reaches(order_id, "canceled")
    data = order["cancellationData"]
    assert data["requestedBySellerNotification"] is True
    assert data["requestedByUser"] is False and data["requestedBySystem"] is False
    assert data["requestedByPaymentNotification"] is False
    assert data["reason"] == "customer called" and data["cancellationRequestId"] == first["receipt"]
    assert iso(data["cancellationDate"]) and order["allowCancellation"] is False
    assert order["cancelReason"] == "customer called"
    events = await eventually(
        lambda: asyncio.sleep(0, api.events(order_id)), lambda e: "customer.notify" in e
    )
    assert events.count("payment.void") == 1 and events.count("stock.release") == 1
    refused(await api.cancel(order_id), 409, "final", "canceled")
    # The finished order answers as the lifecycle does, with VTEX's code for start-handling.
    refused(await api.http.post(f"{PVT}/{order_id}/start-handling", headers=ERP), 409, "OMS003", "canceled")


async def test_two_step_cancel_after_the_grace_timer(api: Api) -> None:
    order_id = await place(api.http, grace_period_seconds=1)
    await api.reaches(order_id, "ready-for-handling")  # the real 1 s timer fired
    first = receipt(await api.cancel(order_id, reason="out of stock"), order_id)
    order = await api.order(order_id)
    assert order["status"] == "cancellation-requested" and order["allowCancellation"] is True
    assert iso(order["cancellationDecisionEndDate"])
    [request] = order["cancellationRequests"]
    assert request["id"] == first["receipt"] and request["reason"] == "out of stock"
    assert request["requestedByUser"] is False and request["deniedBySeller"] is False
    assert request["deniedBySellerReason"] is None and request["cancellationRequestDenyDate"] is None
    # The request waiting is the order's cancellationData, its id the one deny-cancellation-request takes.
    assert order["cancellationData"] == {
        "requestedByUser": False,
        "requestedBySystem": False,
        "requestedBySellerNotification": True,
        "requestedByPaymentNotification": False,
        "reason": "out of stock",
        "reasonCode": "other",  # a text-only caller's code
        "reasonLabel": "Other",
        "cancellationRequestId": first["receipt"],
    }
    receipt(await api.cancel(order_id, headers=STORE), order_id)  # the second click confirms
    order = await api.reaches(order_id, "canceled")
    assert order["cancellationData"]["cancellationRequestId"] == first["receipt"]
    assert order["cancellationData"]["requestedBySellerNotification"] is True


async def test_idempotency_key_repeats_answer_as_the_first_call(api: Api) -> None:
    order_id = await place(api.http, grace_period_seconds=0)
    await api.reaches(order_id, "ready-for-handling")
    key = {"Idempotency-Key": f"cancel-{order_id}"}
    first = receipt(await api.cancel(order_id, headers=ERP | key), order_id)
    repeat = receipt(await api.cancel(order_id, headers=ERP | key), order_id)
    assert first == repeat and first["receipt"] == key["Idempotency-Key"]
    order = await api.order(order_id)
    assert order["status"] == "cancellation-requested"  # the repeat did not confirm
    assert len(order["cancellationRequests"]) == 1
    reused = await api.http.post(f"{PVT}/{order_id}/start-handling", headers=ERP | key)
    refused(reused, 422, "request-id-reused", "Idempotency-Key")

    # A retry after the order finished (in-window cancels finish in milliseconds) still gets the first answer.
    quick = await place(api.http, grace_period_seconds=1800)
    key = {"Idempotency-Key": f"cancel-{quick}"}
    first = receipt(await api.cancel(quick, headers=ERP | key), quick)
    await api.reaches(quick, "canceled")
    assert receipt(await api.cancel(quick, headers=ERP | key), quick) == first
    refused(await api.cancel(quick), 409, "final")


async def test_customer_request_then_store_denies(api: Api) -> None:
    customer = f"c-{uuid.uuid4().hex[:8]}"
    order_id = await place(api.http, grace_period_seconds=0, customer_id=customer)
    await api.reaches(order_id, "ready-for-handling")
    url = f"/api/checkout/pub/orders/{order_id}/user-cancel-request"
    asked = receipt(
        await api.http.post(url, json={"reason": "too slow"}, headers=customer_token(customer)), order_id
    )
    order = await api.order(order_id)
    assert order["status"] == "cancellation-requested"
    [request] = order["cancellationRequests"]
    assert request["requestedByUser"] is True and request["id"] == asked["receipt"]

    deny = f"{PVT}/{order_id}/deny-cancellation-request"
    assert order["cancellationData"]["cancellationRequestId"] == asked["receipt"]
    wrong = {"cancellationRequestId": "not-this-one", "denyReason": "shipped"}
    refused(await api.http.post(deny, json=wrong, headers=STORE), 400, "not-pending", asked["receipt"])
    refused(
        await api.http.post(deny, json={"cancellationRequestId": "x"}, headers=STORE), 422, None, "denyReason"
    )
    body = {"cancellationRequestId": asked["receipt"], "denyReason": "already shipped"}
    receipt(await api.http.post(deny, json=body, headers=STORE), order_id)
    order = await api.order(order_id)
    assert order["status"] == "ready-for-handling" and order["allowCancellation"] is True
    [request] = order["cancellationRequests"]
    assert request["deniedBySeller"] is True and request["deniedBySellerReason"] == "already shipped"
    assert (request["deniedBySellerReasonCode"], request["deniedBySellerReasonLabel"]) == ("other", "Other")
    assert iso(request["cancellationRequestDenyDate"]) and order["cancellationData"] is None
    refused(await api.http.post(deny, json=body, headers=STORE), 400, "no-pending-request")
    # VTEX's current guide spells the path /api/orders/pvt/document/{orderId}/deny-cancellation-request.
    document = f"/api/orders/pvt/document/{order_id}/deny-cancellation-request"
    refused(await api.http.post(document, json=body, headers=STORE), 400, "no-pending-request")


async def test_customer_inside_the_window_and_other_customers(api: Api) -> None:
    customer = f"c-{uuid.uuid4().hex[:8]}"
    order_id = await place(api.http, grace_period_seconds=1800, customer_id=customer)
    url = f"/api/checkout/pub/orders/{order_id}/user-cancel-request"
    stranger = await api.http.post(url, json={}, headers=customer_token("c-someone-else"))
    unknown = await api.http.post(
        "/api/checkout/pub/orders/no-such-order/user-cancel-request", headers=customer_token(customer)
    )
    # Another customer's order looks exactly like an order that does not exist.
    assert refused(stranger, 404, "order-not-found") == f"order {order_id} not found"
    refused(unknown, 404, "order-not-found")
    receipt(await api.http.post(url, headers=customer_token(customer)), order_id)
    order = await api.reaches(order_id, "canceled")
    assert order["cancellationData"]["requestedByUser"] is True


async def test_customer_tokens_expired_forged_or_missing(api: Api) -> None:
    order_id = await place(api.http, customer_id="c-tok")
    url = f"/api/checkout/pub/orders/{order_id}/user-cancel-request"
    expired = await api.http.post(url, headers=customer_token("c-tok", expires_in=-60))
    assert "expired" in refused(expired, 401, "unauthorized")
    assert expired.headers["WWW-Authenticate"] == "Bearer"
    refused(await api.http.post(url, headers=customer_token("c-tok", secret="not-the-secret" * 4)), 401)
    no_exp = jwt.encode({"sub": "c-tok"}, SECRET, algorithm="HS256")
    refused(await api.http.post(url, headers={"Authorization": f"Bearer {no_exp}"}), 401, None, "exp")
    unsigned = jwt.encode({"sub": "c-tok", "exp": int(time.time()) + 60}, None, algorithm="none")
    refused(await api.http.post(url, headers={"Authorization": f"Bearer {unsigned}"}), 401)
    refused(await api.http.post(url, headers={"Authorization": "Bearer not.a.jwt"}), 401)
    refused(await api.http.post(url), 401)
    refused(await api.http.post(url, headers=ERP), 401)  # app keys are not customer tokens
    assert (await api.order(order_id))["status"] == "window-to-cancel"


# Handling, invoices, payment


async def test_start_handling_and_invoices(api: Api) -> None:
    early = await place(api.http, grace_period_seconds=1800)
    refused(await api.http.post(f"{PVT}/{early}/start-handling", headers=ERP), 409, "OMS003")

    order_id = await place(api.http, grace_period_seconds=0)
    await api.reaches(order_id, "ready-for-handling")
    key = {"Idempotency-Key": f"handle-{order_id}"}
    started = await api.http.post(f"{PVT}/{order_id}/start-handling", headers=STORE | key)
    assert (started.status_code, started.content) == (204, b"")
    assert (await api.http.post(f"{PVT}/{order_id}/start-handling", headers=STORE | key)).status_code == 204
    refused(await api.http.post(f"{PVT}/{order_id}/start-handling", headers=STORE), 409, "OMS003")

    invoice = {
        "type": "Output",
        "invoiceNumber": "NF-1",
        "invoiceValue": 5000,
        "issuanceDate": "2026-11-26T10:00:00Z",
    }
    receipt(await api.http.post(f"{PVT}/{order_id}/invoice", json=invoice, headers=ERP), order_id)
    order = await api.order(order_id)
    assert order["status"] == "handling" and order["isPartiallyInvoiced"] is True
    assert order["invoicedValue"] == 5000 and order["allowCancellation"] is False
    assert order["value"] == 5000  # VTEX: after a partial invoice the order's value is what is settled
    assert order["packageAttachment"]["packages"] == [
        {
            "type": "Output",
            "invoiceNumber": "NF-1",
            "invoiceValue": 5000,
            "issuanceDate": "2026-11-26T10:00:00Z",
        }
    ]
    refused(await api.cancel(order_id), 400, "partially-invoiced", "partially invoiced")  # VTEX's 400

    # VTEX sends invoiceValue as a string of cents and often a bare issuance date.
    rest = invoice | {"invoiceNumber": "NF-2", "invoiceValue": "7990", "issuanceDate": "2026-11-27"}
    receipt(await api.http.post(f"{PVT}/{order_id}/invoice", json=rest, headers=ERP), order_id)
    order = await api.reaches(order_id, "invoiced")
    assert order["packageAttachment"]["packages"][1]["issuanceDate"] == "2026-11-27T00:00:00Z"
    assert order["value"] == 12990 and iso(order["invoicedDate"])
    refused(await api.cancel(order_id), 409, "final")
    # A return can't reopen an invoiced order.
    back = invoice | {"type": "Input", "invoiceNumber": "NF-R", "invoiceValue": 7990}
    refused(await api.http.post(f"{PVT}/{order_id}/invoice", json=back, headers=ERP), 409, "final")


async def test_return_invoices_reopen_a_partially_invoiced_order_to_cancellation(api: Api) -> None:
    order_id = await place(api.http, grace_period_seconds=0)
    await api.reaches(order_id, "ready-for-handling")
    url = f"{PVT}/{order_id}/invoice"
    sold = {"type": "Output", "invoiceNumber": "NF-1", "invoiceValue": "5000", "issuanceDate": "2026-11-26"}
    returned = sold | {"type": "Input", "invoiceNumber": "NF-R1", "invoiceValue": "2000"}
    refused(await api.http.post(url, json=returned, headers=ERP), 409, "nothing-invoiced")
    receipt(await api.http.post(url, json=sold, headers=ERP), order_id)
    too_much = returned | {"invoiceNumber": "NF-R0", "invoiceValue": "6000"}
    refused(await api.http.post(url, json=too_much, headers=ERP), 409, "return-exceeds-invoiced")
    receipt(await api.http.post(url, json=returned, headers=ERP), order_id)
    order = await api.order(order_id)
    assert (order["invoicedValue"], order["value"], order["allowCancellation"]) == (3000, 3000, False)
    refused(await api.cancel(order_id), 400, "partially-invoiced")
    # VTEX's guides write the type in lower case: either is taken, and shown as the schema spells it.
    rest = returned | {"type": "input", "invoiceNumber": "NF-R2", "invoiceValue": "3000"}
    receipt(await api.http.post(url, json=rest, headers=ERP), order_id)
    order = await api.order(order_id)
    assert [p["type"] for p in order["packageAttachment"]["packages"]] == ["Output", "Input", "Input"]
    assert (order["invoicedValue"], order["value"], order["allowCancellation"]) == (0, 12990, True)
    receipt(await api.cancel(order_id, reason="returned in full"), order_id)
    assert (await api.order(order_id))["status"] == "cancellation-requested"


async def test_invoice_body_errors_name_the_field(api: Api) -> None:
    url = f"{PVT}/any-order/invoice"
    good = {"type": "Output", "invoiceNumber": "NF-9", "invoiceValue": 100}
    refused(await api.http.post(url, json=good | {"type": "Return"}, headers=ERP), 422, None, "type")
    refused(
        await api.http.post(url, json=good | {"invoiceValue": "12.50"}, headers=ERP),
        422,
        None,
        "invoiceValue",
    )
    refused(
        await api.http.post(url, json={"type": "Output", "invoiceValue": 1}, headers=ERP),
        422,
        None,
        "invoiceNumber",
    )


async def test_payment_approved_starts_the_window(api: Api) -> None:
    order_id = await place(api.http, payment_approved=False)
    order = await api.order(order_id)
    assert order["status"] == "payment-pending" and order["statusDescription"] == "Payment pending"
    assert order["authorizedDate"] is None and order["gracePeriodEndDate"] is None
    receipt(await api.http.post(f"{PVT}/{order_id}/payment-approved", headers=ERP), order_id)
    order = await api.order(order_id)
    assert order["status"] == "window-to-cancel" and iso(order["gracePeriodEndDate"])
    refused(await api.http.post(f"{PVT}/{order_id}/payment-approved", headers=ERP), 409, "already-approved")


# Listing


LIST_ITEM_FIELDS = frozenset(
    {
        "orderId", "creationDate", "clientName", "items", "totalValue", "paymentNames", "status",
        "statusDescription", "marketPlaceOrderId", "sequence", "salesChannel", "affiliateId", "origin",
        "workflowInErrorState", "workflowInRetry", "lastMessageUnread", "ShippingEstimatedDate",
        "ShippingEstimatedDateMax", "ShippingEstimatedDateMin", "orderIsComplete", "listId", "listType",
        "authorizedDate", "callCenterOperatorName", "totalItems", "currencyCode", "customerId",
    }
)  # fmt: skip


async def test_list_by_status_and_customer_paged(api: Api) -> None:
    customer = f"c-{uuid.uuid4().hex[:8]}"
    profile = {"first_name": "Ana", "last_name": "Lima"}
    placed = [await place(api.http, customer_id=customer, client=profile) for _ in range(3)]
    receipt(await api.cancel(placed[0]), placed[0])
    await api.reaches(placed[0], "canceled")

    async def listed(query: str) -> httpx.Response:
        response = await api.http.get(f"{PVT}?f_customer={customer}&{query}", headers=STORE)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        return response

    canceled = (
        await eventually(lambda: listed("f_status=canceled"), lambda r: len(r.json()["list"]) == 1)
    ).json()
    [item] = canceled["list"]
    assert set(item) == LIST_ITEM_FIELDS
    assert (item["orderId"], item["status"], item["customerId"]) == (placed[0], "canceled", customer)
    assert (item["clientName"], item["totalValue"], item["currencyCode"]) == ("Ana Lima", 12990, "BRL")
    assert (item["totalItems"], item["paymentNames"], item["origin"]) == (2, "credit-card", "Marketplace")
    assert item["items"] is None and item["sequence"] == placed[0] and iso(item["authorizedDate"])
    assert canceled["facets"] == [] and canceled["paging"] == {
        "total": 1, "pages": 1, "currentPage": 1, "perPage": 15
    }  # fmt: skip
    value = canceled["stats"]["stats"]["totalValue"]
    assert (value["Count"], value["Sum"], value["Max"], value["Mean"]) == (1, 12990, 12990, 12990)
    assert set(value["Facets"]["currencyCode"]) == {"BRL"} and set(value["Facets"]["origin"]) == {
        "Marketplace"
    }

    first = await eventually(
        lambda: listed("f_status=window-to-cancel,canceled&per_page=2"),
        lambda r: r.json()["paging"]["total"] == 3,
    )
    assert first.json()["paging"] == {"total": 3, "pages": 2, "currentPage": 1, "perPage": 2}
    assert [o["orderId"] for o in first.json()["list"]] == [placed[2], placed[1]]  # newest first
    token = first.headers["X-Next-Page-Token"]
    by_number = await listed("f_status=window-to-cancel,canceled&per_page=2&page=2")
    by_token = await listed(f"f_status=window-to-cancel,canceled&per_page=2&page_token={token}")
    for last in (by_number, by_token):
        assert [o["orderId"] for o in last.json()["list"]] == [placed[0]]
        assert last.json()["paging"]["currentPage"] == 2 and "X-Next-Page-Token" not in last.headers
    beyond = (await listed("per_page=2&page=3")).json()
    assert beyond["list"] == [] and beyond["paging"]["currentPage"] == 3
    assert beyond["stats"]["stats"]["totalValue"]["Count"] == 0
    refused(await api.http.get(f"{PVT}?f_status=shipped", headers=ERP), 422, None, "f_status")
    refused(await api.http.get(f"{PVT}?per_page=0", headers=ERP), 422, None, "per_page")
    refused(await api.http.get(f"{PVT}?per_page=101", headers=ERP), 422, None, "per_page")
    refused(await api.http.get(f"{PVT}?orderBy=totalValue,asc", headers=ERP), 422, None, "orderBy")
    refused(await api.http.get(f"{PVT}?page_token=forged", headers=ERP), 422, None, "page_token")
    assert (await api.http.get(f"{PVT}?orderBy=creationDate,desc&per_page=1", headers=ERP)).status_code == 200


async def test_requested_by_user_is_the_customers_request_made_on_their_behalf(api: Api) -> None:
    inside = await place(api.http, grace_period_seconds=1800)
    receipt(await api.cancel(inside, reason="asked by phone", requestedByUser=True), inside)
    data = (await api.reaches(inside, "canceled"))["cancellationData"]
    assert data["requestedByUser"] is True and data["requestedBySellerNotification"] is False

    late = await place(api.http, grace_period_seconds=0)
    await api.reaches(late, "ready-for-handling")
    asked = receipt(await api.cancel(late, reason="asked by phone", requestedByUser=True), late)
    order = await api.order(late)
    assert order["status"] == "cancellation-requested"  # the customer's: it waits for the store
    assert order["cancellationData"]["requestedByUser"] is True
    assert order["cancellationData"]["cancellationRequestId"] == asked["receipt"]
    [request] = order["cancellationRequests"]
    assert request["requestedByUser"] is True
    # A second on-behalf request changes nothing; the store's own cancel confirms.
    receipt(await api.cancel(late, requestedByUser=True), late)
    assert (await api.order(late))["status"] == "cancellation-requested"
    receipt(await api.cancel(late, headers=STORE), late)
    data = (await api.reaches(late, "canceled"))["cancellationData"]
    assert data["requestedByUser"] is True and data["cancellationRequestId"] == asked["receipt"]


# Authentication, limits, failures


async def test_app_keys_and_roles(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"{PVT}/any-order"
    refused(await api.http.get(url), 401, "unauthorized", "X-VTEX-API-AppKey")
    wrong = ERP | {"X-VTEX-API-AppToken": "guessed-token-123"}
    refused(await api.http.get(url, headers=wrong), 401, "unauthorized")
    swapped = {"X-VTEX-API-AppKey": "erp-key", "X-VTEX-API-AppToken": STORE["X-VTEX-API-AppToken"]}
    refused(await api.http.get(url, headers=swapped), 401)
    refused(await api.http.get(url, headers=STOREFRONT), 403, "forbidden", "storefront")
    refused(await api.cancel("any-order", headers=STOREFRONT), 403)
    for secret in ("guessed-token-123", *(h["X-VTEX-API-AppToken"] for h in (ERP, STORE, STOREFRONT))):
        assert secret not in caplog.text


async def test_body_over_64_kib_is_413(api: Api) -> None:
    huge = {"orderId": "big", "customerId": "c", "total": 1, "note": "x" * 70_000}
    refused(await api.http.post(PVT, json=huge, headers=ERP), 413, "payload-too-large")

    async def streamed() -> AsyncIterator[bytes]:  # chunked: no Content-Length to trust
        for _ in range(20):
            yield b" " * 4096

    chunked = await api.http.post(PVT, content=streamed(), headers=ERP | {"Content-Type": "application/json"})
    refused(chunked, 413, "payload-too-large")


async def test_no_worker_queues_every_command_after_the_update_timeout(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    timeout = 1.0
    settings = settings_for(
        tmp_path, api_credentials=credentials_file(tmp_path), update_timeout_seconds=timeout
    )
    app = create_app(settings, OrdersClient(dev_env.client, settings))  # nobody polls its task queue
    async with in_process(app) as http:
        order_id = f"o-{uuid.uuid4().hex[:10]}"
        body = {"orderId": order_id, "customerId": "c-1", "total": 990}
        assert (await http.post(PVT, json=body, headers=ERP)).status_code == 201
        assert (await http.post(PVT, json=body, headers=ERP)).status_code == 200  # compared without a worker
        key = {"Idempotency-Key": f"queued-{order_id}"}
        started = time.monotonic()
        queued = receipt(await http.post(f"{PVT}/{order_id}/cancel", headers=ERP | key), order_id, status=202)
        waited = time.monotonic() - started
        assert timeout <= waited < timeout + 1.0, f"answered 202 after {waited:.2f} s"
        assert queued["receipt"] == key["Idempotency-Key"]
        refused(await http.get(f"{PVT}/{order_id}", headers=ERP), 503, "unavailable", "worker")
        handling = await http.post(f"{PVT}/{order_id}/start-handling", headers=ERP)
        assert handling.status_code == 202 and shaped(handling.json(), RECEIPT_FIELDS)
        # Deny reads the request waiting from the order's memo: no worker needed to refuse, or to queue.
        deny = f"{PVT}/{order_id}/deny-cancellation-request"
        denial = {"cancellationRequestId": "r-x", "denyReason": "already shipped"}
        refused(await http.post(deny, json=denial, headers=STORE), 400, "no-pending-request")
        queued_deny = await http.post(deny, json=denial, headers=STORE | {"Idempotency-Key": "deny-1"})
        receipt(queued_deny, order_id, status=202)
        async with running_worker(dev_env.client, settings):
            api = Api(http, cast(OrdersClient, None), settings)
            order = await api.reaches(order_id, "canceled")  # the queued signal, applied
        assert order["cancellationData"]["cancellationRequestId"] == key["Idempotency-Key"]


async def test_temporal_unreachable_is_503(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("TEMPORAL_ADDRESS", "TEMPORAL_PROFILE", "TEMPORAL_CONFIG_FILE"):
        monkeypatch.delenv(variable, raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = settings_for(tmp_path, api_credentials=credentials_file(tmp_path), embedded_port=closed_port)
    async with in_process(create_app(settings)) as http:
        assert (await http.get("/healthz")).status_code == 200
        refused(await http.get("/readyz"), 503, "unavailable", "Temporal")
        response = await http.get(f"{PVT}/o-1", headers=ERP)
        refused(response, 503, "unavailable")
        assert response.headers["Retry-After"] == "5"
        refused(await http.post(f"{PVT}/o-1/cancel", headers=ERP), 503)
        refused(
            await http.post(PVT, json={"orderId": "o-1", "customerId": "c", "total": 1}, headers=ERP), 503
        )
        # Validation and authentication still answer without Temporal.
        refused(await http.post(PVT, json={}, headers=ERP), 422)
        refused(await http.get(f"{PVT}/o-1"), 401)


async def test_unexpected_errors_are_a_500_envelope(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        async def state(self, order_id: str) -> None:
            raise RuntimeError("internal detail that must stay in the log")

    settings = settings_for(tmp_path, api_credentials=credentials_file(tmp_path))
    async with in_process(create_app(settings, cast(OrdersClient, Broken()))) as http:
        response = await http.get(f"{PVT}/o-1", headers=ERP)
    refused(response, 500, "internal-error")
    assert "internal detail" not in response.text
    assert (
        "internal detail that must stay in the log" in caplog.text
    )  # logged server-side, with the traceback


async def test_unconfigured_credentials_refuse_everything(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, api_credentials=None, customer_token_secret=None)
    async with in_process(create_app(settings, cast(OrdersClient, object()))) as http:
        refused(await http.get(f"{PVT}/o-1", headers=ERP), 401, "unauthorized", "ORDERS_API_CREDENTIALS")
        customer = await http.post(
            "/api/checkout/pub/orders/o-1/user-cancel-request", headers=customer_token("c")
        )
        refused(customer, 401, "unauthorized", "ORDERS_CUSTOMER_TOKEN_SECRET")


def test_a_broken_credentials_file_stops_the_start_without_showing_tokens(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps([{"appKey": "k", "appToken": "very-secret-token", "role": "admin"}]))
    with pytest.raises(CredentialsError) as raised:
        create_app(settings_for(tmp_path, api_credentials=path))
    assert "role" in str(raised.value) and "very-secret-token" not in str(raised.value)
    path.write_text("[{")
    with pytest.raises(CredentialsError, match="not JSON"):
        create_app(settings_for(tmp_path, api_credentials=path))
    with pytest.raises(CredentialsError, match="can't read"):
        create_app(settings_for(tmp_path, api_credentials=tmp_path / "missing.json"))
