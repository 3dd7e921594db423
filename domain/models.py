"""The wire contract (SPEC §4) as pydantic models: workflow input, commands, and the order's state.

Money is integer cents, times are ISO 8601 UTC, durations integer seconds. Unknown fields are ignored;
missing required fields reject the command. These names and shapes are what other programs rely on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    computed_field,
)

from domain.lifecycle import (
    Action,
    Actor,
    Situation,
    Status,
    cancellation_action,
    cancellation_allowed,
)

DEFAULT_GRACE_PERIOD_SECONDS = 30 * 60
DEFAULT_DECISION_TIMEOUT_SECONDS = 30 * 24 * 60 * 60

# Bounds that keep one order's state small and refuse absurd input with a clear message.
MAX_CENTS = 10**12  # ten billion in any currency
MAX_TEXT = 1000
MAX_ITEMS = 500
MAX_SECONDS = 10 * 365 * 24 * 60 * 60

# An order or customer id (an order's names its workflow): one definition for the models, client and API.
ID_CHARS = r"[A-Za-z0-9._:-]"
MAX_ID_LENGTH = 64
ID_PATTERN = rf"^{ID_CHARS}+$"

Id = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)
]
RequestId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT)]
RequiredText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]


def _not_a_bool(value: Any) -> Any:
    """Money, counts and durations are numbers: pydantic's lax mode would read `true` as 1 (cent)."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number (integer cents, a count or seconds), not true/false")
    return value


Number = BeforeValidator(_not_a_bool)
Cents = Annotated[int, Number, Field(ge=0, le=MAX_CENTS, strict=False)]
PositiveCents = Annotated[int, Number, Field(gt=0, le=MAX_CENTS)]
Seconds = Annotated[int, Number, Field(ge=0, le=MAX_SECONDS)]
PositiveSeconds = Annotated[int, Number, Field(gt=0, le=MAX_SECONDS)]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time must carry a timezone, e.g. 2026-11-26T10:00:00Z")
    return value


UtcTime = Annotated[datetime, AfterValidator(_utc)]


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False, use_enum_values=False)


class Item(WireModel):
    sku: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    quantity: Annotated[int, Number, Field(gt=0, le=100_000)]
    price: Cents


class Payment(WireModel):
    method: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] = (
        "credit-card"
    )
    captured: bool = False


class OrderInput(WireModel):
    """`OrderWorkflow`'s argument. Durations left out take the store's settings."""

    order_id: Id
    customer_id: Id
    total: Cents
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "BRL"
    items: Annotated[list[Item], Field(max_length=MAX_ITEMS)] = []
    payment: Payment = Payment()
    payment_approved: bool = True
    grace_period_seconds: Seconds | None = None
    decision_timeout_seconds: PositiveSeconds | None = None
    # Set only by continue-as-new: the order as the previous run left it.
    carried_over: CarriedOver | None = None


# Commands: each is a signal and an update of the same name (SPEC §4).


class Command(WireModel):
    request_id: RequestId | None = None
    requested_at: UtcTime | None = None


class RequestCancellation(Command):
    actor: Actor
    reason: Text = ""


class ConfirmCancellation(Command):
    actor: Actor


class DenyCancellation(Command):
    actor: Actor
    reason: RequiredText


class ApprovePayment(Command):
    actor: Actor = Actor.SYSTEM


class StartHandling(Command):
    actor: Actor


class InvoiceCommand(Command):
    actor: Actor
    invoice_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    value: PositiveCents
    issued_at: UtcTime | None = None


COMMAND_MODELS: dict[Action, type[Command]] = {
    Action.REQUEST_CANCELLATION: RequestCancellation,
    Action.CONFIRM_CANCELLATION: ConfirmCancellation,
    Action.DENY_CANCELLATION: DenyCancellation,
    Action.APPROVE_PAYMENT: ApprovePayment,
    Action.START_HANDLING: StartHandling,
    Action.INVOICE: InvoiceCommand,
}


class MalformedCommand(ValueError):
    """A command whose JSON does not fit its model; the message names the fields."""


