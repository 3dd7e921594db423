"""How large one order's state may grow (docs/reliability.md, "Limits").

A command that would grow a list past its limit is refused with a reason that says so; the order's own
moves (deadlines, compensation) are never refused, and need little room.
"""

from __future__ import annotations

from domain.lifecycle import Action, Refuse
from domain.state import OrderState

MAX_CANCELLATION_REQUESTS = 50  # for the whole order or for items
MAX_REQUESTED_LINES = 1000  # item lines across all item requests (an order has at most 500 lines)
MAX_INVOICES = 50
MAX_MOVES = 300  # timeline entries that changed the order
MAX_REFUSALS_KEPT = 20  # refused signals in the timeline: the last ones only


def over_limit(state: OrderState, action: Action, lines: int = 0) -> Refuse | None:
    """Refuse a command that changes the order when the order is full; `lines`: the item lines the
    command would add to a request."""
    adds_request = action in _REQUESTS and state.pending_request is None  # else it decides the pending one
    if adds_request and len(state.cancellation_requests) >= MAX_CANCELLATION_REQUESTS:
        return _full(state, f"{MAX_CANCELLATION_REQUESTS} cancellation requests")
    requested = sum(len(request.items) for request in state.cancellation_requests)
    if adds_request and requested + lines > MAX_REQUESTED_LINES:
        return _full(state, f"{MAX_REQUESTED_LINES} item lines requested")
    if action is Action.INVOICE and len(state.invoices) >= MAX_INVOICES:
        return _full(state, f"{MAX_INVOICES} invoices")
    if len(state.moves()) >= MAX_MOVES:
        return _full(state, f"{MAX_MOVES} changes")
    return None


_REQUESTS = (Action.REQUEST_CANCELLATION, Action.CANCEL_ITEMS)


def _full(state: OrderState, what: str) -> Refuse:
    return Refuse(
        f"order {state.order_id} has reached its limit of {what}; it takes no more of them", "order-full"
    )
