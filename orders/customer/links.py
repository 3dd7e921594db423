"""Guest links (SPEC §12): `/my-orders/<orderId>?access=<token>`, a link bound to one order that opens it
for its customer alone, made by `orders customer-link` and `POST .../customer-link` for customers who
have no storefront account to sign in with.

The token is a JWT signed with `ORDERS_CUSTOMER_TOKEN_SECRET` (HS256) with the audience
`GUEST_AUDIENCE`, so the customer endpoint, which takes tokens without one, refuses it; `oid` is the
order, `sub` its customer. It lasts `DEFAULT_TTL`, at most `MAX_TTL`. No web imports here: the CLI
mints links too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt

from domain.text import ORDER_ID
from orders.settings import Settings

GUEST_AUDIENCE = "orders:my-orders"
DEFAULT_TTL = timedelta(days=7)
MAX_TTL = timedelta(days=30)
MIN_TTL = timedelta(minutes=1)
PATH = "/my-orders"
NUMERIC_DATES = ("exp", "iat", "nbf")


class LinkRefused(Exception):
    """`why`: `expired`, `invalid` or `disabled` (no ORDERS_CUSTOMER_TOKEN_SECRET, or the pages are off)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


_JWT = jwt.PyJWT(options={"enforce_minimum_key_length": True})


def _secret(settings: Settings) -> str:
    if settings.customer_token_secret is None or not settings.customer_pages:
        raise LinkRefused("disabled")
    return settings.customer_token_secret.get_secret_value()


def mint(
    settings: Settings, order_id: str, customer_id: str, ttl: timedelta, now: datetime
) -> tuple[str, datetime]:
    """The link for `order_id` (whose customer is `customer_id`), and when it stops working."""
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise ValueError("a customer link lasts from 1 minute to 30 days")
    secret = _secret(settings)
    expires = now + ttl
    claims = {"sub": customer_id, "oid": order_id, "aud": GUEST_AUDIENCE,
              "iat": int(now.timestamp()), "exp": int(expires.timestamp())}  # fmt: skip
    token = _JWT.encode(claims, secret, algorithm="HS256")
    return f"{settings.base_url}{PATH}/{order_id}?access={token}", expires


def read(settings: Settings, token: str) -> dict[str, Any]:
    """A guest token's claims (`sub`, `oid`, `exp`), or `LinkRefused`."""
    secret = _secret(settings)
    try:
        claims = _JWT.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=GUEST_AUDIENCE,
            options={"require": ["exp", "iat", "sub", "aud", "oid"]},
        )
    except jwt.ExpiredSignatureError:
        raise LinkRefused("expired") from None
    except jwt.InvalidTokenError:
        raise LinkRefused("invalid") from None
    dates_are_numbers = all(
        isinstance(claims[name], int | float) and not isinstance(claims[name], bool)
        for name in NUMERIC_DATES
        if name in claims
    )
    subject, order = claims.get("sub"), claims.get("oid")
    if (
        not dates_are_numbers
        or claims["exp"] - claims["iat"] > MAX_TTL.total_seconds()
        or not (isinstance(subject, str) and subject.strip())
        or not (isinstance(order, str) and ORDER_ID.fullmatch(order))
    ):
        raise LinkRefused("invalid")
    return claims
