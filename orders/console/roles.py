"""What each console role may do (docs/console.md, "Roles"), checked at the routes, whatever a page shows.

- `store` accounts are people: they act on orders as the rules allow the store.
- `erp` accounts are integrations (their programs call the REST API with an app key): in the console they
  read everything and press nothing. A command route answers them 403 before anything is sent.
- Four eyes: after the window nobody cancels an order alone, from the console: the store's `Cancel order`
  asks, and someone else confirms; nor does one person's `Cancel items` take the order's last items.
  The order's workflow refuses it (commands from the console carry `four_eyes`, `domain.checks`), so no
  race between two clicks gets past it; the REST API and the CLI are integrations' and operators'
  tools and keep VTEX's two steps by one sender.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from domain.lifecycle import Actor
from orders.console.auth import Staff, require_staff
from orders.console.sessions import Forbidden

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
