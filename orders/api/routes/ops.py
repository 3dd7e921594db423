"""Operations' routes: `/healthz` (the process is up) and `/readyz` (Temporal answers)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request

from orders.api.errors import ERRORS
from orders.api.provider import provider_of
from orders.errors import TemporalUnavailable

READY_TIMEOUT_SECONDS = 3.0

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: ERRORS[503]})
async def readyz(request: Request) -> dict[str, str]:
    """Temporal is reachable (and the order search attributes exist)."""
    orders = await provider_of(request).get()
    try:
        await asyncio.wait_for(orders.list_orders(limit=1), READY_TIMEOUT_SECONDS)
    except TimeoutError:
        raise TemporalUnavailable(f"Temporal did not answer within {READY_TIMEOUT_SECONDS:g} s") from None
    return {"status": "ready"}
