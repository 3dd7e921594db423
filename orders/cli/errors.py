"""How the `orders` tool fails: the exit codes scripts branch on, and `Failure`, the one-line message on
stderr that carries them. `run` turns the client's typed errors into failures; `load_settings` and
`connect` do the same for a bad setting and an unreachable Temporal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from domain.text import shown
from orders.client import OrdersClient
from orders.errors import CommandRejected, OrderNotFound, OrdersError, TemporalUnavailable
from orders.settings import Settings, SettingsError
from orders.settings import load_settings as settings_from_environment

T = TypeVar("T")

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_UNAVAILABLE = 4
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\b
Exit codes:
  0  done (a command no worker answered in time is queued, and that counts as done)
  1  refused by the order's rules; nothing changed
  2  usage: a bad option, amount, duration or setting
  3  order not found
  4  Temporal unreachable, or no worker answered a read
"""


class Failure(click.ClickException):
    """A failure reported in one line, with the exit code scripts branch on."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(one_line(message))
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class; ours varies

    def show(self, file: Any = None) -> None:
        say(f"orders: {self.format_message()}", err=True)


def one_line(text: str) -> str:
    """A message on one line, with whatever a caller wrote escaped (no raw control characters:
    docs/reliability.md, "The trust boundary")."""
    return shown(" ".join(str(text).split())) or "unknown error"


def say(text: str, *, err: bool = False) -> None:
    """Print for people: every line with control characters and bidi overrides escaped, so no text an
    order carries can move the cursor, rewrite a line or fake a table row."""
    click.echo("\n".join(shown(line) for line in text.split("\n")), err=err)


def exit_code_for(err: OrdersError) -> int:
    if isinstance(err, OrderNotFound):
        return EXIT_NOT_FOUND
    if isinstance(err, TemporalUnavailable):
        return EXIT_UNAVAILABLE
    if isinstance(err, CommandRejected) and err.code == "malformed":
        return EXIT_USAGE
    return EXIT_REFUSED


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run one command's async work, turning the client's typed errors into one-line failures."""
    try:
        return asyncio.run(work)
    except OrdersError as err:
        raise Failure(str(err), exit_code_for(err)) from None


def load_settings() -> Settings:
    try:
        return settings_from_environment()
    except SettingsError as err:
        raise Failure(str(err), EXIT_USAGE) from None


async def connect() -> OrdersClient:
    return await OrdersClient.connect(load_settings())
