"""The order's vocabulary (docs/lifecycle.md): its statuses, who acts on it, and the actions. The rules
that use these words are in `domain.lifecycle`."""

from __future__ import annotations

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
    def phrase(self) -> str:
        """The status in a sentence, after "the order is": refusals read it (docs/lifecycle.md)."""
        return PHRASES[self]

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

PHRASES: dict[Status, str] = {
    Status.PAYMENT_PENDING: "waiting for its payment",
    Status.WINDOW_TO_CANCEL: "in its cancellation window",
    Status.READY_FOR_HANDLING: "ready for handling",
    Status.HANDLING: "being prepared for delivery",
    Status.CANCELLATION_REQUESTED: "waiting for the store's decision on a cancellation",
    Status.CANCEL: "being canceled",
    Status.CANCELED: "canceled",
    Status.INVOICED: "invoiced",
}

FINAL_STATUSES = frozenset({Status.CANCELED, Status.INVOICED})


class Actor(StrEnum):
    CUSTOMER = "customer"
    STORE = "store"
    ERP = "erp"
    SYSTEM = "system"


class Action(StrEnum):
    # Commands other programs send (docs/lifecycle.md, "Commands"): each a signal and an update.
    APPROVE_PAYMENT = "approve_payment"
    REQUEST_CANCELLATION = "request_cancellation"
    CONFIRM_CANCELLATION = "confirm_cancellation"
    DENY_CANCELLATION = "deny_cancellation"
    START_HANDLING = "start_handling"
    INVOICE = "invoice"
    DENY_PAYMENT = "deny_payment"
    CANCEL_ITEMS = "cancel_items"
    EXTEND_GRACE_PERIOD = "extend_grace_period"
    EXTEND_DECISION_DEADLINE = "extend_decision_deadline"
    # Order modifications (docs/modifications.md): a change of lines, and the payment of a higher total.
    MODIFY_ORDER = "modify_order"
    APPROVE_MODIFICATION_PAYMENT = "approve_modification_payment"
    DENY_MODIFICATION_PAYMENT = "deny_modification_payment"
    CANCEL_MODIFICATION = "cancel_modification"
    # What the order does by itself: being placed, deadlines passing and compensations finishing.
    PLACE = "place"
    GRACE_EXPIRED = "grace_expired"
    DECISION_REMINDER = "decision_reminder"
    DECISION_TIMEOUT = "decision_timeout"
    PAYMENT_TIMEOUT = "payment_timeout"
    MODIFICATION_PAYMENT_TIMEOUT = "modification_payment_timeout"
    COMPENSATED = "compensated"
