"""How large one order's state may grow (docs/reliability.md, "Limits").

A command that would grow the order past a limit is refused with `order-full` and a reason that names the
limit. A full order can always be finished: what ends it (a cancellation, a full invoice, a payment
notification) or decides its pending request is never refused (but a denial, once the order has made
`MAX_MOVES_WITH_STORE` changes), nor are the order's own moves (deadlines, compensation); and the store
can always start a cancellation of the whole order.
"""

from __future__ import annotations

from enum import Enum

from domain.lifecycle import Refuse, Status
from domain.state import OrderState

MAX_CANCELLATION_REQUESTS = 50  # for the whole order or for items
MAX_REQUESTED_LINES = 1000  # item lines across all item requests (an order has at most 500 lines)
MAX_INVOICES = 50
MAX_MOVES = 300  # timeline entries that changed the order
# The store can always start a cancellation; from here on its requests can't be denied any more, so a
# careless loop of requests and denials still ends.
MAX_MOVES_WITH_STORE = 350
MAX_MODIFICATIONS = 50
MAX_MODIFIED_LINES = 1000  # lines across all modifications
MAX_REFUSALS_KEPT = 20  # refused signals in the timeline: the last ones only


class Growth(Enum):
    """How a command grows the order, as its record (domain/registry.py) declares it."""

    DECIDES = "happens once, or once per request: never refused for the order's size"
    DENIES = "decides the pending request; refused once the order made MAX_MOVES_WITH_STORE changes"
    REQUESTS = "adds a cancellation request, or decides the pending one"
    INVOICES = "adds an invoice"
    MODIFIES = "adds a modification of the order's lines"
    CHANGES = "changes the order"


def over_limit(state: OrderState, growth: Growth, to: Status, lines: int = 0) -> Refuse | None:
    """Why a command that would move the order `to` is refused for the order's size; None if it fits.
    `lines`: the item lines the command would add to a request or a modification."""
    if to is Status.CANCEL or to.is_final or growth is Growth.DECIDES:
        return None
    moves = len(state.moves())
    if growth is Growth.DENIES:
        if moves >= MAX_MOVES_WITH_STORE:
            return _full(
                state, f"{MAX_MOVES_WITH_STORE} changes: confirm the request, or let its deadline pass"
            )
        return None
    adds_request = (
        growth is Growth.REQUESTS and state.pending_request is None
    )  # else it decides the pending one
    if adds_request and len(state.cancellation_requests) >= MAX_CANCELLATION_REQUESTS:
        return _full(state, f"{MAX_CANCELLATION_REQUESTS} cancellation requests")
    requested = sum(len(request.items) for request in state.cancellation_requests)
    if adds_request and requested + lines > MAX_REQUESTED_LINES:
        return _full(state, f"{MAX_REQUESTED_LINES} item lines requested")
    if growth is Growth.INVOICES and len(state.invoices) >= MAX_INVOICES:
        return _full(state, f"{MAX_INVOICES} invoices")
    if growth is Growth.MODIFIES:
        if len(state.modifications) >= MAX_MODIFICATIONS:
            return _full(state, f"{MAX_MODIFICATIONS} modifications")
        modified = sum(len(m.removed) + len(m.added) for m in state.modifications)
        if modified + lines > MAX_MODIFIED_LINES:
            return _full(state, f"{MAX_MODIFIED_LINES} modified lines")
    if moves >= MAX_MOVES:
        return _full(state, f"{MAX_MOVES} changes")
    return None


def _full(state: OrderState, what: str) -> Refuse:
    return Refuse(
        f"order {state.order_id} has reached its limit of {what}; it takes no more of them", "order-full"
    )
