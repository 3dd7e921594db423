"""The events an order's changes send (docs/events.md): what a cancellation undoes, what canceled items
undo, the customer and the store told, each status change. Pure: no Temporal, no I/O, no clock.

Each builder reads the state and takes the next number of the order's own sequence (`next_number`) for an
effect that may recur, so call them in the order the events go out: their ids depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.commands import Command
from domain.events import EventType, OrderEvent
from domain.lifecycle import Status, payment_undo, stock_undo
from domain.state import CancellationRequest, Modification, OrderState
from domain.wire import Item


@dataclass(frozen=True)
class Compensation:
    """What entering `cancel` undoes: payment and stock first (together), then the customer is told."""

    payment: OrderEvent | None  # None: no payment to undo (it never came, or nothing of it is left)
    stock: OrderEvent
    customer: OrderEvent

    def waves(self) -> list[list[OrderEvent]]:
        first = [event for event in (self.payment, self.stock) if event is not None]
        return [first, [self.customer]]


def compensation(state: OrderState, now: datetime) -> Compensation:
    """The cancellation's effects: each happens once in the order's life, so their ids carry no number."""
    order_id, amount = state.order_id, {"amount": state.remaining_total, "currency": state.currency}
    cancellation = state.cancellation
    assert cancellation is not None, "an order enters cancel with its cancellation recorded"
    payment = payment_undo(
        approved=state.payment_approved, captured=state.payment.captured, path=cancellation.path
    )
    stock = stock_undo(handling_started=state.handling_started)
    # What remains after any item cancellations: those were undone when they happened.
    items = [
        {"sku": line.sku, "quantity": line.remaining, "price": line.price}
        for line in state.lines
        if line.remaining > 0
    ]
    notice = {
        "customer_id": state.customer_id,
        "message": "order-canceled",
        "reason": cancellation.reason,
        "reason_code": cancellation.reason_code,
        **amount,
    }
    refund = {**amount, "method": state.payment.method}
    # Nothing left to refund or void (item cancellations took it all): no payment event, as for items.
    owed = payment if state.remaining_total > 0 else None
    return Compensation(
        payment=OrderEvent.once(owed, order_id, now, refund) if owed else None,
        stock=OrderEvent.once(stock, order_id, now, {"items": items}),
        customer=OrderEvent.once(EventType.CUSTOMER_NOTIFY, order_id, now, notice),
    )


def next_number(state: OrderState) -> int:
    state.event_sequence += 1
    return state.event_sequence


def items_canceled(
    state: OrderState, request: CancellationRequest, amount: int, now: datetime
) -> list[OrderEvent]:
    """The request's items undone while the order goes on: `amount` voided or refunded (none when no
    payment came), their stock released or restocked, then the customer told."""
    prices = {item.sku: item.price for item in state.items}
    lines = [{"sku": i.sku, "quantity": i.quantity, "price": prices[i.sku]} for i in request.items]
    money = {"amount": amount, "currency": state.currency}
    order_id, events = state.order_id, []
    payment = payment_undo(approved=state.payment_approved, captured=state.payment.captured)
    if payment is not None and amount > 0:
        data = {**money, "method": state.payment.method, "items": lines}
        events.append(OrderEvent.numbered(payment, order_id, next_number(state), now, data))
    stock = stock_undo(handling_started=state.handling_started)
    events.append(OrderEvent.numbered(stock, order_id, next_number(state), now, {"items": lines}))
    notice = {
        "customer_id": state.customer_id,
        "message": "items-canceled",
        "items": lines,
        "reason": request.reason,
        "reason_code": request.reason_code,
        **money,
    }
    events.append(OrderEvent.numbered(EventType.CUSTOMER_NOTIFY, order_id, next_number(state), now, notice))
    return events


def _lines(items: list[Item]) -> list[dict[str, object]]:
    return [{"sku": item.sku, "quantity": item.quantity, "price": item.price} for item in items]


def modification_applied(state: OrderState, modification: Modification, now: datetime) -> list[OrderEvent]:
    """A modification applied (docs/modifications.md): a lower value's difference voided or refunded, the
    quantities that left released (or restocked) and those that came reserved, then the customer told."""
    order_id, events, named = state.order_id, [], {"modification_id": modification.id}
    removed, added = _lines(modification.removed), _lines(modification.added)
    left, arrived = modification.net()
    payment = payment_undo(approved=state.payment_approved, captured=state.payment.captured)
    if modification.difference < 0 and payment is not None:
        money = {
            "amount": -modification.difference,
            "currency": state.currency,
            "method": state.payment.method,
        }
        data = {**money, **named, "items": removed, "added": added}
        events.append(OrderEvent.numbered(payment, order_id, next_number(state), now, data))
    if left:
        stock = stock_undo(handling_started=state.handling_started)
        data = {"items": _lines(left), **named}
        events.append(OrderEvent.numbered(stock, order_id, next_number(state), now, data))
    if arrived:
        data = {"items": _lines(arrived), **named}
        events.append(OrderEvent.numbered(EventType.STOCK_RESERVE, order_id, next_number(state), now, data))
    notice = {
        "customer_id": state.customer_id,
        "message": "order-modified",
        **named,
        "reason": modification.reason,
        "removed": removed,
        "added": added,
        "difference": modification.difference,
        "value": modification.after,
        "currency": state.currency,
    }
    events.append(OrderEvent.numbered(EventType.CUSTOMER_NOTIFY, order_id, next_number(state), now, notice))
    return events


def difference_asked(state: OrderState, modification: Modification, now: datetime) -> OrderEvent:
    """A modification that raises the order's value: the payment is asked for the difference, by when."""
    data = {
        "amount": modification.difference,
        "currency": state.currency,
        "method": state.payment.method,
        "modification_id": modification.id,
        "items": _lines(modification.added),
        "removed": _lines(modification.removed),
        "payment_deadline": modification.payment_deadline,
    }
    number = next_number(state)
    return OrderEvent.numbered(EventType.PAYMENT_AUTHORIZE, state.order_id, number, now, data)


