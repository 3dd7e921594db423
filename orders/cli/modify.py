"""Order modifications from the command line (docs/modifications.md): `modify` (with `--preview`), and the
answers to a modification's payment (`approve-modification-payment`, `deny-modification-payment`) or its
withdrawal (`cancel-modification`), each a verb its command's record names and explains."""

from __future__ import annotations

from typing import Any

import click

from domain.commands import Command, ModifyOrder
from domain.lifecycle import Action
from domain.modifications import ModificationPreview
from domain.registry import COMMANDS
from domain.text import shown
from domain.wire import Item
from orders.amounts import parse_cents
from orders.cli.errors import EXIT_OK, EXIT_REFUSED, Failure, connect, run, say
from orders.cli.parsing import Parsed, parse_line
from orders.cli.render import echo_json, fmt_money
from orders.cli.sending import Delivery, build, default_sender, deliver, refusal, verb

Line = dict[str, Any]


def parse_added(text: str) -> Line:
    """`SKU:QTY:PRICE` (`A1:1:29.90`), or `SKU:QTY` for an sku the order holds, at its price."""
    sku, _, price = text.rpartition(":")
    if sku and ":" in sku and sku.rpartition(":")[2].strip().isdigit():
        try:
            return {**parse_line(sku).model_dump(), "price": parse_cents(price)}
        except ValueError as err:
            raise ValueError(f"{text!r}: {err}; write it as SKU:QTY:PRICE, e.g. C3:1:29.90") from None
    return parse_line(text).model_dump()


def parse_replacement(text: str) -> dict[str, Any]:
    """`SKU:QTY=SKU:QTY:PRICE`: that quantity of a line replaced by another (`A1:1=A2:1:64.95`)."""
    old, equals, new = text.partition("=")
    if not equals:
        raise ValueError(
            f"{text!r} is not a replacement; write it as SKU:QTY=SKU:QTY:PRICE, e.g. A1:1=A2:1:64.95"
        )
    return {"from": {"items": [parse_line(old).model_dump()]}, "to": {"items": [parse_added(new)]}}


ADDED = Parsed("sku:qty:price", parse_added)
REMOVED = Parsed("sku:qty", lambda text: parse_line(text).model_dump())
REPLACED = Parsed("sku:qty=sku:qty:price", parse_replacement)


@verb(Action.MODIFY_ORDER)
@click.option(
    "--add",
    "added",
    type=ADDED,
    multiple=True,
    help="Add SKU:QTY:PRICE, e.g. C3:1:29.90; SKU:QTY for an sku the order holds (repeatable).",
)
@click.option(
    "--remove",
    "removed",
    type=REMOVED,
    multiple=True,
    help="Remove a quantity of a line, SKU:QTY (repeatable).",
)
@click.option(
    "--replace",
    "replaced",
    type=REPLACED,
    multiple=True,
    help="Replace a quantity by another line, SKU:QTY=SKU:QTY:PRICE, e.g. A1:1=A2:1:64.95 (repeatable).",
)
@click.option("--reason", required=True, help="Why the order changes (the customer is told).")
@click.option(
    "--preview", is_flag=True, help="Show what it would do (value before and after), changing nothing."
)
def modify(order_id: str, added: tuple[Line, ...], removed: tuple[Line, ...], replaced: tuple[Line, ...],
           reason: str, preview: bool, actor: str, how: Delivery) -> int:  # fmt: skip
    change: dict[str, Any] = {"actor": actor, "reason": reason, "replace": list(replaced)}
    if added:
        change["add"] = {"items": list(added)}
    if removed:
        change["remove"] = {"items": list(removed)}
    if not preview:
        return deliver(order_id, Action.MODIFY_ORDER, how, **change)
    command = build(ModifyOrder, sender=how.sender or default_sender(), **change)
    try:
        answer = run(_preview(order_id, command))
    except Failure as failure:
        raise refusal(failure, order_id, COMMANDS[Action.MODIFY_ORDER]) from None
    if how.as_json:
        echo_json({"order_id": order_id, **answer.model_dump(mode="json")})
    if answer.refused is not None:
        raise Failure(f"order {order_id}: can't modify the order: {answer.refused.reason}", EXIT_REFUSED)
    if not how.as_json:
        say("\n".join(preview_lines(order_id, answer)))
    return EXIT_OK


async def _preview(order_id: str, command: Command) -> ModificationPreview:
    return await (await connect()).preview(order_id, command)


def preview_lines(order_id: str, answer: ModificationPreview) -> list[str]:
    currency = answer.currency

    def money(cents: int) -> str:
        return fmt_money(cents, currency)

    removed = [*answer.remove, *(line for r in answer.replace for line in r.from_)]
    added = [*answer.add, *(line for r in answer.replace for line in r.to)]
    sign = "+" if answer.difference >= 0 else "-"
    lines = [
        f"Order {shown(order_id)}: a preview; nothing was changed.",
        f"  Value:   {money(answer.before)} -> {money(answer.after)} ({sign}{money(abs(answer.difference))})",
    ]
    if removed:
        lines.append(f"  Removes: {priced(removed, currency)}")
    if added:
        lines.append(f"  Adds:    {priced(added, currency)}")
    if answer.waits_for_payment:
        lines.append(f"  It would wait for the customer's payment of {money(answer.difference)}.")
    elif answer.difference < 0:
        lines.append(f"  {money(-answer.difference)} would be voided or refunded at once.")
    return lines


def priced(lines: list[Item], currency: str) -> str:
    return ", ".join(
        f"{shown(line.sku)} x {line.quantity} at {fmt_money(line.price, currency)}" for line in lines
    )


@verb(Action.APPROVE_MODIFICATION_PAYMENT, as_help="Who relays the payment gateway's notification.")
@click.argument("modification_id")
def approve_modification_payment(order_id: str, modification_id: str, actor: str, how: Delivery) -> int:
    return deliver(
        order_id, Action.APPROVE_MODIFICATION_PAYMENT, how, actor=actor, modification_id=modification_id
    )


@verb(Action.DENY_MODIFICATION_PAYMENT, as_help="Who relays the payment gateway's notification.")
@click.argument("modification_id")
@click.option("--reason", default="", help="What the payment gateway said, e.g. card declined.")
def deny_modification_payment(
    order_id: str, modification_id: str, reason: str, actor: str, how: Delivery
) -> int:
    return deliver(
        order_id,
        Action.DENY_MODIFICATION_PAYMENT,
        how,
        actor=actor,
        modification_id=modification_id,
        reason=reason,
    )


@verb(Action.CANCEL_MODIFICATION)
@click.argument("modification_id")
@click.option("--reason", default="", help="Why it is withdrawn (the customer is told).")
def cancel_modification(order_id: str, modification_id: str, reason: str, actor: str, how: Delivery) -> int:
    return deliver(
        order_id, Action.CANCEL_MODIFICATION, how, actor=actor, modification_id=modification_id, reason=reason
    )


VERBS = (modify, approve_modification_payment, deny_modification_payment, cancel_modification)
