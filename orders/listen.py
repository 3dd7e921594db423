"""The API's listening socket, bound before anything else starts so that a taken port stops the start at
once, in one line that names it. Standard library only: `make run` (orders/run.py) binds it before it
loads the web stack."""

from __future__ import annotations

import errno
import socket


class CantListen(Exception):
    """The API's address can't be bound; the message names it and says what to do."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or `CantListen` in one line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as err:
        why = {
            errno.EADDRINUSE: "the port is in use (another `make run`, or another program)",
            errno.EACCES: "permission denied (ports below 1024 need privileges)",
            errno.EADDRNOTAVAIL: "that address is not one of this machine's",
        }.get(err.errno or 0, err.strerror or str(err))
        raise CantListen(
            f"can't serve the API on {host}:{port}: {why}; set ORDERS_API_PORT (or --port) to a free "
            "port, or ORDERS_API_HOST (or --host)"
        ) from None
