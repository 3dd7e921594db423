"""What the console's templates show: money, times and time left as people read them, the queue's rows,
and which of an order's buttons the rules allow now (`domain.lifecycle.decide`, the one rulebook).

Nothing here escapes HTML: the templates do (Jinja2 autoescape). Caller text goes through the `shown`
filter as well, which writes control characters and bidi overrides as visible escapes (SPEC §9).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.lifecycle import Action, Actor, Move, Refuse, Status, decide
from domain.reasons import Catalogue, Use, request_use
from domain.state import OrderState, TimelineEntry
from domain.wire import Channel
from orders.queue import URGENT, PendingRequest

UNITS = ((86400, "d"), (3600, "h"), (60, "m"), (1, "s"))
EXTEND_CHOICES = ((3600, "1 hour"), (4 * 3600, "4 hours"), (86400, "1 day"), (7 * 86400, "7 days"))
# What `Extend window` accepts: from the shortest choice offered to the longest, nothing beyond.
EXTEND_MIN, EXTEND_MAX = EXTEND_CHOICES[0][0], EXTEND_CHOICES[-1][0]


def money(cents: int, currency: str) -> str:
    return f"{currency} {Decimal(cents) / 100:,.2f}"


def when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "—"


def iso(at: datetime | None) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else ""


def span(seconds: float) -> str:
    """The two largest units, zeros left out: `29d 23h`, `5h 12m`, `4m 5s`, `12s`."""
    remaining = int(abs(seconds))
    parts: list[str] = []
    for unit, label in UNITS:
        value, remaining = divmod(remaining, unit)
        if value:
            parts.append(f"{value}{label}")
        if parts and (len(parts) == 2 or not value):
            break
    return " ".join(parts[:2]) or "0s"


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
        return TimeLeft(f"⚠ passed {span(left.total_seconds())} ago", urgent=True, passed=True)
    urgent = left < urgent_within
    return TimeLeft(("⚠ " if urgent else "") + f"{span(left.total_seconds())} left", urgent, passed=False)


def reason_label(catalogue: Catalogue, code: str | None, use: Use, label: str | None = None) -> str:
    if not code:
        return ""
    return label or catalogue.label(code, use)


@dataclass(frozen=True)
class QueueRow:
    order_id: str
    customer_id: str
    amount: str
    reason_label: str
    reason: str
    requested_at: str
    requested_iso: str
    requested_by: str
    deadline: str
    left: TimeLeft
    items: str = ""  # an item request's lines (`A1 x 1, B2 x 2`); empty: the whole order


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
                amount=money(row.value, row.currency),
                reason_label=reason_label(catalogue, request.reason_code, use, request.reason_label),
                reason=request.reason,
                requested_at=when(request.requested_at),
                requested_iso=iso(request.requested_at),
                requested_by=who(request.actor, request.sender, row.customer_id, request.channel),
                deadline=when(request.decision_deadline),
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


@dataclass(frozen=True)
class Buttons:
    """Which of the order page's actions the rules allow the signed-in role now."""

    confirm: bool
    deny: bool
    cancel: bool
    start_handling: bool
    extend: bool
    cancel_items: bool = False  # the store's own item cancellation: per line, at once

    @property
    def any(self) -> bool:
        return self.confirm or self.deny or self.cancel or self.start_handling or self.extend


def buttons(state: OrderState, actor: Actor, now: datetime) -> Buttons:
    situation = state.situation(at=now)

    def allowed(action: Action) -> bool:
        return not isinstance(decide(situation, action, actor), Refuse)

    confirm = allowed(Action.CONFIRM_CANCELLATION)
    # `Cancel order` when it moves the order (not "already canceling"), and not beside `Confirm
    # cancellation`, where a second request would do the same.
    cancel = isinstance(decide(situation, Action.REQUEST_CANCELLATION, actor), Move) and not confirm
    return Buttons(
        confirm=confirm,
        deny=allowed(Action.DENY_CANCELLATION),
        cancel=cancel,
        start_handling=allowed(Action.START_HANDLING),
        extend=allowed(Action.EXTEND_GRACE_PERIOD),
        cancel_items=bool(state.items) and allowed(Action.CANCEL_ITEMS),
    )


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
    if entry.refused:
        return f"{entry.action.value} refused"
    start = entry.from_status.display_name if entry.from_status else "Placed"
    return f"{start} → {entry.to_status.display_name}"


def status_class(status: Status) -> str:
    return f"status status-{status.value}"
