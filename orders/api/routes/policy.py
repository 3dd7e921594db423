"""The decision policy's routes (project extensions beside VTEX's paths, docs/policy.md): a payment gateway's
refusal, and moving a cancellation window or a decision deadline later. Each acts as the store or the
erp the caller's app key is for.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from domain.lifecycle import Action
from domain.text import Text
from domain.wire import PositiveSeconds, UtcTime
from orders.api.bodies import Body
from orders.api.commands import QUEUED, run_command
from orders.api.errors import ERRORS
from orders.api.receipts import Receipt
from orders.api.routes.params import IdempotencyKey, OrderId, rest_path
from orders.api.security import Caller, Staff

router = APIRouter(tags=["decision policy"])


class PaymentDeniedBody(Body):
    reason: Text = ""


class ExtendBody(Body):
    """Exactly one of `until` (the new deadline) or `seconds` (added to the current one): the command's
    own model (`ExtendDeadline`) checks that, and a body with both or neither is refused with 422."""

    until: UtcTime | None = None
    seconds: PositiveSeconds | None = None
    reason: Annotated[Text, Field(description="why, shown in the order's timeline")] = ""

    def command(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


@router.post(rest_path(Action.DENY_PAYMENT), response_model=Receipt, responses=ERRORS | QUEUED)
async def payment_denied(
    request: Request,
    response: Response,
    caller: Staff,
    order_id: OrderId,
    body: PaymentDeniedBody | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    """The payment gateway refused the payment of a payment-pending order: it is canceled at once,
    with nothing to void (the erp's key relays the notification; a paid order answers 409)."""
    payload = caller.command(reason=body.reason if body else "")
    verdict = await run_command(request, order_id, Action.DENY_PAYMENT, payload, idempotency_key)
    return verdict.answer(response)


@router.post(rest_path(Action.EXTEND_GRACE_PERIOD), response_model=Receipt, responses=ERRORS | QUEUED)
async def extend_grace_period(
    request: Request,
    response: Response,
    caller: Staff,
    order_id: OrderId,
    body: ExtendBody,
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    """Move the cancellation window's end later (only while it is open; at most a year ahead)."""
    return await _extend(
        request, response, caller, order_id, body, idempotency_key, Action.EXTEND_GRACE_PERIOD
    )


@router.post(rest_path(Action.EXTEND_DECISION_DEADLINE), response_model=Receipt, responses=ERRORS | QUEUED)
async def extend_decision_deadline(
    request: Request,
    response: Response,
    caller: Staff,
    order_id: OrderId,
    body: ExtendBody,
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    """Give the store longer to decide the pending cancellation request; its reminders follow."""
    action = Action.EXTEND_DECISION_DEADLINE
    return await _extend(request, response, caller, order_id, body, idempotency_key, action)


async def _extend(
    request: Request,
    response: Response,
    caller: Caller,
    order_id: str,
    body: ExtendBody,
    idempotency_key: str | None,
    action: Action,
) -> Receipt:
    verdict = await run_command(request, order_id, action, caller.command(**body.command()), idempotency_key)
    return verdict.answer(response)
