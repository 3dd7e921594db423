"""VTEX's Orders API schema (tests/vtex/vtex-orders-api.json, see its SOURCE.md) as a response checker.

`VtexSchema.check` validates an HTTP answer of this API against the response schema of the same VTEX
operation with `openapi-core` (OpenAPI 3.0: `nullable`, `$ref`s). The schema file is read as VTEX
publishes it; where the tests read it other than to the letter, an allowance below patches it in memory,
and each allowance is a decision written down in docs/api.md ("Where VTEX's documents disagree"):

- A1 `cancellation_data_camel_case`: Get order's `cancellationData` is checked against the guide's
  camelCase `CancellationDataUpdated` (with `cancellationRequestId`), not the PascalCase inline object;
  `cancellationRequests`, which the guide puts in Get order, against `CancellationRequestsUpdated`.
- A2 `statuses_vtex_lists_elsewhere`: a status an operation doesn't list is checked against what VTEX
  documents for it elsewhere: errors against the `{"error": {"code", "message"}}` body of Start
  handling's 409, a queued command (202) against the operation's receipt (Cancel's 200 body).
- A3 `stats_facets_keyed_by_value`: List orders' stats facets are maps keyed by the currencies and
  origins present (the schema hard-codes `BRL`, `Fulfillment` and `Marketplace` as required keys), and
  a facet's `Mean`/`StdDev` are numbers (`Fulfillment1` types them as integers).
- A5 `user_order_as_get_order`: Get user order's `authorizedDate` is null while the payment is pending
  and `cancellationData` null until the order is canceled (as VTEX answers; its schema types neither as
  nullable), and `packageAttachment` holds Get order's package objects (the schema says strings, its
  own example has none); List user orders' stats are Get order's (A3: a mean is a number).
- A4 `operations_only_the_guides_document`: deny-cancellation-request (both paths VTEX's guide has used),
  the shopper's user-cancel-request and payment-approved answer the Cancel receipt; placing an order,
  which is ours (VTEX places orders through Checkout), answers `{orderId, created, date}`, and a
  customer link (ours too) `{url, expiresAt}`.
- A6 `modifications_as_their_history_types_them`: the Order modifications answers disagree with each other,
  and are read as the history (and every example) has them: `add` and `remove` are objects
  (`{"items": [...]}`, as requests send them), not arrays of strings; `totals` are `{id, name, value}`
  objects in the 202 too; a replaced item's `price` is an integer of cents in the history too (`Item4`
  says string); a withdrawal queued (202) answers the change, as the 202 of Create does.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest, MockResponse

from tests.kit.api import PVT
from tests.kit.paths import ROOT

SCHEMA = ROOT / "tests" / "vtex" / "vtex-orders-api.json"
HOST = "https://apiexamples.vtexcommercestable.com.br"
ORDER = f"{PVT}/{{orderId}}"
RECEIPT = f"#/paths/{ORDER.replace('/', '~1')}~1cancel/post/responses/200/content/application~1json/schema"
ERROR = (
    f"#/paths/{ORDER.replace('/', '~1')}~1start-handling/post/responses/409/content/application~1json/schema"
)
COMMANDS = {
    f"{ORDER}/cancel": "post",
    f"{ORDER}/start-handling": "post",
    f"{ORDER}/invoice": "post",
    f"{ORDER}/deny-cancellation-request": "post",
    "/api/orders/pvt/document/{orderId}/deny-cancellation-request": "post",
    f"{ORDER}/payment-approved": "post",
    "/api/checkout/pub/orders/{orderId}/user-cancel-request": "post",
}
CHANGES = "/api/order-system/orders/{changeOrderId}/changes"
ERROR_STATUSES = ("400", "401", "403", "404", "405", "409", "413", "422", "500", "503")
PLACED = {
    "type": "object",
    "required": ["orderId", "created", "date"],
    "additionalProperties": False,
    "properties": {"orderId": {"type": "string"}, "created": {"type": "boolean"}, "date": {"type": "string"}},
}


def _resolve(spec: dict[str, Any], pointer: str) -> Any:
    node: Any = spec
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _json(schema: dict[str, Any] | str) -> dict[str, Any]:
    body = {"$ref": schema} if isinstance(schema, str) else schema
    return {"application/json": {"schema": body}}


def cancellation_data_camel_case(spec: dict[str, Any]) -> None:
    get = _resolve(
        spec, f"#/paths/{ORDER.replace('/', '~1')}/get/responses/200/content/application~1json/schema"
    )
    get["properties"]["cancellationData"] = {"$ref": "#/components/schemas/CancellationDataUpdated"}
    get["properties"]["cancellationRequests"] = {"$ref": "#/components/schemas/CancellationRequestsUpdated"}


def statuses_vtex_lists_elsewhere(spec: dict[str, Any]) -> None:
    for path, methods in spec["paths"].items():
        if not path.startswith(
            ("/api/oms/pvt/orders", "/api/orders/pvt", "/api/checkout/pub", USER, "/api/order-system")
        ):
            continue
        for method, operation in methods.items():
            responses = operation.get("responses", {})
            for status in ERROR_STATUSES:
                if "content" not in responses.get(status, {}):
                    responses[status] = {"description": "error", "content": _json(ERROR)}
            if (path, method) in COMMANDS.items():
                responses.setdefault("202", {"description": "queued", "content": _json(RECEIPT)})


def stats_facets_keyed_by_value(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name, bucket in (
        ("CurrencyCode", "BRL"),
        ("CurrencyCode1", "BRL1"),
        ("Origin", "Marketplace1"),
        ("Origin1", "Marketplace2"),
    ):
        schemas[name] = {"type": "object", "additionalProperties": {"$ref": f"#/components/schemas/{bucket}"}}
    for field in ("Mean", "StdDev"):
        schemas["Fulfillment1"]["properties"][field] = {"type": "number"}
        schemas["Marketplace2"]["properties"][field] = {"type": "number"}


def operations_only_the_guides_document(spec: dict[str, Any]) -> None:
    receipt = {"200": {"description": "receipt", "content": _json(RECEIPT)}}
    for path in COMMANDS:
        spec["paths"].setdefault(path, {"post": {"responses": copy.deepcopy(receipt)}})
    link = {"url": {"type": "string"}, "expiresAt": {"type": "string"}}
    spec["paths"][f"{ORDER}/customer-link"] = {"post": {"responses": {"200": {"description": "a guest link",
        "content": _json({"type": "object", "required": list(link), "additionalProperties": False,
                          "properties": link})}}}}  # fmt: skip
    spec["paths"][PVT]["post"] = {
        "responses": {
            "200": {"description": "already placed", "content": _json(PLACED)},
            "201": {"description": "placed", "content": _json(PLACED)},
        }
    }


USER = "/api/oms/user/orders"


def user_order_as_get_order(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    details = schemas["Userorderdetails"]["properties"]
    details["authorizedDate"] = {"type": "string", "nullable": True}
    details["cancellationData"] = details["cancellationData"] | {"nullable": True}
    get = _resolve(
        spec, f"#/paths/{ORDER.replace('/', '~1')}/get/responses/200/content/application~1json/schema"
    )
    details["packageAttachment"] = get["properties"]["packageAttachment"]
    for bucket in ("TotalValue1", "TotalItems1"):
        for field in ("Mean", "StdDev"):
            schemas[bucket]["properties"][field] = {"type": "number"}


def modifications_as_their_history_types_them(spec: dict[str, Any]) -> None:
    def answer(path: str, method: str, status: str) -> dict[str, Any]:
        pointer = (
            f"#/paths/{path.replace('/', '~1')}/{method}/responses/{status}/content/application~1json/schema"
        )
        found: dict[str, Any] = _resolve(spec, pointer)
        return _resolve(spec, found["$ref"]) if "$ref" in found else found

    history = answer(CHANGES, "get", "200")["properties"]["requests"]["items"]["properties"]
    for schema in (
        answer(CHANGES, "patch", "202"),
        answer(f"{CHANGES}/{{changeRequestId}}", "get", "200"),
        answer(f"{CHANGES}/preview", "post", "200"),
    ):
        for field in ("add", "remove", "totals"):
            schema["properties"][field] = copy.deepcopy(history[field])
    spec["components"]["schemas"]["Item4"]["properties"]["price"] = {"type": "integer", "nullable": True}
    cancel = spec["paths"][f"{CHANGES}/{{changeRequestId}}/cancel"]["post"]["responses"]
    cancel["202"] = {"description": "queued", "content": _json("#/components/schemas/response202")}


ALLOWANCES: tuple[Callable[[dict[str, Any]], None], ...] = (
    cancellation_data_camel_case,
    operations_only_the_guides_document,  # before A2, which gives these their error statuses
    modifications_as_their_history_types_them,
    statuses_vtex_lists_elsewhere,
    stats_facets_keyed_by_value,
    user_order_as_get_order,
)


@cache
def _openapi() -> OpenAPI:
    spec = json.loads(SCHEMA.read_text())
    for allowance in ALLOWANCES:
        allowance(spec)
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


class SchemaMismatch(AssertionError):
    pass


class VtexSchema:
    """Checks answers against VTEX's schema; `seen` counts (method, path, status) checked."""

    def __init__(self) -> None:
        self.openapi = _openapi()
        self.seen: Counter[tuple[str, str, int]] = Counter()

    def covers(self, path: str) -> bool:
        return path.startswith(
            (
                "/api/oms/pvt/orders",
                "/api/orders/pvt/document/",
                "/api/checkout/pub/",
                USER,
                "/api/order-system/",
            )
        )

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes) -> None:
        request = MockRequest(HOST, method.lower(), path)
        response = MockResponse(body, status_code=status, content_type=content_type or "application/json")
        if status == 204:
            response = MockResponse(b"", status_code=204, content_type="")
        try:
            self.openapi.validate_response(request, response)
        except (PathNotFound, OperationNotFound):
            if status in (404, 405):
                return  # an unknown route or method: not one of VTEX's operations
            raise SchemaMismatch(f"{method} {path} is not an operation VTEX's schema (or A4) has") from None
        except Exception as err:
            causes = getattr(err, "schema_errors", None) or getattr(err, "__cause__", None) or ""
            raise SchemaMismatch(
                f"{method} {path} -> {status} does not match VTEX's schema: {err} {causes}\n{body[:2000]!r}"
            ) from None
        self.seen[(method.upper(), _pattern(path), status)] += 1

    async def hook(self, response: httpx.Response) -> None:
        """An httpx response hook: every answer of a VTEX path is checked as it arrives."""
        path = urlsplit(str(response.request.url)).path
        if not self.covers(path):
            return
        await response.aread()
        content_type = response.headers.get("content-type", "")
        self.check(response.request.method, path, response.status_code, content_type, response.content)


def _pattern(path: str) -> str:
    """The path with its order id as `{orderId}` (and a change's id as `{changeRequestId}`): the
    operation it belongs to."""
    parts = path.split("/")
    if path.startswith("/api/order-system/orders/"):
        parts[4] = "{orderId}"
        if len(parts) > 6 and parts[6] != "preview":
            parts[6] = "{changeRequestId}"
        return "/".join(parts)
    if (
        path.startswith((PVT + "/", "/api/orders/pvt/document/", "/api/checkout/pub/orders/", USER + "/"))
        and len(parts) > 5
    ):
        parts[5] = "{orderId}"
    return "/".join(parts)
