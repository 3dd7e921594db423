"""Every command, declared once (docs/development.md "Adding a command").

A `CommandRecord` says all there is to say about one command beside the rulebook's rows for it
(`domain.lifecycle.TRANSITIONS`, which also says who may send it): its payload, its step (what it does to
the order), how it counts against the order's limits, which reasons it takes, the words of its refusals
where the table can't give them, and how each door presents it. The workflow's signal, update and
validator, the CLI's verbs, the console's buttons and the refusals are all read from here.

`decide` is the one verdict every door and the workflow use: the table's answer, or why not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic

from pydantic import BaseModel, ValidationError

from domain import checks, steps
from domain.commands import (
    ApprovePayment,
    C,
    CancelItems,
    Command,
    ConfirmCancellation,
    DenyCancellation,
    DenyPayment,
    ExtendDeadline,
    InvoiceCommand,
    MalformedCommand,
    ModificationDecision,
    ModifyOrder,
    RequestCancellation,
    StartHandling,
)
from domain.lifecycle import (
    STAFF,
    Action,
    Actor,
    Guard,
    Outcome,
    Refuse,
    Situation,
    Status,
    allowed,
    always,
    senders,
)
from domain.limits import Growth
from domain.reasons import Use, request_use
from domain.state import OrderState
from domain.wire import describe_errors

FIRST_RELEASE = "1.0"


@dataclass(frozen=True)
class Refusal:
    """Why a command is refused where the table can't say: `when` it applies, the words, the code."""

    when: Guard
    reason: str | Callable[[Situation], str]
    code: str
    any_status: bool = False  # judged before "the order is final" (VTEX answers OMS003 from any status)

    def words(self, situation: Situation) -> str:
        return self.reason if isinstance(self.reason, str) else self.reason(situation)


@dataclass(frozen=True)
class Cli:
    """The `orders` verb and its help; options beyond `--as` are the CLI's own (orders/cli/)."""

    verb: str
    help: str


@dataclass(frozen=True)
class Button:
    """A button on the console's order page, and what the page says once the order took it."""

    label: str
    done: str


@dataclass(frozen=True)
class CustomerButton:
    """The customer pages' button (in English; the pages translate it): its label when the rules apply the
    command at once, and when it asks the store instead (None: the same button either way)."""

    at_once: str
    asks: str | None = None


@dataclass(frozen=True)
class CommandRecord(Generic[C]):
    action: Action  # its value is the wire name: the signal's and the update's
    model: type[C]
    title: str  # what it does, as people say it: "start handling"
    step: steps.Step
    growth: Growth  # how it counts against the order's limits (domain/limits.py)
    refusals: Sequence[Refusal] = ()
    reason_use: Callable[[Actor], Use] | None = None  # which catalogue codes its reason takes
    # Beyond the table: whether it fits the order, what the rules need to know of it, its bounds once allowed.
    fits: Callable[[OrderState, C], Refuse | None] | None = None
    facts: Callable[[Situation, OrderState, C], Situation] | None = None
    bounds: Callable[[OrderState, C, datetime], Refuse | None] | None = None
    never_full_for: frozenset[Actor] = frozenset()  # who is never refused for the order's size
    # The release that added it: a run placed before it takes it as an update only (docs/versioning.md).
    since: str = FIRST_RELEASE
    # The doors: the CLI's verb, the REST path (VTEX's), the console's button, the customer pages' button.
    cli: Cli | None = None
    rest: str | None = None
    console: Button | None = None
    customer: CustomerButton | None = None

    @property
    def name(self) -> str:
        return self.action.value

    @property
    def senders(self) -> frozenset[Actor]:
        return senders(self.action)

    def parse(self, raw: Any) -> C:
        """The payload as this command's model (a dict from the wire, or a model already built)."""
        if isinstance(raw, self.model):
            command = raw
        else:
            if isinstance(raw, BaseModel):
                raw = raw.model_dump(mode="json")
            try:
                command = self.model.model_validate({} if raw is None else raw)
            except ValidationError as err:
                raise MalformedCommand(f"invalid {self.name}: {describe_errors(err)}") from None
        if command.code is not None and self.reason_use is None:
            # No catalogue use for it: a code would be recorded in the timeline unchecked.
            raise MalformedCommand(f"invalid {self.name}: {self.name} takes no reason_code")
        return command

    def lines(self, command: Command) -> int:
        """The item lines the command would add to a request or a modification."""
        if isinstance(command, ModifyOrder):
            return command.line_count()
        return len(command.items) if isinstance(command, CancelItems) else 0


