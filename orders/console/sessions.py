"""Console sessions: a signed cookie (itsdangerous, HMAC-SHA1 over the JSON) holding who is signed in,
the session's CSRF token and the next page's flash messages (docs/console.md, "Security").

- The cookie is `HttpOnly`, `SameSite=Strict`, `Path=/console`, and `Secure` when the request came
  over HTTPS (or always, with `ORDERS_CONSOLE_SECURE_COOKIE=true` behind a proxy that terminates TLS).
- A session lasts `LIFETIME` from sign-in; signing out revokes its id in `console-revoked.json` beside
  the accounts file (`revoked.py`), so every API process sharing it honours that, after a restart too
  (the cookie is cleared as well); a new password for the user ends every session signed in with the
  old one.
- The signing key is `ORDERS_CONSOLE_SECRET`, or a random key made once in `<data dir>/console-secret`
  (mode 0600), so sessions survive a restart and every API process on that data dir shares it.
- Every POST must carry the session's CSRF token (form field `csrf`, or header `X-CSRF-Token`);
  `require_csrf` refuses one without it (403) before the route runs.

The customer's pages (orders/customer/) use the same machinery with their own `Cookie`: another name,
path, salt and lifetime, `SameSite=Lax` (docs/customer-pages.md).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orders.console.revoked import RevokedFile
from orders.settings import MIN_SECRET_BYTES, Settings

COOKIE = "orders_console"
COOKIE_PATH = "/console"
LIFETIME = 12 * 60 * 60  # a working day; then sign in again
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
MAX_FLASH_CHARS = 1500  # a cookie holds about 4 KB


@dataclass(frozen=True)
class Cookie:
    """A session cookie's name, scope and rules: the console's by default; the customer's pages
    (orders/customer/) have their own (docs/customer-pages.md)."""

    name: str = COOKIE
    path: str = COOKIE_PATH
    lifetime: int = LIFETIME  # the longest a session lasts; one signed in ends at its own `exp` too
    same_site: str = "Strict"
    salt: str = "orders-console-session"
    who: str = "user"  # the session key naming who is signed in


CONSOLE_COOKIE = Cookie()


class Forbidden(Exception):
    """A request the console refuses with 403 (a POST without the session's CSRF token)."""


def signing_secret(settings: Settings) -> str:
    """ORDERS_CONSOLE_SECRET, or the data dir's own random key, made on first use (mode 0600)."""
    if settings.console_secret is not None:
        return settings.console_secret.get_secret_value()
    path = settings.data_dir / "console-secret"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(48) + "\n")
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    for _ in range(50):  # another process may have created it a moment ago and be writing it
        value = path.read_text().strip()
        if len(value.encode()) >= MIN_SECRET_BYTES:
            return value
        time.sleep(0.02)
    raise ValueError(f"{path}: the console's session key is shorter than {MIN_SECRET_BYTES} bytes")


class Sessions:
    """Reads and writes the session cookie; `SessionMiddleware` calls it around every request."""

    def __init__(
        self, secret: str, revoked: RevokedFile, secure: bool | None = None, cookie: Cookie = CONSOLE_COOKIE
    ) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=cookie.salt)
        self.secure = secure
        self.revoked = revoked
        self.cookie = cookie

    def load(self, cookie: str | None) -> dict[str, Any]:
        if not cookie:
            return {}
        try:
            data = self._serializer.loads(cookie, max_age=self.cookie.lifetime)
        except BadSignature:
            return {}
        if not isinstance(data, dict) or data.get("sid") in self.revoked:
            return {}
        if data.get("token") in self.revoked:  # the token it came in with was signed out elsewhere
            return {}
        if self.cookie.who in data and float(data.get("exp", 0)) < time.time():
            return {}
        return data

    def max_age(self, session: dict[str, Any]) -> int:
        """Seconds the browser keeps the cookie: never past the signed-in session's own end."""
        if "exp" not in session:
            return self.cookie.lifetime
        return max(0, min(self.cookie.lifetime, int(float(session["exp"]) - time.time())))

    def dump(self, data: dict[str, Any]) -> str:
        return str(self._serializer.dumps(data))


def new_session() -> dict[str, Any]:
    """A fresh session: its id and CSRF token, nobody signed in."""
    return {"sid": secrets.token_urlsafe(16), CSRF_FIELD: secrets.token_urlsafe(32)}


class SessionMiddleware:
    """Puts the session (a dict) in `scope["session"]` (`request.session`), and writes the cookie back
    when the route changed it. Every visitor gets a session, so the sign-in form has a CSRF token too."""

    def __init__(self, app: ASGIApp, sessions: Sessions) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        loaded = self.sessions.load(request.cookies.get(self.sessions.cookie.name))
        session = loaded if loaded else new_session()
        before = json.dumps(session, sort_keys=True) if loaded else ""
        scope["session"] = session
        secure = self.sessions.secure if self.sessions.secure is not None else scope["scheme"] == "https"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                current = scope["session"]
                if json.dumps(current, sort_keys=True) != before:
                    headers = MutableHeaders(scope=message)
                    spec, age = self.sessions.cookie, self.sessions.max_age(current)
                    cookie = f"{spec.name}={self.sessions.dump(current)}; Path={spec.path}; Max-Age={age}"
                    cookie += f"; HttpOnly; SameSite={spec.same_site}" + ("; Secure" if secure else "")
                    headers.append("Set-Cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def flash(request: Request, text: str, kind: str = "info") -> None:
    """A message for the next page shown (Post/Redirect/Get)."""
    messages = list(request.session.get("flash", []))
    used = sum(len(m["text"]) for m in messages)
    room = MAX_FLASH_CHARS - used
    if room <= 0:
        return
    messages.append({"text": text if len(text) <= room else text[: room - 1] + "…", "kind": kind})
    request.session["flash"] = messages


def take_flashes(request: Request) -> list[dict[str, str]]:
    return list(request.session.pop("flash", []) or [])


def csrf_token(request: Request) -> str:
    return str(request.session.get(CSRF_FIELD, ""))


async def require_csrf(request: Request) -> None:
    """Every state-changing request carries the session's CSRF token, or is refused (403)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = csrf_token(request)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not expected or not given or not secrets.compare_digest(given.encode(), expected.encode()):
        raise Forbidden(
            "This form has expired or did not come from the console. Reload the page and try again."
        )
