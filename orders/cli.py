"""`orders`: the command-line tool for store staff and the merchant's backend (SPEC §7).

Every command goes through `OrdersClient`, the one module that talks to Temporal. Commands are sent as
the same-named update so the user sees the order's verdict; when no worker answers in time the client
queues the same command as a signal (same `request_id`, so nothing applies twice) and we say so.

Output is for people by default and JSON with `--json`. Errors are one line on stderr, never a
traceback, and the exit code tells scripts what happened (see EXIT_CODES_HELP).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import re
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn, TypeVar

import click
from pydantic import ValidationError

from domain.lifecycle import Action, Actor, Status, Stay, decide
from domain.models import (
    ApprovePayment,
    Cancellation,
    Command,
    ConfirmCancellation,
    DenyCancellation,
    InvoiceCommand,
    Item,
    OrderInput,
    OrderState,
    Payment,
    RequestCancellation,
    StartHandling,
    TimelineEntry,
    describe_errors,
)
from orders.client import (
    CommandRejected,
    CommandResult,
    OrderNotFound,
    OrdersClient,
    OrdersError,
    OrderSummary,
    TemporalUnavailable,
)
from orders.settings import Settings

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

ENVIRONMENT_HELP = """\b
Environment:
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_PROFILE, TEMPORAL_TLS*
      where Temporal is (unset: the embedded server on localhost:ORDERS_EMBEDDED_PORT)
  ORDERS_TASK_QUEUE                 the workers' task queue (default: orders)
  ORDERS_UPDATE_TIMEOUT_SECONDS     how long to wait for a worker's verdict before queuing (default: 5)
"""

STAFF_ACTORS = [Actor.STORE.value, Actor.ERP.value]


# Errors: one line on stderr and an exit code.


class Failure(click.ClickException):
    """A failure reported in one line, with the exit code scripts branch on."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(one_line(message))
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"orders: {self.format_message()}", err=True)


def one_line(text: str) -> str:
    return " ".join(str(text).split()) or "unknown error"


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
        return Settings()
    except ValidationError as err:
        raise Failure(f"bad setting: {describe_errors(err)}", EXIT_USAGE) from None


async def connect() -> OrdersClient:
    return await OrdersClient.connect(load_settings())


# Values typed the way people write them.


def parse_cents(text: str) -> int:
    """`129.90` → 12990. Decimal, not float, so no cent is lost; more than two decimals is refused
    rather than rounded (and `1.500` might mean 1500 to a reader used to a comma for decimals)."""
    cleaned = text.strip()
    if cleaned.startswith("-"):
        raise ValueError(f"{text!r}: amounts can't be negative")
    if not re.fullmatch(r"\d+(\.\d+)?", cleaned):
        raise ValueError(f"{text!r} is not an amount; write it like 129.90 (no sign, '.' for decimals)")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount; write it like 129.90") from None
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError(f"{text!r} has more than 2 decimal places")
    return int(amount * 100)


DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
UNIT_SECONDS = (86400, 3600, 60, 1)


def parse_duration(text: str) -> int:
    """`30m`, `2h`, `45s`, `1d`, `1h30m` or plain seconds → seconds."""
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        return int(cleaned)
    match = DURATION.fullmatch(cleaned)
    if not cleaned or match is None:
        raise ValueError(f"{text!r} is not a duration; write it like 30m, 2h, 45s, 1d or 1h30m")
    return sum(int(part or 0) * unit for part, unit in zip(match.groups(), UNIT_SECONDS, strict=True))