def _deny_use(_: Actor) -> Use:
    return Use.DENY


def _status_is(situation: Situation) -> str:
    return situation.status.phrase


PARTIALLY_INVOICED = Refusal(
    lambda s: s.partially_invoiced, "partially invoiced orders can't be canceled", "partially-invoiced"
)
NO_PENDING_REQUEST = Refusal(
    always, "no cancellation request is waiting for a decision", "no-pending-request"
)
PAYMENT_ALREADY_APPROVED = Refusal(
    always, lambda s: f"the payment is already approved; the order is {_status_is(s)}", "already-approved"
)
NO_WAITING_MODIFICATION = Refusal(
    always, "no modification of the order is waiting for its payment", "no-waiting-modification"
)


def _not_modifiable(situation: Situation) -> str:
    status = situation.status
    why = (
        "an order can be modified once it is ready for handling, and while it is prepared; "
        f"it is {status.phrase}"
    )
    if status in (Status.PAYMENT_PENDING, Status.WINDOW_TO_CANCEL):
        return why + " (before then, cancel items, or wait until its cancellation window is over)"
    return why


# In the order the console shows their buttons.
RECORDS: tuple[CommandRecord[Any], ...] = (
    CommandRecord(
        Action.APPROVE_PAYMENT,
        ApprovePayment,
        "approve the payment",
        steps.approve_payment,
        Growth.DECIDES,
        refusals=(PAYMENT_ALREADY_APPROVED,),
        cli=Cli("approve-payment", "Approve ORDER_ID's payment: its cancellation window starts now."),
        rest="/api/oms/pvt/orders/{orderId}/payment-approved",
        console=Button("Approve payment", "Payment approved"),
    ),
    CommandRecord(
        Action.CONFIRM_CANCELLATION,
        ConfirmCancellation,
        "confirm a cancellation request",
        steps.confirm_pending,
        Growth.DECIDES,
        refusals=(NO_PENDING_REQUEST,),
        cli=Cli(
            "confirm",
            "Confirm ORDER_ID's pending cancellation request: the order (or the request's items) is "
            "canceled.",
        ),
        console=Button("Confirm cancellation", "Cancellation confirmed"),
    ),
    CommandRecord(
        Action.DENY_CANCELLATION,
        DenyCancellation,
        "deny a cancellation request",
        steps.deny_pending,
        Growth.DENIES,
        refusals=(NO_PENDING_REQUEST,),
        reason_use=_deny_use,
        cli=Cli("deny", "Decline ORDER_ID's pending cancellation request: the order goes on."),
        rest="/api/oms/pvt/orders/{orderId}/deny-cancellation-request",
        console=Button("Deny cancellation", "Cancellation request denied"),
    ),
    CommandRecord(
        Action.REQUEST_CANCELLATION,
        RequestCancellation,
        "request cancellation",
        steps.request_cancellation,
        Growth.REQUESTS,
        refusals=(
            PARTIALLY_INVOICED,
            Refusal(
                lambda s: s.pending_is_items,
                "an item cancellation request is waiting: confirm or deny it first, then cancel the order",
                "items-pending",
            ),
        ),
        reason_use=request_use,
        never_full_for=STAFF,  # the store can always start a cancellation (docs/reliability.md, "Limits")
        cli=Cli(
            "cancel",
            "Cancel ORDER_ID (or, with --item, some of its items), or request it.\n\n"
            "Inside the cancellation window it is canceled at once. After it, a customer's request waits "
            "for the store's decision; the store cancels items at once, and the whole order in two steps "
            "(a second `cancel`, or `confirm`). Canceling the last items cancels the order.",
        ),
        rest="/api/oms/pvt/orders/{orderId}/cancel",
        console=Button("Cancel order", "Cancellation sent"),
        customer=CustomerButton("Cancel order", asks="Request cancellation"),
    ),
    CommandRecord(
        Action.START_HANDLING,
        StartHandling,
        "start handling",
        steps.start_handling,
        Growth.DECIDES,
        refusals=(
            Refusal(
                always,
                lambda s: (
                    f"handling can start only when the order is ready for handling; it is {_status_is(s)}"
                ),
                "OMS003",
                any_status=True,
            ),
        ),
        cli=Cli("start-handling", "Start handling ORDER_ID (only once its cancellation window is over)."),
        rest="/api/oms/pvt/orders/{orderId}/start-handling",
        console=Button("Start handling", "Handling started"),
    ),
    CommandRecord(
        Action.EXTEND_GRACE_PERIOD,
        ExtendDeadline,
        "extend the cancellation window",
        steps.extend,
        Growth.CHANGES,
        refusals=(
            Refusal(
                always,
                lambda s: (
                    "the cancellation window can be extended only while it is open; "
                    f"the order is {_status_is(s)}"
                ),
                "not-extendable",
            ),
        ),
        bounds=checks.later_within_a_year,
        rest="/api/oms/pvt/orders/{orderId}/extend-grace-period",
        console=Button("Extend window", "Cancellation window extended"),
    ),
    CommandRecord(
        Action.EXTEND_DECISION_DEADLINE,
        ExtendDeadline,
        "extend the decision deadline",
        steps.extend,
        Growth.CHANGES,
        refusals=(NO_PENDING_REQUEST,),
        bounds=checks.later_within_a_year,
        rest="/api/oms/pvt/orders/{orderId}/extend-decision-deadline",
        console=Button("Extend deadline", "Decision deadline extended"),
    ),
    CommandRecord(
        Action.CANCEL_ITEMS,
        CancelItems,
        "cancel items",
        steps.request_cancellation,
        Growth.REQUESTS,
        refusals=(
            PARTIALLY_INVOICED,
            Refusal(
                lambda s: s.status is Status.CANCELLATION_REQUESTED,
                "a cancellation request is waiting for the store: decide it first",
                "request-pending",
            ),
            Refusal(
                always, "after the cancellation window only the store cancels items at once", "not-allowed"
            ),
        ),
        reason_use=request_use,
        fits=checks.items_in_order,
        facts=checks.items_facts,
        rest="/api/oms/pvt/orders/{orderId}/cancel-items",
        console=Button("Cancel items", "Items canceled"),
        customer=CustomerButton("Cancel items"),
    ),
    CommandRecord(
        Action.INVOICE,
        InvoiceCommand,
        "invoice the order",
        steps.invoice,
        Growth.INVOICES,
        refusals=(
            Refusal(
                lambda s: s.invoice_is_return and not s.partially_invoiced,
                "a return invoice needs a partially invoiced order; nothing is invoiced",
                "nothing-invoiced",
            ),
            Refusal(
                lambda s: s.invoice_is_return,
                "a return invoice can't exceed what is invoiced",
                "return-exceeds-invoiced",
            ),
            Refusal(
                always,
                lambda s: (
                    "an order can be invoiced only after its cancellation window; "
                    f"the order is {_status_is(s)}"
                ),
                "not-ready",
            ),
        ),
        facts=checks.invoice_facts,
        cli=Cli(
            "invoice",
            "Invoice ORDER_ID. Invoices covering the total make it invoiced (final); less, partially "
            "invoiced. With --return, a return invoice lowers what is invoiced instead.",
        ),
        rest="/api/oms/pvt/orders/{orderId}/invoice",
    ),
    CommandRecord(
        Action.DENY_PAYMENT,
        DenyPayment,
        "deny the payment",
        steps.payment_failed,
        Growth.DECIDES,
        refusals=(PAYMENT_ALREADY_APPROVED,),
        cli=Cli(
            "deny-payment",
            "The payment of payment-pending ORDER_ID was refused: the order is canceled at once (nothing "
            "to void; the stock is released and the customer told).",
        ),
        rest="/api/oms/pvt/orders/{orderId}/payment-denied",
    ),
    # Order modifications (docs/modifications.md).
    CommandRecord(
        Action.MODIFY_ORDER,
        ModifyOrder,
        "modify the order",
        steps.modify,
        Growth.MODIFIES,
        refusals=(
            Refusal(
                lambda s: s.ever_invoiced,
                "the order has an invoice: an order can be modified only before its first invoice",
                "invoiced",
            ),
            Refusal(
                lambda s: s.modification_waiting is not None,
                lambda s: (
                    f"modification {s.modification_waiting} is waiting for its payment: "
                    "approve, deny or cancel it first"
                ),
                "modification-waiting",
            ),
            Refusal(
                lambda s: s.status is Status.CANCELLATION_REQUESTED,
                "a cancellation request is waiting for the store: decide it first",
                "request-pending",
            ),
            Refusal(always, _not_modifiable, "not-modifiable"),
        ),
        facts=checks.modification_facts,
        bounds=checks.modification_fits,
        cli=Cli(
            "modify",
            "Modify ORDER_ID's lines: add, remove or replace quantities (in ready-for-handling or "
            "handling, before any invoice). A lower value applies at once, the difference voided or "
            "refunded; a higher one waits for the customer's payment of the difference.",
        ),
        rest="/api/order-system/orders/{orderId}/changes",
        console=Button("Modify order", "Order modified"),
        since="1.1",
    ),
    CommandRecord(
        Action.APPROVE_MODIFICATION_PAYMENT,
        ModificationDecision,
        "approve a modification's payment",
        steps.approve_modification,
        Growth.DECIDES,
        refusals=(NO_WAITING_MODIFICATION,),
        bounds=checks.names_the_waiting_modification,
        cli=Cli(
            "approve-modification-payment",
            "The customer paid the difference of ORDER_ID's modification MODIFICATION_ID: it applies now.",
        ),
        since="1.1",
        rest="/api/order-system/orders/{orderId}/changes/{changeRequestId}/payment-approved",
    ),
    CommandRecord(
        Action.DENY_MODIFICATION_PAYMENT,
        ModificationDecision,
        "deny a modification's payment",
        steps.lapse_modification,
        Growth.DECIDES,
        refusals=(NO_WAITING_MODIFICATION,),
        bounds=checks.names_the_waiting_modification,
        cli=Cli(
            "deny-modification-payment",
            "The payment of the difference of ORDER_ID's modification MODIFICATION_ID was refused: it "
            "lapses, the order stays as it was.",
        ),
        since="1.1",
        rest="/api/order-system/orders/{orderId}/changes/{changeRequestId}/payment-denied",
    ),
    CommandRecord(
        Action.CANCEL_MODIFICATION,
        ModificationDecision,
        "cancel a modification",
        steps.lapse_modification,
        Growth.DECIDES,
        refusals=(NO_WAITING_MODIFICATION,),
        bounds=checks.names_the_waiting_modification,
        cli=Cli(
            "cancel-modification",
            "Withdraw ORDER_ID's modification MODIFICATION_ID while it waits for its payment: it lapses, "
            "the order stays as it was.",
        ),
        rest="/api/order-system/orders/{orderId}/changes/{changeRequestId}/cancel",
        console=Button("Cancel modification", "Modification canceled"),
        since="1.1",
    ),
)

