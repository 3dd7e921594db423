"""The console's accounts (docs/console.md): a JSON file of user names, roles and Argon2id password hashes
(`ORDERS_CONSOLE_USERS`, default `<data dir>/console-users.json`), never a password in plain text.

    {"version": 1, "users": {"alice": {"role": "store", "password_hash": "$argon2id$...",
                                       "created_at": "2026-11-26T10:00:00Z"}}}

Managed with `orders console add-user|remove-user|list-users`; the API re-reads it when it changes, so
an account added, removed or given a new password takes effect without a restart (and a new password
ends the sessions signed in with the old one). No web imports here: the CLI loads this module.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from zxcvbn import zxcvbn

from domain.lifecycle import STAFF, Actor
from orders.console.private_file import PrivateFile

# Lowercase, so `Alice` and `alice` are one account (docs/console.md, "First user"); a command's `sender`.
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # Argon2 takes any length; a megabyte "password" only wastes CPU
# zxcvbn's "safely unguessable": about 10^8 guesses or more, which Argon2 makes slow to try offline.
MIN_SCORE = 3
MIN_NAME_IN_PASSWORD = 3  # a one- or two-letter name is in too many passwords to refuse them all
ZXCVBN_LENGTH = 72
FORMAT_VERSION = 1

_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the user name is unknown, so an unknown name costs what a wrong password does.
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")


def staff_role(value: str) -> Actor:
    """A console user's role: the staff actor its commands are sent as (docs/lifecycle.md)."""
    actor = Actor(value)
    if actor not in STAFF:
        raise ValueError(f"role {value!r} is not one of the staff's: {', '.join(sorted(STAFF))}")
    return actor


class UsersFileError(ValueError):
    """The accounts file can't be read or written; the message names it."""


@dataclass(frozen=True)
class User:
    name: str
    role: Actor
    password_hash: str
    created_at: str = ""

    @property
    def fingerprint(self) -> str:
        """A short digest of the password hash: a session records it, so a new password ends it."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]


def normalize(name: str) -> str:
    return name.strip().lower()


def check_name(name: str) -> str:
    name = normalize(name)
    if not USERNAME.fullmatch(name):
        raise ValueError(
            "a user name is 1-64 characters: lowercase letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_password(password: str, name: str = "") -> str:
    """The password, or a ValueError naming the rule it breaks (docs/console.md, "Security")."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"the password must be at most {MAX_PASSWORD} characters")
    name = normalize(name)
    if name and (
        password.lower() == name or (len(name) >= MIN_NAME_IN_PASSWORD and name in password.lower())
    ):
        raise ValueError("the password must not be or contain the user name")
    if len(set(password)) == 1:
        raise ValueError("the password must not be one character repeated")
    # zxcvbn: lists of leaked passwords, words and names, keyboard patterns, dates; it reads 72 at most.
    judged = zxcvbn(password[:ZXCVBN_LENGTH], user_inputs=[name] if name else None)
    if judged["score"] < MIN_SCORE:
        why = (judged["feedback"]["warning"] or "It is made of common words, names or patterns").rstrip(".")
        raise ValueError(
            f"the password is too easy to guess: {why[:1].lower()}{why[1:]} (zxcvbn scores it "
            f"{judged['score']} of 4, {MIN_SCORE} is needed); a few unrelated words make a good one"
        )
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(user: User | None, password: str) -> bool:
    """Whether `password` is `user`'s; for no user, the same work and False. Slow on purpose (Argon2):
    call it off the event loop."""
    if len(password) > MAX_PASSWORD:
        password = password[:MAX_PASSWORD]
    matches = _hasher.verify(password, user.password_hash if user else _DUMMY_HASH)
    return matches and user is not None


class UsersFile:
    """The accounts file; reads are cached until the file changes (its size and modification time)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: PrivateFile[dict[str, User]] = PrivateFile(path, self._read, dict)

    def users(self) -> dict[str, User]:
        try:
            return self._file.current()
        except OSError as err:
            raise UsersFileError(f"ORDERS_CONSOLE_USERS file {self.path}: can't be read ({err})") from None

    def get(self, name: str) -> User | None:
        return self.users().get(normalize(name))

    def add(self, name: str, role: str, password: str, *, replace: bool = False) -> User:
        name = check_name(name)
        password = check_password(password, name)
        users = dict(self.users())
        if name in users and not replace:
            raise ValueError(f"user {name} already exists (--replace gives it a new password and role)")
        user = User(name, staff_role(role), hash_password(password), datetime.now(UTC).isoformat())
        users[name] = user
        self._write(users)
        return user

    def remove(self, name: str) -> bool:
        users = dict(self.users())
        if users.pop(normalize(name), None) is None:
            return False
        self._write(users)
        return True

    def _read(self) -> dict[str, User]:
        where = f"ORDERS_CONSOLE_USERS file {self.path}"
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            entries: dict[str, Any] = raw["users"]
            users = {
                check_name(name): User(
                    name=check_name(name),
                    role=staff_role(entry["role"]),
                    password_hash=str(entry["password_hash"]),
                    created_at=str(entry.get("created_at", "")),
                )
                for name, entry in entries.items()
            }
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise UsersFileError(f"{where}: can't be read ({err})") from None
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise UsersFileError(f"{where}: not an accounts file of this service ({err})") from None
        for user in users.values():
            if not user.password_hash.startswith("$argon2"):
                raise UsersFileError(f"{where}: user {user.name} has no Argon2 password hash")
        return users

    def _write(self, users: dict[str, User]) -> None:
        """Atomically, readable by its owner only (0600): the hashes are slow to crack, not impossible."""
        body = {
            "version": FORMAT_VERSION,
            "users": {
                user.name: {"role": user.role.value, "password_hash": user.password_hash,
                            "created_at": user.created_at}
                for user in sorted(users.values(), key=lambda u: u.name)
            },
        }  # fmt: skip
        self._file.write(body, indent=2)


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
