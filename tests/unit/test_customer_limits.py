"""The customer pages' rate limits (orders/customer/limits.py): visitors nobody signed in for can't push a
customer's count out of memory."""

from __future__ import annotations

from orders.customer.limits import MAX_TRACKED, Limits


def test_anonymous_sessions_never_evict_a_signed_in_customers_count() -> None:
    limits = Limits(per_window=2)
    assert limits.wait("c-1/*", signed_in=True) == 0 and limits.wait("c-1/*", signed_in=True) == 0
    assert limits.wait("c-1/*", signed_in=True) > 0  # at the limit
    for n in range(MAX_TRACKED + 50):  # a flood of fresh sessions
        limits.wait(f"sid:{n}", signed_in=False)
    assert limits.wait("c-1/*", signed_in=True) > 0  # still counted
