"""What the console's templates show: money, times and time left as people read them, the queue's rows,
and which of an order's buttons the rules allow now (`domain.registry.decide`, the one verdict).

Nothing here escapes HTML: the templates do (Jinja2 autoescape). Caller text goes through the `shown`
filter as well, which writes control characters and bidi overrides as visible escapes
(docs/reliability.md, "Bad input through every door").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from markupsafe import Markup

from domain.commands import (
    CancelItems,
    Command,
    ExtendDeadline,
    ModificationDecision,
    ModifyOrder,
    WithReason,
)
from domain.events import event_type_of
from domain.lifecycle import Actor, CancelPath, Move, Situation, Status
from domain.reasons import Catalogue, Use, request_use
from domain.registry import RECORDS, CommandRecord, decide
from domain.spans import fmt_span
from domain.state import (
    CancellationRequest,
    Lapse,
    Modification,
    ModificationStatus,
    OrderState,
    TimelineEntry,
)
from domain.visibility import MEMO_KEY, OrderMemo
from domain.wire import Channel, InvoiceKind
from orders.queue import URGENT, PendingRequest
from orders.reads import OrderSummary
from orders.words import PATH_WORDS, move_words

EXTEND_CHOICES = ((3600, "1 hour"), (4 * 3600, "4 hours"), (86400, "1 day"), (7 * 86400, "7 days"))
# What `Extend window` accepts: from the shortest choice offered to the longest, nothing beyond.
EXTEND_MIN, EXTEND_MAX = EXTEND_CHOICES[0][0], EXTEND_CHOICES[-1][0]


def money(cents: int, currency: str) -> str:
    return f"{currency} {Decimal(cents) / 100:,.2f}"


def when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "—"


def iso(at: datetime | None) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else ""


def at(moment: datetime | None) -> Markup:
    """A time as a `<time>` element in UTC; console.js shows it in the browser's time zone, UTC on hover."""
    if moment is None:
        return Markup("—")
    return Markup('<time datetime="{}">{}</time>').format(iso(moment), when(moment))


@dataclass(frozen=True)
class TimeLeft:
    text: str
    urgent: bool  # under 24 h: marked with ⚠ and a class, never colour alone
    passed: bool


def time_left(deadline: datetime | None, now: datetime, urgent_within: timedelta = URGENT) -> TimeLeft | None:
    if deadline is None:
        return None
    left = deadline - now
    if left.total_seconds() <= 0:
        return TimeLeft(f"⚠ passed {fmt_span(left.total_seconds())} ago", urgent=True, passed=True)
    urgent = left < urgent_within
    return TimeLeft(("⚠ " if urgent else "") + f"{fmt_span(left.total_seconds())} left", urgent, passed=False)


def reason_label(catalogue: Catalogue, code: str | None, use: Use, label: str | None = None) -> str:
    if not code:
        return ""
    return label or catalogue.label(code, use)


@dataclass(frozen=True)
class QueueRow:
    order_id: str
    customer_id: str
    amount: str  # what confirming would refund: the order's value, or an item request's items' value
    reason_label: str
    reason: str
    requested_at: Markup
    requested_by: str
    deadline: Markup
    left: TimeLeft
    items: str = ""  # an item request's lines (`A1 x 1, B2 x 2`); empty: the whole order


def asked_amount(row: PendingRequest) -> str:
    """What confirming the request would refund; for an item request whose prices visibility doesn't
    hold (an order placed before they were kept), at most the order's value."""
    if not row.request.items:
        return money(row.value, row.currency)
    if row.items_value is None:
        return f"up to {money(row.value, row.currency)}"
    return money(min(row.items_value, row.value), row.currency)


def queue_rows(pending: list[PendingRequest], catalogue: Catalogue, now: datetime) -> list[QueueRow]:
    rows = []
    for row in pending:
        request = row.request
        use = request_use(Actor(request.actor))
        left = time_left(request.decision_deadline, now)
        assert left is not None
        rows.append(
            QueueRow(
                order_id=row.order_id,
                customer_id=row.customer_id,
                amount=asked_amount(row),
                reason_label=reason_label(catalogue, request.reason_code, use, request.reason_label),
                reason=request.reason,
                requested_at=at(request.requested_at),
                requested_by=who(request.actor, request.sender, row.customer_id, request.channel),
                deadline=at(request.decision_deadline),
                left=left,
                items=", ".join(f"{item.sku} x {item.quantity}" for item in request.items),
            )
        )
    return rows