def parse_command(action: Action, raw: Any) -> Command:
    """Validate a command's payload (a dict from the wire, or an already-built model)."""
    model = COMMAND_MODELS[action]
    if isinstance(raw, model):
        return raw
    if isinstance(raw, BaseModel):
        raw = raw.model_dump(mode="json")
    if raw is None:
        raw = {}
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise MalformedCommand(f"invalid {action.value}: {describe_errors(err)}") from None


def describe_errors(err: ValidationError) -> str:
    parts = []
    for e in err.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(p) for p in e["loc"]) or "payload"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


# The order's state (the `state` query).


class CancellationRequest(WireModel):
    id: str
    actor: Actor
    reason: str = ""
    requested_at: datetime
    denied: bool = False
    deny_reason: str | None = None
    denied_at: datetime | None = None
    denied_by: Actor | None = None


class Cancellation(WireModel):
    """The cancellation under way or done: who asked, why, when; who confirmed it."""

    request_id: str
    requested_by: Actor
    reason: str = ""
    requested_at: datetime
    confirmed_by: Actor | None = None
    canceled_at: datetime | None = None


class Invoice(WireModel):
    invoice_number: str
    value: int
    issued_at: datetime
    actor: Actor


class TimelineEntry(WireModel):
    at: datetime
    from_status: Status | None  # None for the order's placement
    to_status: Status
    actor: Actor
    action: Action
    note: str = ""  # what happened, in the lifecycle's words
    reason: str = ""  # the reason the actor gave
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
    placed_at: datetime
    payment_approved_at: datetime | None = None
    grace_period_seconds: int
    decision_timeout_seconds: int
    handling_started: bool = False
    status_before_request: Status | None = None
    cancellation: Cancellation | None = None
    cancellation_requests: list[CancellationRequest] = []
    invoices: list[Invoice] = []
    timeline: list[TimelineEntry] = []
    # Idempotency keys of the side effects delivered, in order.
    effects: list[str] = []

    @computed_field
    @property
    def status_description(self) -> str:
        return self.status.display_name

    @computed_field
    @property
    def invoiced_value(self) -> int:
        return sum(invoice.value for invoice in self.invoices)

    @computed_field
    @property
    def partially_invoiced(self) -> bool:
        return bool(self.invoices) and self.invoiced_value < self.total

    @computed_field
    @property
    def grace_deadline(self) -> datetime | None:
        if self.payment_approved_at is None:
            return None
        return self.payment_approved_at + timedelta(seconds=self.grace_period_seconds)

    @computed_field
    @property
    def pending_request(self) -> CancellationRequest | None:
        if self.status is not Status.CANCELLATION_REQUESTED or not self.cancellation_requests:
            return None
        return self.cancellation_requests[-1]

    @computed_field
    @property
    def decision_deadline(self) -> datetime | None:
        pending = self.pending_request
        if pending is None:
            return None
        return pending.requested_at + timedelta(seconds=self.decision_timeout_seconds)

    @computed_field
    @property
    def cancellation_allowed(self) -> bool:
        return cancellation_allowed(self.situation())

    @computed_field
    @property
    def cancellation_action(self) -> Literal["cancel", "request"] | None:
        return cancellation_action(self.situation())  # type: ignore[return-value]

    def situation(self, *, status: Status | None = None, at: datetime | None = None) -> Situation:
        deadline = self.grace_deadline
        approved = self.payment_approved_at
        inside = (
            at is not None and deadline is not None and approved is not None and approved <= at < deadline
        )
        return Situation(
            status=status or self.status,
            partially_invoiced=self.partially_invoiced,
            inside_grace_window=inside,
            status_before_request=self.status_before_request,
        )


class Answer(WireModel):
    """How a command with a `request_id` was answered, so a repeat is answered the same."""

    action: Action
    refused: bool = False
    reason: str = ""
    code: str = ""


class StoreSettings(WireModel):
    """The store's defaults for orders placed without their own durations."""

    grace_period_seconds: Seconds = DEFAULT_GRACE_PERIOD_SECONDS
    decision_timeout_seconds: PositiveSeconds = DEFAULT_DECISION_TIMEOUT_SECONDS


class CarriedOver(WireModel):
    """What continue-as-new hands to the next run."""

    state: OrderState
    answers: dict[str, Answer] = {}


OrderInput.model_rebuild()
