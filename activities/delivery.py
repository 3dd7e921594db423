"""Where events go: signed HTTP POSTs to the merchant's systems, or a local JSON-lines event log.

Both are idempotent by the event's `id`, so a retried activity never performs an effect twice.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks.webhooks import Webhook

from domain.events import OrderEvent

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Orders-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
WHSEC_PREFIX = "whsec_"


def sign(body: bytes, secret: str) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body>`: what `X-Orders-Signature` carries."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str | bytes) -> bool:
    """For receivers: constant-time check of a delivery's `X-Orders-Signature`. Compares bytes, so a
    header with characters outside ASCII is simply wrong, never an exception."""
    given = signature if isinstance(signature, bytes) else signature.encode("utf-8", "replace")
    return hmac.compare_digest(sign(body, secret).encode(), given)


def webhook_key(secret: str) -> bytes:
    """The Standard Webhooks signing key: base64 after a `whsec_` prefix, else the secret's UTF-8 bytes."""
    if secret.startswith(WHSEC_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(WHSEC_PREFIX), validate=True)
        except binascii.Error:
            raise ValueError("a secret starting with whsec_ must be base64 after the prefix") from None
    return secret.encode()


def standard_webhook_headers(
    event_id: str, body: bytes, key: bytes, at: float | None = None
) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature` (Standard Webhooks, v1), so receivers
    verify with the `standardwebhooks` libraries and reject replays by timestamp."""
    timestamp = int(time.time() if at is None else at)
    signed = Webhook(key).sign(event_id, datetime.fromtimestamp(timestamp, UTC), body.decode())
    return {"webhook-id": event_id, "webhook-timestamp": str(timestamp), "webhook-signature": signed}


def shown(url: str) -> str:
    """A URL as failures show it: without user, password or query string, where receivers often put a
    token. The failure message goes to the worker's log and into the workflow's history."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class _ShownUrls(logging.Filter):
    """httpx logs every request's full URL at INFO (the worker logs INFO): show it as `shown` does."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(shown(str(a)) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


_httpx_log = logging.getLogger("httpx")
if not any(isinstance(f, _ShownUrls) for f in _httpx_log.filters):
    _httpx_log.addFilter(_ShownUrls())


def encode(event: OrderEvent) -> bytes:
    return json.dumps(event.body(), separators=(",", ":"), sort_keys=True).encode()


class EventSink(Protocol):
    async def deliver(self, event: OrderEvent) -> None:
        """Deliver `event`, or raise so that Temporal retries it."""

    async def aclose(self) -> None:
        """Release connections."""


class DeliveryRefused(Exception):
    """The receiver answered something other than 2xx, or could not be reached: a retry may succeed."""


class Undeliverable(Exception):
    """The event can't be built or sent for a reason no retry fixes (e.g. it can't be encoded)."""


class WebhookSink:
    """POSTs each event to the URL configured for its kind (docs/events.md, "Delivery format")."""

    def __init__(
        self,
        urls: Mapping[str, str],
        default_url: str | None,
        secret: str | None,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._urls = dict(urls)
        self._default_url = default_url
        self._secret = secret
        self._key = webhook_key(secret) if secret else None
        self._http = httpx.AsyncClient(timeout=timeout_seconds)

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The client every POST goes through (the worker adds tracing to it)."""
        return self._http

    def url_for(self, event: OrderEvent) -> str | None:
        return self._urls.get(event.type.kind, self._default_url)

    async def deliver(self, event: OrderEvent) -> None:
        url = self.url_for(event)
        if url is None:
            raise RuntimeError(f"no URL for {event.type.value} events")
        try:
            body = encode(event)
            headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: event.id}
            if self._secret and self._key:
                headers[SIGNATURE_HEADER] = sign(body, self._secret)
                headers |= standard_webhook_headers(event.id, body, self._key)
            request = self._http.build_request("POST", url, content=body, headers=headers)
        except (UnicodeError, ValueError, TypeError, httpx.InvalidURL, httpx.UnsupportedProtocol) as err:
            raise Undeliverable(f"{event.type.value} to {shown(url)}: {type(err).__name__}") from None
        try:
            response = await self._http.send(request)
        except httpx.LocalProtocolError as err:
            raise Undeliverable(f"{event.type.value} to {shown(url)}: {type(err).__name__}") from None
        except httpx.HTTPError as err:
            raise DeliveryRefused(f"{event.type.value} to {shown(url)}: {type(err).__name__}") from None
        if not response.is_success:
            raise DeliveryRefused(f"{event.type.value} to {shown(url)}: HTTP {response.status_code}")

    async def aclose(self) -> None:
        await self._http.aclose()


class EventLog:
    """Appends each event's JSON body as one line to `<data dir>/events.jsonl`, once per `id`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._written: set[str] | None = None
        self._lock = asyncio.Lock()

    def _load(self) -> set[str]:
        written: set[str] = set()
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    written.add(json.loads(line)["id"])
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line from a crash is rewritten by the retry
        return written

    async def deliver(self, event: OrderEvent) -> None:
        try:
            line = encode(event) + b"\n"
        except (UnicodeError, ValueError, TypeError) as err:
            raise Undeliverable(f"{event.type.value} to the event log: {type(err).__name__}") from None
        async with self._lock:
            if self._written is None:
                self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                self._written = self._load()
            if event.id in self._written:
                return
            # Customer data: readable by the service's user only (docs/configuration.md, "Files").
            with os.fdopen(
                os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab"
            ) as log_file:
                log_file.write(line)
            self._written.add(event.id)

    async def aclose(self) -> None:
        return None


class RoutedSink:
    """Webhooks for the kinds that have a URL; the event log for the rest."""

    def __init__(self, webhooks: WebhookSink, event_log: EventLog) -> None:
        self._webhooks = webhooks
        self._event_log = event_log

    async def deliver(self, event: OrderEvent) -> None:
        if self._webhooks.url_for(event) is None:
            await self._event_log.deliver(event)
        else:
            await self._webhooks.deliver(event)

    async def aclose(self) -> None:
        await self._webhooks.aclose()