def reason_choices(catalogue: Catalogue, use: Use) -> list[tuple[str, str]]:
    return [(code, catalogue.label(code, use)) for code in catalogue.codes(use)]


def queue_reason_filter(catalogue: Catalogue) -> list[tuple[str, str]]:
    """The reason codes a pending request may carry: the customer's and the store's (a first step)."""
    seen: dict[str, str] = {}
    for use, who in ((Use.CUSTOMER, "customer"), (Use.STORE, "store")):
        for code, label in reason_choices(catalogue, use):
            seen.setdefault(code, f"{label} ({who})")
    return list(seen.items())


class FormKind(StrEnum):
    """What an order-page button's form asks for, read from its command's payload."""

    PLAIN = "plain"
    REASON = "reason"  # a reason from the catalogue, and details
    EXTEND = "extend"  # how much later
    LINES = "lines"  # a quantity of one line, and a reason: one form per line, in the items table
    MODIFY = "modify"  # quantities to remove of each line, a line to add, and a reason
    MODIFICATION = "modification"  # the modification waiting for its payment, and a note


def form_of(model: type[Command]) -> FormKind:
    if issubclass(model, CancelItems):
        return FormKind.LINES
    if issubclass(model, ModifyOrder):
        return FormKind.MODIFY
    if issubclass(model, ModificationDecision):
        return FormKind.MODIFICATION
    if issubclass(model, ExtendDeadline):
        return FormKind.EXTEND
    if issubclass(model, WithReason):
        return FormKind.REASON
    return FormKind.PLAIN


@dataclass(frozen=True)
class ActionButton:
    """One of the order page's buttons (a command's record says its label), and what pressing it does."""

    label: str
    slug: str  # the POST's last path segment: the command's name
    form: FormKind
    hint: str  # the consequence, in words
    style: str  # "danger": it cancels at once, or declines what was asked; "primary": the first one
    reasons: list[tuple[str, str]]  # the catalogue's codes its reason takes, with labels


def slug_of(record: CommandRecord[Any]) -> str:
    return record.name.replace("_", "-")


def buttons(
    state: OrderState, actor: Actor, now: datetime, catalogue: Catalogue, *, may_confirm: bool = True
) -> list[ActionButton]:
    """The buttons of the commands the rules let `actor` send now, in the registry's order; of those that
    cancel the order, only the first (a second request confirms, as `Confirm cancellation` does); none
    that confirms a pending request when `may_confirm` is off (its requester: four eyes)."""
    situation = state.situation(at=now)
    shown: list[ActionButton] = []
    cancels = False
    for record in RECORDS:
        outcome = decide(situation, record.action, actor)
        form = form_of(record.model)
        if (
            record.console is None
            or not isinstance(outcome, Move)
            or (form is FormKind.LINES and not state.items)
        ):
            continue
        if outcome.to is Status.CANCEL and form is not FormKind.LINES:
            confirms = situation.status is Status.CANCELLATION_REQUESTED
            if cancels or (confirms and not may_confirm):
                continue
            cancels = True
        use = record.reason_use(actor) if record.reason_use else None
        shown.append(
            ActionButton(
                label=record.console.label,
                slug=slug_of(record),
                form=form,
                hint=consequence(state, outcome),
                style=_style(situation, outcome, use, first=not shown),
                reasons=reason_choices(catalogue, use) if use else [],
            )
        )
    return shown


def _style(situation: Situation, move: Move, use: Use | None, *, first: bool) -> str:
    deciding = situation.status is Status.CANCELLATION_REQUESTED
    if use is Use.DENY or (move.to is Status.CANCEL and not deciding):
        return "danger"
    return "primary" if first else ""


