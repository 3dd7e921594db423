"""The wire contract's building blocks (docs/lifecycle.md): money, durations, times, items and payment.

Money is integer cents, times are ISO 8601 UTC, durations integer seconds. Unknown fields are ignored;
missing required fields reject the payload. The bounds keep one order's state small and refuse absurd
input with a clear message.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from domain.text import Name, safe_text

MAX_CENTS = 10**12  # ten billion in any currency
MAX_ITEMS = 500
MAX_QUANTITY = 100_000
MAX_SECONDS = 10 * 365 * 24 * 60 * 60


def _not_a_bool(value: Any) -> Any:
    """Money, counts and durations are numbers: pydantic's lax mode would read `true` as 1 (cent)."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number (integer cents, a count or seconds), not true/false")
    return value


Number = BeforeValidator(_not_a_bool)
Cents = Annotated[int, Number, Field(ge=0, le=MAX_CENTS, strict=False)]
PositiveCents = Annotated[int, Number, Field(gt=0, le=MAX_CENTS)]
Quantity = Annotated[int, Number, Field(gt=0, le=MAX_QUANTITY)]
Seconds = Annotated[int, Number, Field(ge=0, le=MAX_SECONDS)]
PositiveSeconds = Annotated[int, Number, Field(gt=0, le=MAX_SECONDS)]
# An order's durations, each declared once with its bounds, for the store's settings, the workflow input
# and the REST body: a grace period of 0 opens no window; the store's decision and the payment take time.
GracePeriod = Seconds
DecisionTimeout = PositiveSeconds
PaymentTimeout = PositiveSeconds
ModificationPaymentTimeout = PositiveSeconds


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time must carry a timezone, e.g. 2026-11-26T10:00:00Z")
    return value


UtcTime = Annotated[datetime, AfterValidator(_utc)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Channel(StrEnum):
    """Where a command came from, when a surface says so: the customer's "My orders" pages (SPEC §12).
    Shown in the console and counted by the report; it changes no rule."""

    MY_ORDERS = "my-orders"


def _known_channel(value: object) -> object:
    return value if isinstance(value, str) and value in Channel._value2member_map_ else None


# A command's `channel`: one this service doesn't know is ignored, as every unknown field is (1.0 took
# any and ignored it: refusing one now would change what 1.0 orders replay, docs/versioning.md).
SentVia = Annotated[Channel | None, BeforeValidator(_known_channel)]


class InvoiceKind(StrEnum):
    OUTPUT = "output"  # the order is invoiced (VTEX `Output`)
    INPUT = "input"  # goods come back: a return invoice (VTEX `Input`)


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False, use_enum_values=False)


class Item(WireModel):
    sku: Name
    quantity: Quantity
    price: Cents


class ItemQuantity(WireModel):
    """A quantity of one of the order's lines, by sku (what `cancel_items` cancels)."""

    sku: Name
    quantity: Quantity


def one_line_per_sku(items: list[Any]) -> list[Any]:
    """Lines are named by sku: the same sku twice would make `cancel_items` ambiguous."""
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.sku in seen:
            raise ValueError(
                f"sku {item.sku} appears twice (lines {seen[item.sku]} and {index}); one line per sku"
            )
        seen[item.sku] = index
    return items


class ClientProfile(WireModel):
    """Who the customer is, as the order was placed with it (VTEX's `clientProfileData`); all optional."""

    first_name: Name | None = None
    last_name: Name | None = None
    email: (
        Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"), AfterValidator(safe_text)] | None
    ) = None
    phone: Annotated[str, Field(max_length=32, pattern=r"^\+?[0-9 ()-]{3,32}$")] | None = None
    document: Name | None = None


Origin = Literal["Marketplace", "Fulfillment", "Chain"]


class Payment(WireModel):
    method: Name = "credit-card"
    captured: bool = False


def describe_errors(err: ValidationError) -> str:
    """A validation error in one line, each problem with the field it is about."""
    parts = []
    for e in err.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(p) for p in e["loc"]) or "payload"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)
