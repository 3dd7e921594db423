"""Signed-out sessions, kept in a file beside the accounts file (`console-revoked.json`), so every API process
that shares the accounts honours a sign out, and a restart does not undo one (docs/console.md, "Security").

    {"version": 1, "revoked": {"<session id>": 1796000000.0}}

Each session id is kept until its cookie would have expired anyway (then it is pruned). The file is
written atomically with mode 0600 under a lock (`.lock` beside it), and re-read when it changes.
No web imports here.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orders.console.private_file import PrivateFile

log = logging.getLogger("orders.console")

FILE_NAME = "console-revoked.json"
FORMAT_VERSION = 1


class RevokedFile:
    """Session ids signed out, each with the time its session would have ended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: PrivateFile[dict[str, float]] = PrivateFile(path, self._read, dict)
        # Kept in memory as well: a sign out the file could not take still holds in this process.
        self._here: dict[str, float] = {}

    def add(self, sid: str, until: float) -> None:
        if until <= time.time():
            return  # a session that has ended already (or never had a user): nothing to keep
        self._here = _unexpired(self._here) | {sid: until}
        try:
            with self._locked():
                revoked = _unexpired(self._read()) | {sid: until}
                self._write(revoked)
        except OSError as err:
            log.warning("sign out kept in this process only: %s can't be written (%s)", self.path, err)

    def __contains__(self, sid: object) -> bool:
        if not isinstance(sid, str):
            return False
        until = max(self._here.get(sid, 0.0), self._current().get(sid, 0.0))
        return until > time.time()

    def _current(self) -> dict[str, float]:
        try:
            return self._file.current()
        except OSError:
            return {}

    def _read(self) -> dict[str, float]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {str(sid): float(until) for sid, until in raw["revoked"].items()}
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as err:
            # Failing closed would sign everyone out for good; the cookie's own expiry still holds.
            log.warning(
                "%s can't be read (%s); signed-out sessions from other processes are not known",
                self.path,
                err,
            )
            return {}

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time across processes: two sign outs at once both stay recorded."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, revoked: dict[str, float]) -> None:
        self._file.write({"version": FORMAT_VERSION, "revoked": revoked}, indent=1, sort_keys=True)


def _unexpired(revoked: dict[str, float]) -> dict[str, float]:
    now = time.time()
    return {sid: until for sid, until in revoked.items() if until > now}
