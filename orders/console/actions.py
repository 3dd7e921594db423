"""Sending staff commands from the console: each through `OrdersClient.send` as actor `store` or `erp`
with `sender` = the user name (docs/console.md), and each answered in words for the flash message.

Every form carries a `request_id` made when the page was rendered, so submitting the same form twice
(a double click, a resubmitted POST) is one command: the order answers the repeat as the first time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from domain.lifecycle import Status
from domain.reasons import Catalogue, Use
from domain.registry import CommandRecord
from domain.text import MAX_ID_LENGTH, MAX_REQUEST_ID_LENGTH, ORDER_ID, PRINTABLE
from orders.amounts import parse_cents
from orders.client import OrdersClient, new_request_id
from orders.console.auth import Staff
from orders.errors import CommandRejected, OrderNotFound, OrdersError, TemporalUnavailable

log = logging.getLogger("orders.console")

BULK_LIMIT = 200  # orders one bulk action may name
BULK_CONCURRENCY = 8
# A form's request id leaves room for the ":<order id>" a bulk action adds for each order.
FORM_REQUEST_ID_LENGTH = MAX_REQUEST_ID_LENGTH - 1 - MAX_ID_LENGTH


@dataclass(frozen=True)
class Outcome:
    order_id: str
    ok: bool
    text: str  # what happened, in words

    @property
    def kind(self) -> str:
        return "ok" if self.ok else "error"


class FormProblem(ValueError):
    """A form the console can't send as it is (no reason chosen, say); nothing was sent."""


def request_id(given: str | None) -> str:
    """The form's request id, or a new one for a form that came without."""
    if given and PRINTABLE.fullmatch(given) and len(given) <= FORM_REQUEST_ID_LENGTH:
        return given
    return new_request_id()


def reason_payload(catalogue: Catalogue, use: Use, code: str | None, details: str | None) -> dict[str, str]:
    """`reason_code` from the catalogue's codes for `use`, and `reason`: the text typed, or the label."""
    code = (code or "").strip()
    if code not in catalogue.codes(use):
        raise FormProblem("Choose a reason from the list.")
    text = (details or "").strip()
    return {"reason_code": code, "reason": text or catalogue.label(code, use)}


@dataclass(frozen=True)
class Added:
    """The `Modify order` form's line to add: an sku, a quantity (0: none), a price as typed (29.90)."""

    sku: str
    quantity: int
    price: str


def modification(reason: str, removals: list[tuple[str, int]], added: Added) -> dict[str, Any]:
    """The `Modify order` form as `modify_order`'s payload: what to remove of each line, one line to add
    (its price needed for an sku the order doesn't hold), and why."""
    if not reason.strip():
        raise FormProblem("Say why the order changes (the customer is told).")
    remove = [{"sku": sku, "quantity": n} for sku, n in removals if n > 0]
    change: dict[str, Any] = {"reason": reason.strip()}
    if remove:
        change["remove"] = {"items": remove}
    if added.sku and added.quantity > 0:
        line: dict[str, Any] = {"sku": added.sku, "quantity": added.quantity}
        if added.price:
            try:
                line["price"] = parse_cents(added.price)
            except ValueError as err:
                raise FormProblem(f"Price: {err}.") from None
        change["add"] = {"items": [line]}
    elif added.sku or added.quantity:
        raise FormProblem("To add a line, give its SKU and a quantity.")
    if len(change) == 1:
        raise FormProblem("Nothing to change: remove some quantity, or add a line.")
    return change


async def send(
    orders: OrdersClient, staff: Staff, order_id: str, record: CommandRecord[Any], rid: str, **fields: Any
) -> Outcome:
    if not ORDER_ID.fullmatch(order_id):
        return Outcome(order_id, False, "No such order.")  # no order has such an id
    # Four eyes: the workflow itself refuses a console user's cancellation that would need a second person
    # (docs/console.md, "Roles"), so two quick clicks can't get past it.
    payload = {
        "actor": staff.role.value,
        "sender": staff.name,
        "request_id": rid,
        "four_eyes": True,
        **fields,
    }
    verb = record.console.done if record.console else record.title.capitalize()
    try:
        result = await orders.send(order_id, record.action, payload)
    except CommandRejected as err:
        return Outcome(order_id, False, f"Refused: {err.reason}")
    except OrderNotFound:
        return Outcome(order_id, False, "No such order.")
    except TemporalUnavailable as err:
        return Outcome(order_id, False, f"Not sent: {err}")
    except OrdersError as err:
        return Outcome(order_id, False, f"Not sent: {err}")
    log.info("console: %s sent %s to order %s", staff.name, record.name, order_id)
    if result.state is None:
        return Outcome(
            order_id, True, f"{verb}: no worker answered in time, so it is queued and applies when one runs."
        )
    state = result.state
    said = next((e.note for e in reversed(state.timeline) if e.request_id == payload["request_id"]), "")
    what = said[:1].upper() + said[1:] if said else verb
    if state.status is Status.CANCEL:
        # Canceling lasts only while the effects go out: the page after this may already say Canceled.
        return Outcome(order_id, True, f"{what}. The order is canceled once its payment, stock and customer "
                       "are handled, in a moment.")  # fmt: skip
    return Outcome(order_id, True, f"{what}. The order is now {state.status.display_name}.")


async def send_many(
    orders: OrdersClient,
    staff: Staff,
    order_ids: list[str],
    record: CommandRecord[Any],
    rid: str,
    **fields: Any,
) -> list[Outcome]:
    """One command per order, a few at a time; each order's outcome on its own."""
    limiter = asyncio.Semaphore(BULK_CONCURRENCY)

    async def one(order_id: str) -> Outcome:
        async with limiter:
            return await send(orders, staff, order_id, record, f"{rid}:{order_id}", **fields)

    return list(await asyncio.gather(*(one(order_id) for order_id in order_ids)))


def unique(order_ids: list[str]) -> list[str]:
    return list(dict.fromkeys(order_id.strip() for order_id in order_ids if order_id.strip()))
