"""The rulebook (docs/lifecycle.md): every rule of an order's life, in one place.

- `TRANSITIONS`: what each action by each actor does in each status, one row per rule (the statuses,
  actors and actions are named in `domain.terms`).
- `TIMERS`: which status waits for which deadline, and what happens when it passes.
- `payment_undo`, `stock_undo`: what a cancellation undoes.
- `allowed` answers: what does `action` by `actor` do in this situation? A `Move` to a new status, a
  `Stay` (accepted, nothing to change), or None: no rule allows it. Each command's record
  (`domain.registry`) adds what it does (its step), its payload and why it is refused, in words a person
  can act on (`domain.registry.decide`).

Pure: no Temporal, no I/O, no clock. `domain.order.Order` applies what these rules decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum

from domain.events import EventType

# Re-exported: the rules and their words are imported together.
from domain.terms import DISPLAY_NAMES as DISPLAY_NAMES
from domain.terms import FINAL_STATUSES as FINAL_STATUSES
from domain.terms import Action as Action
from domain.terms import Actor as Actor
from domain.terms import Status as Status

ANYONE = frozenset(Actor)
STAFF = frozenset({Actor.STORE, Actor.ERP})
PAYMENT_APPROVERS = STAFF | {Actor.SYSTEM}
PAYMENT_NOTIFIERS = frozenset({Actor.SYSTEM, Actor.ERP})  # a payment gateway's notification
SYSTEM = frozenset({Actor.SYSTEM})
CUSTOMER = frozenset({Actor.CUSTOMER})


# What the order does by itself; every other action is a command, declared once in domain/registry.py.
OWN_EVENTS = frozenset(
    {
        Action.PLACE,
        Action.GRACE_EXPIRED,
        Action.DECISION_REMINDER,
        Action.DECISION_TIMEOUT,
        Action.PAYMENT_TIMEOUT,
        Action.MODIFICATION_PAYMENT_TIMEOUT,
        Action.COMPENSATED,
    }
)
COMMANDS = frozenset(Action) - OWN_EVENTS


class Target(Enum):
    """A rule's target that depends on the order: where it was before the pending request, or where it
    is (the order changed without changing its status)."""

    STATUS_BEFORE_REQUEST = "the status before the request"
    SAME_STATUS = "the same status"


@dataclass(frozen=True)
class Situation:
    """What the rules need to know about an order, at the moment an action is judged."""

    status: Status
    partially_invoiced: bool = False
    # The action was made inside the grace window (judged by when it was made, not by the status).
    inside_grace_window: bool = False
    # An invoice whose value brings the invoiced total to the order total or beyond.
    invoice_covers_total: bool = False
    # A return invoice (VTEX's `Input`), and whether its value is within what is invoiced now.
    invoice_is_return: bool = False
    return_within_invoiced: bool = False
    status_before_request: Status | None = None
    # Items: the command cancels every item that remains; the pending request is for items (and
    # confirming it would leave none).
    cancels_last_items: bool = False
    pending_is_items: bool = False
    pending_items_are_the_last: bool = False
    # Modifications: the order has (or had) an invoice; the id of the modification waiting for its
    # payment; the modification judged raises the order's value above what its payment covers.
    ever_invoiced: bool = False
    modification_waiting: str | None = None
    modification_costs_more: bool = False


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


# One named predicate per rule.


def always(_: Situation) -> bool:
    return True


def inside_grace_window(s: Situation) -> bool:
    return s.inside_grace_window


def not_partially_invoiced(s: Situation) -> bool:
    return not s.partially_invoiced


def requested_inside_window(s: Situation) -> bool:
    """A request made inside the window counts as made inside it, however late it is processed."""
    return inside_grace_window(s) and not_partially_invoiced(s)


def cancels_last_items(s: Situation) -> bool:
    return s.cancels_last_items


def last_items_inside_window(s: Situation) -> bool:
    return requested_inside_window(s) and s.cancels_last_items


def last_items_by_the_store(s: Situation) -> bool:
    return not_partially_invoiced(s) and s.cancels_last_items


def pending_is_items(s: Situation) -> bool:
    return s.pending_is_items


def pending_is_the_last_items(s: Situation) -> bool:
    return s.pending_is_items and s.pending_items_are_the_last


def pending_is_the_whole_order(s: Situation) -> bool:
    return not s.pending_is_items


def invoice_covers_total(s: Situation) -> bool:
    return not s.invoice_is_return and s.invoice_covers_total


def not_a_return(s: Situation) -> bool:
    return not s.invoice_is_return


def modifiable(s: Situation) -> bool:
    """Never after any invoice; one modification waiting for its payment at a time."""
    return not s.ever_invoiced and s.modification_waiting is None


def modification_waits_for_payment(s: Situation) -> bool:
    return modifiable(s) and s.modification_costs_more


def modification_waiting(s: Situation) -> bool:
    return s.modification_waiting is not None


def returns_part_of_what_is_invoiced(s: Situation) -> bool:
    """A return reduces a partial invoice; once nothing stays invoiced the order can be canceled again."""
    return s.invoice_is_return and s.partially_invoiced and s.return_within_invoiced


@dataclass(frozen=True)
class Rule:
    sources: frozenset[Status]
    action: Action
    actors: frozenset[Actor]
    to: Status | Target | None  # None: accepted without a change
    note: str
    when: Guard = always


def _rule(
    sources: set[Status],
    action: Action,
    actors: frozenset[Actor],
    to: Status | Target | None,
    note: str,
    when: Guard = always,
) -> Rule:
    return Rule(frozenset(sources), action, actors, to, note, when)


S, A = Status, Action
BACK, SAME = Target.STATUS_BEFORE_REQUEST, Target.SAME_STATUS
BEFORE_HANDLING = {S.PAYMENT_PENDING, S.WINDOW_TO_CANCEL}
HANDLEABLE = {S.READY_FOR_HANDLING, S.HANDLING}
INVOICEABLE = {S.READY_FOR_HANDLING, S.HANDLING, S.CANCELLATION_REQUESTED}
# Where a modification may wait for its payment: where it was made, and a cancellation request after it
# (`TIMERS` has its deadline in each).
MODIFICATION_WAITS_IN = HANDLEABLE | {S.CANCELLATION_REQUESTED}

# The lifecycle, one row per rule; the first row that matches wins (docs/lifecycle.md, "The rules").
TRANSITIONS: tuple[Rule, ...] = (
    _rule({S.PAYMENT_PENDING}, A.APPROVE_PAYMENT, PAYMENT_APPROVERS, S.WINDOW_TO_CANCEL,
          "payment approved; the cancellation window starts"),
    _rule({S.PAYMENT_PENDING}, A.REQUEST_CANCELLATION, ANYONE, S.CANCEL,
          "canceled before payment approval"),
    _rule({S.PAYMENT_PENDING}, A.DENY_PAYMENT, PAYMENT_NOTIFIERS, S.CANCEL,
          "canceled: the payment was denied"),
    _rule({S.PAYMENT_PENDING}, A.PAYMENT_TIMEOUT, SYSTEM, S.CANCEL,
          "canceled: the payment did not arrive in time"),
    _rule({S.WINDOW_TO_CANCEL}, A.REQUEST_CANCELLATION, ANYONE, S.CANCEL,
          "canceled inside the cancellation window"),
    _rule({S.WINDOW_TO_CANCEL}, A.GRACE_EXPIRED, SYSTEM, S.READY_FOR_HANDLING,
          "cancellation window over"),
    _rule({S.WINDOW_TO_CANCEL}, A.EXTEND_GRACE_PERIOD, STAFF, SAME, "cancellation window extended"),
    # Items (docs/items.md): the same windows as the whole order; no item left cancels the order.
    _rule(BEFORE_HANDLING, A.CANCEL_ITEMS, ANYONE, S.CANCEL, "every item canceled: the order is canceled",
          when=cancels_last_items),
    _rule(BEFORE_HANDLING, A.CANCEL_ITEMS, ANYONE, SAME, "items canceled"),
    _rule(HANDLEABLE, A.CANCEL_ITEMS, ANYONE, S.CANCEL, "every item canceled: requested inside the window",
          when=last_items_inside_window),
    _rule(HANDLEABLE, A.CANCEL_ITEMS, ANYONE, SAME, "items canceled: requested inside the window",
          when=requested_inside_window),
    _rule(HANDLEABLE, A.CANCEL_ITEMS, STAFF, S.CANCEL, "every item canceled by the store",
          when=last_items_by_the_store),
    _rule(HANDLEABLE, A.CANCEL_ITEMS, STAFF, SAME, "items canceled by the store",
          when=not_partially_invoiced),
    _rule(HANDLEABLE, A.CANCEL_ITEMS, CUSTOMER, S.CANCELLATION_REQUESTED,
          "item cancellation requested by the customer; waiting for the store", when=not_partially_invoiced),
    _rule(HANDLEABLE, A.REQUEST_CANCELLATION, ANYONE, S.CANCEL,
          "canceled: requested inside the cancellation window", when=requested_inside_window),
    _rule({S.READY_FOR_HANDLING}, A.START_HANDLING, STAFF, S.HANDLING, "handling started"),
    _rule(HANDLEABLE, A.REQUEST_CANCELLATION, CUSTOMER, S.CANCELLATION_REQUESTED,
          "cancellation requested by the customer; waiting for the store", when=not_partially_invoiced),
    _rule(HANDLEABLE, A.REQUEST_CANCELLATION, STAFF | SYSTEM, S.CANCELLATION_REQUESTED,
          "cancellation requested; confirm to cancel", when=not_partially_invoiced),
    _rule({S.CANCELLATION_REQUESTED}, A.CONFIRM_CANCELLATION, STAFF, S.CANCEL,
          "item cancellation confirmed: no item remains", when=pending_is_the_last_items),
    _rule({S.CANCELLATION_REQUESTED}, A.CONFIRM_CANCELLATION, STAFF, BACK, "item cancellation confirmed",
          when=pending_is_items),
    _rule({S.CANCELLATION_REQUESTED}, A.CONFIRM_CANCELLATION, STAFF, S.CANCEL, "cancellation confirmed"),
    _rule({S.CANCELLATION_REQUESTED}, A.REQUEST_CANCELLATION, STAFF, S.CANCEL,
          "cancellation confirmed by a second request", when=pending_is_the_whole_order),
    _rule({S.CANCELLATION_REQUESTED}, A.REQUEST_CANCELLATION, CUSTOMER | SYSTEM, None,
          "a cancellation request is already waiting for the store", when=pending_is_the_whole_order),
    _rule({S.CANCELLATION_REQUESTED}, A.DENY_CANCELLATION, STAFF, BACK, "cancellation request denied"),
    _rule({S.CANCELLATION_REQUESTED}, A.DECISION_TIMEOUT, SYSTEM, S.CANCEL,
          "the store did not decide in time: no item remains", when=pending_is_the_last_items),
    _rule({S.CANCELLATION_REQUESTED}, A.DECISION_TIMEOUT, SYSTEM, BACK,
          "items canceled: the store did not decide in time", when=pending_is_items),
    _rule({S.CANCELLATION_REQUESTED}, A.DECISION_TIMEOUT, SYSTEM, S.CANCEL,
          "canceled: the store did not decide in time"),
    _rule({S.CANCELLATION_REQUESTED}, A.EXTEND_DECISION_DEADLINE, STAFF, SAME, "decision deadline extended"),
    _rule({S.CANCELLATION_REQUESTED}, A.DECISION_REMINDER, SYSTEM, SAME, "the store was reminded to decide"),
    _rule({S.HANDLING}, A.INVOICE, STAFF, S.HANDLING, "return invoice: less is invoiced",
          when=returns_part_of_what_is_invoiced),
    _rule(INVOICEABLE, A.INVOICE, STAFF, S.INVOICED, "invoiced in full", when=invoice_covers_total),
    _rule(INVOICEABLE, A.INVOICE, STAFF, S.HANDLING, "partially invoiced", when=not_a_return),
    # Modifications (docs/modifications.md): a lower value applies at once, a higher one waits for payment.
    _rule(HANDLEABLE, A.MODIFY_ORDER, STAFF, SAME,
          "order modification waiting for the difference to be paid", when=modification_waits_for_payment),
    _rule(HANDLEABLE, A.MODIFY_ORDER, STAFF, SAME, "order modified", when=modifiable),
    _rule(MODIFICATION_WAITS_IN, A.APPROVE_MODIFICATION_PAYMENT, PAYMENT_NOTIFIERS, SAME,
          "the difference was paid: order modified", when=modification_waiting),
    _rule(MODIFICATION_WAITS_IN, A.DENY_MODIFICATION_PAYMENT, PAYMENT_NOTIFIERS, SAME,
          "the difference was not paid: the modification lapsed", when=modification_waiting),
    _rule(MODIFICATION_WAITS_IN, A.CANCEL_MODIFICATION, STAFF, SAME,
          "the modification was withdrawn before its payment", when=modification_waiting),
    _rule(MODIFICATION_WAITS_IN, A.MODIFICATION_PAYMENT_TIMEOUT, SYSTEM, SAME,
          "the difference was not paid in time: the modification lapsed", when=modification_waiting),
    _rule({S.CANCEL}, A.REQUEST_CANCELLATION, ANYONE, None, "the order is already being canceled"),
    _rule({S.CANCEL}, A.COMPENSATED, SYSTEM, S.CANCELED, "canceled; payment, stock and customer handled"),
)  # fmt: skip


class CancelPath(StrEnum):
    """How an order came to be canceled: what the report counts."""

    INSIDE_WINDOW = "inside-window"  # at once: in the window, or before the payment was approved
    AFTER_CONFIRMATION = "after-confirmation"  # the store confirmed a request (or asked twice)
    DECISION_TIMEOUT = "decision-timeout"  # the store did not decide in time
    PAYMENT_TIMEOUT = "payment-timeout"  # the payment never arrived
    PAYMENT_DENIED = "payment-denied"  # the payment gateway said no


class Deadline(StrEnum):
    """The order's deadlines; `OrderState.deadline` says when each one is."""

    PAYMENT = "payment"
    GRACE = "grace"
    REMINDER = "reminder"  # the pending request's next reminder to the store
    DECISION = "decision"
    MODIFICATION_PAYMENT = "modification-payment"  # the waiting modification's payment


