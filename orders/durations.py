"""Durations as people write them: `30m`, `2h`, `1d`, `1h30m` → seconds (domain/spans.py reads them out).

Every number needs its unit: a bare `30` could mean seconds or minutes, and a window of 30 seconds where
30 minutes was meant cancels nothing anyone asked for, so it is refused (docs/cli.md).
"""

from __future__ import annotations

import re

from domain.spans import UNITS

DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
UNIT_SECONDS = tuple(size for size, _, _ in UNITS)


def parse_duration(text: str) -> int:
    """`30m`, `2h`, `45s`, `1d`, `1h30m` → seconds; a number without a unit is refused."""
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        raise ValueError(
            f"{text.strip()!r} has no unit: write {cleaned}s, {cleaned}m, {cleaned}h or {cleaned}d"
        )
    match = DURATION.fullmatch(cleaned)
    if not cleaned or match is None:
        raise ValueError(f"{text!r} is not a duration; write it like 30m, 2h, 45s, 1d or 1h30m")
    return sum(int(part or 0) * unit for part, unit in zip(match.groups(), UNIT_SECONDS, strict=True))


def parse_durations(text: str) -> list[int]:
    """`7d,1d,1h` → seconds each, largest first; empty text → none."""
    parts = [part for part in (p.strip() for p in text.split(",")) if part]
    return sorted({parse_duration(part) for part in parts}, reverse=True)
