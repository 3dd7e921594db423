"""The `orders` click group and its commands: `place`; those that change an order, each a verb its command's
record names and explains (domain/registry.py): `cancel`, `deny` and `invoice` with their own options here,
the ones with none (`confirm`, `start-handling`, `approve-payment`) made by `orders.cli.sending`; the ones
that read orders (from `orders.cli.reads`) and `serve-api`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from pydantic import ValidationError

from domain.lifecycle import Action, Actor
from domain.models import OrderInput
from domain.reasons import Use, request_use
from domain.spans import fmt_span
from domain.wire import InvoiceKind, Item, ItemQuantity, Payment, describe_errors
from orders.cli.console import console
from orders.cli.customer_link import customer_link
from orders.cli.errors import EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE, Failure, load_settings, run, say
from orders.cli.modify import VERBS as MODIFICATION_VERBS
from orders.cli.parsing import AMOUNT, DURATION_TYPE, ITEM, LINE
from orders.cli.policy import check_reason_code, deny_payment, extend, reason_code_option, reasons, report
from orders.cli.reads import list_, pending, status, watch
from orders.cli.render import echo_json, fmt_money
from orders.cli.sending import Delivery, deliver, simple_verbs, verb
from orders.cli.temporal import temporal
from orders.client import OrdersClient
from orders.version import package_version

ENVIRONMENT_HELP = """\b
Environment:
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_PROFILE, TEMPORAL_TLS*
      where Temporal is (unset: the embedded server on localhost:ORDERS_EMBEDDED_PORT)
  ORDERS_TASK_QUEUE                 the workers' task queue (default: orders)
  ORDERS_UPDATE_TIMEOUT_SECONDS     how long to wait for a worker's verdict before queuing (default: 5)
  Each may also be a line of ./.env, as for `make run` (the environment wins).
