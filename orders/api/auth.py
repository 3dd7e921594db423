"""Who is calling: VTEX-style app keys for the merchant's systems, signed tokens for customers.

- `X-VTEX-API-AppKey` + `X-VTEX-API-AppToken`, checked against the `ORDERS_API_CREDENTIALS` JSON file
  (`[{"appKey": ..., "appToken": ..., "role": "erp" | "store" | "storefront"}]`). Every entry is
  compared in constant time, so the answer's timing tells nothing about which part was wrong.
- Customers: `Authorization: Bearer <JWT>`, HS256 with `ORDERS_CUSTOMER_TOKEN_SECRET` (32 bytes at
  least), `sub` = the customer id, `iat` and `exp` required and at most
  `ORDERS_CUSTOMER_TOKEN_MAX_LIFETIME_SECONDS` apart (24 h by default): a leaked token doesn't last.

Secrets never appear in a message, a log line or a repr.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError

from domain.lifecycle import Actor
from domain.text import MAX_REQUEST_ID_LENGTH, ORDER_ID, printable_ascii
from orders.api.errors import ApiError
from orders.settings import Settings


class Role(StrEnum):
    ERP = "erp"
    STORE = "store"
    # The shop's website: a key that authenticates but that no route acts on yet, so a leaked one can
    # neither read nor cancel; kept for routes made for the website (docs/api.md, "Authentication").
    STOREFRONT = "storefront"


# The roles that may call the private (`/api/oms/pvt`) endpoints, and the actor they act as.
STAFF_ACTORS: dict[Role, Actor] = {Role.ERP: Actor.ERP, Role.STORE: Actor.STORE}


class TokenExpired(ApiError):
    """A customer token past its `exp`: refused like any bad token, and told apart by pages that say so."""


class CredentialsError(ValueError):
    """The credentials file can't be used; the message says why (and never shows a token)."""


@dataclass(frozen=True)
class Credential:
    app_key: str
    app_token: str = field(repr=False)
    role: Role


MIN_APP_TOKEN_LENGTH = 16  # docs/configuration.md, "Secrets": shorter tokens are guessed

# A request an app key makes on a customer's behalf is sent as the customer's, by `<appKey>@app`: no
# customer id holds '@' (domain.text.ID_CHARS), so it never shares request ids with the customer's own.
ON_BEHALF_SUFFIX = "@app"
# Short enough that the on-behalf sender is a sender (at most MAX_REQUEST_ID_LENGTH characters).
MAX_APP_KEY_LENGTH = MAX_REQUEST_ID_LENGTH - len(ON_BEHALF_SUFFIX)

AppKey = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_APP_KEY_LENGTH), AfterValidator(printable_ascii)
]
AppToken = Annotated[str, StringConstraints(min_length=MIN_APP_TOKEN_LENGTH, max_length=512)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    appKey: AppKey
    appToken: AppToken
    role: Role


def load_credentials(path: Path | None) -> tuple[Credential, ...]:
    """The credentials file's entries; none when no file is configured (every private call is refused)."""
    if path is None:
        return ()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CredentialsError(f"can't read ORDERS_API_CREDENTIALS file {path}: {err.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CredentialsError(f"ORDERS_API_CREDENTIALS file {path} is not JSON: {err}") from None
    try:
        entries = TypeAdapter(list[_Entry]).validate_python(raw)
    except ValidationError as err:
        # Locations and messages only: the input (which may hold a token) is left out.
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}"
            for e in err.errors(include_url=False, include_input=False)[:5]
        )
        raise CredentialsError(
            f"ORDERS_API_CREDENTIALS file {path} must be a list of "
            f'{{"appKey", "appToken", "role": "erp"|"store"|"storefront"}}: {problems}'
        ) from None
    keys = [e.appKey for e in entries]
    if len(set(keys)) != len(keys):
        raise CredentialsError(f"ORDERS_API_CREDENTIALS file {path} lists an appKey more than once")
    return tuple(Credential(e.appKey, e.appToken, e.role) for e in entries)


# RFC 7519's NumericDate claims: a JSON number, never a string or true/false.
NUMERIC_DATES = ("exp", "iat", "nbf")


