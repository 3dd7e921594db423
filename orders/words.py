"""How an order's timeline reads for people, the same in the CLI and the console: the statuses' display
names, and what a command was in words (its record's title), never a wire name (docs/lifecycle.md)."""

from __future__ import annotations

from domain.lifecycle import CancelPath
from domain.registry import COMMANDS
from domain.state import TimelineEntry
from orders.report import ITEMS_ONLY

# How an order came to be canceled (the report's paths, the order page's cancellation).
PATH_WORDS: dict[str, str] = {
    CancelPath.INSIDE_WINDOW: "Inside the window",
    CancelPath.AFTER_CONFIRMATION: "After the store confirmed",
    CancelPath.DECISION_TIMEOUT: "Store did not decide in time",
    CancelPath.PAYMENT_TIMEOUT: "Payment not approved in time",
    CancelPath.PAYMENT_DENIED: "Payment denied",
    ITEMS_ONLY: "Items only",
}


def move_words(entry: TimelineEntry) -> str:
    """`Placed → Cancellation window`; `still Preparing delivery` for a move that kept the status (an
    invoice, an extension); `can't request cancellation` for a refused command (its note says why)."""
    if entry.refused:
        record = COMMANDS.get(entry.action)
        return f"can't {record.title}" if record else "refused"
    if entry.from_status is entry.to_status:
        return f"still {entry.to_status.display_name}"
    start = entry.from_status.display_name if entry.from_status else "Placed"
    return f"{start} → {entry.to_status.display_name}"
