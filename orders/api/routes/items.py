"""Line-level cancellation over REST (project extensions beside VTEX's paths, docs/items.md): the store
or the erp cancels items, and a customer asks to. Items are named by VTEX's `id` (the sku) and
`quantity`; VTEX's own order shape then shows what remains in `items[].quantity` and `value`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import AliasChoices, AliasGenerator, ConfigDict

from domain.commands import CancelItems
from domain.lifecycle import Action, Actor
from domain.reasons import ReasonCode
from domain.text import Text
from domain.wire import ItemQuantity
from orders.api.bodies import Body
from orders.api.commands import QUEUED, run_command
from orders.api.errors import ERRORS
from orders.api.receipts import Receipt
from orders.api.routes.customer import own_order
from orders.api.routes.params import IdempotencyKey, OrderId, rest_path
from orders.api.security import Customer, Staff

router = APIRouter(tags=["items"])


def _vtex_name(field: str) -> str | AliasChoices:
    return AliasChoices("id", "sku") if field == "sku" else field


class LineBody(ItemQuantity):
    """A line of `cancel_items` (the domain's `ItemQuantity`), its sku under VTEX's name `id` (or `sku`)."""

    model_config = ConfigDict(extra="ignore", alias_generator=AliasGenerator(validation_alias=_vtex_name))


# The lines `CancelItems` takes (domain/commands.py): its bounds (at least one, MAX_ITEMS at most, one line a
# sku) are declared there, and read here.
if TYPE_CHECKING:
    Lines = list[LineBody]
else:
    Lines = Annotated[list[LineBody], *CancelItems.model_fields["items"].metadata]


class CancelItemsBody(Body):
    """`cancel_items` as VTEX names things: `items` by `id`, `reasonCode`."""

    items: Lines
    reason: Text = ""
    reasonCode: ReasonCode | None = None

    def command(self) -> dict[str, Any]:
        items = [{"sku": line.sku, "quantity": line.quantity} for line in self.items]
        return {"items": items, "reason": self.reason, "reason_code": self.reasonCode}


@router.post(rest_path(Action.CANCEL_ITEMS), response_model=Receipt, responses=ERRORS | QUEUED)
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
