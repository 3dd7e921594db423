"""What each console role may do (docs/console.md, "Roles"), checked at the routes, whatever a page shows.

- `store` accounts are people: they act on orders as the rules allow the store.
- `erp` accounts are integrations (their programs call the REST API with an app key): in the console they
  read everything and press nothing. A command route answers them 403 before anything is sent.
- Four eyes: nobody confirms a cancellation they asked for themselves (the store's `Cancel order` after the
  window asks; someone else confirms). The pending request's sender is read from the order's memo
  (one describe call, no worker needed); the REST API and the CLI are integrations' and operators' tools
  and keep VTEX's two steps by one sender.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request

from domain.lifecycle import TRANSITIONS, Actor, Status
from orders.client import OrdersClient
from orders.console import reads
from orders.console.auth import Staff, require_staff
from orders.console.sessions import Forbidden
from orders.errors import OrdersError

OPERATORS = frozenset({Actor.STORE})  # the roles that may send commands from the console
READS_AT_ONCE = 8
READ_ONLY = (
    "Refused: erp accounts are for integrations and read-only in the console; "
    "a store account can do this. Nothing was sent."
)
OWN_REQUEST = "Refused: you asked for this cancellation, so someone else must confirm it. Nothing was sent."


def may_act(staff: Staff | None) -> bool:
    """Whether pages show `staff` the buttons that send commands."""
    return staff is not None and staff.role in OPERATORS


def require_operator(staff: Annotated[Staff, Depends(require_staff)]) -> Staff:
    """The signed-in user, if their role may send commands from the console; 403 otherwise."""
    if not may_act(staff):
        raise Forbidden(READ_ONLY)
    return staff


Operator = Annotated[Staff, Depends(require_operator)]


def is_own(actor: Actor | str, sender: str | None, staff: Staff) -> bool:
    """Whether a request made by (`actor`, `sender`) is `staff`'s own."""
    return Actor(actor) is staff.role and sender == staff.name


async def asked_by(orders: OrdersClient, staff: Staff, order_id: str) -> bool:
    """Whether the request waiting on `order_id` is `staff`'s own. When that can't be read, it counts as
    theirs: a confirmation that can't be checked is not sent."""
    try:
        visible = await reads.visible(orders, order_id)
    except OrdersError:
        return True
    pending = visible.pending if visible else None
    return pending is not None and is_own(pending.actor, pending.sender, staff)


async def own_requests(orders: OrdersClient, staff: Staff, order_ids: list[str]) -> set[str]:
    """Which of `order_ids` wait on a request `staff` made (a few reads at a time)."""
    limiter = asyncio.Semaphore(READS_AT_ONCE)

    async def own(order_id: str) -> bool:
        async with limiter:
            return await asked_by(orders, staff, order_id)

    found = await asyncio.gather(*(own(order_id) for order_id in order_ids))
    return {order_id for order_id, mine in zip(order_ids, found, strict=True) if mine}


async def require_other_than_requester(request: Request, order_id: str, staff: Operator) -> Staff:
    """An operator confirming `order_id`'s cancellation, if they did not ask for it themselves."""
    try:
        orders = await request.app.state.orders.get()
    except OrdersError as err:
        raise Forbidden(f"Refused: who asked for this cancellation can't be read now ({err}).") from None
    if await asked_by(orders, staff, order_id):
        raise Forbidden(OWN_REQUEST)
    return staff


# The commands that confirm a pending cancellation (the table's rows from cancellation-requested to
# cancel for the store): the ones four eyes check.
CONFIRMING = frozenset(
    rule.action
    for rule in TRANSITIONS
    if Status.CANCELLATION_REQUESTED in rule.sources
    and rule.to is Status.CANCEL
    and Actor.STORE in rule.actors
)
