"""What the console reads of an order without a worker: its search attributes and memo (docs/console.md,
"Pages"), from one `describe` call to Temporal. The order page falls back to it when no worker answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from domain.lifecycle import Status
from domain.text import ORDER_ID
from domain.visibility import CUSTOMER_ID, MEMO_KEY, ORDER_STATUS, OrderMemo, PendingSummary
from orders.client import OrdersClient
from orders.errors import unavailable
from workflows.names import workflow_id
from workflows.search_attributes import by_name


@dataclass(frozen=True)
class Visible:
    order_id: str
    status: Status
    customer_id: str
    value: int | None  # Get order's `value`: less canceled items, the invoiced value once partially
    currency: str
    placed_at: datetime | None
    running: bool
    pending: PendingSummary | None


async def visible(orders: OrdersClient, order_id: str) -> Visible | None:
    """The order as visibility shows it; None if there is no such order."""
    if not ORDER_ID.fullmatch(order_id):
        return None
    try:
        description = await orders.temporal.get_workflow_handle(workflow_id(order_id)).describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return None
        raise unavailable(err) from None
    attributes = by_name(description.typed_search_attributes)
    raw = (await description.memo()).get(MEMO_KEY)
    memo = OrderMemo.model_validate(raw) if isinstance(raw, dict) else None
    return Visible(
        order_id=order_id,
        status=Status(attributes.get(ORDER_STATUS, Status.PAYMENT_PENDING.value)),
        customer_id=attributes.get(CUSTOMER_ID, ""),
        value=memo.value if memo else None,
        currency=memo.currency if memo else "",
        placed_at=description.start_time,
        running=description.status is WorkflowExecutionStatus.RUNNING,
        pending=memo.pending if memo else None,
    )
