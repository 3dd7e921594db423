"""The workflow's input (docs/lifecycle.md), the store's defaults, and what continue-as-new hands on."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from domain import defaults
from domain.answers import Answers
from domain.reasons import BUILT_IN, ReasonCodes
from domain.state import OrderState
from domain.text import Id, Name
from domain.wire import (
    MAX_ITEMS,
    Cents,
    ClientProfile,
    Currency,
    DecisionTimeout,
    GracePeriod,
    Item,
    ModificationPaymentTimeout,
    Origin,
    Payment,
    PaymentTimeout,
    PositiveSeconds,
    WireModel,
    one_line_per_sku,
)

ReminderOffsets = Annotated[list[PositiveSeconds], Field(max_length=defaults.MAX_REMINDERS)]


class StoreSettings(WireModel):
    """The store's defaults for orders placed without their own durations and reason codes."""

    grace_period_seconds: GracePeriod = defaults.GRACE_PERIOD_SECONDS
    decision_timeout_seconds: DecisionTimeout = defaults.DECISION_TIMEOUT_SECONDS
    payment_timeout_seconds: PaymentTimeout = defaults.PAYMENT_TIMEOUT_SECONDS
    modification_payment_timeout_seconds: ModificationPaymentTimeout = (
        defaults.MODIFICATION_PAYMENT_TIMEOUT_SECONDS
    )
    reminder_offsets: ReminderOffsets = defaults.REMINDER_OFFSETS
    reasons: ReasonCodes = BUILT_IN.snapshot()


class CarriedOver(WireModel):
    """The order as the previous run left it."""

    state: OrderState
    answers: Answers = Answers()


class OrderInput(WireModel):
    """`OrderWorkflow`'s argument. Durations left out take the store's settings."""

    order_id: Id
    customer_id: Id
    total: Cents
    currency: Currency = "BRL"
    items: Annotated[list[Item], Field(max_length=MAX_ITEMS), AfterValidator(one_line_per_sku)] = []
    payment: Payment = Payment()
    payment_approved: bool = True
    sales_channel: Name = "1"  # VTEX's default trade policy
    origin: Origin = "Marketplace"
    client: ClientProfile | None = None
    grace_period_seconds: GracePeriod | None = None
    decision_timeout_seconds: DecisionTimeout | None = None
    payment_timeout_seconds: PaymentTimeout | None = None
    # How long a modification's higher value waits for its payment (docs/modifications.md).
    modification_payment_timeout_seconds: ModificationPaymentTimeout | None = None
    # Before a pending request's decision deadline, when to remind the store (seconds before it).
    reminder_offsets: ReminderOffsets | None = None
    # The reason codes the order accepts (the store's catalogue when it was placed).
    reasons: ReasonCodes | None = None
    # Set only by continue-as-new.
    carried_over: CarriedOver | None = None

    def missing_settings(self) -> bool:
        settings = (self.grace_period_seconds, self.decision_timeout_seconds, self.payment_timeout_seconds)
        return None in (*settings, self.reminder_offsets, self.reasons)

    def with_defaults(self, store: StoreSettings) -> OrderInput:
        """The input with the store's defaults for what it left out."""
        grace, decision = self.grace_period_seconds, self.decision_timeout_seconds
        return self.model_copy(
            update={
                "grace_period_seconds": store.grace_period_seconds if grace is None else grace,
                "decision_timeout_seconds": decision or store.decision_timeout_seconds,
                "payment_timeout_seconds": self.payment_timeout_seconds or store.payment_timeout_seconds,
                "modification_payment_timeout_seconds": self.modification_payment_timeout_seconds
                or store.modification_payment_timeout_seconds,
                "reminder_offsets": store.reminder_offsets
                if self.reminder_offsets is None
                else self.reminder_offsets,
                "reasons": self.reasons or store.reasons,
            }
        )
