"""VTEX's List orders, `GET /api/oms/pvt/orders`: orders by status and/or customer, newest first, paged
as VTEX pages them (`page`, `per_page`; `paging.total` and `pages` from Temporal's count), each page
read with Temporal's page tokens. A page's `X-Next-Page-Token` header continues the walk cheaply with
`page_token`: `page=N` walks the N-1 pages before it, so it is bounded by `MAX_PAGE_NUMBER`.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from domain.lifecycle import Status
from domain.text import ID_PATTERN, MAX_ID_LENGTH
from orders.api.errors import ERRORS, ApiError
from orders.api.list_views import OrderList, Paging, VtexJSONResponse, list_item, stats_of
from orders.api.provider import provider_of
from orders.api.security import Staff
from orders.listing import MAX_PAGE

PVT = "/api/oms/pvt/orders"
MAX_PAGE_NUMBER = 100  # pages are walked with page tokens: a far page costs its predecessors
NEXT_PAGE_HEADER = "X-Next-Page-Token"
ORDER_BY = {"creationDate,desc"}  # the one order visibility gives (orders.listing)
TOKEN = re.compile(r"^([1-9][0-9]{0,5})\.([A-Za-z0-9_-]{1,512})$")

router = APIRouter(tags=["orders"])


@router.get(PVT, response_model=OrderList, response_class=VtexJSONResponse, responses=ERRORS)
async def list_orders(
    request: Request,
    response: Response,
    caller: Staff,
    f_status: Annotated[
        list[str] | None,
        Query(description="status, or several separated by commas or in repeated parameters"),
    ] = None,
    f_customer: Annotated[
        str | None, Query(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)
    ] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE_NUMBER)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 15,
    page_token: Annotated[
        str | None, Query(max_length=600, description=f"a page's {NEXT_PAGE_HEADER}: the page after it")
    ] = None,
    orderBy: Annotated[str | None, Query(description="only `creationDate,desc`, the default")] = None,
) -> OrderList:
    """Orders by status and/or customer, newest first, paged as VTEX's list (`f_status=a,b` and
    `f_status=a&f_status=b` ask the same; a status repeated counts once). The next page's token is in
    the `X-Next-Page-Token` header."""
    statuses = parse_statuses(f_status)
    if orderBy is not None and orderBy.replace(" ", "") not in ORDER_BY:
        raise ApiError(422, "invalid-request", f"orderBy (query): only {', '.join(sorted(ORDER_BY))}")
    return await listed(request, response, statuses, f_customer, page, per_page, page_token)


async def listed(
    request: Request,
    response: Response,
    statuses: set[Status],
    customer: str | None,
    page: int,
    per_page: int,
    page_token: str | None,
) -> OrderList:
    """One page of orders as VTEX lists them, for List orders and the customer's own list."""
    orders = await provider_of(request).get()
    token: str | None = None
    if page_token is not None:
        page, token = _parse_token(page_token)
    else:
        for _ in range(page - 1):  # earlier pages: walked, not shown
            token = (await orders.list_page(statuses, customer, per_page, token)).next_page
            if token is None:
                break
    shown = await orders.list_page(statuses, customer, per_page, token) if page == 1 or token else None
    total = await orders.count(statuses, customer)
    items = [list_item(summary) for summary in shown.orders] if shown else []
    if shown and shown.next_page:
        response.headers[NEXT_PAGE_HEADER] = f"{page + 1}.{shown.next_page}"
    return OrderList(
        list=items,
        paging=Paging(total=total, pages=math.ceil(total / per_page), currentPage=page, perPage=per_page),
        stats=stats_of(items),
    )


def _parse_token(raw: str) -> tuple[int, str]:
    match = TOKEN.fullmatch(raw)
    if match is None:
        raise ApiError(422, "invalid-request", "page_token (query): not a page token this service gave out")
    return int(match.group(1)), match.group(2)


def parse_statuses(raw: list[str] | None) -> set[Status]:
    """The statuses asked for, each once (an empty set: all), from every `f_status` given, each of them
    comma-separated: the search then names each status at most once, however often it was asked."""
    statuses: set[Status] = set()
    for value in (part.strip() for given in raw or [] for part in given.split(",")):
        if not value:
            continue
        try:
            statuses.add(Status(value))
        except ValueError:
            known = ", ".join(s.value for s in Status)
            raise ApiError(
                422, "invalid-request", f"f_status (query): unknown status {value!a}; one of {known}"
            ) from None
    return statuses
