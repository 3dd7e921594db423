"""How a command that changes an order is sent and reported: `deliver` builds the command (a bad value is
a usage error), sends it as an update (or a signal), and prints the verdict or the queued receipt;
`command_options` adds the options every such command shares (`--json`, `--signal`, `--request-id`).
"""

from __future__ import annotations

import functools
import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from pydantic import ValidationError

from domain.commands import Command
from domain.lifecycle import Action, Actor
from domain.text import PRINTABLE
from domain.wire import describe_errors
from orders.cli.errors import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Failure, connect, run, say
from orders.cli.render import echo_json, queued_lines, verdict_lines
from orders.client import CommandResult


def build(model: type[Command], **fields: Any) -> Command:
    """The command, checked here so a bad value is a usage error (the client stamps request_id and
    requested_at)."""
    try:
        return model(**fields)
    except ValidationError as err:
        raise Failure(describe_errors(err), EXIT_USAGE) from None


async def send(order_id: str, action: Action, command: Command, as_signal: bool) -> CommandResult:
    client = await connect()
    return await client.send(order_id, action, command, as_signal=as_signal)


@dataclass(frozen=True)
class Delivery:
    """How a command is sent and reported: the options every command shares."""

    as_json: bool
    as_signal: bool
    request_id: str | None
    sender: str | None


def default_sender() -> str | None:
    """Who runs the tool: $ORDERS_SENDER, else the user name (when it is printable ASCII)."""
    try:
        name = os.environ.get("ORDERS_SENDER") or getpass.getuser()
    except (KeyError, OSError):
        return None
    return name if PRINTABLE.fullmatch(name) else None


def deliver(order_id: str, action: Action, model: type[Command], how: Delivery, **fields: Any) -> int:
    """Send one command and report the verdict (or that it is queued); the common path of every command."""
    command = build(model, request_id=how.request_id, sender=how.sender or default_sender(), **fields)
    try:
        result = run(send(order_id, action, command, how.as_signal))
    except Failure as failure:
        raise refusal(failure, order_id, action) from None
    if how.as_json:
        state = result.state.model_dump(mode="json") if result.state else None
        echo_json({"order_id": order_id, "action": action.value, "request_id": result.request_id,
                   "queued": result.queued, "state": state})  # fmt: skip
    elif result.queued:
        say("\n".join(queued_lines(action, result, order_id, how.as_signal)))
    else:
        say("\n".join(verdict_lines(result, order_id, action, Actor(fields["actor"]))))
    return EXIT_OK


def refusal(failure: Failure, order_id: str, action: Action) -> Failure:
    """Say which order refused which command; a final order's message already says both."""
    if failure.exit_code != EXIT_REFUSED or failure.message.startswith(f"order {order_id} "):
        return failure
    return Failure(f"order {order_id}: {action.value} refused: {failure.message}", failure.exit_code)


def command_options(f: Callable[..., int]) -> Callable[..., int]:
    """Add the options every command shares; they reach the command as one `how: Delivery`."""

    @functools.wraps(f)
    def command(
        *args: Any, as_json: bool, as_signal: bool, request_id: str | None, sender: str | None, **kwargs: Any
    ) -> int:
        return f(*args, how=Delivery(as_json, as_signal, request_id, sender), **kwargs)

    shared = [
        click.option("--json", "as_json", is_flag=True,
                     help="Print the result as JSON: request_id, queued, and the order's state."),
        click.option("--signal", "as_signal", is_flag=True,
                     help="Send it as a signal: don't wait for a worker's verdict."),
        click.option("--request-id",
                     help="Idempotency key: a repeat with the same id changes nothing. Default: a new one."),
        click.option("--sender", help="Who sends it, as the timeline shows it; your --request-id values "
                     "are yours alone. Default: $ORDERS_SENDER, else your user name."),
    ]  # fmt: skip
    for option in reversed(shared):
        command = option(command)
    return command
