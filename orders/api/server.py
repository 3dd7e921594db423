"""Serving the API with uvicorn: `orders serve-api [--host] [--port]` calls `serve`;
`python -m orders.api.server [--host] [--port] [--fd]` does the same without the CLI (`orders.run`, which
`make run` uses, binds the port itself and hands the socket over with `--fd`).

The address defaults to ORDERS_API_HOST and ORDERS_API_PORT. The socket is bound before anything else
starts, so a port that is taken stops the start at once, in one line that names it.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys

import uvicorn

from orders import logs, telemetry
from orders.api.app import create_app
from orders.api.auth import CredentialsError
from orders.console.users import UsersFileError
from orders.datadir import make_private
from orders.listen import CantListen, bind
from orders.settings import SettingsError, load_settings

log = logging.getLogger("orders.api")

EXIT_CANT_LISTEN = 1


def serve(host: str | None = None, port: int | None = None, fd: int | None = None) -> None:
    """Run the API until SIGINT/SIGTERM. Temporal is connected lazily: the API starts while it is down
    (and /readyz says so); a broken setting or credentials file stops the start with exit status 2, a
    port that can't be bound with exit status 1."""
    try:
        settings = load_settings()
        logs.configure(settings.log_format)
        telemetry.configure(telemetry.API_SERVICE)
    except (SettingsError, telemetry.TelemetryError) as err:
        print(f"orders serve-api: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    host = host or settings.api_host
    port = port or settings.api_port
    make_private(settings.data_dir)  # the console's accounts and keys go there
    if settings.api_credentials is None:
        log.warning("ORDERS_API_CREDENTIALS is unset: every private call is refused (401)")
    if settings.customer_token_secret is None:
        log.warning("ORDERS_CUSTOMER_TOKEN_SECRET is unset: the customer endpoint is disabled (401)")
    try:
        app = create_app(settings)
    except (CredentialsError, UsersFileError) as err:
        print(f"orders serve-api: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        sock = socket.socket(fileno=fd) if fd is not None else bind(host, port)
    except CantListen as err:
        print(f"orders serve-api: {err}", file=sys.stderr)
        raise SystemExit(EXIT_CANT_LISTEN) from None
    log.info("Orders API on http://%s:%d (OpenAPI docs at /docs)", host, port)
    log.info("Staff console: http://%s:%d/console", host, port)
    # Uvicorn's access log shows method, path and status only: never the credential headers.
    config = uvicorn.Config(app, log_config=None, server_header=False, proxy_headers=False)
    # Uvicorn shuts down on the first SIGINT or SIGTERM, then raises it again under the handler it found:
    # Python's own would print a KeyboardInterrupt traceback for a server that stopped cleanly.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stopped_already)
    uvicorn.Server(config).run(sockets=[sock])


def _stopped_already(signum: int, frame: object) -> None:
    """A stop signal uvicorn passes on once it has stopped: nothing is left to do."""


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the Orders REST API")
    parser.add_argument("--host", default=None, help="default: ORDERS_API_HOST (127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="default: ORDERS_API_PORT (8000)")
    parser.add_argument("--fd", type=int, default=None, help="serve on this bound socket")
    args = parser.parse_args()
    serve(args.host, args.port, args.fd)


if __name__ == "__main__":
    main()
