"""The service's settings (docs/configuration.md): environment variables, or a `.env` file.

Where Temporal is comes from `temporalio.envconfig` (TEMPORAL_ADDRESS, TEMPORAL_PROFILE, ...), read the
way the `temporal` CLI reads it; everything else is an `ORDERS_*` variable. Both may be in `.env`, in the
directory a program starts in (docs/configuration.md): `make run`, the worker, the API and `orders` all
read the same one when started from the same directory; a variable set in the environment wins.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from activities.delivery import webhook_key
from domain import defaults
from domain.events import EventType
from domain.models import StoreSettings
from domain.reasons import BUILT_IN, Catalogue, CatalogueError
from domain.spans import fmt_span
from domain.wire import MAX_SECONDS, DecisionTimeout, GracePeriod, ModificationPaymentTimeout, PaymentTimeout
from orders.durations import parse_durations

EVENT_KINDS = tuple(dict.fromkeys(event.kind for event in EventType))  # payment, stock, store, ...
# Secrets shorter than this can be guessed offline from what they sign (docs/configuration.md, "Secrets").
MIN_SECRET_BYTES = 32
# Relative: the directory each program starts in, as for ORDERS_DATA_DIR's default `.data`.
ENV_FILE = Path(".env")


def environment() -> dict[str, str]:
    """The process's environment over `.env`'s TEMPORAL_* variables: where Temporal is, for the programs
    that read it with `temporalio.envconfig` (which reads only the environment)."""
    from_file = {
        name: value
        for name, value in dotenv_values(ENV_FILE).items()
        if name.startswith("TEMPORAL_") and value is not None
    }
    return from_file | dict(os.environ)


def _long_enough(key: bytes) -> None:
    if len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes (it is {len(key)}); use a random one")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERS_", env_file=ENV_FILE, extra="ignore")

    data_dir: Path = Path(".data")
    embedded_port: int = Field(7233, ge=1, le=64535)
    task_queue: str = "orders"
    grace_period_seconds: GracePeriod = defaults.GRACE_PERIOD_SECONDS
    decision_timeout_seconds: DecisionTimeout = defaults.DECISION_TIMEOUT_SECONDS
    payment_timeout_seconds: PaymentTimeout = defaults.PAYMENT_TIMEOUT_SECONDS
    # How long a modification's higher value waits for the payment of its difference (docs/modifications.md).
    modification_payment_timeout_seconds: ModificationPaymentTimeout = (
        defaults.MODIFICATION_PAYMENT_TIMEOUT_SECONDS
    )
    # Before a pending request's decision deadline, when to remind the store: `7d,1d,1h`; empty: never.
    decision_reminders: str = ",".join(fmt_span(offset) for offset in defaults.REMINDER_OFFSETS)
    # One URL for every event, and optionally one per kind (ORDERS_WEBHOOK_URL_PAYMENT, ...).
    webhook_url: str | None = None
    webhook_url_payment: str | None = None
    webhook_url_stock: str | None = None
    webhook_url_store: str | None = None
    webhook_url_customer: str | None = None
    webhook_url_order: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=MAX_SECONDS)
    api_credentials: Path | None = None
    customer_token_secret: SecretStr | None = None
    # A customer token may live this long at most (`exp` - `iat`).
    customer_token_max_lifetime_seconds: int = Field(24 * 60 * 60, gt=0, le=30 * 24 * 60 * 60)
    # A TOML reason catalogue (domain/reasons.py); unset: the built-in one.
    reasons: Path | None = None
    _catalogue: Catalogue | None = PrivateAttr(None)
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    # The worker's Prometheus endpoint (the SDK runtime's metrics), e.g. 9464; unset: off. It has no
    # authentication, so it listens on this machine only unless told otherwise (docs/deploying.md).
    metrics_port: int | None = Field(None, ge=1, le=65535)
    # Log lines as text for a terminal, or JSON lines naming the order and trace (docs/observability.md).
    log_format: Literal["text", "json"] = "text"
    metrics_host: str = Field("127.0.0.1", min_length=1, max_length=255)
    # Seconds a command waits for a worker's verdict before it is queued as a signal instead.
    update_timeout_seconds: float = Field(5.0, gt=0, le=MAX_SECONDS)
    # The staff console (orders/console/): its accounts file (unset: <data dir>/console-users.json), the
    # key that signs its session cookies (unset: a random one kept in <data dir>/console-secret), and
    # whether its cookie is marked Secure (unset: when the request came over HTTPS; set true behind a
    # proxy that terminates TLS, since the API does not trust X-Forwarded-Proto).
    console_users: Path | None = None
    console_secret: SecretStr | None = None
    console_secure_cookie: bool | None = None
    # The customer's "My orders" pages under /my-orders (orders/customer/, docs/customer-pages.md): on
    # unless set off, when every one of their paths answers 404.
    customer_pages: bool = True
    # Where customers and staff reach this API, for the links `orders customer-link` mints; unset:
    # http://ORDERS_API_HOST:ORDERS_API_PORT.
    public_url: str | None = None
    # Password checks (Argon2) at once in one API process (unset: a quarter of the cores, at least one),
    # and per client; a sign-in past them waits briefly, then is answered 429 (orders/console/guard.py).
    console_signin_concurrency: int | None = Field(None, ge=1, le=256)
    console_signin_per_client: int = Field(2, ge=1, le=256)
    # Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto the API believes; unset: none, the client is the connection's peer.
    trusted_proxies: str = ""

    # Worker tuning (docs/performance.md). Unset: the Temporal SDK's default.
    # Orders kept in the worker's memory between tasks; the rest are replayed from history when they wake.
    worker_max_cached_workflows: int = Field(1000, ge=0)
    worker_max_concurrent_workflow_tasks: int | None = Field(None, ge=2)
    worker_max_concurrent_activities: int | None = Field(None, ge=1)
    worker_workflow_task_pollers: int | None = Field(None, ge=2)
    worker_activity_task_pollers: int | None = Field(None, ge=1)

    @field_validator(
        "webhook_url",
        "webhook_url_payment",
        "webhook_url_stock",
        "webhook_url_store",
        "webhook_url_customer",
        "webhook_url_order",
        "public_url",
    )
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", url):
            raise ValueError("must be an http:// or https:// URL")
        return url

    @field_validator("decision_reminders")
    @classmethod
    def _durations(cls, text: str) -> str:
        offsets = parse_durations(text)  # a ValueError names the bad part
        if any(offset <= 0 for offset in offsets) or len(offsets) > defaults.MAX_REMINDERS:
            raise ValueError(
                f"give up to {defaults.MAX_REMINDERS} positive durations, e.g. 7d,1d,1h (or nothing for none)"
            )
        return text

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, text: str) -> str:
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"{part[:60]!r} is not an address or network; list the proxies' addresses, e.g. "
                    "10.0.0.5,10.1.0.0/16 (never every address: any client could then say who it is)"
                ) from None
        return text

    @property
    def proxies(self) -> list[str]:
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_key_long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None:
            try:
                _long_enough(webhook_key(secret.get_secret_value()))
            except ValueError as err:
                raise ValueError(str(err)) from None
        return secret

    @field_validator("customer_token_secret", "console_secret")
    @classmethod
    def _secret_long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        # These sign with the secret's own bytes (HMAC), so a `whsec_` prefix means nothing here.
        if secret is not None:
            _long_enough(secret.get_secret_value().encode())
        return secret

    @property
    def base_url(self) -> str:
        """Where this API is reached from outside: ORDERS_PUBLIC_URL, or the address it listens on."""
        return (self.public_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def console_users_file(self) -> Path:
        return self.console_users or self.data_dir / "console-users.json"

    @property
    def catalogue(self) -> Catalogue:
        """The reason catalogue: ORDERS_REASONS's file, or the built-in one."""
        if self.reasons is None:
            return BUILT_IN
        if self._catalogue is None:
            self._catalogue = Catalogue.from_toml(self.reasons)
        return self._catalogue

    @property
    def store(self) -> StoreSettings:
        return StoreSettings(
            grace_period_seconds=self.grace_period_seconds,
            decision_timeout_seconds=self.decision_timeout_seconds,
            payment_timeout_seconds=self.payment_timeout_seconds,
            modification_payment_timeout_seconds=self.modification_payment_timeout_seconds,
            reminder_offsets=parse_durations(self.decision_reminders),
            reasons=self.catalogue.snapshot(),
        )

    @property
    def webhook_urls(self) -> dict[str, str]:
        """The URL per event kind; kinds without one fall back to `webhook_url`."""
        urls = {kind: getattr(self, f"webhook_url_{kind}") for kind in EVENT_KINDS}
        return {kind: url for kind, url in urls.items() if url}

    @property
    def event_log(self) -> Path:
        return self.data_dir / "events.jsonl"

    @property
    def embedded_database(self) -> Path:
        return self.data_dir / "temporal.db"


class SettingsError(Exception):
    """A setting can't be used; the message names the variable (and never shows a secret)."""


def load_settings() -> Settings:
    """The settings from the environment, or a `SettingsError` in one line naming the variables (or the
    line of the reason catalogue that is wrong)."""
    try:
        settings = Settings()
        settings.catalogue  # noqa: B018 - read now: a broken catalogue stops the start
        return settings
    except CatalogueError as err:
        raise SettingsError(f"bad setting: {err}") from None
    except ValidationError as err:
        problems = [
            f"ORDERS_{'_'.join(map(str, e['loc'])).upper()}: {e['msg'].removeprefix('Value error, ')}"
            for e in err.errors(include_url=False, include_input=False)[:5]
        ]
        raise SettingsError("bad setting: " + "; ".join(problems)) from None
