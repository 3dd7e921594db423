"""The order lifecycle (SPEC §2-§3) as data: statuses, actors, and a table of transitions.

Pure rules, no Temporal and no I/O, so they are read at a glance and tested in microseconds.
`decide` answers one question: what does `action` by `actor` do to an order in a given situation?
The answer is a `Move` to a new status, a `Stay` (accepted, nothing to change), or a `Refuse` with a
reason a person can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    PAYMENT_PENDING = "payment-pending"
    WINDOW_TO_CANCEL = "window-to-cancel"
    READY_FOR_HANDLING = "ready-for-handling"
    HANDLING = "handling"
    CANCELLATION_REQUESTED = "cancellation-requested"
    CANCEL = "cancel"
    CANCELED = "canceled"
    INVOICED = "invoiced"

    @property
    def display_name(self) -> str:
        return DISPLAY_NAMES[self]

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


DISPLAY_NAMES: dict[Status, str] = {
    Status.PAYMENT_PENDING: "Payment pending",
    Status.WINDOW_TO_CANCEL: "Cancellation window",
    Status.READY_FOR_HANDLING: "Ready for handling",
    Status.HANDLING: "Preparing delivery",
    Status.CANCELLATION_REQUESTED: "Cancellation requested",
    Status.CANCEL: "Canceling",
    Status.CANCELED: "Canceled",
    Status.INVOICED: "Invoiced",
}

FINAL_STATUSES = frozenset({Status.CANCELED, Status.INVOICED})


class Actor(StrEnum):
    CUSTOMER = "customer"
    STORE = "store"
    ERP = "erp"
    SYSTEM = "system"


class Action(StrEnum):
    # Commands other programs send (SPEC §4).
    APPROVE_PAYMENT = "approve_payment"
    REQUEST_CANCELLATION = "request_cancellation"
    CONFIRM_CANCELLATION = "confirm_cancellation"
    DENY_CANCELLATION = "deny_cancellation"
    START_HANDLING = "start_handling"
    INVOICE = "invoice"
    # What the order does by itself: being placed, timers firing and compensations finishing.
    PLACE = "place"
    GRACE_EXPIRED = "grace_expired"
    DECISION_TIMEOUT = "decision_timeout"
    COMPENSATED = "compensated"


COMMANDS = frozenset(
    {
        Action.APPROVE_PAYMENT,
        Action.REQUEST_CANCELLATION,
        Action.CONFIRM_CANCELLATION,
        Action.DENY_CANCELLATION,
        Action.START_HANDLING,
        Action.INVOICE,
    }
)
INTERNAL_ACTIONS = frozenset(Action) - COMMANDS

ANYONE = frozenset(Actor)
STAFF = frozenset({Actor.STORE, Actor.ERP})
PAYMENT_APPROVERS = frozenset({Actor.STORE, Actor.ERP, Actor.SYSTEM})
SYSTEM = frozenset({Actor.SYSTEM})
CUSTOMER = frozenset({Actor.CUSTOMER})

# Where a declined request sends the order back to: the status it had before the request.
STATUS_BEFORE_REQUEST = "status-before-request"


@dataclass(frozen=True)
class Situation:
    """What the rules need to know about an order, at the moment an action is judged."""

    status: Status
    partially_invoiced: bool = False
    # The action was made inside the grace window (judged by when it was made, not by the status).
    inside_grace_window: bool = False
    # An invoice whose value brings the invoiced total to the order total or beyond.
    invoice_covers_total: bool = False
    status_before_request: Status | None = None


@dataclass(frozen=True)
class Move:
    to: Status
    note: str


@dataclass(frozen=True)
class Stay:
    note: str


@dataclass(frozen=True)
class Refuse:
    reason: str
    code: str


Outcome = Move | Stay | Refuse
Guard = Callable[[Situation], bool]


def always(_: Situation) -> bool:
    return True


def inside_grace_window(s: Situation) -> bool:
    return s.inside_grace_window


def not_partially_invoiced(s: Situation) -> bool:
    return not s.partially_invoiced


def invoice_covers_total(s: Situation) -> bool:
    return s.invoice_covers_total


@dataclass(frozen=True)
class Rule:
    sources: frozenset[Status]
    action: Action
    actors: frozenset[Actor]
    to: Status | str | None  # None: accepted without a change
    note: str
    when: Guard = always


def _rule(
    sources: set[Status],
    action: Action,
    actors: frozenset[Actor],
    to: Status | str | None,
    note: str,
    when: Guard = always,
) -> Rule:
    return Rule(frozenset(sources), action, actors, to, note, when)


S = Status
A = Action
HANDLEABLE = {S.READY_FOR_HANDLING, S.HANDLING}
INVOICEABLE = {S.READY_FOR_HANDLING, S.HANDLING, S.CANCELLATION_REQUESTED}

# The lifecycle, one row per rule; the first row that matches wins (SPEC §3).
TRANSITIONS: tuple[Rule, ...] = (
    _rule({S.PAYMENT_PENDING}, A.APPROVE_PAYMENT, PAYMENT_APPROVERS, S.WINDOW_TO_CANCEL,
          "payment approved; the cancellation window starts"),
    _rule({S.PAYMENT_PENDING}, A.REQUEST_CANCELLATION, ANYONE, S.CANCEL,
          "canceled before payment approval"),
    _rule({S.WINDOW_TO_CANCEL}, A.REQUEST_CANCELLATION, ANYONE, S.CANCEL,
          "canceled inside the cancellation window"),
    _rule({S.WINDOW_TO_CANCEL}, A.GRACE_EXPIRED, SYSTEM, S.READY_FOR_HANDLING,
          "cancellation window over"),
    # A request made inside the window counts as made inside it, however late it is processed.
    _rule(HANDLEABLE, A.REQUEST_CANCELLATION, ANYONE, S.CANCEL,
          "canceled: requested inside the cancellation window",
          when=lambda s: inside_grace_window(s) and not_partially_invoiced(s)),
    _rule({S.READY_FOR_HANDLING}, A.START_HANDLING, STAFF, S.HANDLING, "handling started"),
    _rule(HANDLEABLE, A.REQUEST_CANCELLATION, CUSTOMER, S.CANCELLATION_REQUESTED,
          "cancellation requested by the customer; waiting for the store",
          when=not_partially_invoiced),
    _rule(HANDLEABLE, A.REQUEST_CANCELLATION, STAFF | SYSTEM, S.CANCELLATION_REQUESTED,
          "cancellation requested; confirm to cancel", when=not_partially_invoiced),
    _rule({S.CANCELLATION_REQUESTED}, A.CONFIRM_CANCELLATION, STAFF, S.CANCEL,
          "cancellation confirmed"),
    _rule({S.CANCELLATION_REQUESTED}, A.REQUEST_CANCELLATION, STAFF, S.CANCEL,
          "cancellation confirmed by a second request"),
    _rule({S.CANCELLATION_REQUESTED}, A.REQUEST_CANCELLATION, CUSTOMER | SYSTEM, None,
          "a cancellation request is already waiting for the store"),
    _rule({S.CANCELLATION_REQUESTED}, A.DENY_CANCELLATION, STAFF, STATUS_BEFORE_REQUEST,
          "cancellation request denied"),
    _rule({S.CANCELLATION_REQUESTED}, A.DECISION_TIMEOUT, SYSTEM, S.CANCEL,
          "canceled: the store did not decide in time"),
    _rule(INVOICEABLE, A.INVOICE, STAFF, S.INVOICED, "invoiced in full",
          when=invoice_covers_total),
    _rule(INVOICEABLE, A.INVOICE, STAFF, S.HANDLING, "partially invoiced"),
    _rule({S.CANCEL}, A.REQUEST_CANCELLATION, ANYONE, None, "the order is already being canceled"),
    _rule({S.CANCEL}, A.COMPENSATED, SYSTEM, S.CANCELED, "canceled; payment, stock and customer handled"),
)  # fmt: skip


def decide(situation: Situation, action: Action, actor: Actor) -> Outcome:
    """What `action` by `actor` does to an order in `situation`."""
    for rule in TRANSITIONS:
        if (
            situation.status in rule.sources
            and rule.action == action
            and actor in rule.actors
            and rule.when(situation)
        ):
            if rule.to is None:
                return Stay(rule.note)
            if rule.to == STATUS_BEFORE_REQUEST:
                return Move(situation.status_before_request or Status.READY_FOR_HANDLING, rule.note)
            return Move(Status(rule.to), rule.note)
    return why_refused(situation, action, actor)


def why_refused(situation: Situation, action: Action, actor: Actor) -> Refuse:
    """The reason a person can act on, for an action the table does not allow."""
    status = situation.status
    if action is Action.START_HANDLING and actor in STAFF:  # VTEX answers OMS003 from any other status
        return Refuse(f"handling can start only in ready-for-handling; the order is {status.value}", "OMS003")
    if status.is_final:
        return Refuse(f"the order is {status.value}; {status.value} orders are final", "final")
    if action in INTERNAL_ACTIONS:
        return Refuse(f"{action.value} is the order's own event, not a command", "internal")
    if actor is Actor.CUSTOMER and action is not Action.REQUEST_CANCELLATION:
        return Refuse("customers may only request cancellation", "forbidden-actor")
    if actor is Actor.SYSTEM and action not in (Action.APPROVE_PAYMENT, Action.REQUEST_CANCELLATION):
        return Refuse(
            f"{action.value} must be sent by the store or the erp, not the system", "forbidden-actor"
        )
    if status is Status.CANCEL:
        return Refuse("the order is already being canceled", "canceling")
    if action is Action.REQUEST_CANCELLATION and situation.partially_invoiced:
        return Refuse("partially invoiced orders can't be canceled", "partially-invoiced")
    if action is Action.START_HANDLING:
        return Refuse(f"handling can start only in ready-for-handling; the order is {status.value}", "OMS003")
    if action in (Action.CONFIRM_CANCELLATION, Action.DENY_CANCELLATION):
        return Refuse("no cancellation request is waiting for a decision", "no-pending-request")
    if action is Action.APPROVE_PAYMENT:
        return Refuse(f"the payment is already approved; the order is {status.value}", "already-approved")
    if action is Action.INVOICE:
        return Refuse(
            f"an order can be invoiced only after its cancellation window; the order is {status.value}",
            "not-ready",
        )
    return Refuse(f"{action.value} by {actor.value} is not allowed in {status.value}", "not-allowed")


# Named predicates the interfaces use (VTEX's allowCancellation, the CLI's verdicts).


def cancellation_allowed(situation: Situation) -> bool:
    """Whether the store or the erp can cancel the order now, at once or through a request."""
    return isinstance(decide(situation, Action.REQUEST_CANCELLATION, Actor.STORE), Move)


def cancellation_action(situation: Situation) -> str | None:
    """What a request made now would do: `cancel` at once, or `request` the store's decision."""
    outcome = decide(situation, Action.REQUEST_CANCELLATION, Actor.CUSTOMER)
    if isinstance(outcome, Move):
        return "cancel" if outcome.to is Status.CANCEL else "request"
    if situation.status is Status.CANCELLATION_REQUESTED:
        return "cancel"  # the store's confirmation is the one step left
    return None
