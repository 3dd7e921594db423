"""What the customer's order page shows, from the order's state: amounts (what was canceled and refunded,
what remains), the timeline in customer words, the request waiting for the store and the store's last
denial; and `version`, the fingerprint the page's script compares to see the order change.

Nothing here escapes HTML: the templates do (Jinja2 autoescape), and caller text goes through the
`shown`/`lines` filters as well (SPEC §9).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from domain.lifecycle import TRANSITIONS, Action, Actor, Status, returns_part_of_what_is_invoiced
from domain.reasons import Catalogue, Use, request_use
from domain.state import CancellationRequest, OrderState, TimelineEntry
from domain.text import shown
from domain.wire import ItemQuantity
from orders.customer.language import Speaker
from orders.reads import OrderSummary

# The rulebook's note for a return invoice: the timeline entry that says less is invoiced now.
RETURN_NOTE = next(rule.note for rule in TRANSITIONS if rule.when is returns_part_of_what_is_invoiced)


@dataclass(frozen=True)
class Amounts:
    total: int
    canceled: int  # voided or refunded: canceled items, and the rest once the order is canceled
    remaining: int
    refunded: bool  # the payment was captured: what is canceled is refunded, else never charged


def amounts(state: OrderState) -> Amounts:
    items = sum(cancellation.amount for cancellation in state.item_cancellations)
    gone = state.status in (Status.CANCEL, Status.CANCELED)
    canceled = items + (state.remaining_total if gone else 0)
    return Amounts(state.total, canceled, state.total - canceled, state.payment.captured)


@dataclass(frozen=True)
class Step:
    at: datetime
    text: str
    reason: str = ""  # what the store said (a denial), or what the customer wrote


def timeline(state: OrderState, speaker: Speaker, catalogue: Catalogue) -> list[Step]:
    """The order's life as the customer reads it: placement, payment, the window, each request and the
    store's answers, invoices, the cancellation. Reminders to the store and refusals are left out."""
    steps: list[Step] = []
    for entry in state.moves():
        key = _step(entry, state.customer_id)
        if key is None:
            continue
        reason = ""
        if entry.action is Action.DENY_CANCELLATION:
            reason = _said(entry, catalogue, speaker, Use.DENY)
        elif entry.actor is Actor.CUSTOMER and entry.action in (
            Action.REQUEST_CANCELLATION,
            Action.CANCEL_ITEMS,
        ):
            reason = _said(entry, catalogue, speaker, Use.CUSTOMER)
        steps.append(Step(entry.at, speaker.t(key), reason))
    return steps


def _step(entry: TimelineEntry, customer_id: str) -> str | None:
    action, to = entry.action, entry.to_status
    by_customer = entry.actor is Actor.CUSTOMER
    if action is Action.PLACE:
        return "t_placed"
    if action is Action.APPROVE_PAYMENT:
        return "t_paid"
    if action is Action.GRACE_EXPIRED:
        return "t_window_over"
    if action is Action.EXTEND_GRACE_PERIOD:
        return "t_window_extended"
    if action is Action.START_HANDLING:
        return "t_handling"
    if action is Action.REQUEST_CANCELLATION:
        if to is Status.CANCELLATION_REQUESTED:
            return "t_you_asked" if by_customer else "t_store_asked"
        return "t_you_canceled" if by_customer else "t_store_canceled"
    if action is Action.CANCEL_ITEMS:
        if to is Status.CANCELLATION_REQUESTED:
            return "t_you_asked_items"
        return "t_you_canceled_items" if by_customer else "t_store_canceled_items"
    if action is Action.CONFIRM_CANCELLATION:
        return "t_accepted"
    if action is Action.DENY_CANCELLATION:
        return "t_declined"
    if action is Action.DECISION_TIMEOUT:
        return "t_no_answer"
    if action is Action.EXTEND_DECISION_DEADLINE:
        return "t_store_more_time"
    if action in (Action.PAYMENT_TIMEOUT, Action.DENY_PAYMENT):
        return "t_payment_failed"
    if action is Action.INVOICE:
        if to is Status.INVOICED:
            return "t_invoiced"
        return "t_returned" if entry.note == RETURN_NOTE else "t_invoiced_part"
    if action is Action.COMPENSATED:
        return "t_canceled"
    return None  # the store's reminders: not the customer's business


def _said(entry: TimelineEntry, catalogue: Catalogue, speaker: Speaker, use: Use) -> str:
    """The code's label in the customer's language, and the text when it says more than the label."""
    label = catalogue.label(entry.reason_code, use, speaker.locale) if entry.reason_code else ""
    text = (
        entry.reason if entry.reason and entry.reason != catalogue.label(entry.reason_code or "", use) else ""
    )
    return ": ".join(part for part in (label, text) if part)


def denial(state: OrderState) -> CancellationRequest | None:
    """The customer's last request, when the store declined it and nothing was asked since."""
    requests = [r for r in state.cancellation_requests if r.actor is Actor.CUSTOMER]
    last = requests[-1] if requests else None
    return last if last is not None and last.denied and state.pending_request is None else None


def deny_reason(request: CancellationRequest, catalogue: Catalogue, speaker: Speaker) -> str:
    label = (
        catalogue.label(request.deny_reason_code, Use.DENY, speaker.locale)
        if request.deny_reason_code
        else ""
    )
    text = request.deny_reason or ""
    return text if text and text != request.deny_reason_label else label or text


def listed(items: list[ItemQuantity]) -> str:
    """An item request's lines as the customer reads them: `1 x A1, 2 x B7`."""
    return ", ".join(f"{item.quantity} x {shown(item.sku)}" for item in items)


def reason_choices(catalogue: Catalogue, speaker: Speaker) -> list[tuple[str, str]]:
    use = request_use(Actor.CUSTOMER)
    return [(code, catalogue.label(code, use, speaker.locale)) for code in catalogue.codes(use)]


def version(summary: OrderSummary) -> str:
    """What the page's script compares every 2 s: the order's status and memo as visibility shows them
    (no worker needed), which change with every decision, item cancellation and the window closing."""
    shown = json.dumps([summary.status.value, summary.closed, summary.memo], sort_keys=True, default=str)
    return hashlib.sha256(shown.encode()).hexdigest()[:16]
