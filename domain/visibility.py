"""What Temporal's visibility shows of an order, so lists, the console's queue and the report read many
orders without asking each one (docs/api.md, "List orders"; docs/console.md, "Pages").

- Search attributes (filters): `OrderStatus`, `CustomerId`, `ReasonCode` (of the pending request or the
  cancellation), `CancelPath` and `CanceledBy` (once canceling). From 1.1, what the report counts
  (orders/report.py): `ItemsCanceled`, `RequestsDenied`, `Decisions` and `DecisionSeconds`.
- Memo `order`: the amounts, the pending request as the queue shows it, and each decision's times.

The workflow keeps both current, writing only what changed, and only when it changed: an order canceled
in its window changes its memo not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, Field

from domain.lifecycle import Actor, CancelPath
from domain.models import OrderInput
from domain.state import OrderState
from domain.wire import Channel, ItemQuantity, WireModel

MEMO_KEY = "order"
DECIDED_PATHS = {CancelPath.AFTER_CONFIRMATION, CancelPath.DECISION_TIMEOUT}

# Search attribute names (workflows/search_attributes.py declares their types).
ORDER_STATUS = "OrderStatus"
CUSTOMER_ID = "CustomerId"
REASON_CODE = "ReasonCode"
CANCEL_PATH = "CancelPath"
CANCELED_BY = "CanceledBy"
# What the report counts (1.1 on), beside the order's memo: items canceled while the order went on (Bool),
# requests denied (Int), decisions (Int), how long the first decision took, in seconds (Double), the
# modifications applied (Int), and the surface a cancellation was asked for from (Keyword: `my-orders`).
ITEMS_CANCELED = "ItemsCanceled"
REQUESTS_DENIED = "RequestsDenied"
DECISIONS = "Decisions"
DECISION_SECONDS = "DecisionSeconds"
MODIFICATIONS = "Modifications"
CANCELED_VIA = "CanceledVia"
ReportValue = bool | int | float | str


def _zero(value: int) -> bool:
    return value == 0


class PendingSummary(WireModel):
    request_id: str
    actor: str
    sender: str | None = None
    channel: Channel | None = None
    reason: str = ""
    reason_code: str
    reason_label: str = ""
    requested_at: datetime
    decision_deadline: datetime
    items: list[ItemQuantity] = []  # an item request's lines; empty: the whole order


class Decision(WireModel):
    requested_at: datetime
    decided_at: datetime
    outcome: Literal["canceled", "denied", "timed-out"]
    actor: str  # who asked
    reason_code: str  # a denial's own code; else the request's


class OrderMemo(WireModel):
    # `OrderState.value`: canceled items and a partial invoice show. Memos written before 1.0 said `total`.
    value: int = Field(validation_alias=AliasChoices("value", "total"))
    items: int = 0  # units still ordered
    currency: str
    pending: PendingSummary | None = None
    decisions: list[Decision] = []
    denied: int = 0
    items_canceled: int = 0  # item cancellations applied while the order went on
    canceled_via: Channel | None = None  # the surface the cancellation's request came from, if one said
    # Modifications applied, and the value they added and took off (docs/modifications.md). Left out
    # while zero, so an order that was never modified writes the memo it wrote before they existed.
    modified: int = Field(0, exclude_if=_zero)
    value_added: int = Field(0, exclude_if=_zero)
    value_removed: int = Field(0, exclude_if=_zero)


def memo_at_placement(order: OrderInput) -> OrderMemo:
    """`memo_of` a freshly placed order, read from its input: what its client writes at the start."""
    return OrderMemo(
        value=order.total, items=sum(item.quantity for item in order.items), currency=order.currency
    )


def report_attributes_at_placement() -> dict[str, ReportValue]:
    """`report_attributes_of` a freshly placed order: what its client writes at the start."""
    return {ITEMS_CANCELED: False, REQUESTS_DENIED: 0, DECISIONS: 0, MODIFICATIONS: 0}


def report_attributes_of(state: OrderState) -> dict[str, ReportValue]:
    """What the report counts of one order. They change only when its status does, except the first
    item cancellation inside the window and each modification (docs/performance.md, "Flat reads")."""
    decisions = decisions_of(state)
    found: dict[str, ReportValue] = {
        ITEMS_CANCELED: bool(state.item_cancellations),
        REQUESTS_DENIED: sum(request.denied for request in state.cancellation_requests),
        DECISIONS: len(decisions),
        MODIFICATIONS: len(state.applied_modifications()),
    }
    if state.cancellation is not None and state.cancellation.channel is not None:
        found[CANCELED_VIA] = state.cancellation.channel.value
    if decisions:
        first = min(decisions, key=lambda decision: decision.decided_at)
        found[DECISION_SECONDS] = (first.decided_at - first.requested_at).total_seconds()
    return found


def search_attributes_of(state: OrderState) -> dict[str, str]:
    found = {ORDER_STATUS: state.status.value, CUSTOMER_ID: state.customer_id}
    pending, cancellation = state.pending_request, state.cancellation
    if cancellation is not None:
        found |= {
            REASON_CODE: cancellation.reason_code,
            CANCEL_PATH: cancellation.path.value,
            CANCELED_BY: cancellation.requested_by.value,
        }
    elif pending is not None:
        found[REASON_CODE] = pending.reason_code
    return found


def memo_of(state: OrderState) -> OrderMemo:
    pending = state.pending_request
    summary = None
    if pending is not None:
        summary = PendingSummary(
            request_id=pending.id,
            actor=pending.actor.value,
            sender=pending.sender,
            channel=pending.channel,
            reason=pending.reason,
            reason_code=pending.reason_code,
            reason_label=pending.reason_label,
            requested_at=pending.requested_at,
            decision_deadline=state.deadline_of(pending),
            items=pending.items,
        )
    return OrderMemo(
        value=state.value,
        items=state.remaining_quantity,
        currency=state.currency,
        pending=summary,
        decisions=decisions_of(state),
        denied=sum(request.denied for request in state.cancellation_requests),
        items_canceled=len(state.item_cancellations),
        canceled_via=state.cancellation.channel if state.cancellation else None,
        modified=len(applied := state.applied_modifications()),
        value_added=sum(m.difference for m in applied if m.difference > 0),
        value_removed=sum(-m.difference for m in applied if m.difference < 0),
    )


def decisions_of(state: OrderState) -> list[Decision]:
    """Every request the store decided (or let time out), with when it was asked and decided."""
    decided = [
        Decision(
            requested_at=r.requested_at,
            decided_at=r.denied_at,
            outcome="denied",
            actor=r.actor.value,
            reason_code=r.deny_reason_code or r.reason_code,
        )
        for r in state.cancellation_requests
        if r.denied and r.denied_at is not None
    ]
    decided += [  # item requests the store confirmed, or let time out
        Decision(
            requested_at=r.requested_at,
            decided_at=r.applied_at,
            outcome="timed-out" if r.applied_by is Actor.SYSTEM else "canceled",
            actor=r.actor.value,
            reason_code=r.reason_code,
        )
        for r in state.cancellation_requests
        # Decided by someone else than who asked: the store, or its timer (at once is no decision).
        if r.items and r.applied_at is not None and r.applied_by not in (None, r.actor)
    ]
    cancellation = state.cancellation
    if cancellation is not None and cancellation.decided_at and cancellation.path in DECIDED_PATHS:
        outcome: Literal["canceled", "timed-out"] = (
            "timed-out" if cancellation.path is CancelPath.DECISION_TIMEOUT else "canceled"
        )
        asked = next((r for r in state.cancellation_requests if r.id == cancellation.request_id), None)
        decided.append(
            Decision(
                requested_at=asked.requested_at if asked else cancellation.requested_at,
                decided_at=cancellation.decided_at,
                outcome=outcome,
                actor=(asked.actor if asked else cancellation.requested_by).value,
                reason_code=cancellation.reason_code,
            )
        )
    return decided
