"""What each action does to an order's state once the rules (`domain.lifecycle.decide`) allowed its move.

A step is a function over the `OrderState` and the `Change` under way that records what the action
changes (a request, a cancellation, an invoice, a deadline) and returns the events it sends
(`domain.effects`); each command's record (`domain.registry`) names its step, `OWN_STEPS` those of the
order's own events. `Order` sets the new status and the timeline after the step. Decides nothing:
every choice of status, path or undo is the rulebook's. Pure: no Temporal, no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import effects, modifications
from domain.commands import CancelItems, Command, ExtendDeadline, InvoiceCommand, ModifyOrder
from domain.events import OrderEvent
from domain.lifecycle import Action, Actor, CancelPath, Refuse, Status, cancel_path
from domain.reasons import OTHER, PAYMENT_PROBLEM, Use
from domain.spans import spoken_span
from domain.state import (
    Cancellation,
    CancellationRequest,
    Invoice,
    ItemCancellation,
    Lapse,
    Modification,
    ModificationStatus,
    OrderState,
)


@dataclass(frozen=True)
class Change:
    """A move being applied: what the action's own step needs to know."""

    action: Action
    command: Command
    before: Status
    to: Status
    at: datetime  # when the command counts as made
    now: datetime  # when the move counts as happening (a passed deadline: the deadline)
    clock: datetime  # the time now, as the workflow reads it
    reason_use: Use | None = None  # which catalogue codes the command's reason takes (its record says)


Step = Callable[[OrderState, Change], list[OrderEvent]]


def reason_of(state: OrderState, change: Change) -> tuple[str, str]:
    """The command's reason code (`other` when it gave none) and that code's label."""
    use = change.reason_use or Use.STORE
    code = change.command.code or OTHER
    return code, state.reasons.label(code, use)


def extended_deadline(state: OrderState) -> datetime | None:
    """The deadline an extension moves: the grace window's, or the pending request's decision."""
    if state.status is Status.CANCELLATION_REQUESTED:
        return state.decision_deadline
    return state.grace_deadline


def approve_payment(state: OrderState, change: Change) -> list[OrderEvent]:
    state.payment_approved_at = change.now
    return []


def request_cancellation(state: OrderState, change: Change) -> list[OrderEvent]:
    """A request for the whole order, or (`cancel_items`) for some of its items."""
    if state.pending_request is not None:  # the store's second step confirms what is pending
        return confirm_pending(state, change)
    command = change.command
    code, label = reason_of(state, change)
    request = CancellationRequest(
        id=command.request_id or f"{change.action.value}-{len(state.timeline)}",
        actor=command.actor,
        sender=command.sender,
        channel=command.channel,
        reason=command.reason_text,
        reason_code=code,
        reason_label=label,
        requested_at=change.at,
        items=command.items if isinstance(command, CancelItems) else [],
    )
    state.cancellation_requests.append(request)
    if change.to is Status.CANCEL:
        inside = state.inside_grace_window(change.at)
        path = cancel_path(before=change.before, inside_window=inside)
        state.cancellation = _cancellation_from(request, path, change.now)
        return []
    if change.to is change.before:  # items canceled at once; the order goes on
        return apply_items(state, request, command.actor, change.now)
    state.status_before_request = change.before
    if command.actor is Actor.CUSTOMER:
        return [effects.decision_needed(state, request, change.now)]
    return []


def confirm_pending(state: OrderState, change: Change) -> list[OrderEvent]:
    pending = state.pending_request
    assert pending is not None
    if pending.items and change.to is not Status.CANCEL:
        return apply_items(state, pending, change.command.actor, change.now, change.command.sender)
    path = CancelPath.AFTER_CONFIRMATION
    state.cancellation = _cancellation_from(pending, path, change.now, change.command)
    return []


def deny_pending(state: OrderState, change: Change) -> list[OrderEvent]:
    return [_deny(state, change, change.command.reason_text)]


def start_handling(state: OrderState, change: Change) -> list[OrderEvent]:
    state.handling_started = True
    return []


def invoice(state: OrderState, change: Change) -> list[OrderEvent]:
    command = change.command
    assert isinstance(command, InvoiceCommand)
    state.invoices.append(
        Invoice(
            invoice_number=command.invoice_number,
            value=command.value,
            issued_at=command.issued_at or change.now,
            actor=command.actor,
            sender=command.sender,
            kind=command.kind,
        )
    )
    # Invoicing drops a modification waiting for its payment (docs/modifications.md) and declines a pending
    # request, as it ends what is pending.
    events = lapse(state, Lapse.ORDER_INVOICED, change)
    if state.pending_request is None:
        return events
    return [*events, _deny(state, change, "the order was invoiced")]


