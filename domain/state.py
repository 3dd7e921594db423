"""The order's state: what the `state` query answers (docs/lifecycle.md), carried over by continue-as-new."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import AliasChoices, ConfigDict, Field, computed_field

from domain import defaults
from domain.events import FailedEvent
from domain.lifecycle import (
    TIMERS,
    Action,
    Actor,
    CancelPath,
    Deadline,
    PendingDecision,
    Situation,
    Status,
    cancellation_action,
    cancellation_allowed,
    pending_decision,
)
from domain.reasons import OTHER, ReasonCodes
from domain.wire import Channel, ClientProfile, InvoiceKind, Item, ItemQuantity, Origin, Payment, WireModel


class CancellationRequest(WireModel):
    id: str
    actor: Actor
    sender: str | None = None
    channel: Channel | None = None
    reason: str = ""
    reason_code: str = OTHER
    reason_label: str = ""
    requested_at: datetime
    denied: bool = False
    deny_reason: str | None = None
    deny_reason_code: str | None = None
    deny_reason_label: str | None = None
    denied_at: datetime | None = None
    denied_by: Actor | None = None
    denied_by_sender: str | None = None
    # Set when the store moved the decision deadline later (`extend_decision_deadline`).
    deadline_extended_to: datetime | None = None
    # Reminders: offsets (seconds before the deadline) still ahead when they were armed, and those sent.
    reminders_armed_at: datetime | None = None
    reminded: list[int] = []
    # An item request: these quantities only (empty: the whole order); when it was applied, and by whom.
    items: list[ItemQuantity] = []
    applied_at: datetime | None = None
    applied_by: Actor | None = None


class Cancellation(WireModel):
    """The cancellation under way or done: who asked, why, when; who confirmed it."""

    request_id: str
    requested_by: Actor
    requested_by_sender: str | None = None
    channel: Channel | None = None  # where the request that led to it was sent from
    reason: str = ""
    reason_code: str = OTHER
    reason_label: str = ""
    requested_at: datetime
    path: CancelPath = CancelPath.INSIDE_WINDOW
    decided_at: datetime | None = None  # when it became a cancellation (at once, confirmed, timed out)
    confirmed_by: Actor | None = None
    confirmed_by_sender: str | None = None
    canceled_at: datetime | None = None


class Line(WireModel):
    sku: str
    price: int
    ordered: int  # as placed (0: added by a modification)
    canceled: int
    remaining: int
    added: int = 0  # by modifications
    removed: int = 0


class ItemCancellation(WireModel):
    """Items canceled while the order went on: what was undone, once."""

    request_id: str
    items: list[ItemQuantity]
    amount: int  # refunded or voided: the items' value, never more than what remained of the order
    at: datetime
    actor: Actor
    sender: str | None = None
    reason: str = ""
    reason_code: str = OTHER


class Invoice(WireModel):
    invoice_number: str
    value: int
    issued_at: datetime
    actor: Actor
    sender: str | None = None
    kind: InvoiceKind = InvoiceKind.OUTPUT


class ModificationStatus(StrEnum):
    APPLIED = "applied"
    WAITING_PAYMENT = "waiting-payment"  # a higher value: the difference is asked of the customer
    LAPSED = "lapsed"  # never applied: the order is as it was before it


class Lapse(StrEnum):
    """Why a modification lapsed."""

    PAYMENT_DENIED = "payment-denied"
    PAYMENT_TIMEOUT = "payment-timeout"
    WITHDRAWN = "withdrawn"  # by the store, before its payment
    ORDER_INVOICED = "order-invoiced"
    ORDER_CANCELED = "order-canceled"


class Replaced(WireModel):
    """Quantities replaced (`from`) and what replaced them (`to`), each line with its price."""

    model_config = ConfigDict(extra="ignore", serialize_by_alias=True)

    from_: list[Item] = Field(validation_alias=AliasChoices("from", "from_"), serialization_alias="from")
    to: list[Item]


class Modification(WireModel):
    """A change of the order's lines (docs/modifications.md), as asked and as it ended. Removed lines carry
    the price the order had for them, added lines the price they were added at."""

    id: str  # <orderId>-m<n>
    request_id: str | None = None
    actor: Actor
    sender: str | None = None
    reason: str = ""
    add: list[Item] = []
    remove: list[Item] = []
    replace: list[Replaced] = []
    before: int  # the order's value before it, and after it (once applied)
    after: int
    status: ModificationStatus
    requested_at: datetime
    payment_deadline: datetime | None = None  # while it waits for the difference
    settled_at: datetime | None = None  # when it was applied or lapsed
    settled_by: Actor | None = None
    settled_by_sender: str | None = None
    lapsed_because: Lapse | None = None
    settle_reason: str = ""  # what the payment's denial or the withdrawal said

    @computed_field  # type: ignore[prop-decorator]
    @property
    def difference(self) -> int:
        """What the order's value moves by: above zero the customer pays it, below it is given back."""
        return self.after - self.before

    @property
    def removed(self) -> list[Item]:
        return [*self.remove, *(line for r in self.replace for line in r.from_)]

    @property
    def added(self) -> list[Item]:
        return [*self.add, *(line for r in self.replace for line in r.to)]

    def net(self) -> tuple[list[Item], list[Item]]:
        """The quantities that leave and that come, per sku (a new price for the same quantities moves
        no stock)."""
        gone, come = Counter[str](), Counter[str]()
        for line in self.removed:
            gone[line.sku] += line.quantity
        for line in self.added:
            come[line.sku] += line.quantity
        was = {line.sku: line.price for line in self.removed}
        now = {line.sku: line.price for line in self.added}
        left = [Item(sku=sku, quantity=n, price=was[sku]) for sku, n in (gone - come).items()]
        arrived = [Item(sku=sku, quantity=n, price=now[sku]) for sku, n in (come - gone).items()]
        return left, arrived