@dataclass(frozen=True)
class Timer:
    status: Status
    deadline: Deadline
    action: Action  # what the system does when the deadline passes in that status


# While an order is in `status`, a durable timer waits for each `deadline`; when the soonest passes,
# its `action` happens.
TIMERS: tuple[Timer, ...] = (
    Timer(S.PAYMENT_PENDING, Deadline.PAYMENT, A.PAYMENT_TIMEOUT),
    Timer(S.WINDOW_TO_CANCEL, Deadline.GRACE, A.GRACE_EXPIRED),
    Timer(S.CANCELLATION_REQUESTED, Deadline.REMINDER, A.DECISION_REMINDER),
    Timer(S.CANCELLATION_REQUESTED, Deadline.DECISION, A.DECISION_TIMEOUT),
    Timer(S.READY_FOR_HANDLING, Deadline.MODIFICATION_PAYMENT, A.MODIFICATION_PAYMENT_TIMEOUT),
    Timer(S.HANDLING, Deadline.MODIFICATION_PAYMENT, A.MODIFICATION_PAYMENT_TIMEOUT),
    Timer(S.CANCELLATION_REQUESTED, Deadline.MODIFICATION_PAYMENT, A.MODIFICATION_PAYMENT_TIMEOUT),
)


def allowed(situation: Situation, action: Action, actor: Actor) -> Move | Stay | None:
    """What the first rule that matches says `action` by `actor` does; None when no rule allows it
    (`domain.registry.decide` then says why, in words a person can act on)."""
    for rule in TRANSITIONS:
        if (
            situation.status in rule.sources
            and rule.action == action
            and actor in rule.actors
            and rule.when(situation)
        ):
            if rule.to is None:
                return Stay(rule.note)
            if rule.to is BACK:
                return Move(situation.status_before_request or Status.READY_FOR_HANDLING, rule.note)
            if rule.to is SAME:
                return Move(situation.status, rule.note)
            assert isinstance(rule.to, Status)
            return Move(rule.to, rule.note)
    return None


