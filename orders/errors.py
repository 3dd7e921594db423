"""The errors callers of `OrdersClient` map to messages, exit codes and HTTP statuses.

Messages are for people: what happened and what to do, never an internal address or a stack trace
(docs/api.md, "Errors"); the detail goes to the log.
"""

from __future__ import annotations

import logging

from temporalio.service import RPCError

from domain.text import MAX_ID_LENGTH

log = logging.getLogger("orders.client")


class OrdersError(Exception):
    """Base of the errors callers map to messages, exit codes and HTTP statuses."""


class OrderNotFound(OrdersError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} not found")
        self.order_id = order_id


class InvalidOrderId(OrderNotFound):
    """An id no order can have (docs/lifecycle.md: 1-64 letters, digits, `.`, `_`, `:`, `-`): refused before
    any call to Temporal, which would answer a megabyte id with an error that reads as an outage."""

    def __init__(self, order_id: str) -> None:
        shown = ascii(order_id[:MAX_ID_LENGTH]) + (
            f"... ({len(order_id)} characters)" if len(order_id) > MAX_ID_LENGTH else ""
        )
        OrdersError.__init__(
            self, f"order {shown} not found: an order id is 1-64 letters, digits, '.', '_', ':' or '-'"
        )
        self.order_id = order_id


class CommandRejected(OrdersError):
    """The order's rules refused the command; nothing changed."""

    def __init__(self, reason: str, code: str = "refused") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class OrderFinal(CommandRejected):
    def __init__(self, order_id: str, status: str) -> None:
        super().__init__(f"order {order_id} is {status}; {status} orders are final", "final")


class TemporalUnavailable(OrdersError):
    """Temporal (or every worker, for reads that need one) did not answer."""


def first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]


def unavailable(err: RPCError) -> TemporalUnavailable:
    """Temporal failed a call: the detail (with its addresses) to the log, a plain message to the caller."""
    log.warning("Temporal call failed: %s (%s)", first_line(err), err.status.name)
    return TemporalUnavailable("Temporal did not answer; try again in a moment")
