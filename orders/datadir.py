"""The data directory (ORDERS_DATA_DIR) holds customer data: the event log, the embedded Temporal's
database and log, the console's accounts and keys. It is the service user's alone: the directory 0700,
what is in it 0600 (docs/configuration.md, "Files").

Each writer creates its file private; `make_private` runs when the worker and the API start, creates
the directory if need be, and takes group and other permissions off it and off everything directly in it
(a data dir from 1.0 had them), saying so in the log. What it can't change (not this user's) it warns of.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("orders")

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
OTHERS = 0o077  # group and other permissions


def make_private(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    except OSError as err:  # the first write there says so again, where it matters
        log.warning("the data directory %s can't be created: %s", directory, err.strerror)
        return
    _tighten(directory)
    for entry in directory.iterdir():
        if not entry.is_symlink():  # a link's target may be anything, anywhere
            _tighten(entry)


def _tighten(path: Path) -> None:
    mode = stat.S_IMODE(path.lstat().st_mode)
    if not mode & OTHERS:
        return
    try:
        os.chmod(path, mode & ~OTHERS)
    except OSError as err:
        log.warning(
            "%s can be read by other users (mode %04o) and can't be made private (%s): chmod go-rwx it",
            path,
            mode,
            err.strerror,
        )
        return
    log.warning("%s could be read by other users (mode %04o); now %04o", path, mode, mode & ~OTHERS)


def private_append(path: Path) -> int:
    """A file descriptor appending to `path`, which is created readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