def parse_item(text: str) -> Item:
    """`SKU:QTY:PRICE`, e.g. `A1:2:64.95` (the SKU may itself contain colons)."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].strip().isdigit():
        raise ValueError(f"{text!r} is not an item; write it as SKU:QTY:PRICE, e.g. A1:2:64.95")
    sku, quantity, price = parts
    try:
        return Item(sku=sku, quantity=int(quantity), price=parse_cents(price))
    except ValidationError as err:
        raise ValueError(f"item {text!r}: {describe_errors(err)}") from None


class Parsed(click.ParamType):
    """A click parameter type from a parse function that raises ValueError with a readable message."""

    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self.parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.parse(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


AMOUNT = Parsed("amount", parse_cents)
DURATION_TYPE = Parsed("duration", parse_duration)
ITEM = Parsed("sku:qty:price", parse_item)


# Formatting for people.


def fmt_time(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else "-"


def fmt_span(seconds: float) -> str:
    """At most the two largest units, zeros left out: `29d 23h`, `30m`, `4m 5s`, `12s`."""
    remaining = int(abs(seconds))
    parts: list[str] = []
    for unit, label in zip(UNIT_SECONDS, "dhms", strict=True):
        value, remaining = divmod(remaining, unit)
        if value or parts:
            parts.append(f"{value}{label}" if value else "")
        if len(parts) == 2:
            break
    return " ".join(part for part in parts if part) or "0s"


def fmt_relative(at: datetime, now: datetime) -> str:
    delta = (at - now).total_seconds()
    return f"in {fmt_span(delta)}" if delta >= 0 else f"{fmt_span(delta)} ago"


def fmt_money(cents: int, currency: str) -> str:
    return f"{currency} {Decimal(cents) / 100:.2f}"


def fmt_status(status: Status) -> str:
    return f"{status.display_name} ({status.value})"


def fmt_entry(entry: TimelineEntry) -> str:
    moved = f"{entry.from_status.value if entry.from_status else 'placed'} → {entry.to_status.value}"
    if entry.refused:
        moved = entry.action.value  # its note starts with "refused: "
    said = f' "{entry.reason}"' if entry.reason else ""
    return f"{fmt_time(entry.at)}  {moved}  by {entry.actor.value}: {entry.note}{said}"


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in [headers, *rows]]  # fmt: skip


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def grace_line(state: OrderState, now: datetime) -> str:
    deadline = state.grace_deadline
    if deadline is None:
        return f"starts at payment approval ({fmt_span(state.grace_period_seconds)} long)"
    if state.status.is_final or state.status is Status.CANCEL:
        return fmt_time(deadline)  # time left no longer matters
    left = "open, " + fmt_span((deadline - now).total_seconds()) + " left" if deadline > now else "over"
    return f"{fmt_time(deadline)} ({left})"


def pending_line(state: OrderState, now: datetime) -> str | None:
    pending = state.pending_request
    if pending is None or state.decision_deadline is None:
        return None
    said = f' "{pending.reason}"' if pending.reason else ""
    return (
        f"by {pending.actor.value} {fmt_relative(pending.requested_at, now)}{said}; "
        f"decide by {fmt_time(state.decision_deadline)} ({fmt_relative(state.decision_deadline, now)}),"
        " or it is canceled then"
    )


def cancellation_line(state: OrderState) -> str:
    if state.status.is_final or state.status is Status.CANCEL:
        return "not possible now"
    if state.status is Status.CANCELLATION_REQUESTED:
        return "waiting for the store: confirm (or cancel again) to cancel, deny to decline"
    if state.cancellation_action == "cancel":
        return "a request now cancels at once"
    if state.cancellation_action == "request":
        return "a request now waits for the store's decision"
    return "not possible now" + (" (partially invoiced)" if state.partially_invoiced else "")


def status_lines(state: OrderState, now: datetime) -> list[str]:
    order = state.order_id
    lines = [
        f"Order {order} · customer {state.customer_id} · {fmt_money(state.total, state.currency)}",
        f"  Status:        {fmt_status(state.status)}",
        f"  Placed:        {fmt_time(state.placed_at)}",
        f"  Grace period:  {grace_line(state, now)}",
    ]
    request = pending_line(state, now)
    if request:
        lines.append(f"  Pending:       {request}")
    if state.cancellation:
        lines.append(f"  Cancellation:  {cancellation_summary(state.cancellation)}")
    else:
        lines.append(f"  Cancellation:  {cancellation_line(state)}")
    if state.invoices:
        invoiced = fmt_money(state.invoiced_value, state.currency)
        numbers = ", ".join(invoice.invoice_number for invoice in state.invoices)
        lines.append(f"  Invoiced:      {invoiced} of {fmt_money(state.total, state.currency)} ({numbers})")
    lines.append("  Timeline:")
    lines += [f"    {fmt_entry(entry)}" for entry in state.timeline]
    return lines


def cancellation_summary(c: Cancellation) -> str:
    said = f' "{c.reason}"' if c.reason else ""
    confirmed = f", confirmed by {c.confirmed_by.value}" if c.confirmed_by else ""
    return f"requested by {c.requested_by.value} at {fmt_time(c.requested_at)}{said}{confirmed}"


def next_steps(state: OrderState, now: datetime) -> list[str]:
    """What the new status means for whoever runs the tool next."""
    order = state.order_id
    if state.status in (Status.CANCEL, Status.CANCELED):
        refund = "refunded" if state.payment.captured and state.payment_approved_at else "voided"
        stock = "the store is told to restock" if state.handling_started else "the stock released"
        return [f"  The payment is {refund}, {stock} and the customer notified."]
    if state.status is Status.CANCELLATION_REQUESTED and state.decision_deadline:
        deadline = state.decision_deadline
        return [
            f"  Waiting for the store's decision until {fmt_time(deadline)} ({fmt_relative(deadline, now)});"
            " with no decision by then the order is canceled.",
            f"  Decide: orders confirm {order}  |  orders deny {order} --reason TEXT",
        ]
    if state.status is Status.WINDOW_TO_CANCEL and state.grace_deadline:
        return [f"  Cancellation window: {grace_line(state, now)}; a cancellation now cancels at once."]
    if state.invoices:
        invoiced, total = (
            fmt_money(state.invoiced_value, state.currency),
            fmt_money(state.total, state.currency),
        )
        more = "; it can no longer be canceled" if state.partially_invoiced else ""
        return [f"  Invoiced: {invoiced} of {total}{more}."]
    return []


def verdict_lines(result: CommandResult, order_id: str, action: Action, actor: Actor) -> list[str]:
    state = result.state
    assert state is not None
    now = datetime.now(UTC)
    entry = next(
        (e for e in reversed(state.timeline) if e.request_id == result.request_id and not e.refused), None
    )
    what = entry.note if entry else unchanged_note(state, action, actor, result.request_id)
    return [f"Order {order_id}: {what}.", f"  Status: {fmt_status(state.status)}", *next_steps(state, now)]


def unchanged_note(state: OrderState, action: Action, actor: Actor, request_id: str) -> str:
    """Why an accepted command changed nothing: the rules' own words when they say so (e.g. a request
    already waiting), else it repeated a request_id already applied."""
    outcome = decide(state.situation(), action, actor)
    if isinstance(outcome, Stay):
        return f"nothing changed: {outcome.note}"
    return f"nothing changed: request_id {request_id} was already applied"


def queued_lines(action: Action, result: CommandResult, order_id: str, as_signal: bool) -> list[str]:
    how = "sent as a signal" if as_signal else "queued as a signal: no worker answered in time"
    return [
        f"Order {order_id}: {action.value} {how} (request_id {result.request_id}).",
        f"  It applies when a worker runs; a refusal shows in the timeline of `orders status {order_id}`.",
    ]


# Sending commands.


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


def deliver(order_id: str, action: Action, model: type[Command], how: Delivery, **fields: Any) -> int:
    """Send one command and report the verdict (or that it is queued); the common path of every command."""
    command = build(model, request_id=how.request_id, **fields)
    try:
        result = run(send(order_id, action, command, how.as_signal))
    except Failure as failure:
        raise refusal(failure, order_id, action) from None
    if how.as_json:
        state = result.state.model_dump(mode="json") if result.state else None
        echo_json({"order_id": order_id, "action": action.value, "request_id": result.request_id,
                   "queued": result.queued, "state": state})  # fmt: skip
    elif result.queued:
        click.echo("\n".join(queued_lines(action, result, order_id, how.as_signal)))
    else:
        click.echo("\n".join(verdict_lines(result, order_id, action, Actor(fields["actor"]))))
    return EXIT_OK


def refusal(failure: Failure, order_id: str, action: Action) -> Failure:
    """Say which order refused which command; a final order's message already says both."""
    if failure.exit_code != EXIT_REFUSED or failure.message.startswith(f"order {order_id} "):
        return failure
    return Failure(f"order {order_id}: {action.value} refused: {failure.message}", failure.exit_code)


