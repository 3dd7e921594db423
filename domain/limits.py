"""How large one order's state may grow (docs/reliability.md, "Limits").

A command that would grow the order past a limit is refused with `order-full` and a reason that names the
limit. A full order can always be finished: what ends it (a cancellation, a full invoice, a payment
notification) or decides its pending request is never refused (but a denial, once the order has made
`MAX_MOVES_WITH_STORE` changes), nor are the order's own moves (deadlines, compensation); and the store
can always start a cancellation of the whole order.
"""

from __future__ import annotations

from domain.lifecycle import STAFF, Action, Actor, Refuse, Status
from domain.state import OrderState

MAX_CANCELLATION_REQUESTS = 50  # for the whole order or for items
MAX_REQUESTED_LINES = 1000  # item lines across all item requests (an order has at most 500 lines)
MAX_INVOICES = 50
MAX_MOVES = 300  # timeline entries that changed the order
# The store can always start a cancellation; from here on its requests can't be denied any more, so a
# careless loop of requests and denials still ends.
MAX_MOVES_WITH_STORE = 350
MAX_REFUSALS_KEPT = 20  # refused signals in the timeline: the last ones only

# Each happens a bounded number of times: once, or once per request.
_DECIDES = frozenset(
    {
        Action.CONFIRM_CANCELLATION,
        Action.DENY_CANCELLATION,
        Action.START_HANDLING,
        Action.APPROVE_PAYMENT,
        Action.DENY_PAYMENT,
    }
)
_REQUESTS = (Action.REQUEST_CANCELLATION, Action.CANCEL_ITEMS)


def over_limit(state: OrderState, action: Action, actor: Actor, to: Status, lines: int = 0) -> Refuse | None:
    """Why a command that would move the order `to` is refused for the order's size; None if it fits.
    `lines`: the item lines the command would add to a request."""
    if to is Status.CANCEL or to.is_final:
        return None
    moves = len(state.moves())
    if action is Action.DENY_CANCELLATION and moves >= MAX_MOVES_WITH_STORE:
        return _full(state, f"{MAX_MOVES_WITH_STORE} changes: confirm the request, or let its deadline pass")
    if action in _DECIDES or (action is Action.REQUEST_CANCELLATION and actor in STAFF):
        return None
    adds_request = action in _REQUESTS and state.pending_request is None  # else it decides the pending one
    if adds_request and len(state.cancellation_requests) >= MAX_CANCELLATION_REQUESTS:
        return _full(state, f"{MAX_CANCELLATION_REQUESTS} cancellation requests")
    requested = sum(len(request.items) for request in state.cancellation_requests)
    if adds_request and requested + lines > MAX_REQUESTED_LINES:
        return _full(state, f"{MAX_REQUESTED_LINES} item lines requested")
    if action is Action.INVOICE and len(state.invoices) >= MAX_INVOICES:
        return _full(state, f"{MAX_INVOICES} invoices")
    if moves >= MAX_MOVES:
        return _full(state, f"{MAX_MOVES} changes")
    return None


def _full(state: OrderState, what: str) -> Refuse:
    return Refuse(
        f"order {state.order_id} has reached its limit of {what}; it takes no more of them", "order-full"
    )
