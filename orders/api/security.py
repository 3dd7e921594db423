"""Who may call a route, as FastAPI dependencies: `Staff` (the VTEX app key and token of the merchant's
systems, acting as store or erp) and `Customer` (a customer's bearer token). The checks themselves are
`orders.api.auth.Authenticator`'s; the schemes here also describe them in the OpenAPI document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from domain.lifecycle import Actor
from orders.api.auth import ON_BEHALF_SUFFIX, Authenticator

app_key_header = APIKeyHeader(name="X-VTEX-API-AppKey", auto_error=False, scheme_name="AppKey")
app_token_header = APIKeyHeader(name="X-VTEX-API-AppToken", auto_error=False, scheme_name="AppToken")
bearer = HTTPBearer(auto_error=False, scheme_name="CustomerToken", bearerFormat="JWT")


# `async def`, though nothing here awaits: FastAPI runs a plain `def` dependency in its thread pool, a
# thread hop per request (its cost is measured in docs/performance.md).
@dataclass(frozen=True)
class Caller:
    """Who sends a command: the actor it acts as, and who exactly (the app key, the customer id)."""

    actor: Actor
    sender: str

    def command(self, **fields: Any) -> dict[str, Any]:
        return {"actor": self.actor, "sender": self.sender, **fields}

    def for_customer(self, **fields: Any) -> dict[str, Any]:
        """A command made on the customer's behalf (VTEX's `requestedByUser`): the customer's, sent by
        `<appKey>@app`, a sender no customer can be, so its request ids are never the customer's own."""
        return {"actor": Actor.CUSTOMER, "sender": f"{self.sender}{ON_BEHALF_SUFFIX}", **fields}


async def staff(
    request: Request,
    app_key: Annotated[str | None, Security(app_key_header)],
    app_token: Annotated[str | None, Security(app_token_header)],
) -> Caller:
    auth: Authenticator = request.app.state.auth
    actor = auth.staff(app_key, app_token)
    assert app_key is not None  # staff() refuses a call without one
    return Caller(actor, app_key)


async def customer(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> str:
    auth: Authenticator = request.app.state.auth
    return auth.customer(credentials.credentials if credentials else None)


Staff = Annotated[Caller, Security(staff)]
Customer = Annotated[str, Security(customer)]
