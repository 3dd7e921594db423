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
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from domain.commands import Command
from domain.lifecycle import Action, Actor
from domain.registry import COMMANDS, RECORDS, CommandRecord
from domain.text import PRINTABLE
from domain.wire import describe_errors
from orders.cli.errors import EXIT_CODES_HELP, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Failure, connect, run, say
from orders.cli.parsing import actor_choices
from orders.cli.render import echo_json, queued_lines, verdict_lines
from orders.client import CommandResult

F = TypeVar("F", bound=Callable[..., Any])


def build(model: type[Command], **fields: Any) -> Command:
    """The command, checked here so a bad value is a usage error (the client stamps request_id and
    requested_at)."""
    try:
        return model(**fields)
    except ValidationError as err:
        raise Failure(describe_errors(err), EXIT_USAGE) from None


def takes_nothing(record: CommandRecord[Any]) -> bool:
    """A command whose payload is only what every command carries: its verb needs no options of its own."""
    return set(record.model.model_fields) == set(Command.model_fields)


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


def deliver(order_id: str, action: Action, how: Delivery, **fields: Any) -> int:
    """Send one command and report the verdict (or that it is queued); the common path of every command."""
    record = COMMANDS[action]
    command = build(record.model, request_id=how.request_id, sender=how.sender or default_sender(), **fields)
    try:
        result = run(send(order_id, action, command, how.as_signal))
    except Failure as failure:
        raise refusal(failure, order_id, record) from None
    if how.as_json:
        state = result.state.model_dump(mode="json") if result.state else None
        echo_json({"order_id": order_id, "action": action.value, "request_id": result.request_id,
                   "queued": result.queued, "state": state})  # fmt: skip
    elif result.queued:
        say("\n".join(queued_lines(record, result, order_id, how.as_signal)))
    else:
        say("\n".join(verdict_lines(result, order_id, action, Actor(fields["actor"]))))
    return EXIT_OK


def refusal(failure: Failure, order_id: str, record: CommandRecord[Any]) -> Failure:
    """Say which order refused what; a final order's message already says both."""
    if failure.exit_code != EXIT_REFUSED or failure.message.startswith(f"order {order_id} "):
        return failure
    return Failure(f"order {order_id}: can't {record.title}: {failure.message}", failure.exit_code)


def as_option(record: CommandRecord[Any], help: str = "Who sends it.") -> Callable[[F], F]:
    """`--as`: the actors the rules let send the command, the store (else the first of them) by default."""
    choices = actor_choices(record.senders)
    default = Actor.STORE.value if Actor.STORE.value in choices else choices[0]
    return click.option(
        "--as", "actor", type=click.Choice(choices), default=default, show_default=True, help=help
    )


def verb(action: Action, as_help: str = "Who sends it.") -> Callable[[Callable[..., int]], click.Command]:
    """A CLI verb for `action`, named and explained by its record, with ORDER_ID, `--as` and the options
    every command shares; the function adds its own options and builds the payload's fields."""
    record = COMMANDS[action]
    assert record.cli is not None, f"{record.name} has no CLI verb"
    cli = record.cli

    def wrap(f: Callable[..., int]) -> click.Command:
        decorated = as_option(record, as_help)(command_options(f))
        decorated = click.argument("order_id")(decorated)
        return click.command(cli.verb, help=cli.help, epilog=EXIT_CODES_HELP)(decorated)

    return wrap


def simple_verbs() -> list[click.Command]:
    """The verbs of the commands that carry nothing but who sends them (confirm, start-handling...)."""
    verbs = []
    for record in RECORDS:
        if record.cli is not None and takes_nothing(record):

            def send_it(order_id: str, actor: str, how: Delivery, action: Action = record.action) -> int:
                return deliver(order_id, action, how, actor=actor)

            verbs.append(verb(record.action)(send_it))
    return verbs


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