"""


@click.group(
    epilog=EXIT_CODES_HELP + "\n" + ENVIRONMENT_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(
    package_version(), "--version", "-V", prog_name="orders", message="%(prog)s %(version)s"
)
def cli() -> None:
    """Place orders, cancel them, approve or decline cancellation requests, and see where orders stand.

    Amounts are typed as people write them (129.90) and durations as 30m, 2h, 45s or 1d. Commands
    are sent as the store (`--as` to change that) and show the order's verdict; run `orders COMMAND -h`
    for each command's options.
    """


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@click.option("--customer", "customer_id", required=True, help="The customer's id.")
@click.option("--total", type=AMOUNT, required=True, help="Order total, e.g. 129.90.")
@click.option("--currency", default="BRL", show_default=True, help="ISO 4217 code.")
@click.option(
    "--item", "items", type=ITEM, multiple=True, help="SKU:QTY:PRICE, e.g. A1:2:64.95 (repeatable)."
)
@click.option(
    "--pending-payment", is_flag=True, help="Payment not approved yet: no cancellation window until it is."
)
@click.option(
    "--captured", is_flag=True, help="The payment is captured: a cancellation refunds it instead of voiding."
)
@click.option("--payment-method", default="credit-card", show_default=True)
@click.option(
    "--grace", type=DURATION_TYPE, help="Cancellation window, e.g. 30m. Default: the store's setting."
)
@click.option(
    "--decision-timeout",
    type=DURATION_TYPE,
    help="How long a request may wait for the store, e.g. 30d. Default: the store's setting.",
)
@click.option("--json", "as_json", is_flag=True, help="Print {order_id, created} as JSON.")
def place(order_id: str, customer_id: str, total: int, currency: str, items: tuple[Item, ...],
          pending_payment: bool, captured: bool, payment_method: str, grace: int | None,
          decision_timeout: int | None, as_json: bool) -> int:  # fmt: skip
    """Place order ORDER_ID (starts its workflow; placing an existing order leaves it as it is)."""
    try:
        order = OrderInput(
            order_id=order_id,
            customer_id=customer_id,
            total=total,
            currency=currency.upper(),
            items=list(items),
            payment=Payment(method=payment_method, captured=captured),
            payment_approved=not pending_payment,
            grace_period_seconds=grace,
            decision_timeout_seconds=decision_timeout,
        )
    except ValidationError as err:
        raise Failure(f"invalid order: {describe_errors(err)}", EXIT_USAGE) from None
    settings = load_settings()

    async def start() -> bool:
        return (await (await OrdersClient.connect(settings)).place(order)).created

    created = run(start())
    if as_json:
        echo_json({"order_id": order_id, "created": created})
        return EXIT_OK
    if not created:
        say(f"Order {order_id} already exists; it was left as it was (see `orders status {order_id}`).")
        return EXIT_OK
    seconds = grace if grace is not None else settings.grace_period_seconds
    window = fmt_span(seconds)
    if pending_payment:
        payment = f"payment pending; the {window} cancellation window starts when it is approved"
    elif seconds:
        payment = f"payment approved; cancellation window open for {window}"
    else:
        payment = "payment approved; no cancellation window (a request waits for the store)"
    say(f"Order {order_id} placed for customer {customer_id}, {fmt_money(total, order.currency)}: {payment}.")
    worth = sum(item.price * item.quantity for item in items)
    if items and worth != total:
        say(f"  The items add up to {fmt_money(worth, order.currency)}: the total is what is charged, and "
            "what canceling voids or refunds; canceled items refund at most what remains of it.")  # fmt: skip
    return EXIT_OK


@verb(Action.REQUEST_CANCELLATION, as_help="Who asks: staff cancel in two steps after the window; a "
     "customer's request waits for the store.")  # fmt: skip
@click.option(
    "--reason",
    default="",
    help="Why the order is canceled (the customer may see it). Required "
    "with --as customer; staff may leave it out (a second cancel, which confirms, needs none).",
)
@click.option("--item", "lines", type=LINE, multiple=True,
              help="Cancel only this quantity of a line, SKU:QTY (repeatable).")  # fmt: skip
@reason_code_option
def cancel(order_id: str, reason: str, actor: str, lines: tuple[ItemQuantity, ...], reason_code: str | None,
           how: Delivery) -> int:  # fmt: skip
    if actor == Actor.CUSTOMER.value and not reason.strip():
        # The store decides on what the customer said: a request taken for them says why.
        raise click.UsageError("--reason is required with --as customer", click.get_current_context())
    check_reason_code(reason_code, request_use(Actor(actor)))
    action = Action.CANCEL_ITEMS if lines else Action.REQUEST_CANCELLATION
    items = {"items": list(lines)} if lines else {}
    return deliver(order_id, action, how, actor=actor, reason=reason, reason_code=reason_code, **items)


@verb(Action.DENY_CANCELLATION)
@click.option("--reason", required=True, help="Why the request is declined (the customer is told).")
@reason_code_option
def deny(order_id: str, reason: str, actor: str, reason_code: str | None, how: Delivery) -> int:
    check_reason_code(reason_code, Use.DENY)
    return deliver(
        order_id, Action.DENY_CANCELLATION, how, actor=actor, reason=reason, reason_code=reason_code
    )


@verb(Action.INVOICE)
@click.option("--number", "invoice_number", required=True, help="Invoice number, e.g. NF-1.")
@click.option("--value", type=AMOUNT, required=True, help="Invoice value, e.g. 129.90.")
@click.option("--return", "is_return", is_flag=True,
              help="A return invoice (VTEX `Input`): goods came back; lowers what is invoiced.")  # fmt: skip
def invoice(
    order_id: str, invoice_number: str, value: int, is_return: bool, actor: str, how: Delivery
) -> int:
    kind = InvoiceKind.INPUT if is_return else InvoiceKind.OUTPUT
    return deliver(order_id, Action.INVOICE, how, actor=actor, kind=kind, invoice_number=invoice_number,
                   value=value, issued_at=datetime.now(UTC))  # fmt: skip


# The decision policy's commands, modifications, then those that read orders, the staff console's
# accounts, the customer pages' guest links, and the `temporal` CLI on the service's Temporal.
for command in (cancel, deny, invoice, *simple_verbs(), extend, deny_payment, *MODIFICATION_VERBS, status,
                list_, pending, watch, report, reasons, console, customer_link, temporal):  # fmt: skip
    cli.add_command(command)


@cli.command("serve-api")
@click.option("--host", help="Address to listen on. Default: ORDERS_API_HOST, else 127.0.0.1.")
@click.option("--port", type=click.IntRange(1, 65535), help="Default: ORDERS_API_PORT, else 8000.")
def serve_api(host: str | None, port: int | None) -> int:
    """Run the REST API (VTEX-style OMS paths). A port that is taken stops it at once (exit 1)."""
    try:
        # Imported here: the web stack is only loaded by the one command that serves it.
        from orders.api.server import serve
    except ModuleNotFoundError as err:
        if not (err.name or "").startswith("orders.api"):
            raise
        raise Failure("the REST API (orders.api.server) is not installed here", EXIT_USAGE) from None
    serve(host, port)
    return EXIT_OK
