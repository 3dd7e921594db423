"""Who is at the customer's pages (SPEC §12), and how they got in.

- **Customers** arrive at `/my-orders/sign-in?token=<JWT>` with the customer endpoint's own token (HS256,
  `ORDERS_CUSTOMER_TOKEN_SECRET`, checked by `orders.api.auth.Authenticator`, the one place that
  reads it) and see all their orders.
- **Guests** arrive at `/my-orders/<orderId>?access=<token>`, a link bound to one order (`links`): it
  opens that order only, and signs in as its customer for that order alone.

Either way the page starts a new session (a new id and CSRF token, docs/customer-pages.md) that ends
when the token would have, and the address loses the token at once (a 303). Signing out revokes the
session and the token itself until it expires, in every API process sharing the data dir, so replaying
the same link gets a page saying so, never data.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from fastapi import Request

from orders.api.auth import Authenticator, TokenExpired
from orders.api.errors import ApiError
from orders.console.revoked import RevokedFile
from orders.console.sessions import new_session
from orders.customer import links
from orders.settings import Settings

REVOKED_FILE = "my-orders-revoked.json"


class AccessRefused(Exception):
    """No data for this visitor: `why` names the page that says so (`expired`, `invalid`, `revoked`,
    `disabled`), or `elsewhere` for a guest link used on another order's path (the unknown order's 404)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class Visitor:
    customer_id: str
    order_id: str | None = None  # a guest: this order only

    def may_open(self, order_id: str) -> bool:
        return self.order_id is None or self.order_id == order_id


@dataclass(frozen=True)
class Pass:
    """A checked token: who it lets in, until when, and its fingerprint (what signing out revokes)."""

    visitor: Visitor
    expires: float
    fingerprint: str


def fingerprint(token: str) -> str:
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:40]


class Gate:
    """Checks the tokens the pages take, mints guest links, and remembers what signing out revoked."""

    def __init__(self, settings: Settings, revoked: RevokedFile) -> None:
        self._settings = settings
        self._customers = Authenticator.from_settings(settings)
        self.revoked = revoked

    @property
    def enabled(self) -> bool:
        return self._settings.customer_token_secret is not None

    def customer(self, token: str) -> Pass:
        """A storefront's customer token, as the customer endpoint checks it."""
        if not self.enabled:
            raise AccessRefused("disabled")
        try:
            claims = self._customers.customer_claims(token)
        except TokenExpired:
            raise AccessRefused("expired") from None
        except ApiError:
            raise AccessRefused("invalid") from None
        return self._unrevoked(token, Visitor(str(claims["sub"])), float(claims["exp"]))

    def guest(self, token: str, order_id: str) -> Pass:
        """A guest link's token, on its own order's path only."""
        try:
            claims = links.read(self._settings, token)
        except links.LinkRefused as err:
            raise AccessRefused(err.why) from None
        if claims["oid"] != order_id:
            raise AccessRefused("elsewhere")
        return self._unrevoked(token, Visitor(claims["sub"].strip(), claims["oid"]), float(claims["exp"]))

    def _unrevoked(self, token: str, visitor: Visitor, expires: float) -> Pass:
        mark = fingerprint(token)
        if mark in self.revoked:
            raise AccessRefused("revoked")
        return Pass(visitor, expires, mark)


def sign_in(request: Request, granted: Pass) -> None:
    """A new session (new id and CSRF token: one planted before is worth nothing) for the visitor."""
    session = new_session() | {
        "customer": granted.visitor.customer_id,
        "exp": granted.expires,
        "token": granted.fingerprint,
    }
    if granted.visitor.order_id is not None:
        session["order"] = granted.visitor.order_id
    request.session.clear()
    request.session.update(session)


def visitor(request: Request) -> Visitor | None:
    """Who this session is for; None before signing in (the session middleware drops an ended one)."""
    customer, order = request.session.get("customer"), request.session.get("order")
    if not isinstance(customer, str):
        return None
    return Visitor(customer, order if isinstance(order, str) else None)


def sign_out(request: Request, revoked: RevokedFile) -> None:
    """End the session for good: its id and the token it came in with are revoked until they expire."""
    until = float(request.session.get("exp", 0)) or time.time()
    for mark in (request.session.get("sid"), request.session.get("token")):
        if isinstance(mark, str):
            revoked.add(mark, until)
    request.session.clear()
    request.session.update(new_session())
