"""Percentiles and rates, without numpy."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ratio(value: float, base: float) -> float:
    if not base or math.isnan(base) or math.isnan(value):
        return math.nan
    return value / base


def rounded(value: float, digits: int = 2) -> float | None:
    """JSON has no NaN: None stands for a figure that could not be measured."""
    if value is None or math.isnan(value):
        return None
    return round(value, digits)