def modification_lapsed(state: OrderState, modification: Modification, now: datetime) -> list[OrderEvent]:
    """A modification that never applied (its difference not paid, or withdrawn): the store and the
    customer told; the order is as it was."""
    said = {
        "modification_id": modification.id,
        "reason": modification.lapsed_because.value if modification.lapsed_because else "",
        "note": modification.settle_reason,
        "amount": modification.difference,
        "currency": state.currency,
    }
    order_id = state.order_id
    store = OrderEvent.numbered(EventType.STORE_MODIFICATION_LAPSED, order_id, next_number(state), now, said)
    notice = {"customer_id": state.customer_id, "message": "modification-lapsed", **said}
    customer = OrderEvent.numbered(EventType.CUSTOMER_NOTIFY, order_id, next_number(state), now, notice)
    return [store, customer]


def request_denied(state: OrderState, request: CancellationRequest, now: datetime) -> OrderEvent:
    """The customer told that `request` (denied already) was denied, and why."""
    data = {
        "customer_id": state.customer_id,
        "message": "cancellation-denied",
        "reason": request.deny_reason,
        "reason_code": request.deny_reason_code,
        "request_id": request.id,
    }
    number = next_number(state)
    return OrderEvent.numbered(EventType.CUSTOMER_NOTIFY, state.order_id, number, now, data)


def decision_needed(state: OrderState, request: CancellationRequest, now: datetime) -> OrderEvent:
    """The store asked to decide a customer's request, and by when."""
    deadline = request.requested_at + timedelta(seconds=state.decision_timeout_seconds)
    data = {
        "request_id": request.id,
        "actor": request.actor.value,
        "reason": request.reason,
        "reason_code": request.reason_code,
        "requested_at": request.requested_at,
        "decision_deadline": deadline,
    }
    number = next_number(state)
    return OrderEvent.numbered(EventType.STORE_DECISION_NEEDED, state.order_id, number, now, data)


def decision_reminder(
    state: OrderState, request: CancellationRequest, deadline: datetime, offset: int, clock: datetime
) -> OrderEvent:
    """The store reminded of the pending request: how long is left at `clock`, the time now."""
    data = {
        "request_id": request.id,
        "decision_deadline": deadline,
        "time_left_seconds": int((deadline - clock).total_seconds()),
        "reminder_offset_seconds": offset,
    }
    number = next_number(state)
    return OrderEvent.numbered(EventType.STORE_DECISION_REMINDER, state.order_id, number, clock, data)


def status_changed(
    state: OrderState,
    at: datetime,
    before: Status | None,
    after: Status,
    command: Command,
    note: str,
    reason: str,
) -> OrderEvent:
    data: dict[str, object] = {
        "from_status": before.value if before else None,
        "to_status": after.value,
        "actor": command.actor.value,
        "note": note,
    }
    if command.sender:
        data["sender"] = command.sender
    if reason:
        data["reason"] = reason
    number = next_number(state)
    return OrderEvent.numbered(EventType.ORDER_STATUS_CHANGED, state.order_id, number, at, data)
