"""`orders temporal ...`: the official `temporal` CLI (installed beside `orders`), pointed at the service's
Temporal. `temporal` reads only the environment; this reads the same settings as `orders` (`.env` too), so
the embedded server on ORDERS_EMBEDDED_PORT is found without an `--address` (docs/cli.md)."""

from __future__ import annotations

import os
import sys

import click

from orders.cli.errors import EXIT_USAGE, Failure, load_settings
from orders.connection import embedded_address, temporal_profile, uses_embedded_server
from orders.embedded import temporal_binary
from orders.settings import environment


def temporal_environment() -> dict[str, str]:
    """The environment with TEMPORAL_* from `.env`, and the embedded server's address when no other is set."""
    settings = load_settings()
    env = environment()
    if uses_embedded_server(temporal_profile()):
        env["TEMPORAL_ADDRESS"] = embedded_address(settings)
    return env


@click.command(
    "temporal",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def temporal(args: tuple[str, ...]) -> int:
    """Run the `temporal` CLI against the service's Temporal, e.g. `orders temporal workflow list`: the
    embedded server (ORDERS_EMBEDDED_PORT) or TEMPORAL_ADDRESS's, read as `orders` reads them (.env too)."""
    try:
        binary = temporal_binary()
    except RuntimeError as err:
        raise Failure(str(err), EXIT_USAGE) from None
    env = temporal_environment()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(binary, [binary, *args], env)
