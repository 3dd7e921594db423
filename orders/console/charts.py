"""The report's charts as plain SVG drawn on the server (no chart library, no CDN): horizontal bars,
each with its label and its number written beside it, so no figure depends on colour or on hovering."""

from __future__ import annotations

from dataclasses import dataclass

from domain.lifecycle import CancelPath
from orders.report import ITEMS_ONLY, Report

WIDTH = 640
LABEL_WIDTH = 230
BAR_AREA = 330
ROW = 28
BAR = 18

PATH_LABELS: dict[str, str] = {
    CancelPath.INSIDE_WINDOW: "Inside the window",
    CancelPath.AFTER_CONFIRMATION: "After the store confirmed",
    CancelPath.DECISION_TIMEOUT: "Store did not decide in time",
    CancelPath.PAYMENT_TIMEOUT: "Payment not approved in time",
    CancelPath.PAYMENT_DENIED: "Payment denied",
    ITEMS_ONLY: "Items only",
}


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int  # top of the row
    width: int  # of the bar, in px
    label_end = LABEL_WIDTH - 8  # the label is right-aligned just before the bar
    x = LABEL_WIDTH
    height = BAR

    @property
    def text_y(self) -> int:
        return self.y + 14

    @property
    def value_x(self) -> int:
        return LABEL_WIDTH + 6 + self.width


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    total: int
    width = WIDTH

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * ROW + 8

    @property
    def summary(self) -> str:
        """The chart in words, for screen readers (the SVG's accessible name)."""
        parts = ", ".join(f"{bar.label}: {bar.value}" for bar in self.bars) or "nothing yet"
        return f"{self.title}: {parts}"


def chart(title: str, counts: dict[str, int], labels: dict[str, str] | None = None) -> Chart:
    labels = labels or {}
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    top = max((value for _, value in ordered), default=0)
    bars = [
        Bar(
            label=labels.get(key, key),
            value=value,
            y=index * ROW + 4,
            width=round(BAR_AREA * value / top) if top else 0,
        )
        for index, (key, value) in enumerate(ordered)
    ]
    return Chart(title, bars, sum(counts.values()))


def of(report: Report) -> list[Chart]:
    return [
        chart("Cancellations by path", report.canceled_by_path, PATH_LABELS),
        chart("Cancellations by reason", report.by_reason, report.by_reason_label),
        chart("Cancellations by Shopify reason", report.by_shopify_reason),
        chart("Cancellations by who asked", report.by_actor),
    ]
