"""`orders customer-link ORDER_ID [--ttl 7d]`: a guest link to the customer's page of one order (SPEC §12,
docs/customer-pages.md), for a customer with no storefront account to sign in with. It opens that order
only and expires; `POST /api/oms/pvt/orders/{orderId}/customer-link` makes the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from orders.cli.errors import EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE, Failure, connect, run, say
from orders.cli.parsing import DURATION_TYPE
from orders.cli.render import echo_json, fmt_time
from orders.customer import links
from orders.errors import OrderNotFound


async def make_link(order_id: str, ttl: timedelta) -> tuple[str, datetime]:
    client = await connect()
    customer = await client.customer_of(order_id)
    if customer is None:
        raise OrderNotFound(order_id)
    try:
        return links.mint(client.settings, order_id, customer, ttl, datetime.now(UTC))
    except links.LinkRefused:
        raise Failure(
            "customer links need ORDERS_CUSTOMER_TOKEN_SECRET set and the customer pages on "
            "(ORDERS_CUSTOMER_PAGES is off)",
            EXIT_USAGE,
        ) from None


@click.command("customer-link", epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@click.option("--ttl", type=DURATION_TYPE, default="7d", show_default=True,
              help="How long the link works: 1m to 30d.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print {url, expires_at} as JSON.")
def customer_link(order_id: str, ttl: int, as_json: bool) -> int:
    """Print a link that opens ORDER_ID's page in "My orders" for its customer, and nothing else.
    The address is ORDERS_PUBLIC_URL's (default http://ORDERS_API_HOST:ORDERS_API_PORT)."""
    span = timedelta(seconds=ttl)
    if not links.MIN_TTL <= span <= links.MAX_TTL:
        raise click.BadParameter("from 1m to 30d", param_hint="--ttl")
    url, expires = run(make_link(order_id, span))
    if as_json:
        echo_json({"url": url, "expires_at": expires.isoformat().replace("+00:00", "Z")})
    else:
        say(url)
        say(f"Opens order {order_id} for its customer until {fmt_time(expires)}.", err=True)
    return EXIT_OK
