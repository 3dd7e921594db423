"""`orders`: the command-line tool for store staff and the merchant's backend (docs/cli.md).

Every command goes through `OrdersClient`, the one module that talks to Temporal. Commands are sent as
the same-named update so the user sees the order's verdict; when no worker answers in time the client
queues the same command as a signal (same `request_id`, so nothing applies twice) and we say so.

Output is for people by default and JSON with `--json`. Errors are one line on stderr, never a
traceback, and the exit code tells scripts what happened (see EXIT_CODES_HELP). The package's rooms:
`errors` (exit codes, failures), `parsing` (values as people type them), `render` (what is printed),
`sending` (one command sent and its verdict reported, the options every command shares), `commands` (the
group and the commands that change orders), `policy` (reasons, extend, deny-payment, report), `reads`
(the commands that read orders) and `console` (the staff console's accounts); this module is the entry
point.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn

import click

from orders.cli.commands import cli
from orders.cli.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Failure, one_line, say

__all__ = ["cli", "main", "run_cli"]


def main() -> NoReturn:
    """Entry point of the `orders` console script."""
    code = run_cli()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # e.g. `orders list | head -1` closed the pipe
            stream.flush()
    # Skip interpreter finalization: an update abandoned when no worker answered in time leaves a
    # Temporal runtime thread behind that can deadlock or abort the interpreter's shutdown (exit 134).
    os._exit(code)


def run_cli(argv: list[str] | None = None) -> int:
    """Run one `orders` command line and return its exit code."""
    try:
        code = cli.main(args=argv, prog_name="orders", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as err:
        err.show()
        return EXIT_USAGE
    except Failure as err:
        err.show()
        return err.exit_code
    except click.UsageError as err:
        where = err.ctx.command_path if err.ctx else "orders"
        say(f"{where}: {one_line(err.format_message())} (see '{where} --help')", err=True)
        return EXIT_USAGE
    except click.ClickException as err:
        say(f"orders: {one_line(err.format_message())}", err=True)
        return err.exit_code
    except (click.Abort, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    except Exception as err:  # the promise is no tracebacks, even for what we did not foresee
        say(f"orders: unexpected error: {one_line(f'{type(err).__name__}: {err}')}", err=True)
        return EXIT_REFUSED
    return code if isinstance(code, int) else EXIT_OK
