"""Commands (docs/lifecycle.md, "Commands"): each is a signal and an update of the same name, with one of
these payloads; each command's record (domain/registry.py) names its model.

Every command may carry `request_id` (its idempotency key, scoped by `actor` and `sender`:
docs/lifecycle.md, "The rules in words"), `requested_at` (when it was made; see `Order.judged_at`), `sender`
(who exactly, within the actor) and `channel` (the surface it came from: the customer's "My orders" pages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar, get_args

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import CoreSchema, core_schema

from domain.lifecycle import Actor
from domain.reasons import ReasonCode
from domain.text import ID_PATTERN, MAX_ID_LENGTH, Name, RequestId, RequiredText, Sender, Text
from domain.wire import (
    MAX_ITEMS,
    Cents,
    InvoiceKind,
    ItemQuantity,
    PositiveCents,
    PositiveSeconds,
    Quantity,
    SentVia,
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
    channel: SentVia = None  # the surface it was sent from (the customer's pages), if one said
    # Four eyes (the staff console's rule, docs/console.md "Roles"): after the window, this sender may not
    # cancel the order alone, nor confirm a request of their own.
    four_eyes: bool = False

    @property
    def reason_text(self) -> str:
        return ""

    @property
    def code(self) -> str | None:
        """The reason code the command gives, if it carries a reason."""
        return None


C = TypeVar("C", bound=Command)


class WithReason(Command):
    """A command that says why: free text, and a code from the reason catalogue (docs/policy.md)."""

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
    """Cancel quantities of the order's lines (docs/items.md)."""

    actor: Actor
    items: Annotated[
        list[ItemQuantity], Field(min_length=1, max_length=MAX_ITEMS), AfterValidator(one_line_per_sku)
    ]


class ModifiedLine(WireModel):
    """A line of a modification (docs/modifications.md): an sku (VTEX's item `id`) and a quantity; `price`
    in cents for an sku the order doesn't hold (there is no catalogue), or a new price for a whole line."""

    sku: Name = Field(validation_alias=AliasChoices("sku", "id"))
    quantity: Quantity
    price: Cents | None = None


class ModifiedLines(WireModel):
    items: Annotated[
        list[ModifiedLine], Field(min_length=1, max_length=MAX_ITEMS), AfterValidator(one_line_per_sku)
    ]


class Replacement(WireModel):
    """Some of the order's quantities (`from`) replaced by others (`to`): another sku, size or price."""

    model_config = ConfigDict(extra="ignore", serialize_by_alias=True)

    from_: ModifiedLines = Field(validation_alias=AliasChoices("from", "from_"), serialization_alias="from")
    to: ModifiedLines


class ModifyOrder(WithReason):
    """Change the order's lines (VTEX's Order modifications body): add, remove, replace."""

    actor: Actor
    reason: RequiredText
    add: ModifiedLines | None = None
    remove: ModifiedLines | None = None
    replace: Annotated[list[Replacement], Field(max_length=MAX_ITEMS)] = []

    @model_validator(mode="after")
    def _changes_something(self) -> ModifyOrder:
        if self.add is None and self.remove is None and not self.replace:
            raise ValueError("an empty modification: give add, remove or replace, each with its items")
        return self

    def line_count(self) -> int:
        lists = [self.add, self.remove, *(r.from_ for r in self.replace), *(r.to for r in self.replace)]
        return sum(len(lines.items) for lines in lists if lines is not None)


MODIFICATION_ID_LENGTH = MAX_ID_LENGTH + 12  # <orderId>-m<n>
ModificationId = Annotated[str, Field(min_length=1, max_length=MODIFICATION_ID_LENGTH, pattern=ID_PATTERN)]


class ModificationDecision(WithReason):
    """The waiting modification's payment approved or denied (a payment gateway's notification), or the
    modification withdrawn by the store; `modification_id` names it (`<orderId>-m<n>`)."""

    actor: Actor
    modification_id: ModificationId


class MalformedCommand(ValueError):
    """A command whose JSON does not fit its model; the message names the fields."""


@dataclass(frozen=True)
class Unreadable:
    """A payload that does not fit its command's model: what is wrong (naming the fields), and the parts
    that are valid on their own, so the refusal recorded for it names who sent it."""

    errors: str
    sender: Command


class Readable(Generic[C]):
    """How a workflow handler's payload is hinted: `Readable[Model]` reads as `Model`, or as `Unreadable`
    when the payload doesn't fit, so the SDK decodes every payload and none can fail the workflow task."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        (model,) = get_args(source)

        def read(raw: Any, validate: ValidatorFunctionWrapHandler) -> Command | Unreadable:
            try:
                command: Command = validate(raw)
            except ValidationError as err:
                return Unreadable(describe_errors(err), salvage(raw))
            return command

        return core_schema.no_info_wrap_validator_function(read, handler(model))


def salvage(raw: Any) -> Command:
    """The parts of a payload that are valid on their own (actor, sender, request id), so the refusal
    recorded for it names who sent it; anything invalid is left out, never shown."""
    if isinstance(raw, BaseModel):
        raw = raw.model_dump(mode="json")
    fields: dict[str, Any] = {}
    if isinstance(raw, dict):
        for name in ("actor", "sender", "request_id"):
            try:
                fields |= Command.model_validate({name: raw.get(name)}).model_dump(include={name})
            except ValidationError:
                continue
    return Command.model_validate(fields)