def _numeric_date(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class Authenticator:
    def __init__(
        self,
        credentials: tuple[Credential, ...],
        customer_secret: str | None,
        max_token_lifetime_seconds: int = 24 * 60 * 60,
    ) -> None:
        self._credentials = credentials
        self._customer_secret = customer_secret
        self._max_lifetime = max_token_lifetime_seconds
        # PyJWT refuses an HMAC key shorter than the hash (32 bytes for HS256) with this option.
        self._jwt = jwt.PyJWT(options={"enforce_minimum_key_length": True})

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        secret = settings.customer_token_secret
        return cls(
            load_credentials(settings.api_credentials),
            secret.get_secret_value() if secret else None,
            settings.customer_token_max_lifetime_seconds,
        )

    def role(self, app_key: str | None, app_token: str | None) -> Role:
        if not self._credentials:
            raise ApiError(
                401, "unauthorized", "no API credentials are configured (set ORDERS_API_CREDENTIALS)"
            )
        if not app_key or not app_token:
            raise ApiError(401, "unauthorized", "send X-VTEX-API-AppKey and X-VTEX-API-AppToken")
        found: Role | None = None
        for credential in self._credentials:
            # Both comparisons for every entry, with no early exit: constant time in what matched.
            key_ok = _same(credential.app_key, app_key)
            token_ok = _same(credential.app_token, app_token)
            if key_ok & token_ok:
                found = credential.role
        if found is None:
            raise ApiError(401, "unauthorized", "unknown X-VTEX-API-AppKey or wrong X-VTEX-API-AppToken")
        return found

    def staff(self, app_key: str | None, app_token: str | None) -> Actor:
        """The actor a private call acts as; the storefront role may call none of them."""
        role = self.role(app_key, app_token)
        actor = STAFF_ACTORS.get(role)
        if actor is None:
            raise ApiError(403, "forbidden", f"the {role.value} role may not call this endpoint")
        return actor

    def customer(self, token: str | None) -> str:
        """The customer id a bearer token was issued to."""
        return str(self.customer_claims(token)["sub"])

    def customer_claims(self, token: str | None) -> dict[str, Any]:
        """A valid customer token's claims (`sub` stripped, `exp` and `iat` numbers); refused with 401
        otherwise. A token with an audience (a guest link, docs/customer-pages.md) is not one."""
        challenge = {"WWW-Authenticate": "Bearer"}
        if self._customer_secret is None:
            raise ApiError(
                401,
                "unauthorized",
                "customer tokens are not enabled (set ORDERS_CUSTOMER_TOKEN_SECRET)",
                challenge,
            )
        if not token:
            raise ApiError(401, "unauthorized", "send Authorization: Bearer <customer token>", challenge)
        try:
            claims = self._jwt.decode(
                token, self._customer_secret, algorithms=["HS256"], options={"require": ["exp", "iat", "sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise TokenExpired(401, "unauthorized", "the customer token has expired", challenge) from None
        except jwt.InvalidTokenError as err:
            # PyJWT's messages name the failed check (signature, claim), never the token itself.
            raise ApiError(401, "unauthorized", f"invalid customer token: {err}", challenge) from None
        for claim in NUMERIC_DATES:
            if claim in claims and not _numeric_date(claims[claim]):
                # PyJWT reads "1796000000" as a number; the lifetime below can't, nor can anyone else.
                message = f"invalid customer token: {claim} must be a number (seconds since the epoch)"
                raise ApiError(401, "unauthorized", message, challenge)
        lifetime = claims["exp"] - claims["iat"]
        if lifetime > self._max_lifetime:
            raise ApiError(
                401,
                "unauthorized",
                f"invalid customer token: it may last {self._max_lifetime} s at most (exp - iat)",
                challenge,
            )
        subject = claims.get("sub")
        if not isinstance(subject, str) or not ORDER_ID.fullmatch(subject.strip()):
            raise ApiError(
                401,
                "unauthorized",
                "invalid customer token: sub must be the customer's id (1-64 letters, digits, '.', '_', ':' "
                "or '-')",
                challenge,
            )
        return claims | {"sub": subject.strip()}