COMMANDS: dict[Action, CommandRecord[Any]] = {record.action: record for record in RECORDS}


def parse_command(action: Action, raw: Any) -> Command:
    """`action`'s payload as its model; `MalformedCommand` naming the fields when it doesn't fit."""
    command: Command = COMMANDS[action].parse(raw)
    return command


def decide(situation: Situation, action: Action, actor: Actor) -> Outcome:
    """What `action` by `actor` does to an order in `situation`: the table's answer, or why not."""
    return allowed(situation, action, actor) or why_refused(situation, action, actor)


def why_refused(situation: Situation, action: Action, actor: Actor) -> Refuse:
    """The reason a person can act on, for an action the table does not allow."""
    status, record = situation.status, COMMANDS.get(action)
    own = record.refusals if record else ()
    may_send = actor in senders(action)
    first = _first(r for r in own if r.any_status and may_send and r.when(situation))
    if first is not None:
        return Refuse(first.words(situation), first.code)
    if status.is_final:
        return Refuse(f"the order is {status.value}; {status.value} orders are final", "final")
    if record is None:
        return Refuse(f"{action.value} is the order's own event, not a command", "internal")
    if not may_send:
        return Refuse(
            f"only {_spoken(senders(action))} may {record.title}, not the {actor.value}", "forbidden-actor"
        )
    if status is Status.CANCEL:
        return Refuse("the order is already being canceled", "canceling")
    found = _first(r for r in own if r.when(situation))
    if found is not None:
        return Refuse(found.words(situation), found.code)
    return Refuse(f"can't {record.title} while the order is {status.phrase}", "not-allowed")


def _first(refusals: Iterable[Refusal]) -> Refusal | None:
    return next(iter(refusals), None)


def _spoken(actors: frozenset[Actor]) -> str:
    names = [f"the {actor.value}" for actor in Actor if actor in actors]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
