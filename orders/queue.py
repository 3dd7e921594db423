"""The store's queue: every order waiting for a decision on a cancellation request, soonest deadline
first, read from Temporal's visibility (the `CustomerId`/`ReasonCode` search attributes and the memo's
pending request), so it needs no worker and no query per order (docs/console.md, "Pages")."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.client import Client, WorkflowExecution
from temporalio.service import RPCError

from domain.lifecycle import Status
from domain.visibility import CUSTOMER_ID, MEMO_KEY, ORDER_STATUS, REASON_CODE, OrderMemo, PendingSummary
from domain.wire import ItemQuantity
from orders.errors import unavailable
from orders.placement import PlacementMemo
from orders.reads import quoted
from workflows.names import WORKFLOW_TYPE, order_id_of
from workflows.search_attributes import by_name

PAGE = 1000
MAX_QUEUE = 10_000
URGENT = timedelta(hours=24)  # a request this close to its deadline is marked (docs/policy.md, "Reminders")


@dataclass(frozen=True)
class PendingRequest:
    order_id: str
    customer_id: str
    value: int  # Get order's `value`: less canceled items
    currency: str
    request: PendingSummary
    # An item request's items at their prices (None: the order's placement kept no prices; not capped).
    items_value: int | None = None

    def time_left(self, now: datetime | None = None) -> timedelta:
        return self.request.decision_deadline - (now or datetime.now(UTC))

    def urgent(self, now: datetime | None = None) -> bool:
        return self.time_left(now) < URGENT


def queue_query(customer_id: str | None = None, reason_code: str | None = None) -> str:
    clauses = [
        f'WorkflowType = "{WORKFLOW_TYPE}"',
        'ExecutionStatus = "Running"',
        f'{ORDER_STATUS} = "{Status.CANCELLATION_REQUESTED.value}"',
    ]
    if customer_id:
        clauses.append(f'{CUSTOMER_ID} = "{quoted(customer_id)}"')
    if reason_code:
        clauses.append(f'{REASON_CODE} = "{quoted(reason_code)}"')
    return " AND ".join(clauses)


async def pending_requests(
    client: Client, customer_id: str | None = None, reason_code: str | None = None, limit: int = MAX_QUEUE
) -> list[PendingRequest]:
    """The queue, soonest decision deadline first: the `limit` soonest of all pending requests (visibility
    lists them by placement, so every one is read). Visibility can lag the order by a moment: an order
    whose memo has no pending request yet is left out until it has one."""
    soonest: list[tuple[float, str, PendingRequest]] = []  # a heap of the latest deadlines kept
    try:
        async for execution in client.list_workflows(queue_query(customer_id, reason_code), page_size=PAGE):
            row = await _row(execution)
            if row is None:
                continue
            # Negated, so the heap's top is the latest deadline kept: the one a sooner row displaces.
            entry = (-row.request.decision_deadline.timestamp(), row.order_id, row)
            if len(soonest) < limit:
                heapq.heappush(soonest, entry)
            elif entry > soonest[0]:
                heapq.heapreplace(soonest, entry)
    except RPCError as err:
        raise unavailable(err) from None
    return sorted((row for *_, row in soonest), key=lambda row: (row.request.decision_deadline, row.order_id))


async def _row(execution: WorkflowExecution) -> PendingRequest | None:
    memos = await execution.memo()
    raw = memos.get(MEMO_KEY)
    if not isinstance(raw, dict):
        return None
    memo = OrderMemo.model_validate(raw)
    if memo.pending is None:
        return None
    attributes = by_name(execution.typed_search_attributes)
    placement = PlacementMemo.from_memo(memos)
    return PendingRequest(
        order_id=order_id_of(execution.id),
        customer_id=attributes.get(CUSTOMER_ID, ""),
        value=memo.value,
        currency=memo.currency,
        request=memo.pending,
        items_value=priced(memo.pending.items, placement.prices if placement else {}),
    )


def priced(items: list[ItemQuantity], prices: dict[str, int]) -> int | None:
    """The items at their unit prices; None when there are none, or a price is unknown."""
    if not items or any(item.sku not in prices for item in items):
        return None
    return sum(prices[item.sku] * item.quantity for item in items)