def decision_timeout(state: OrderState, change: Change) -> list[OrderEvent]:
    pending = state.pending_request
    assert pending is not None
    if pending.items and change.to is not Status.CANCEL:
        return apply_items(state, pending, Actor.SYSTEM, change.at)
    had = state.deadline_of(pending) - pending.requested_at  # an extension counts
    state.cancellation = Cancellation(
        request_id=pending.id,
        requested_by=Actor.SYSTEM,
        channel=pending.channel,
        reason=f"the store did not decide within {spoken_span(had.total_seconds())}",
        reason_code=pending.reason_code,  # why it was asked for: what the report counts
        reason_label=pending.reason_label,
        requested_at=change.at,
        path=CancelPath.DECISION_TIMEOUT,
        decided_at=change.at,
    )
    return []


def apply_items(
    state: OrderState, request: CancellationRequest, actor: Actor, now: datetime, sender: str | None = None
) -> list[OrderEvent]:
    """Cancel the request's items while the order goes on: their value voided or refunded (never more
    than what remains of the order), their stock released or restocked, the customer told."""
    prices = {item.sku: item.price for item in state.items}
    value = sum(prices[item.sku] * item.quantity for item in request.items)
    amount = min(value, state.remaining_total)  # read before the items below leave the remaining total
    for item in request.items:
        state.canceled_items[item.sku] = state.canceled_items.get(item.sku, 0) + item.quantity
    request.applied_at, request.applied_by = now, actor
    state.item_cancellations.append(
        ItemCancellation(
            request_id=request.id,
            items=request.items,
            amount=amount,
            at=now,
            actor=request.actor,
            sender=request.sender,
            reason=request.reason,
            reason_code=request.reason_code,
        )
    )
    return effects.items_canceled(state, request, amount, now)


def payment_failed(state: OrderState, change: Change) -> list[OrderEvent]:
    timed_out = change.action is Action.PAYMENT_TIMEOUT
    code = PAYMENT_PROBLEM if PAYMENT_PROBLEM in state.reasons.store else OTHER
    state.cancellation = Cancellation(
        request_id=change.command.request_id or f"{change.action.value}-{len(state.timeline)}",
        requested_by=change.command.actor,
        requested_by_sender=change.command.sender,
        reason=f"the payment did not arrive within {spoken_span(state.payment_timeout_seconds)}"
        if timed_out
        else change.command.reason_text or "the payment was denied",
        reason_code=code,
        reason_label=state.reasons.label(code, Use.STORE),
        requested_at=change.at,
        path=CancelPath.PAYMENT_TIMEOUT if timed_out else CancelPath.PAYMENT_DENIED,
        decided_at=change.at,
    )
    return []


def extend(state: OrderState, change: Change) -> list[OrderEvent]:
    command = change.command
    assert isinstance(command, ExtendDeadline)
    current = extended_deadline(state)
    assert current is not None
    wanted = command.new_deadline(current)
    pending = state.pending_request
    if change.action is Action.EXTEND_DECISION_DEADLINE and pending is not None:
        pending.deadline_extended_to = wanted
        pending.reminders_armed_at, pending.reminded = change.now, []  # reminders follow the deadline
    elif state.payment_approved_at is not None:
        state.grace_period_seconds = int((wanted - state.payment_approved_at).total_seconds())
    return []


def remind(state: OrderState, change: Change) -> list[OrderEvent]:
    """Remind the store of the pending request; when its deadline has passed too (no worker ran), the
    reminder is only marked: the request is decided by the timeout that follows."""
    pending, deadline, due = state.pending_request, state.decision_deadline, state.reminders_due()
    assert pending is not None and deadline is not None and due
    offset = min(due, key=lambda o: due[o])
    pending.reminded.append(offset)
    if change.clock >= deadline:
        return []
    return [effects.decision_reminder(state, pending, deadline, offset, change.clock)]


