"""Commands (SPEC §4): each is a signal and an update of the same name, with one of these payloads.

Every command may carry `request_id` (its idempotency key, scoped by `actor` and `sender`: SPEC §9),
`requested_at` (when it was made; see `Order.judged_at`), `sender` (who exactly, within the actor) and
`channel` (the surface it came from: the customer's "My orders" pages).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, ValidationError, model_validator

from domain.lifecycle import Action, Actor
from domain.reasons import ReasonCode, use_for
from domain.text import Name, RequestId, RequiredText, Sender, Text
from domain.wire import (
    MAX_ITEMS,
    Channel,
    InvoiceKind,
    ItemQuantity,
    PositiveCents,
    PositiveSeconds,
    UtcTime,
    WireModel,
    describe_errors,
    one_line_per_sku,
)


class Command(WireModel):
    actor: Actor = Actor.SYSTEM
    request_id: RequestId | None = None
    requested_at: UtcTime | None = None
    sender: Sender | None = None
    channel: Channel | None = None  # the surface it was sent from (the customer's pages), if one said

    @property
    def reason_text(self) -> str:
        return ""

    @property
    def code(self) -> str | None:
        """The reason code the command gives, if it carries a reason."""
        return None


class WithReason(Command):
    """A command that says why: free text, and a code from the reason catalogue (SPEC §11)."""

    reason: Text = ""
    reason_code: ReasonCode | None = None

    @property
    def reason_text(self) -> str:
        return self.reason

    @property
    def code(self) -> str | None:
        return self.reason_code


class RequestCancellation(WithReason):
    actor: Actor


class ConfirmCancellation(Command):
    actor: Actor


class DenyCancellation(WithReason):
    actor: Actor
    reason: RequiredText


class ApprovePayment(Command):
    pass


class StartHandling(Command):
    actor: Actor


class InvoiceCommand(Command):
    actor: Actor
    invoice_number: Name
    value: PositiveCents
    issued_at: UtcTime | None = None
    # `output` invoices the order; `input` is a return (VTEX's invoice types), lowering what is invoiced.
    kind: InvoiceKind = InvoiceKind.OUTPUT


class DenyPayment(WithReason):
    """A payment gateway's notification that the payment of a pending order was refused."""

    actor: Actor


class ExtendDeadline(WithReason):
    """Move a deadline later: to `until`, or by `seconds` past the current deadline (exactly one)."""

    actor: Actor
    until: UtcTime | None = None
    seconds: PositiveSeconds | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ExtendDeadline:
        if (self.until is None) == (self.seconds is None):
            raise ValueError("give exactly one of until (a time) or seconds (added to the current deadline)")
        return self

    def new_deadline(self, current: datetime) -> datetime:
        return self.until if self.until is not None else current + timedelta(seconds=self.seconds or 0)


class CancelItems(WithReason):
    """Cancel quantities of the order's lines (SPEC §3 "Items")."""

    actor: Actor
    items: Annotated[
        list[ItemQuantity], Field(min_length=1, max_length=MAX_ITEMS), AfterValidator(one_line_per_sku)
    ]


COMMAND_MODELS: dict[Action, type[Command]] = {
    Action.REQUEST_CANCELLATION: RequestCancellation,
    Action.CONFIRM_CANCELLATION: ConfirmCancellation,
    Action.DENY_CANCELLATION: DenyCancellation,
    Action.APPROVE_PAYMENT: ApprovePayment,
    Action.START_HANDLING: StartHandling,
    Action.INVOICE: InvoiceCommand,
    Action.DENY_PAYMENT: DenyPayment,
    Action.CANCEL_ITEMS: CancelItems,
    Action.EXTEND_GRACE_PERIOD: ExtendDeadline,
    Action.EXTEND_DECISION_DEADLINE: ExtendDeadline,
}


class MalformedCommand(ValueError):
    """A command whose JSON does not fit its model; the message names the fields."""


def parse_command(action: Action, raw: Any) -> Command:
    """Validate a command's payload (a dict from the wire, or an already-built model)."""
    model = COMMAND_MODELS[action]
    command = raw if isinstance(raw, model) else _validated(action, model, raw)
    if command.code is not None and use_for(action, command.actor) is None:
        # No catalogue use for it: a code would be recorded in the timeline unchecked.
        raise MalformedCommand(f"invalid {action.value}: {action.value} takes no reason_code")
    return command


def _validated(action: Action, model: type[Command], raw: Any) -> Command:
    if isinstance(raw, BaseModel):
        raw = raw.model_dump(mode="json")
    if raw is None:
        raw = {}
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise MalformedCommand(f"invalid {action.value}: {describe_errors(err)}") from None


def salvage(raw: Any) -> Command:
    """The parts of a malformed payload that are valid on their own (actor, sender, request id), so the
    refusal recorded for it names who sent it; anything invalid is left out, never shown."""
    fields: dict[str, Any] = {}
    if isinstance(raw, dict):
        for name in ("actor", "sender", "request_id"):
            try:
                fields |= Command.model_validate({name: raw.get(name)}).model_dump(include={name})
            except ValidationError:
                continue
    return Command.model_validate(fields)
