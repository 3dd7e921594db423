"""Sending a command from a route: `run_command` stamps it (the Idempotency-Key is its request id), sends
it as an update for the order's verdict or, when no worker answers in time, as a signal, and its
`Verdict` answers 200 with the receipt, or 202 when queued (documented by `QUEUED`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from domain.lifecycle import Action
from orders.api.errors import NOT_RULES, ApiError
from orders.api.provider import provider_of
from orders.api.receipts import Receipt, command_date
from orders.errors import CommandRejected

# A route's status for a refusal by the order's rules, by the refusal's code (None: the usual 409).
RefusalStatus = Callable[[str], int | None]


def cancel_refusal(code: str) -> int | None:
    """Cancel: VTEX answers 400 to a cancel of a partially invoiced order (its invoice endpoint says so)."""
    return 400 if code == "partially-invoiced" else None


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
    request: Request,
    order_id: str,
    action: Action,
    payload: dict[str, Any],
    idempotency_key: str | None,
    refused: RefusalStatus | None = None,
) -> Verdict:
    """Send a command as an update (verdict) or, when no worker answers in time, as a signal (202).
    The Idempotency-Key is its request id, scoped by the payload's actor and sender. `refused` gives
    the route's status for a refusal by the order's rules where VTEX documents one."""
    orders = await provider_of(request).get()
    try:
        result = await orders.send(order_id, action, {**payload, "request_id": idempotency_key})
    except CommandRejected as err:
        status = refused(err.code) if refused and err.code not in NOT_RULES else None
        if status is None:
            raise
        raise ApiError(status, err.code, err.reason) from None
    date = command_date(result.state, result.request_id)
    return Verdict(Receipt(date=date, orderId=order_id, receipt=result.request_id), result.queued)
