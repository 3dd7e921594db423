"""The report's charts as plain SVG drawn on the server (no chart library, no CDN): horizontal bars,
each with its label above it and its number written beside it, so no figure depends on colour or on
hovering. Narrow enough (360 px) that a phone shows the labels at nearly their own size."""

from __future__ import annotations

from dataclasses import dataclass

from domain.lifecycle import Actor
from domain.reasons import SHOPIFY_WORDS
from orders.report import Report
from orders.words import PATH_WORDS

WIDTH = 360
BAR_AREA = 300  # the rest of the width is the number's
ROW = 42
BAR = 14
LABEL_HEIGHT = 18

PATH_LABELS: dict[str, str] = PATH_WORDS
ASKED_BY: dict[str, str] = {
    Actor.CUSTOMER: "The customer",
    Actor.STORE: "The store",
    Actor.ERP: "The back office (ERP)",
    Actor.SYSTEM: "No one: a deadline passed",
}


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int  # top of the row: the label, then the bar
    width: int  # of the bar, in px
    x = 0
    height = BAR

    @property
    def label_y(self) -> int:
        return self.y + 14

    @property
    def bar_y(self) -> int:
        return self.y + LABEL_HEIGHT

    @property
    def value_y(self) -> int:
        return self.bar_y + 12

    @property
    def value_x(self) -> int:
        return max(self.width, 1) + 6


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
        chart("How orders were canceled", report.canceled_by_path, PATH_LABELS),
        chart("Cancellations by reason", report.by_reason, report.by_reason_label),
        chart("Cancellations by kind of reason", report.by_shopify_reason, SHOPIFY_WORDS),
        chart("Cancellations by who asked", report.by_actor, ASKED_BY),
    ]