def senders(action: Action) -> frozenset[Actor]:
    """Who may send `action` at all: every actor some rule allows it to."""
    return _SENDERS[action]


_SENDERS = {a: frozenset().union(*(r.actors for r in TRANSITIONS if r.action is a)) for a in Action}


# What a cancellation undoes (docs/lifecycle.md, "What a cancellation undoes").


def payment_undo(*, approved: bool, captured: bool, path: CancelPath | None = None) -> EventType | None:
    """Void what was only authorized; refund what was captured; nothing when the payment never came."""
    if path in (CancelPath.PAYMENT_TIMEOUT, CancelPath.PAYMENT_DENIED):
        return None
    return EventType.PAYMENT_REFUND if approved and captured else EventType.PAYMENT_VOID


def stock_undo(*, handling_started: bool) -> EventType:
    """Release the reservation, unless the store has started picking: then it is told to restock."""
    return EventType.STORE_RESTOCK_NEEDED if handling_started else EventType.STOCK_RELEASE


def initial_status(*, payment_approved: bool) -> Status:
    """Where a new order starts: its window opens with the payment's approval."""
    return Status.WINDOW_TO_CANCEL if payment_approved else Status.PAYMENT_PENDING


def cancel_path(*, before: Status, inside_window: bool) -> CancelPath:
    """How a request that cancels the order counts: at once before handling or in the window, else as
    the store's confirmation (its second step)."""
    at_once = before in BEFORE_HANDLING or inside_window
    return CancelPath.INSIDE_WINDOW if at_once else CancelPath.AFTER_CONFIRMATION


