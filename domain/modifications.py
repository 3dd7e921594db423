"""Order modifications (docs/modifications.md): what a `modify_order` does to the order's lines and value.
Pure: no Temporal, no I/O, no clock.

- `plan` checks a modification against the order as it is, naming the field of each line that doesn't
  fit, and prices it: removed lines at the order's prices, added lines at theirs (or the order's, for an
  sku it holds), the order's value before and after. Money is integer cents, exactly.
- `apply` changes the order's lines once a modification applies: at once, or once its difference is paid.
- `preview` is the `preview_modification` query's answer: the plan, or why it would be refused.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from domain.commands import ModifiedLine, ModifiedLines, ModifyOrder
from domain.lifecycle import Refuse
from domain.state import OrderState, Replaced
from domain.wire import MAX_CENTS, MAX_ITEMS, MAX_QUANTITY, Item, WireModel

SKUS_NAMED = 5  # a refusal names this many of the order's skus: answers are kept, and must stay small


@dataclass(frozen=True)
class Plan:
    add: list[Item]
    remove: list[Item]
    replace: list[Replaced]
    before: int  # the order's value now
    after: int  # and once the modification applies

    @property
    def difference(self) -> int:
        return self.after - self.before

    @property
    def costs_more(self) -> bool:
        """More than the payment covers: the customer must pay the difference first."""
        return self.after > self.before


class PreviewRefusal(WireModel):
    reason: str
    code: str


class ModificationPreview(WireModel):
    """What a modification would do now (the `preview_modification` query), changing nothing: the order's
    value before and after it, the difference, whether it would wait for its payment, its priced lines;
    or, in `refused`, why it would be refused (then `after` is `before`)."""

    before: int
    after: int
    difference: int
    currency: str = ""
    waits_for_payment: bool = False
    add: list[Item] = []
    remove: list[Item] = []
    replace: list[Replaced] = []
    refused: PreviewRefusal | None = None


def _named(where: str, lines: ModifiedLines | None) -> list[tuple[str, ModifiedLine]]:
    return [] if lines is None else [(f"{where}.items[{i}]", line) for i, line in enumerate(lines.items)]


def skus_named(skus: list[str]) -> str:
    """The order's skus as a refusal names them: the first few, and how many in all."""
    known = ", ".join(skus[:SKUS_NAMED]) or "none"
    return known + (f", ... ({len(skus)} in all)" if len(skus) > SKUS_NAMED else "")


