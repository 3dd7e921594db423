"""Sending a command from a route: `run_command` stamps it (the Idempotency-Key is its request id), sends
it as an update for the order's verdict or, when no worker answers in time, as a signal, and its
`Verdict` answers 200 with the receipt, or 202 when queued (documented by `QUEUED`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from domain.lifecycle import Action
from orders.api.provider import provider_of
from orders.api.views import Receipt, command_date

QUEUED: dict[int | str, dict[str, Any]] = {
    202: {"model": Receipt, "description": "no worker answered in time: queued, the receipt identifies it"}
}


@dataclass(frozen=True)
class Verdict:
    receipt: Receipt
    queued: bool  # no worker answered in time: sent as a signal, to be applied when one does

    def answer(self, response: Response) -> Receipt:
        if self.queued:
            response.status_code = 202
        return self.receipt


async def run_command(
    request: Request, order_id: str, action: Action, payload: dict[str, Any], idempotency_key: str | None
) -> Verdict:
    """Send a command as an update (verdict) or, when no worker answers in time, as a signal (202).
    The Idempotency-Key is its request id, scoped by the payload's actor and sender."""
    orders = await provider_of(request).get()
    result = await orders.send(order_id, action, {**payload, "request_id": idempotency_key})
    date = command_date(result.state, result.request_id)
    return Verdict(Receipt(date=date, orderId=order_id, receipt=result.request_id), result.queued)