# Named predicates the interfaces use (VTEX's allowCancellation, the CLI's verdicts).


def cancellation_allowed(situation: Situation) -> bool:
    """Whether the store or the erp can cancel the order now, at once or through a request."""
    return isinstance(allowed(situation, Action.REQUEST_CANCELLATION, Actor.STORE), Move)


def cancellation_action(situation: Situation) -> str | None:
    """What a request made now would do: `cancel` at once, or `request` the store's decision."""
    outcome = allowed(situation, Action.REQUEST_CANCELLATION, Actor.CUSTOMER)
    if isinstance(outcome, Move):
        return "cancel" if outcome.to is Status.CANCEL else "request"
    if situation.status is Status.CANCELLATION_REQUESTED:
        return "cancel"  # the store's confirmation is the one step left
    return None


@dataclass(frozen=True)
class PendingDecision:
    """What each way of deciding the pending request does, in words the interfaces show."""

    confirm: str  # confirming it (or, for a whole-order request, the store's second cancel)
    deny: str
    timeout: str  # no decision by the deadline
    second_cancel_confirms: bool  # a staff `cancel` of the order confirms it (not for item requests)


def pending_decision(situation: Situation) -> PendingDecision | None:
    """The consequences of confirming, denying or not deciding the pending request, from the table."""
    if situation.status is not Status.CANCELLATION_REQUESTED:
        return None

    def words(action: Action, actor: Actor) -> str:
        outcome = allowed(situation, action, actor)
        assert isinstance(outcome, Move), outcome
        if outcome.to is Status.CANCEL:
            return "the order is canceled"
        back = f"the order goes back to {outcome.to.display_name}"
        items_go = situation.pending_is_items and action is not Action.DENY_CANCELLATION
        return f"the items are canceled and {back}" if items_go else back

    second = allowed(situation, Action.REQUEST_CANCELLATION, Actor.STORE)
    return PendingDecision(
        confirm=words(Action.CONFIRM_CANCELLATION, Actor.STORE),
        deny=words(Action.DENY_CANCELLATION, Actor.STORE),
        timeout=words(Action.DECISION_TIMEOUT, Actor.SYSTEM),
        second_cancel_confirms=isinstance(second, Move),
    )
