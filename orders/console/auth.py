"""Signing in to the console: who is signed in, and how many wrong passwords a user name may take.

`Throttle` locks a user name for `LOCK` after `MAX_FAILURES` failed sign-ins within `WINDOW`, whether or
not the name exists (so the lock tells nothing about which names do), in this API process's memory:
several API processes each count their own. It keeps at most `MAX_TRACKED` names and never forgets a
locked one to make room: failing many other names can't lift a lock. An unknown name costs the same
Argon2 work as a wrong password (`users.verify`).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from domain.lifecycle import Actor
from orders.console.sessions import LIFETIME, new_session
from orders.console.users import User, UsersFile, normalize, same, verify

MAX_FAILURES = 5
WINDOW = 15 * 60
LOCK = 15 * 60
MAX_TRACKED = 10_000  # user names remembered at once; the oldest unlocked are forgotten first


class NeedsSignIn(Exception):
    """The page needs a signed-in user; the console answers with the sign-in page."""


@dataclass(frozen=True)
class Staff:
    """The signed-in user, as commands are sent: actor = role, sender = name."""

    name: str
    role: Actor


class Throttle:
    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW,
        lock: float = LOCK,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self.max_failures, self.window, self.lock = max_failures, window, lock
        self.max_tracked = max_tracked
        self._failures: dict[str, deque[float]] = {}

    def locked_for(self, name: str, now: float | None = None) -> float:
        """Seconds until `name` may try again; 0 when it may now."""
        now = time.monotonic() if now is None else now
        failures = self._recent(name, now)
        if len(failures) < self.max_failures:
            return 0.0
        return max(0.0, failures[-1] + self.lock - now)

    def failed(self, name: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        full = name not in self._failures and len(self._failures) >= self.max_tracked
        if full and not self._forget_oldest_unlocked(now):
            return  # every name kept is locked: forgetting one would unlock it
        failures = self._recent(name, now)
        failures.append(now)
        self._failures.pop(name, None)
        self._failures[name] = failures  # most recently failed last

    def _forget_oldest_unlocked(self, now: float) -> bool:
        for name in self._failures:
            if not self.locked_for(name, now):
                del self._failures[name]
                return True
        return False

    def succeeded(self, name: str) -> None:
        self._failures.pop(name, None)

    def _recent(self, name: str, now: float) -> deque[float]:
        failures = self._failures.get(name, deque(maxlen=self.max_failures))
        horizon = now - max(self.window, self.lock)
        while failures and failures[0] < horizon:
            failures.popleft()
        return failures


class SignInRefused(Exception):
    pass


async def sign_in(request: Request, users: UsersFile, throttle: Throttle, name: str, password: str) -> User:
    """Check the password (off the event loop) and start a new session for the user; a refusal says
    why in words that don't tell whether the name exists."""
    name = normalize(name)[:64]
    wait = throttle.locked_for(name)
    if wait:
        minutes = max(1, round(wait / 60))
        raise SignInRefused(
            f"Too many failed sign-ins for this user name. Try again in {minutes} min, "
            "or ask an administrator to reset the password."
        )
    user = users.get(name) if name else None
    if not await run_in_threadpool(verify, user, password):
        throttle.failed(name)
        raise SignInRefused("Wrong user name or password.")
    assert user is not None
    throttle.succeeded(name)
    # A new session id and CSRF token at sign-in: a session id planted before it is worth nothing.
    session = new_session() | {"user": user.name, "key": user.fingerprint, "exp": time.time() + LIFETIME}
    request.session.clear()
    request.session.update(session)
    return user


def current_staff(request: Request) -> Staff | None:
    """The signed-in user, if the session names one who still exists with the same password."""
    name = request.session.get("user")
    if not isinstance(name, str):
        return None
    users: UsersFile = request.app.state.users
    user = users.get(name)
    if user is None or not same(str(request.session.get("key", "")), user.fingerprint):
        return None
    return Staff(user.name, user.role)


def require_staff(request: Request) -> Staff:
    staff = current_staff(request)
    if staff is None:
        raise NeedsSignIn()
    return staff


def sign_out(request: Request) -> None:
    sid = request.session.get("sid")
    if isinstance(sid, str):
        request.app.state.sessions.revoked.add(sid, float(request.session.get("exp", 0)) or time.time())
    request.session.clear()
    request.session.update(new_session())