class TimelineEntry(WireModel):
    at: datetime
    from_status: Status | None  # None for the order's placement
    to_status: Status
    actor: Actor
    sender: str | None = None
    channel: Channel | None = None
    action: Action
    note: str = ""  # what happened, in the lifecycle's words
    reason: str = ""  # the reason the actor gave
    reason_code: str | None = None
    request_id: str | None = None
    # A refused signal is recorded so its sender can see why; it changed nothing.
    refused: bool = False


class OrderState(WireModel):
    order_id: str
    customer_id: str
    status: Status
    total: int
    currency: str
    items: list[Item] = []
    payment: Payment = Payment()
    sales_channel: str = "1"
    origin: Origin = "Marketplace"
    client: ClientProfile | None = None
    placed_at: datetime
    payment_approved_at: datetime | None = None
    grace_period_seconds: int
    decision_timeout_seconds: int
    payment_timeout_seconds: int = defaults.PAYMENT_TIMEOUT_SECONDS
    modification_payment_timeout_seconds: int = defaults.MODIFICATION_PAYMENT_TIMEOUT_SECONDS
    reminder_offsets: list[int] = []
    reasons: ReasonCodes = ReasonCodes()
    handling_started: bool = False
    status_before_request: Status | None = None
    cancellation: Cancellation | None = None
    cancellation_requests: list[CancellationRequest] = []
    invoices: list[Invoice] = []
    timeline: list[TimelineEntry] = []
    # Quantities canceled per sku by item cancellations, and each of those cancellations.
    canceled_items: dict[str, int] = {}
    item_cancellations: list[ItemCancellation] = []
    # Changes of the order's lines, in order (docs/modifications.md); `items` holds the lines as they are.
    modifications: list[Modification] = []
    # Ids of the side effects delivered, in order; and of those no retry could deliver.
    effects: list[str] = []
    failed_events: list[FailedEvent] = []
    # The last sequence number given to an event that may recur (`OrderEvent.numbered`).
    event_sequence: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_description(self) -> str:
        return self.status.display_name

    @computed_field  # type: ignore[prop-decorator]
    @property
    def lines(self) -> list[Line]:
        added, removed = Counter[str](), Counter[str]()
        for modification in self.applied_modifications():
            for line in modification.added:
                added[line.sku] += line.quantity
            for line in modification.removed:
                removed[line.sku] += line.quantity
        return [
            Line(
                sku=item.sku,
                price=item.price,
                ordered=item.quantity - added[item.sku] + removed[item.sku],
                canceled=self.canceled_items.get(item.sku, 0),
                remaining=item.quantity - self.canceled_items.get(item.sku, 0),
                added=added[item.sku],
                removed=removed[item.sku],
            )
            for item in self.items
        ]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def remaining_total(self) -> int:
        """The total, moved by the modifications applied, less what item cancellations undid: what
        invoices are judged against."""
        moved = sum(modification.difference for modification in self.applied_modifications())
        return self.total + moved - sum(cancellation.amount for cancellation in self.item_cancellations)

    def applied_modifications(self) -> list[Modification]:
        return [m for m in self.modifications if m.status is ModificationStatus.APPLIED]

    @property
    def waiting_modification(self) -> Modification | None:
        """The modification waiting for the payment of its difference (one at a time)."""
        last = self.modifications[-1] if self.modifications else None
        return last if last is not None and last.status is ModificationStatus.WAITING_PAYMENT else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def modification_payment_deadline(self) -> datetime | None:
        waiting = self.waiting_modification
        return waiting.payment_deadline if waiting is not None else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def invoiced_value(self) -> int:
        """Invoiced less returned."""
        return sum(i.value if i.kind is InvoiceKind.OUTPUT else -i.value for i in self.invoices)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def partially_invoiced(self) -> bool:
        return 0 < self.invoiced_value < self.remaining_total

    @property
    def value(self) -> int:
        """What the order is worth as VTEX shows it: the invoiced value once partially invoiced, else
        the total less canceled items."""
        return self.invoiced_value if self.partially_invoiced else self.remaining_total

    @property
    def remaining_quantity(self) -> int:
        """Units still ordered: item cancellations take theirs away."""
        return sum(line.remaining for line in self.lines)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def grace_deadline(self) -> datetime | None:
        if self.payment_approved_at is None:
            return None
        return self.payment_approved_at + timedelta(seconds=self.grace_period_seconds)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def pending_request(self) -> CancellationRequest | None:
        if self.status is not Status.CANCELLATION_REQUESTED or not self.cancellation_requests:
            return None
        return self.cancellation_requests[-1]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def decision_deadline(self) -> datetime | None:
        pending = self.pending_request
        if pending is None:
            return None
        return self.deadline_of(pending)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def payment_deadline(self) -> datetime | None:
        if self.status is not Status.PAYMENT_PENDING:
            return None
        return self.placed_at + timedelta(seconds=self.payment_timeout_seconds)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def next_reminder(self) -> datetime | None:
        """When the store is next reminded of the pending request (docs/policy.md, "Reminders")."""
        due = self.reminders_due()
        return min(due.values()) if due else None

    def deadline_of(self, request: CancellationRequest) -> datetime:
        default = request.requested_at + timedelta(seconds=self.decision_timeout_seconds)
        return request.deadline_extended_to or default

    def reminders_due(self) -> dict[int, datetime]:
        """The pending request's reminders not sent yet, by offset: each one that was still ahead when
        the reminders were armed (at the request, or when its deadline moved)."""
        pending, deadline = self.pending_request, self.decision_deadline
        if pending is None or deadline is None:
            return {}
        armed = pending.reminders_armed_at or pending.requested_at
        due = {offset: deadline - timedelta(seconds=offset) for offset in self.reminder_offsets}
        return {offset: at for offset, at in due.items() if at > armed and offset not in pending.reminded}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cancellation_allowed(self) -> bool:
        return cancellation_allowed(self.situation())

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cancellation_action(self) -> Literal["cancel", "request"] | None:
        action = cancellation_action(self.situation())
        return "cancel" if action == "cancel" else "request" if action == "request" else None

    @property
    def payment_approved(self) -> bool:
        return self.payment_approved_at is not None

    def deadline(self, which: Deadline) -> datetime | None:
        return {
            Deadline.PAYMENT: self.payment_deadline,
            Deadline.GRACE: self.grace_deadline,
            Deadline.REMINDER: self.next_reminder,
            Deadline.DECISION: self.decision_deadline,
            Deadline.MODIFICATION_PAYMENT: self.modification_payment_deadline,
        }[which]

    def next_deadline(self) -> tuple[Action, datetime] | None:
        """The soonest deadline the order waits for in its status (`lifecycle.TIMERS`), and what
        happens then."""
        pending = [
            (at, timer.action)
            for timer in TIMERS
            if timer.status is self.status and (at := self.deadline(timer.deadline)) is not None
        ]
        if not pending:
            return None
        at, action = min(pending, key=lambda due: due[0])
        return action, at

    def inside_grace_window(self, at: datetime) -> bool:
        deadline, approved = self.grace_deadline, self.payment_approved_at
        return deadline is not None and approved is not None and approved <= at < deadline

    def pending_decision(self) -> PendingDecision | None:
        """What confirming, denying or not deciding the pending request would do."""
        return pending_decision(self.situation())

    def situation(self, *, at: datetime | None = None) -> Situation:
        pending = self.pending_request
        return Situation(
            status=self.status,
            partially_invoiced=self.partially_invoiced,
            inside_grace_window=at is not None and self.inside_grace_window(at),
            status_before_request=self.status_before_request,
            pending_is_items=pending is not None and bool(pending.items),
            pending_items_are_the_last=pending is not None
            and bool(pending.items)
            and self.leaves_nothing(pending.items),
            ever_invoiced=bool(self.invoices),
            modification_waiting=waiting.id if (waiting := self.waiting_modification) else None,
        )

    def remaining(self) -> dict[str, int]:
        return {line.sku: line.remaining for line in self.lines}

    def leaves_nothing(self, items: list[ItemQuantity]) -> bool:
        """Whether canceling `items` would cancel every item that remains."""
        left = self.remaining()
        for item in items:
            left[item.sku] = left.get(item.sku, 0) - item.quantity
        return all(quantity <= 0 for quantity in left.values())

    def moves(self) -> list[TimelineEntry]:
        """The timeline without refusals: what happened to the order."""
        return [entry for entry in self.timeline if not entry.refused]
