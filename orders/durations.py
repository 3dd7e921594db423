"""Durations as people write and read them: `30m`, `2h`, `1d`, `1h30m` ↔ seconds."""

from __future__ import annotations

import re

DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
UNIT_SECONDS = (86400, 3600, 60, 1)


def parse_duration(text: str) -> int:
    """`30m`, `2h`, `45s`, `1d`, `1h30m` or plain seconds → seconds."""
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        return int(cleaned)
    match = DURATION.fullmatch(cleaned)
    if not cleaned or match is None:
        raise ValueError(f"{text!r} is not a duration; write it like 30m, 2h, 45s, 1d or 1h30m")
    return sum(int(part or 0) * unit for part, unit in zip(match.groups(), UNIT_SECONDS, strict=True))


def parse_durations(text: str) -> list[int]:
    """`7d,1d,1h` → seconds each, largest first; empty text → none."""
    parts = [part for part in (p.strip() for p in text.split(",")) if part]
    return sorted({parse_duration(part) for part in parts}, reverse=True)


def fmt_span(seconds: float) -> str:
    """At most the two largest units, zeros left out: `29d 23h`, `30m`, `4m 5s`, `12s`."""
    remaining = int(abs(seconds))
    parts: list[str] = []
    for unit, label in zip(UNIT_SECONDS, "dhms", strict=True):
        value, remaining = divmod(remaining, unit)
        if value or parts:
            parts.append(f"{value}{label}" if value else "")
        if len(parts) == 2:
            break
    return " ".join(part for part in parts if part) or "0s"
