"""Serving the API with uvicorn: `orders serve-api [--host] [--port]` calls `serve`;
`python -m orders.api.server [--host] [--port]` does the same without the CLI."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from orders.api.app import create_app
from orders.api.auth import CredentialsError
from orders.console.users import UsersFileError
from orders.settings import SettingsError, load_settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

log = logging.getLogger("orders.api")


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Run the API until SIGINT/SIGTERM. Temporal is connected lazily: the API starts while it is down
    (and /readyz says so); a broken ORDERS_API_CREDENTIALS file stops the start with exit status 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except SettingsError as err:
        print(f"orders serve-api: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    if settings.api_credentials is None:
        log.warning("ORDERS_API_CREDENTIALS is unset: every private call is refused (401)")
    if settings.customer_token_secret is None:
        log.warning("ORDERS_CUSTOMER_TOKEN_SECRET is unset: the customer endpoint is disabled (401)")
    try:
        app = create_app(settings)
    except (CredentialsError, UsersFileError) as err:
        print(f"orders serve-api: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    log.info("Orders API on http://%s:%d (OpenAPI docs at /docs)", host, port)
    log.info("Staff console: http://%s:%d/console", host, port)
    # Uvicorn's access log shows method, path and status only: never the credential headers.
    uvicorn.run(app, host=host, port=port, log_config=None, server_header=False, proxy_headers=False)


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the Orders REST API")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args()
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
