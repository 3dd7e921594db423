"""The commands that read orders: `status`, `list`, `pending` and `watch`, and how each fetches what it
shows (one order's state, the search attributes' list, the pending requests with their deadlines).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import click

from domain.lifecycle import Status
from domain.state import OrderState, TimelineEntry
from orders.cli.errors import EXIT_CODES_HELP, EXIT_OK, connect, one_line, run, say
from orders.cli.render import (
    echo_json,
    fmt_entry,
    fmt_time,
    pending_json,
    pending_row,
    status_lines,
    summary_json,
    table,
)
from orders.errors import TemporalUnavailable
from orders.queue import PendingRequest, pending_requests
from orders.reads import OrderPage


async def fetch_state(order_id: str) -> OrderState:
    return await (await connect()).state(order_id)


async def fetch_list(status: Status | None, customer: str | None, limit: int, after: str | None) -> OrderPage:
    client = await connect()
    return await client.list_orders_page(status, customer, limit, after)


async def watch_order(order_id: str, interval: float) -> None:
    """Print the order's changes so far, then each new one until the order is final (like `tail -f`:
    what is printed doesn't depend on when the command started). Worker restarts are waited out."""
    client = await connect()
    state = await client.state(order_id)
    for entry in moves(state):
        say(fmt_entry(entry))
    # Refusals are trimmed from the timeline over time; changes are not, so count those.
    seen = len(moves(state))
    waiting = False
    while not state.status.is_final:
        await asyncio.sleep(interval)
        try:
            state = await client.state(order_id)
        except TemporalUnavailable as err:
            if not waiting:
                say(f"orders: {one_line(str(err))}; still watching", err=True)
            waiting = True
            continue
        waiting = False
        for entry in moves(state)[seen:]:
            say(fmt_entry(entry))
        seen = len(moves(state))


def moves(state: OrderState) -> list[TimelineEntry]:
    return [entry for entry in state.timeline if not entry.refused]


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@click.option("--json", "as_json", is_flag=True, help="Print the `state` query's JSON.")
def status(order_id: str, as_json: bool) -> int:
    """Show ORDER_ID: status, grace deadline, pending request, timeline."""
    state = run(fetch_state(order_id))
    if as_json:
        echo_json(state.model_dump(mode="json"))
    else:
        say("\n".join(status_lines(state, datetime.now(UTC))))
    return EXIT_OK


@click.command("list", epilog=EXIT_CODES_HELP)
@click.option("--status", "status_", type=click.Choice([s.value for s in Status]), help="Only this status.")
@click.option("--customer", help="Only this customer's orders.")
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="Show up to this many orders.",
)
@click.option(
    "--after", metavar="TOKEN", help="Go on after the orders shown last, with the token printed below them."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (the next page's token on stderr).")
def list_(status_: str | None, customer: str | None, limit: int, after: str | None, as_json: bool) -> int:
    """List orders, newest first, by the OrderStatus and CustomerId search attributes, a page at a time."""
    page = run(fetch_list(Status(status_) if status_ else None, customer, limit, after))
    found = page.orders
    if as_json:
        echo_json([summary_json(summary) for summary in found])
    elif not found:
        say("No orders found.")
    else:
        rows = [[s.order_id, s.status.display_name, s.customer_id, fmt_time(s.placed_at)] for s in found]
        say("\n".join(table(["ORDER", "STATUS", "CUSTOMER", "PLACED"], rows)))
    if page.next_page:
        click.echo(f"More orders: the same command with --after {page.next_page}", err=as_json)
    return EXIT_OK


@click.command(epilog=EXIT_CODES_HELP)
@click.option("--customer", help="Only this customer's orders.")
@click.option("--reason-code", help="Only requests with this reason code (see `orders reasons`).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=1000, show_default=True,
              help="Show up to this many requests.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def pending(customer: str | None, reason_code: str | None, limit: int, as_json: bool) -> int:
    """Orders waiting for the store's decision on a cancellation, soonest deadline first; `!` marks
    those with under 24 h left. Read from Temporal's visibility: works while no worker runs."""
    found = run(fetch_pending(customer, reason_code, limit))
    now = datetime.now(UTC)
    if as_json:
        echo_json([pending_json(row, now) for row in found])
    elif not found:
        say("No cancellation requests are waiting for the store.")
    else:
        rows = [pending_row(row, now) for row in found]
        say("\n".join(table(["ORDER", "CUSTOMER", "BY", "AGE", "DECIDE BY", "REASON"], rows)))
    return EXIT_OK


async def fetch_pending(customer: str | None, reason_code: str | None, limit: int) -> list[PendingRequest]:
    client = await connect()
    return await pending_requests(client.temporal, customer, reason_code, limit)


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@click.option("--interval", type=click.FloatRange(min=0.05), default=2.0, show_default=True,
              help="Seconds between looks at the order.")  # fmt: skip
def watch(order_id: str, interval: float) -> int:
    """Print each status change of ORDER_ID until it is canceled or invoiced (Ctrl-C to stop)."""
    run(watch_order(order_id, interval))
    return EXIT_OK
