"""The console's small JSON files beside its accounts (users, signed-out sessions): written atomically and
readable by their owner only, and read again only when they change, so every API process sharing them
sees an edit without a restart."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class PrivateFile(Generic[T]):
    def __init__(self, path: Path, parse: Callable[[], T], empty: Callable[[], T]) -> None:
        self.path = path
        self._parse, self._empty = parse, empty
        self._seen: tuple[int, int] | None = None
        self._value = empty()

    def current(self) -> T:
        """What the file holds, parsed again only when its modification time or size changed; `empty()`
        when there is no file. Other OSErrors are the caller's to report."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            self._seen, self._value = None, self._empty()
            return self._value
        seen = (info.st_mtime_ns, info.st_size)
        if seen != self._seen:
            self._value, self._seen = self._parse(), seen
        return self._value

    def write(self, body: dict[str, Any], **dump: Any) -> None:
        """Atomically, mode 0600: a reader sees the old file or the new one, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(prefix=f".{self.path.stem}-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(body, out, **dump)
                out.write("\n")
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self._seen = None