def command_options(f: Callable[..., int]) -> Callable[..., int]:
    """Add the options every command shares; they reach the command as one `how: Delivery`."""

    @functools.wraps(f)
    def command(*args: Any, as_json: bool, as_signal: bool, request_id: str | None, **kwargs: Any) -> int:
        return f(*args, how=Delivery(as_json, as_signal, request_id), **kwargs)

    shared = [
        click.option("--json", "as_json", is_flag=True,
                     help="Print the result as JSON: request_id, queued, and the order's state."),
        click.option("--signal", "as_signal", is_flag=True,
                     help="Send it as a signal: don't wait for a worker's verdict."),
        click.option("--request-id",
                     help="Idempotency key: a repeat with the same id changes nothing. Default: a new one."),
    ]  # fmt: skip
    for option in reversed(shared):
        command = option(command)
    return command


# Reading orders.


async def fetch_state(order_id: str) -> OrderState:
    return await (await connect()).state(order_id)


async def fetch_list(status: Status | None, customer: str | None, limit: int) -> list[OrderSummary]:
    client = await connect()
    return await client.list_orders(status=status, customer_id=customer, limit=limit)


async def fetch_pending(
    customer: str | None, limit: int
) -> list[tuple[OrderSummary, OrderState | OrdersError]]:
    """Orders the search attributes list as cancellation-requested, each with its state (for the
    decision deadline). An order whose state can't be read (no worker) is kept, with the reason."""
    client = await connect()
    listed = await client.list_orders(Status.CANCELLATION_REQUESTED, customer_id=customer, limit=limit)
    limiter = asyncio.Semaphore(8)

    async def state_of(summary: OrderSummary) -> OrderState | OrdersError:
        async with limiter:
            try:
                return await client.state(summary.order_id)
            except OrdersError as err:  # one order out of reach shouldn't hide the others
                return err

    states = await asyncio.gather(*(state_of(summary) for summary in listed))
    pending = [
        (summary, state)
        for summary, state in zip(listed, states, strict=True)
        # The visibility list can lag a moment behind the order itself: trust the order.
        if not isinstance(state, OrderState) or state.status is Status.CANCELLATION_REQUESTED
    ]
    return sorted(pending, key=lambda pair: requested_at(pair[1]) or datetime.max.replace(tzinfo=UTC))


