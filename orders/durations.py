"""Durations as people write them: `30m`, `2h`, `1d`, `1h30m` → seconds (domain/spans.py reads them out).

At most `MAX_SECONDS` (ten years, what the wire model takes): a longer one is a usage error here, never an
OverflowError where it meets a date (docs/reliability.md, "Hardening"). Every number needs its unit: a bare
`30` could mean seconds or minutes, and a window of 30 seconds where 30 minutes was meant cancels nothing
anyone asked for, so it is refused (docs/cli.md).
"""

from __future__ import annotations

import re

from domain.spans import UNITS
from domain.wire import MAX_SECONDS

DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
UNIT_SECONDS = tuple(size for size, _, _ in UNITS)
MAX_LENGTH = 40  # characters: longer text is no duration anyone means


def parse_duration(text: str) -> int:
    """`30m`, `2h`, `45s`, `1d`, `1h30m` → seconds, from 0 to `MAX_SECONDS`; a number without a unit is
    refused."""
    cleaned = text.strip().lower()
    shown = text.strip()[:MAX_LENGTH]
    if cleaned.isdigit():
        number = cleaned[:MAX_LENGTH]
        raise ValueError(f"{shown!r} has no unit: write {number}s, {number}m, {number}h or {number}d")
    match = DURATION.fullmatch(cleaned) if len(cleaned) <= MAX_LENGTH else None
    if not cleaned or match is None:
        raise ValueError(f"{shown!r} is not a duration; write it like 30m, 2h, 45s, 1d or 1h30m")
    seconds = sum(int(part or 0) * unit for part, unit in zip(match.groups(), UNIT_SECONDS, strict=True))
    if seconds > MAX_SECONDS:
        raise ValueError(
            f"{cleaned!r} is over {MAX_SECONDS // 86400}d (ten years), the longest duration taken"
        )
    return seconds


def parse_durations(text: str) -> list[int]:
    """`7d,1d,1h` → seconds each, largest first; empty text → none."""
    parts = [part for part in (p.strip() for p in text.split(",")) if part]
    return sorted({parse_duration(part) for part in parts}, reverse=True)
