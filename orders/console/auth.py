"""Signing in to the console: who is signed in, and how many wrong passwords a client may try on a name.

`Throttle` locks a (client, user name) pair for `LOCK` after `MAX_FAILURES` failed sign-ins within
`WINDOW`, whether or not the name exists (so the lock tells nothing about which names do), in this API
process's memory: several API processes each count their own. An attempt counts before its password is
checked, so simultaneous attempts can't all pass the count (at most `MAX_FAILURES` are ever judged per
lock), and the lock is the failing client's alone: the right password from anywhere else still signs in
(docs/console.md, "Security"). It keeps at most `MAX_TRACKED` pairs and never forgets a locked one to
make room: failing many other names can't lift a lock. An unknown name costs the same Argon2 work as a
wrong password (`users.verify`), and `guard.PasswordChecks` bounds how much of it runs at once.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass

from fastapi import Request

from domain.lifecycle import Actor
from orders.console.guard import PasswordChecks, client_of
from orders.console.sessions import LIFETIME, new_session
from orders.console.users import USERNAME, User, UsersFile, normalize, same, verify

MAX_FAILURES = 5
WINDOW = 15 * 60
LOCK = 15 * 60
MAX_TRACKED = 10_000  # (client, name) pairs remembered at once; the oldest unlocked are forgotten first


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
        self._failures: dict[Hashable, deque[float]] = {}

    def locked_for(self, key: Hashable, now: float | None = None) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        now = time.monotonic() if now is None else now
        failures = self._recent(key, now)
        if len(failures) < self.max_failures:
            return 0.0
        return max(0.0, failures[-1] + self.lock - now)

    def attempt(self, key: Hashable, now: float | None = None) -> float:
        """Count an attempt as failed before it is judged (`succeeded` clears it, `withdraw` takes it
        back): the seconds `key` is locked for instead, or 0 when the attempt may go on."""
        now = time.monotonic() if now is None else now
        wait = self.locked_for(key, now)
        if not wait:
            self.failed(key, now)
        return wait

    def failed(self, key: Hashable, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        full = key not in self._failures and len(self._failures) >= self.max_tracked
        if full and not self._forget_oldest_unlocked(now):
            return  # every key kept is locked: forgetting one would unlock it
        failures = self._recent(key, now)
        failures.append(now)
        self._failures.pop(key, None)
        self._failures[key] = failures  # most recently failed last

    def withdraw(self, key: Hashable) -> None:
        """Take back the last attempt counted: it was never judged (no turn to check the password)."""
        failures = self._failures.get(key)
        if failures:
            failures.pop()

    def _forget_oldest_unlocked(self, now: float) -> bool:
        for key in self._failures:
            if not self.locked_for(key, now):
                del self._failures[key]
                return True
        return False

    def succeeded(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: Hashable, now: float) -> deque[float]:
        failures = self._failures.get(key, deque(maxlen=self.max_failures))
        horizon = now - max(self.window, self.lock)
        while failures and failures[0] < horizon:
            failures.popleft()
        return failures


class SignInRefused(Exception):
    pass


async def sign_in(
    request: Request, users: UsersFile, throttle: Throttle, checks: PasswordChecks, name: str, password: str
) -> User:
    """Check the password (in one of `checks`' threads and turns) and start a new session for the
    user; a refusal says why in words that don't tell whether the name exists. `guard.Busy` when no
    turn to check it comes soon: nothing was judged."""
    # The name exactly as an account is looked up: one that can't be an account's (too long, spaces
    # inside) is no account, and all such names share one count, so no spelling of a name escapes it.
    name = normalize(name)
    if not USERNAME.fullmatch(name):
        name = ""
    client = client_of(request)
    key = (client, name)
    # Counted before any await: simultaneous attempts each see the ones before them.
    wait = throttle.attempt(key)
    if wait:
        minutes = max(1, round(wait / 60))
        raise SignInRefused(
            f"Too many failed sign-ins for this user name from your address. Try again in {minutes} min, "
            "or ask an administrator to reset the password."
        )
    try:
        user = users.get(name) if name else None
        matches = await checks.check(client, lambda: verify(user, password))
    except Exception:
        throttle.withdraw(key)  # no turn (`Busy`), or the accounts file unreadable: nothing was judged
        raise
    if not matches:
        raise SignInRefused("Wrong user name or password.")
    assert user is not None
    throttle.succeeded(key)
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