def requested_at(state: OrderState | OrdersError) -> datetime | None:
    if isinstance(state, OrderState) and state.pending_request:
        return state.pending_request.requested_at
    return None


async def watch_order(order_id: str, interval: float) -> None:
    """Print each status change until the order is final. Worker restarts are waited out, not fatal."""
    client = await connect()
    state = await client.state(order_id)
    click.echo(f"Order {order_id}: {fmt_status(state.status)}")
    # Refusals are trimmed from the timeline over time; status changes are not, so count those.
    seen = len(moves(state))
    waiting = False
    while not state.status.is_final:
        await asyncio.sleep(interval)
        try:
            state = await client.state(order_id)
        except TemporalUnavailable as err:
            if not waiting:
                click.echo(f"orders: {one_line(str(err))}; still watching", err=True)
            waiting = True
            continue
        waiting = False
        for entry in moves(state)[seen:]:
            click.echo(fmt_entry(entry))
        seen = len(moves(state))


def moves(state: OrderState) -> list[TimelineEntry]:
    return [entry for entry in state.timeline if not entry.refused]


# The commands.


@click.group(
    epilog=EXIT_CODES_HELP + "\n" + ENVIRONMENT_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
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
        click.echo(
            f"Order {order_id} already exists; it was left as it was (see `orders status {order_id}`)."
        )
        return EXIT_OK
    seconds = grace if grace is not None else settings.grace_period_seconds
    window = fmt_span(seconds)
    if pending_payment:
        payment = f"payment pending; the {window} cancellation window starts when it is approved"
    elif seconds:
        payment = f"payment approved; cancellation window open for {window}"
    else:
        payment = "payment approved; no cancellation window (a request waits for the store)"
    click.echo(
        f"Order {order_id} placed for customer {customer_id}, {fmt_money(total, order.currency)}: {payment}."
    )
    return EXIT_OK


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@click.option("--reason", required=True, help="Why the order is canceled (the customer may see it).")
@click.option("--as", "actor", type=click.Choice([Actor.CUSTOMER.value, *STAFF_ACTORS]), default="store",
              show_default=True, help="Who asks: staff cancel in two steps after the window; a customer's "
              "request waits for the store.")  # fmt: skip
@command_options
def cancel(order_id: str, reason: str, actor: str, how: Delivery) -> int:
    """Cancel ORDER_ID, or request its cancellation.

    Inside the cancellation window the order is canceled at once. After it, the first request waits
    for the store's decision; a second `cancel` (or `confirm`) by the store or the erp cancels it.
    """
    return deliver(order_id, Action.REQUEST_CANCELLATION, RequestCancellation, how,
                   actor=actor, reason=reason)  # fmt: skip


def staff_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--as", "actor", type=click.Choice(STAFF_ACTORS), default="store",
                        show_default=True, help="Who sends it.")(f)  # fmt: skip


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@staff_option
@command_options
def confirm(order_id: str, actor: str, how: Delivery) -> int:
    """Confirm ORDER_ID's pending cancellation request: the order is canceled."""
    return deliver(order_id, Action.CONFIRM_CANCELLATION, ConfirmCancellation, how, actor=actor)


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@click.option("--reason", required=True, help="Why the request is declined (the customer is told).")
@staff_option
@command_options
def deny(order_id: str, reason: str, actor: str, how: Delivery) -> int:
    """Decline ORDER_ID's pending cancellation request: the order goes on."""
    return deliver(order_id, Action.DENY_CANCELLATION, DenyCancellation, how,
                   actor=actor, reason=reason)  # fmt: skip