def consequence(state: OrderState, move: Move) -> str:
    """What a button's move does to the order, in the table's words."""
    if move.to is Status.CANCEL:
        return (
            "The order is canceled: what remains is voided or refunded, its stock released, "
            "the customer told."
        )
    if move.to is state.status:  # e.g. extending the deadline of the request waiting
        return move.note[:1].upper() + move.note[1:] + "."
    if move.to is Status.CANCELLATION_REQUESTED:
        return "After the window this asks for the cancellation; confirm it to cancel."
    return f"{move.note[:1].upper() + move.note[1:]}: the order goes to {move.to.display_name}."


CHANNEL_NAMES = {Channel.MY_ORDERS: "My orders"}


def who(
    actor: Actor | str | None,
    sender: str | None,
    customer_id: str | None = None,
    channel: Channel | None = None,
) -> str:
    """`store (alice)`: the actor and, when it says more, the sender (a customer's own id says nothing);
    `customer via My orders` when it came from the customer's pages (docs/customer-pages.md)."""
    if actor is None:
        return ""
    name = actor.value if isinstance(actor, Actor) else actor
    via = f" via {CHANNEL_NAMES[channel]}" if channel in CHANNEL_NAMES else ""
    if not sender or (name == Actor.CUSTOMER.value and sender == customer_id):
        return name + via
    return f"{name} ({sender}){via}"


def moved(entry: TimelineEntry) -> str:
    words = move_words(entry)
    return words[:1].upper() + words[1:]


def effects(state: OrderState) -> list[str]:
    """The effects delivered, in words, in order; a run of the same one is counted (`Customer notified,
    2 times`)."""
    said: list[tuple[str, int]] = []
    for effect in state.effects:
        words = event_words(effect, state.order_id)
        if said and said[-1][0] == words:
            said[-1] = (words, said[-1][1] + 1)
        else:
            said.append((words, 1))
    return [words if count == 1 else f"{words}, {count} times" for words, count in said]


def event_words(event_id: str, order_id: str) -> str:
    kind = event_type_of(event_id, order_id)
    return kind.described if kind else "Another event"


INVOICE_KINDS = {InvoiceKind.OUTPUT: "sale invoice", InvoiceKind.INPUT: "return invoice"}


def asked_value(state: OrderState, request: CancellationRequest) -> str:
    """What confirming `request` would refund or void: its items' value, or what remains of the order;
    never more than remains (a discount can make the lines worth more than was paid: docs/items.md)."""
    if not request.items:
        return money(state.remaining_total, state.currency)
    prices = {line.sku: line.price for line in state.lines}
    worth = sum(prices.get(item.sku, 0) * item.quantity for item in request.items)
    return money(min(worth, state.remaining_total), state.currency)


def path_words(path: CancelPath) -> str:
    words = PATH_WORDS[path]
    return words[:1].lower() + words[1:]


def listed_amount(summary: OrderSummary) -> str:
    """The orders list's amount, from the memo visibility keeps (`value`: less canceled items)."""
    raw = summary.memo.get(MEMO_KEY)
    if not isinstance(raw, dict):
        return "—"
    memo = OrderMemo.model_validate(raw)
    return money(memo.value, memo.currency)


def status_class(status: Status) -> str:
    return f"status status-{status.value}"


LAPSES = {
    Lapse.PAYMENT_DENIED: "the payment was denied",
    Lapse.PAYMENT_TIMEOUT: "no payment in time",
    Lapse.WITHDRAWN: "withdrawn",
    Lapse.ORDER_INVOICED: "the order was invoiced",
    Lapse.ORDER_CANCELED: "the order was canceled",
}


def modification_outcome(m: Modification) -> str:
    """How a modification stands, in words (docs/modifications.md)."""
    if m.status is ModificationStatus.APPLIED:
        return f"Applied {when(m.settled_at)}"
    if m.status is ModificationStatus.WAITING_PAYMENT:
        return f"Waiting for the customer's payment until {when(m.payment_deadline)}"
    why = LAPSES[m.lapsed_because] if m.lapsed_because else "lapsed"
    return f"Lapsed {when(m.settled_at)}: {why}"
