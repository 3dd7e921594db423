"""Time spans as a sentence says them, for reasons a customer reads: `30 days`, `1 day 12 hours`."""

from __future__ import annotations

UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second"))


def spoken_span(seconds: float) -> str:
    """The two largest units that aren't zero: `30 days`, `1 day 30 minutes`, `45 seconds`."""
    left = max(int(seconds), 0)
    parts: list[str] = []
    for size, name in UNITS:
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {name}" + ("s" if count != 1 else ""))
    return " ".join(parts[:2]) or "0 seconds"