@cli.command("approve-payment", epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@click.option("--as", "actor", type=click.Choice([*STAFF_ACTORS, Actor.SYSTEM.value]), default="store",
              show_default=True, help="Who approves it (`system` for a payment notification).")  # fmt: skip
@command_options
def approve_payment(order_id: str, actor: str, how: Delivery) -> int:
    """Approve ORDER_ID's payment: its cancellation window starts now."""
    return deliver(order_id, Action.APPROVE_PAYMENT, ApprovePayment, how, actor=actor)


@cli.command("start-handling", epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@staff_option
@command_options
def start_handling(order_id: str, actor: str, how: Delivery) -> int:
    """Start handling ORDER_ID (only once its cancellation window is over)."""
    return deliver(order_id, Action.START_HANDLING, StartHandling, how, actor=actor)


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@click.option("--number", "invoice_number", required=True, help="Invoice number, e.g. NF-1.")
@click.option("--value", type=AMOUNT, required=True, help="Invoice value, e.g. 129.90.")
@staff_option
@command_options
def invoice(order_id: str, invoice_number: str, value: int, actor: str, how: Delivery) -> int:
    """Invoice ORDER_ID. Invoices covering the total make it invoiced (final); less, partially invoiced."""
    return deliver(order_id, Action.INVOICE, InvoiceCommand, how, actor=actor,
                   invoice_number=invoice_number, value=value, issued_at=datetime.now(UTC))  # fmt: skip


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@click.option("--json", "as_json", is_flag=True, help="Print the `state` query's JSON.")
def status(order_id: str, as_json: bool) -> int:
    """Show ORDER_ID: status, grace deadline, pending request, timeline."""
    state = run(fetch_state(order_id))
    if as_json:
        echo_json(state.model_dump(mode="json"))
    else:
        click.echo("\n".join(status_lines(state, datetime.now(UTC))))
    return EXIT_OK


@cli.command("list", epilog=EXIT_CODES_HELP)
@click.option("--status", "status_", type=click.Choice([s.value for s in Status]), help="Only this status.")
@click.option("--customer", help="Only this customer's orders.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def list_(status_: str | None, customer: str | None, limit: int, as_json: bool) -> int:
    """List orders, newest first, by the OrderStatus and CustomerId search attributes."""
    found = run(fetch_list(Status(status_) if status_ else None, customer, limit))
    if as_json:
        echo_json([summary_json(summary) for summary in found])
    elif not found:
        click.echo("No orders found.")
    else:
        rows = [[s.order_id, s.status.value, s.customer_id, fmt_time(s.placed_at)] for s in found]
        click.echo("\n".join(table(["ORDER", "STATUS", "CUSTOMER", "PLACED"], rows)))
    return EXIT_OK


def summary_json(summary: OrderSummary) -> dict[str, Any]:
    return {
        "order_id": summary.order_id,
        "status": summary.status.value,
        "status_description": summary.status.display_name,
        "customer_id": summary.customer_id,
        "placed_at": summary.placed_at.isoformat() if summary.placed_at else None,
        "closed": summary.closed,
    }


@cli.command(epilog=EXIT_CODES_HELP)
@click.option("--customer", help="Only this customer's orders.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True,
              help="Look at up to this many pending orders.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def pending(customer: str | None, limit: int, as_json: bool) -> int:
    """Orders waiting for the store's decision on a cancellation, oldest request first."""
    found = run(fetch_pending(customer, limit))
    now = datetime.now(UTC)
    for summary, state in found:
        if not isinstance(state, OrderState):
            click.echo(f"orders: order {summary.order_id}: {one_line(str(state))}", err=True)
    if as_json:
        echo_json([pending_json(summary, state, now) for summary, state in found])
    elif not found:
        click.echo("No cancellation requests are waiting for the store.")
    else:
        rows = [pending_row(summary, state, now) for summary, state in found]
        click.echo("\n".join(table(["ORDER", "CUSTOMER", "BY", "AGE", "DECIDE BY", "REASON"], rows)))
    return EXIT_OK


def pending_row(summary: OrderSummary, state: OrderState | OrdersError, now: datetime) -> list[str]:
    if not isinstance(state, OrderState) or state.pending_request is None:
        return [summary.order_id, summary.customer_id, "?", "?", "? (see the warning above)", ""]
    request = state.pending_request
    deadline = state.decision_deadline
    due = f"{fmt_time(deadline)} ({fmt_relative(deadline, now)})" if deadline else "-"
    age = fmt_span((now - request.requested_at).total_seconds())
    return [summary.order_id, summary.customer_id, request.actor.value, age, due, request.reason]


def pending_json(summary: OrderSummary, state: OrderState | OrdersError, now: datetime) -> dict[str, Any]:
    request = state.pending_request if isinstance(state, OrderState) else None
    deadline = state.decision_deadline if isinstance(state, OrderState) else None
    return {
        "order_id": summary.order_id,
        "customer_id": summary.customer_id,
        "request_id": request.id if request else None,
        "requested_by": request.actor.value if request else None,
        "reason": request.reason if request else None,
        "requested_at": request.requested_at.isoformat() if request else None,
        "age_seconds": int((now - request.requested_at).total_seconds()) if request else None,
        "decision_deadline": deadline.isoformat() if deadline else None,
        "error": None if isinstance(state, OrderState) else one_line(str(state)),
    }


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@click.option("--interval", type=click.FloatRange(min=0.05), default=2.0, show_default=True,
              help="Seconds between looks at the order.")  # fmt: skip
def watch(order_id: str, interval: float) -> int:
    """Print each status change of ORDER_ID until it is canceled or invoiced (Ctrl-C to stop)."""
    run(watch_order(order_id, interval))
    return EXIT_OK


@cli.command("serve-api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
def serve_api(host: str, port: int) -> int:
    """Run the REST API (VTEX-style OMS paths)."""
    try:
        # Imported here: the web stack is only loaded by the one command that serves it.
        from orders.api.server import serve
    except ModuleNotFoundError as err:
        if not (err.name or "").startswith("orders.api"):
            raise
        raise Failure("the REST API (orders.api.server) is not installed here", EXIT_USAGE) from None
    serve(host, port)
    return EXIT_OK


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
        click.echo(f"{where}: {one_line(err.format_message())} (see '{where} --help')", err=True)
        return EXIT_USAGE
    except click.ClickException as err:
        click.echo(f"orders: {one_line(err.format_message())}", err=True)
        return err.exit_code
    except (click.Abort, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    except Exception as err:  # the promise is no tracebacks, even for what we did not foresee
        click.echo(f"orders: unexpected error: {one_line(f'{type(err).__name__}: {err}')}", err=True)
        return EXIT_REFUSED
    return code if isinstance(code, int) else EXIT_OK
