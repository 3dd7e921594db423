"""What a command's record (`domain.registry`) asks of the order beyond the rulebook's table: whether the
command fits the order before the rules judge it, what the rules need to know of it, and the bounds it
keeps once they allow it. Each answers with a `Refuse` a person can act on, or None. Pure.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from domain import modifications
from domain.commands import (
    CancelItems,
    Command,
    ExtendDeadline,
    InvoiceCommand,
    ModificationDecision,
    ModifyOrder,
)
from domain.lifecycle import CancelPath, Move, Refuse, Situation, Status, cancel_path
from domain.modifications import skus_named
from domain.state import ModificationStatus, OrderState
from domain.steps import extended_deadline
from domain.wire import InvoiceKind

MAX_EXTENSION = timedelta(days=365)


def items_in_order(state: OrderState, command: CancelItems) -> Refuse | None:
    """Each line named must be one of the order's, with at most what remains of it; and no modification
    may be waiting for its payment, whose lines would no longer be the order's (docs/modifications.md)."""
    waiting = state.waiting_modification
    if waiting is not None:
        return Refuse(
            f"modification {waiting.id} is waiting for its payment: approve, deny or cancel it first, "
            "then cancel items",
            "modification-waiting",
        )
    remaining = state.remaining()
    for index, item in enumerate(command.items):
        if item.sku not in remaining:
            known = skus_named(list(remaining))
            return Refuse(
                f"items[{index}]: sku {item.sku} is not in the order (its skus: {known})", "unknown-sku"
            )
        if item.quantity > remaining[item.sku]:
            left = remaining[item.sku]
            return Refuse(f"items[{index}]: {item.quantity} of {item.sku} asked, {left} left", "too-many")
    return None


def items_facts(situation: Situation, state: OrderState, command: CancelItems) -> Situation:
    return replace(situation, cancels_last_items=state.leaves_nothing(command.items))


def invoice_facts(situation: Situation, state: OrderState, command: InvoiceCommand) -> Situation:
    invoiced = state.invoiced_value
    return replace(
        situation,
        invoice_covers_total=invoiced + command.value >= state.remaining_total,
        invoice_is_return=command.kind is InvoiceKind.INPUT,
        return_within_invoiced=command.value <= invoiced,
    )


def modification_facts(situation: Situation, state: OrderState, command: ModifyOrder) -> Situation:
    planned = modifications.plan(state, command)
    return replace(situation, modification_costs_more=not isinstance(planned, Refuse) and planned.costs_more)


def modification_fits(state: OrderState, command: ModifyOrder, now: datetime) -> Refuse | None:
    """Each line fits the order as it is (docs/modifications.md, "Bad input"), the field named."""
    planned = modifications.plan(state, command)
    return planned if isinstance(planned, Refuse) else None


def names_the_waiting_modification(
    state: OrderState, command: ModificationDecision, now: datetime
) -> Refuse | None:
    """A payment's answer, or a withdrawal, names the modification waiting: not another order's, nor one
    of this order's that is no longer waiting."""
    waiting, named = state.waiting_modification, command.modification_id
    if waiting is None or waiting.id == named:
        return None
    known = next((m for m in state.modifications if m.id == named), None)
    if not named.startswith(f"{state.order_id}-m"):
        why = f"is not a modification of order {state.order_id}"
    elif known is None:
        why = f"is not one of order {state.order_id}'s modifications"
    else:
        ended = "was applied" if known.status is ModificationStatus.APPLIED else "lapsed"
        why = f"is no longer waiting for its payment (it {ended})"
    return Refuse(f"modification_id: {named} {why}; {waiting.id} is the one waiting", "not-waiting")


def later_within_a_year(state: OrderState, command: ExtendDeadline, now: datetime) -> Refuse | None:
    """A deadline moves later only, and at most a year ahead."""
    current = extended_deadline(state)
    assert current is not None  # the rules extend only an open window or a pending request
    wanted = command.new_deadline(current)
    if wanted <= current:
        return Refuse(
            f"a deadline moves only later: {_iso(wanted)} is not after the current one, {_iso(current)}",
            "not-later",
        )
    if wanted > now + MAX_EXTENSION:
        return Refuse(f"a deadline can be at most a year ahead; {_iso(wanted)} is further", "too-far")
    return None


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def four_eyes(state: OrderState, command: Command, situation: Situation, move: Move) -> Refuse | None:
    """A command sent under four eyes never cancels the order after its window on one person's word: a
    request of the sender's own waits for someone else, and so do the last items."""
    if not command.four_eyes or move.to is not Status.CANCEL:
        return None
    pending = state.pending_request
    if pending is not None:
        if (pending.actor, pending.sender) != (command.actor, command.sender):
            return None
        return Refuse("you asked for this cancellation, so someone else must confirm it", "four-eyes")
    if (
        cancel_path(before=state.status, inside_window=situation.inside_grace_window)
        is CancelPath.INSIDE_WINDOW
    ):
        return None
    return Refuse(
        "after the window canceling the order takes two people: ask for its cancellation, and someone "
        "else confirms it",
        "four-eyes",
    )
