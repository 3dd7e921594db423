"""Amounts as people write them: `129.90` -> 12990 cents (the CLI's options, the console's forms)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation


def parse_cents(text: str) -> int:
    """`129.90` → 12990. Decimal, not float, so no cent is lost; more than two decimals is refused
    rather than rounded (and `1.500` might mean 1500 to a reader used to a comma for decimals)."""
    cleaned = text.strip()
    if cleaned.startswith("-"):
        raise ValueError(f"{text!r}: amounts can't be negative")
    if not re.fullmatch(r"\d+(\.\d+)?", cleaned):
        raise ValueError(f"{text!r} is not an amount; write it like 129.90 (no sign, '.' for decimals)")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount; write it like 129.90") from None
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(f"{text!r} has more than 2 decimal places")
    return int(amount * 100)
