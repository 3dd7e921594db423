"""Time spans as people read them: `29d 23h` in a table, `30 days` in a sentence a customer reads."""

from __future__ import annotations

UNITS = ((86400, "d", "day"), (3600, "h", "hour"), (60, "m", "minute"), (1, "s", "second"))


def _counts(seconds: float) -> list[int]:
    """How many of each unit, largest first: 90061 → [1, 1, 1, 1]."""
    counts, left = [], int(seconds)
    for size, _, _ in UNITS:
        count, left = divmod(left, size)
        counts.append(count)
    return counts


def fmt_span(seconds: float) -> str:
    """At most the two largest units, zeros left out: `29d 23h`, `30m`, `4m 5s`, `12s`."""
    counts = _counts(abs(seconds))
    first = next((index for index, count in enumerate(counts) if count), None)
    if first is None:
        return "0s"
    return " ".join(
        f"{count}{UNITS[i][1]}" for i, count in enumerate(counts[first : first + 2], first) if count
    )


def spoken_span(seconds: float) -> str:
    """The two largest units that aren't zero: `30 days`, `1 day 30 minutes`, `45 seconds`."""
    said = [
        f"{count} {name}" + ("s" if count != 1 else "")
        for count, (_, _, name) in zip(_counts(max(seconds, 0)), UNITS, strict=True)
        if count
    ]
    return " ".join(said[:2]) or "0 seconds"
