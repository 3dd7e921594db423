"""A webhook receiver on loopback for the tests: checks every signature, records every attempt, and
behaves as a test says (accept, fail, hang), per event and attempt."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from activities.delivery import verify

SECRET = "faults-webhook-secret-of-32-bytes+"


def signed_both_ways(headers: Any, body: bytes) -> bool:
    """`X-Orders-Signature`, and the Standard Webhooks headers as that standard's own library checks
    them (timestamp within 5 minutes included)."""
    if not verify(body, SECRET, headers.get("X-Orders-Signature", "")):
        return False
    try:
        Webhook(SECRET.encode()).verify(body, {k: v for k, v in headers.items()}, json_parse=False)
    except WebhookVerificationError:
        return False
    return headers.get("webhook-id") == headers.get("Idempotency-Key")


@dataclass
class Attempt:
    key: str
    type: str
    at: float
    signed: bool
    answer: str
    traceparent: str | None = None  # the W3C trace context the sender's POST carried (docs/observability.md)


@dataclass
class Receiver:
    """The merchant's endpoint on loopback: checks signatures, answers as `behaviour` says.

    `behaviour(event, attempt)` returns "ok", "fail" (HTTP 500) or "hang" (answer after `hang_seconds`,
    past the sender's timeout). The work of an event is done once per key (`done`), as a receiver that
    honours `Idempotency-Key` does; `attempts` keeps every try."""

    behaviour: Callable[[dict[str, Any], int], str] = lambda event, attempt: "ok"
    hang_seconds: float = 2.0
    url: str = ""
    attempts: list[Attempt] = field(default_factory=list)
    done: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    port: int = 0

    def receive(self, headers: Any, body: bytes) -> tuple[int, float]:
        event = json.loads(body)
        key = headers.get("Idempotency-Key", "")
        signed = signed_both_ways(headers, body)
        with self.lock:
            attempt = sum(1 for a in self.attempts if a.key == key) + 1
            answer = self.behaviour(event, attempt) if signed and key == event["id"] else "refuse"
            at = time.monotonic()
            self.attempts.append(Attempt(key, event["type"], at, signed, answer, headers.get("traceparent")))
            if answer in ("ok", "hang") and key not in self.done:
                self.done[key] = (time.monotonic(), event)  # the work is done even if the answer is late
        if answer == "ok":
            return 200, 0.0
        if answer == "hang":
            return 200, self.hang_seconds
        return (401 if answer == "refuse" else 500), 0.0

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, delay = receiver.receive(self.headers, body)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Down: the port refuses connections until `start` again (on the same port)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def tries(self, order_id: str) -> dict[str, int]:
        with self.lock:
            counts: dict[str, int] = {}
            for a in self.attempts:
                if a.key.startswith(f"{order_id}:"):
                    counts[a.key] = counts.get(a.key, 0) + 1
            return counts
