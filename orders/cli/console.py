"""`orders console ...`: the staff console's accounts (docs/console.md), kept in ORDERS_CONSOLE_USERS (default
`<data dir>/console-users.json`) as Argon2id hashes. The console re-reads the file when it changes."""

from __future__ import annotations

import sys

import click

from orders.cli.errors import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Failure, load_settings, say
from orders.cli.parsing import STAFF_ACTORS
from orders.cli.render import table
from orders.console.users import MIN_PASSWORD, UsersFile, UsersFileError


def users_file() -> UsersFile:
    return UsersFile(load_settings().console_users_file)


@click.group("console")
def console() -> None:
    """Manage the staff console's accounts (served by `orders serve-api` under /console)."""


@console.command("add-user")
@click.argument("name")
@click.option("--role", type=click.Choice(STAFF_ACTORS), required=True,
              help="Commands from this user are sent as this actor.")  # fmt: skip
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--replace", is_flag=True, help="Give an existing user a new password and role; "
              "their sessions end.")  # fmt: skip
def add_user(name: str, role: str, password_stdin: bool, replace: bool) -> int:
    """Create console user NAME (lowercase) with a password (at least 10 characters), asked for twice
    unless given on stdin."""
    users = users_file()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            f"Password for {name} (at least {MIN_PASSWORD} characters)",
            hide_input=True,
            confirmation_prompt=True,
        )
    try:
        user = users.add(name, role, password, replace=replace)
    except UsersFileError as err:
        raise Failure(str(err), EXIT_USAGE) from None
    except ValueError as err:
        raise Failure(str(err), EXIT_REFUSED if "already exists" in str(err) else EXIT_USAGE) from None
    settings = load_settings()
    say(f"User {user.name} ({user.role.value}) saved in {users.path}.")
    say(f"Sign in at http://{settings.api_host}:{settings.api_port}/console (with `make run` going).")
    return EXIT_OK


@console.command("remove-user")
@click.argument("name")
def remove_user(name: str) -> int:
    """Remove console user NAME; their sessions end."""
    users = users_file()
    try:
        removed = users.remove(name)
    except UsersFileError as err:
        raise Failure(str(err), EXIT_USAGE) from None
    if not removed:
        raise Failure(f"no console user {name}", EXIT_REFUSED)
    say(f"User {name} removed.")
    return EXIT_OK


@console.command("list-users")
def list_users() -> int:
    """List the console's users and their roles (never their passwords)."""
    users = users_file()
    try:
        found = users.users()
    except UsersFileError as err:
        raise Failure(str(err), EXIT_USAGE) from None
    if not found:
        say(f"No console users in {users.path}; add one with `orders console add-user NAME --role store`.")
        return EXIT_OK
    rows = [[u.name, u.role.value, u.created_at[:19].replace("T", " ")] for u in found.values()]
    for line in table(["USER", "ROLE", "CREATED (UTC)"], rows):
        say(line)
    return EXIT_OK