def plan(state: OrderState, command: ModifyOrder) -> Plan | Refuse:
    """The modification priced against the order as it is, or why it doesn't fit (the field named)."""
    prices = {item.sku: item.price for item in state.items}
    held = {sku: left for sku, left in state.remaining().items() if left > 0}
    removals = _named("remove", command.remove)
    additions = _named("add", command.add)
    for j, replacement in enumerate(command.replace):
        removals += _named(f"replace[{j}].from", replacement.from_)
        additions += _named(f"replace[{j}].to", replacement.to)

    left, gone = dict(held), dict[str, str]()
    for where, line in removals:
        if line.sku in gone:
            return Refuse(
                f"{where}: sku {line.sku} is removed twice (also {gone[line.sku]})", "duplicate-line"
            )
        gone[line.sku] = where
        if line.sku not in held:
            return Refuse(
                f"{where}: sku {line.sku} is not in the order (its skus: {skus_named(list(held))})",
                "unknown-sku",
            )
        if line.quantity > left[line.sku]:
            return Refuse(f"{where}: {line.quantity} of {line.sku} asked, {left[line.sku]} left", "too-many")
        left[line.sku] -= line.quantity

    priced: dict[str, int] = {}  # each added line's price
    come = dict[str, str]()
    for where, line in additions:
        if line.sku in come:
            return Refuse(f"{where}: sku {line.sku} is added twice (also {come[line.sku]})", "duplicate-line")
        come[line.sku] = where
        if line.price is None:
            if line.sku not in held:
                return Refuse(
                    f"{where}.price: sku {line.sku} is not in the order: give its price (in cents)",
                    "price-needed",
                )
            priced[line.sku] = prices[line.sku]
            continue
        still = left.get(line.sku, 0)
        if line.sku in prices and line.price != prices[line.sku] and still > 0:
            return Refuse(
                f"{where}.price: a new price is for a whole line: remove or replace the other {still} of "
                f"{line.sku} (at {prices[line.sku]} cents) too",
                "part-of-a-line",
            )
        priced[line.sku] = line.price

    quantities = Counter({item.sku: item.quantity for item in state.items})
    for _, line in removals:
        quantities[line.sku] -= line.quantity
    for where, line in additions:
        quantities[line.sku] += line.quantity
        if quantities[line.sku] > MAX_QUANTITY:
            return Refuse(
                f"{where}.quantity: {line.sku} would have more than {MAX_QUANTITY} units", "too-large"
            )
    if sum(1 for n in quantities.values() if n > 0) > MAX_ITEMS:
        return Refuse(f"add: the order would have more than {MAX_ITEMS} lines", "too-large")
    if not any(left.values()) and not additions:
        return Refuse("remove: it removes every item; cancel the order instead", "removes-everything")

    def at_order_prices(lines: ModifiedLines | None) -> list[Item]:
        items = [] if lines is None else lines.items
        return [Item(sku=line.sku, quantity=line.quantity, price=prices[line.sku]) for line in items]

    def at_their_prices(lines: ModifiedLines | None) -> list[Item]:
        items = [] if lines is None else lines.items
        return [Item(sku=line.sku, quantity=line.quantity, price=priced[line.sku]) for line in items]

    removed, added = at_order_prices(command.remove), at_their_prices(command.add)
    replaced = [Replaced(from_=at_order_prices(r.from_), to=at_their_prices(r.to)) for r in command.replace]
    out = removed + [line for r in replaced for line in r.from_]
    into = added + [line for r in replaced for line in r.to]
    if _same(out, into):
        return Refuse(
            "the modification changes nothing: it adds back what it removes, at the same price", "no-change"
        )
    before = state.remaining_total
    # Never below zero: with a discount, the lines can be worth more than what remains to give back.
    after = max(0, before + _value(into) - _value(out))
    if after > MAX_CENTS:
        return Refuse(f"add: the order's value would exceed {MAX_CENTS} cents", "too-large")
    return Plan(add=added, remove=removed, replace=replaced, before=before, after=after)


def _value(lines: list[Item]) -> int:
    return sum(line.price * line.quantity for line in lines)


def _same(out: list[Item], into: list[Item]) -> bool:
    return Counter((i.sku, i.quantity, i.price) for i in out) == Counter(
        (i.sku, i.quantity, i.price) for i in into
    )


def apply(state: OrderState, removed: list[Item], added: list[Item]) -> None:
    """Change the order's lines: quantities removed and added, an added line's price for its whole line. A
    line left with no unit is dropped (its history is in the modification)."""
    quantities = {item.sku: item.quantity for item in state.items}
    prices: dict[str, int] = {}
    for line in removed:
        quantities[line.sku] -= line.quantity
    for line in added:
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
        prices[line.sku] = line.price
    lines = []
    for item in state.items:
        quantity = quantities.pop(item.sku)
        if quantity > 0:
            lines.append(Item(sku=item.sku, quantity=quantity, price=prices.get(item.sku, item.price)))
    lines += [Item(sku=sku, quantity=n, price=prices[sku]) for sku, n in quantities.items() if n > 0]
    state.items = lines


def preview(state: OrderState, planned: Plan | Refuse) -> ModificationPreview:
    value = state.remaining_total
    if isinstance(planned, Refuse):
        refused = PreviewRefusal(reason=planned.reason, code=planned.code)
        return ModificationPreview(
            before=value, after=value, difference=0, currency=state.currency, refused=refused
        )
    return ModificationPreview(
        before=planned.before,
        after=planned.after,
        difference=planned.difference,
        currency=state.currency,
        waits_for_payment=planned.costs_more,
        add=planned.add,
        remove=planned.remove,
        replace=planned.replace,
    )
