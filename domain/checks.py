"""What a command's record (`domain.registry`) asks of the order beyond the rulebook's table: whether the
command fits the order before the rules judge it, what the rules need to know of it, and the bounds it
keeps once they allow it. Each answers with a `Refuse` a person can act on, or None. Pure.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from domain.commands import CancelItems, ExtendDeadline, InvoiceCommand
from domain.lifecycle import Refuse, Situation
from domain.state import OrderState
from domain.steps import extended_deadline
from domain.wire import InvoiceKind

MAX_EXTENSION = timedelta(days=365)
SKUS_NAMED = 5  # a refusal names this many of the order's skus: answers are kept, and must stay small


def items_in_order(state: OrderState, command: CancelItems) -> Refuse | None:
    """Each line named must be one of the order's, with at most what remains of it."""
    remaining = state.remaining()
    for index, item in enumerate(command.items):
        if item.sku not in remaining:
            known = ", ".join(list(remaining)[:SKUS_NAMED]) or "none"
            if len(remaining) > SKUS_NAMED:
                known += f", ... ({len(remaining)} in all)"
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
