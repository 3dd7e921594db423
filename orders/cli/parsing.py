"""Values typed the way people write them: amounts (`129.90`, `orders.amounts`), durations (`1h30m`) and
items (`SKU:QTY:PRICE`), parsed into the wire model's cents, seconds and `Item`, and the click parameter
types that report a bad value as a usage error in plain words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from pydantic import ValidationError

from domain.lifecycle import STAFF, Actor
from domain.wire import Item, ItemQuantity, describe_errors
from orders.amounts import parse_cents
from orders.durations import parse_duration


def actor_choices(allowed: frozenset[Actor]) -> list[str]:
    """A rule's set of actors as `--as` choices, in Actor's order: `store|erp`, the default first."""
    return [actor.value for actor in Actor if actor in allowed]


STAFF_ACTORS = actor_choices(STAFF)


def parse_item(text: str) -> Item:
    """`SKU:QTY:PRICE`, e.g. `A1:2:64.95` (the SKU may itself contain colons)."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].strip().isdigit():
        raise ValueError(f"{text!r} is not an item; write it as SKU:QTY:PRICE, e.g. A1:2:64.95")
    sku, quantity, price = parts
    try:
        return Item(sku=sku, quantity=int(quantity), price=parse_cents(price))
    except ValidationError as err:
        raise ValueError(f"item {text!r}: {describe_errors(err)}") from None


def parse_line(text: str) -> ItemQuantity:
    """`SKU:QTY`, e.g. `A1:1` (the SKU may itself contain colons): a quantity of one of the order's lines."""
    sku, _, quantity = text.rpartition(":")
    if not sku or not quantity.strip().isdigit():
        raise ValueError(f"{text!r} is not a line; write it as SKU:QTY, e.g. A1:1")
    try:
        return ItemQuantity(sku=sku, quantity=int(quantity))
    except ValidationError as err:
        raise ValueError(f"line {text!r}: {describe_errors(err)}") from None


class Parsed(click.ParamType[Any]):
    """A click parameter type from a parse function that raises ValueError with a readable message."""

    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self.parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.parse(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


AMOUNT = Parsed("amount", parse_cents)
DURATION_TYPE = Parsed("duration", parse_duration)
ITEM = Parsed("sku:qty:price", parse_item)
LINE = Parsed("sku:qty", parse_line)
