"""Line-level cancellation over REST (project extensions beside VTEX's paths, docs/items.md): the store
or the erp cancels items, and a customer asks to. Items are named by VTEX's `id` (the sku) and
`quantity`; VTEX's own order shape then shows what remains in `items[].quantity` and `value`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import AfterValidator, AliasChoices, Field

from domain.lifecycle import Action, Actor
from domain.reasons import ReasonCode
from domain.text import Name, Text
from domain.wire import MAX_ITEMS, Quantity, one_line_per_sku
from orders.api.bodies import Body
from orders.api.commands import QUEUED, run_command
from orders.api.errors import ERRORS
from orders.api.receipts import Receipt
from orders.api.routes.customer import own_order
from orders.api.routes.params import IdempotencyKey, OrderId
from orders.api.routes.staff import PVT
from orders.api.security import Customer, Staff

router = APIRouter(tags=["items"])


class LineBody(Body):
    sku: Name = Field(
        validation_alias=AliasChoices("id", "sku"), description="the line's sku (VTEX's item id)"
    )
    quantity: Quantity


class CancelItemsBody(Body):
    items: Annotated[
        list[LineBody], Field(min_length=1, max_length=MAX_ITEMS), AfterValidator(one_line_per_sku)
    ]
    reason: Text = ""
    reasonCode: ReasonCode | None = None

    def command(self) -> dict[str, Any]:
        items = [{"sku": line.sku, "quantity": line.quantity} for line in self.items]
        return {"items": items, "reason": self.reason, "reason_code": self.reasonCode}


@router.post(f"{PVT}/{{orderId}}/cancel-items", response_model=Receipt, responses=ERRORS | QUEUED)
async def cancel_items(
    request: Request,
    response: Response,
    caller: Staff,
    order_id: OrderId,
    body: CancelItemsBody,
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    """Cancel quantities of the order's lines: at once (before handling, or by the store after the
    window); the last items cancel the order. Their value is voided or refunded, their stock released."""
    payload = caller.command(**body.command())
    verdict = await run_command(request, order_id, Action.CANCEL_ITEMS, payload, idempotency_key)
    return verdict.answer(response)


@router.post(
    "/api/checkout/pub/orders/{orderId}/user-cancel-items-request",
    response_model=Receipt,
    responses=ERRORS | QUEUED,
)
async def user_cancel_items_request(
    request: Request,
    response: Response,
    customer_id: Customer,
    order_id: OrderId,
    body: CancelItemsBody,
    idempotency_key: IdempotencyKey = None,
) -> Receipt:
    """The customer asks to cancel some items of their order: at once inside the cancellation window,
    otherwise a request the store confirms or declines. Another customer's order is 404."""
    await own_order(request, order_id, customer_id)
    payload = {"actor": Actor.CUSTOMER, "sender": customer_id, **body.command()}
    verdict = await run_command(request, order_id, Action.CANCEL_ITEMS, payload, idempotency_key)
    return verdict.answer(response)