def modify(state: OrderState, change: Change) -> list[OrderEvent]:
    """A modification: applied at once, or (a higher value) waiting while the difference is asked for."""
    command = change.command
    assert isinstance(command, ModifyOrder)
    planned = modifications.plan(state, command)
    assert not isinstance(planned, Refuse), planned  # the record's bounds refused it already
    waits = planned.costs_more
    timeout = timedelta(seconds=state.modification_payment_timeout_seconds)
    modification = Modification(
        id=f"{state.order_id}-m{len(state.modifications) + 1}",
        request_id=command.request_id,
        actor=command.actor,
        sender=command.sender,
        reason=command.reason,
        add=planned.add,
        remove=planned.remove,
        replace=planned.replace,
        before=planned.before,
        after=planned.after,
        status=ModificationStatus.WAITING_PAYMENT if waits else ModificationStatus.APPLIED,
        requested_at=change.at,
        # The customer has the whole timeout from when the difference is asked for (now), however
        # early the command says it was made.
        payment_deadline=change.now + timeout if waits else None,
    )
    state.modifications.append(modification)
    if waits:
        return [effects.difference_asked(state, modification, change.now)]
    return _apply(state, modification, change)


def approve_modification(state: OrderState, change: Change) -> list[OrderEvent]:
    waiting = state.waiting_modification
    assert waiting is not None
    return _apply(state, waiting, change)


def _apply(state: OrderState, modification: Modification, change: Change) -> list[OrderEvent]:
    modifications.apply(state, modification.removed, modification.added)
    modification.status, modification.settled_at = ModificationStatus.APPLIED, change.now
    modification.settled_by, modification.settled_by_sender = change.command.actor, change.command.sender
    return effects.modification_applied(state, modification, change.now)


LAPSES = {
    Action.DENY_MODIFICATION_PAYMENT: Lapse.PAYMENT_DENIED,
    Action.CANCEL_MODIFICATION: Lapse.WITHDRAWN,
    Action.MODIFICATION_PAYMENT_TIMEOUT: Lapse.PAYMENT_TIMEOUT,
}


def lapse_modification(state: OrderState, change: Change) -> list[OrderEvent]:
    """The waiting modification's difference denied or not paid in time, or the store withdrew it."""
    return lapse(state, LAPSES[change.action], change)


def lapse(state: OrderState, because: Lapse, change: Change) -> list[OrderEvent]:
    """End the waiting modification (if one waits) unapplied: the order stays as it was. The store and the
    customer are told, but when the order is being canceled: its cancellation says it all."""
    waiting = state.waiting_modification
    if waiting is None:
        return []
    waiting.status, waiting.lapsed_because = ModificationStatus.LAPSED, because
    waiting.settled_at, waiting.settle_reason = change.now, change.command.reason_text
    waiting.settled_by, waiting.settled_by_sender = change.command.actor, change.command.sender
    if because is Lapse.ORDER_CANCELED:
        return []
    return effects.modification_lapsed(state, waiting, change.now)


def compensated(state: OrderState, change: Change) -> list[OrderEvent]:
    if state.cancellation is not None:
        state.cancellation.canceled_at = change.now
    return []


# The steps of the order's own events; each command's step is in its record (domain/registry.py). An
# action in neither (`grace_expired`, `place`) changes nothing but the status.
OWN_STEPS: dict[Action, Step] = {
    Action.DECISION_TIMEOUT: decision_timeout,
    Action.PAYMENT_TIMEOUT: payment_failed,
    Action.DECISION_REMINDER: remind,
    Action.MODIFICATION_PAYMENT_TIMEOUT: lapse_modification,
    Action.COMPENSATED: compensated,
}


def _deny(state: OrderState, change: Change, reason: str) -> OrderEvent:
    """Mark the pending request denied, by whom and why; the customer is told."""
    pending, command = state.pending_request, change.command
    assert pending is not None
    pending.denied, pending.deny_reason, pending.denied_at = True, reason, change.now
    pending.denied_by, pending.denied_by_sender = command.actor, command.sender
    pending.deny_reason_code, pending.deny_reason_label = reason_of(state, change)
    return effects.request_denied(state, pending, change.now)


def _cancellation_from(
    request: CancellationRequest, path: CancelPath, decided_at: datetime, confirmed: Command | None = None
) -> Cancellation:
    return Cancellation(
        path=path,
        decided_at=decided_at,
        request_id=request.id,
        requested_by=request.actor,
        requested_by_sender=request.sender,
        channel=request.channel,
        reason=request.reason,
        reason_code=request.reason_code,
        reason_label=request.reason_label,
        requested_at=request.requested_at,
        confirmed_by=confirmed.actor if confirmed else None,
        confirmed_by_sender=confirmed.sender if confirmed else None,
    )
