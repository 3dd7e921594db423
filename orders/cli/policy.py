"""The decision policy's commands (docs/policy.md): `reasons` (the catalogue), `extend` (a window or a
decision deadline), `deny-payment` (a payment gateway's refusal) and `report` (the cancellation report), plus
the `--reason-code` option the commands that carry a reason share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from click.shell_completion import CompletionItem

from domain.lifecycle import Action
from domain.reasons import LOCALES, SHOPIFY_WORDS, Use
from domain.spans import fmt_span
from orders.cli.errors import EXIT_CODES_HELP, EXIT_OK, EXIT_USAGE, Failure, connect, load_settings, run, say
from orders.cli.parsing import DURATION_TYPE, STAFF_ACTORS
from orders.cli.render import echo_json, fmt_time, table
from orders.cli.sending import Delivery, command_options, deliver, verb
from orders.report import Report, build_report
from orders.words import PATH_WORDS


def _complete_codes(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    catalogue = load_settings().catalogue
    codes = {reason.code for reason in catalogue.reasons}
    return [CompletionItem(code) for code in sorted(codes) if code.startswith(incomplete)]


def reason_code_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--reason-code",
        shell_complete=_complete_codes,
        help="A code from the reason catalogue (`orders reasons`); default: other.",
    )(f)


def check_reason_code(code: str | None, use: Use) -> None:
    """A usage error naming the codes allowed for `use`, before anything is sent."""
    if code is None:
        return
    allowed = load_settings().catalogue.codes(use)
    if code not in allowed:
        raise Failure(
            f"--reason-code {code!r} is not a {use.value} reason; one of {', '.join(allowed)}", EXIT_USAGE
        )


@click.command(epilog=EXIT_CODES_HELP)
@click.option("--use", type=click.Choice([use.value for use in Use]), help="Only the codes for this use.")
@click.option("--locale", type=click.Choice(LOCALES), default="en", show_default=True)
@click.option("--codes", "codes_only", is_flag=True, help="Only the codes, one per line (for scripts).")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def reasons(use: str | None, locale: str, codes_only: bool, as_json: bool) -> int:
    """The reason catalogue: the codes a reason may carry, by who may give them (`customer` asking,
    `store` canceling, `deny` declining), with their labels (ORDERS_REASONS replaces the built-in one)."""
    catalogue = load_settings().catalogue
    shown = [reason for reason in catalogue.reasons if use is None or reason.use.value == use]
    if as_json:
        echo_json([
            {"code": r.code, "use": r.use.value, "labels": r.labels, "shopify": r.shopify} for r in shown
        ])  # fmt: skip
    elif codes_only:
        say("\n".join(dict.fromkeys(reason.code for reason in shown)))
    else:
        rows = [[r.use.value, r.code, r.label(locale), r.shopify] for r in shown]
        say("\n".join(table(["USE", "CODE", "LABEL", "REPORTED AS"], rows)))
    return EXIT_OK


_UTC_TIME = click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%SZ"])


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("order_id")
@click.option("--window", type=DURATION_TYPE, help="Extend the cancellation window by this, e.g. 2h.")
@click.option("--window-until", type=_UTC_TIME,
              help="Move the window's end to this UTC time, e.g. 2026-12-01T12:00:00Z.")  # fmt: skip
@click.option("--decision", type=DURATION_TYPE,
              help="Extend the pending request's decision deadline by this, e.g. 7d.")  # fmt: skip
@click.option("--decision-until", type=_UTC_TIME,
              help="Move the pending request's decision deadline to this UTC time.")  # fmt: skip
@click.option("--reason", default="", help="Why (shown in the timeline).")
@click.option("--as", "actor", type=click.Choice(STAFF_ACTORS), default="store",
              show_default=True, help="Who sends it.")  # fmt: skip
@command_options
def extend(order_id: str, window: int | None, window_until: datetime | None, decision: int | None,
           decision_until: datetime | None, reason: str, actor: str, how: Delivery) -> int:  # fmt: skip
    """Move ORDER_ID's cancellation window or its pending request's decision deadline later: give
    exactly one of --window, --window-until, --decision, --decision-until. Deadlines only move later,
    at most a year ahead; the running timer follows."""
    on_window = window is not None or window_until is not None
    on_decision = decision is not None or decision_until is not None
    if on_window == on_decision:  # which deadline; the command's model checks until or seconds, not both
        raise Failure(
            "give exactly one of --window, --window-until, --decision, --decision-until", EXIT_USAGE
        )
    action = Action.EXTEND_DECISION_DEADLINE if on_decision else Action.EXTEND_GRACE_PERIOD
    seconds, until = (decision, decision_until) if on_decision else (window, window_until)
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    fields = {"actor": actor, "reason": reason, "seconds": seconds, "until": until}
    return deliver(order_id, action, how, **fields)


@verb(Action.DENY_PAYMENT, as_help="Who relays the gateway's notification.")
@click.option("--reason", default="", help="What the payment gateway said, e.g. card declined.")
def deny_payment(order_id: str, reason: str, actor: str, how: Delivery) -> int:
    return deliver(order_id, Action.DENY_PAYMENT, how, actor=actor, reason=reason)


@click.command(epilog=EXIT_CODES_HELP)
@click.option("--since", type=DURATION_TYPE, default="30d", show_default=True,
              help="Orders placed within this long, e.g. 7d.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def report(since: int, as_json: bool) -> int:
    """The cancellation report: orders placed and canceled, by path, reason and actor, requests denied,
    and how fast the store decides. Read from Temporal's visibility, not from each order."""
    figures = run(fetch_report(timedelta(seconds=since)))
    if as_json:
        echo_json(figures.model_dump(mode="json"))
    else:
        say("\n".join(report_lines(figures)))
    return EXIT_OK


async def fetch_report(span: timedelta) -> Report:
    client = await connect()
    return await build_report(client.temporal, datetime.now(UTC) - span, client.settings.catalogue)


def report_lines(figures: Report) -> list[str]:
    def share(count: int) -> str:
        return f"{count} ({100 * count / figures.placed:.0f}%)" if figures.placed else str(count)

    p50, p90 = figures.decision_seconds_p50, figures.decision_seconds_p90
    lines = [
        f"Orders placed {fmt_time(figures.since)} to {fmt_time(figures.until)}: {figures.placed}",
        f"Canceled: {share(figures.canceled)}",
        *(f"  {PATH_WORDS.get(path, path)}: {count}" for path, count in figures.canceled_by_path.items()),
        f"Requests denied: {figures.requests_denied}",
        f"Decision time ({figures.decisions} decided): p50 {_span(p50)}, p90 {_span(p90)}",
        f"Modified: {figures.modified_orders} orders ({figures.modifications} modifications); "
        f"value added {figures.modification_value_added / 100:.2f}, "
        f"taken off {figures.modification_value_removed / 100:.2f}",
        "By reason:",
        *(f"  {code} ({figures.by_reason_label.get(code, code)}): {count}"
          for code, count in sorted(figures.by_reason.items(), key=lambda kv: -kv[1])),
        "By kind of reason (Shopify's cancel reasons):",
        *(f"  {SHOPIFY_WORDS.get(bucket, bucket)}: {count}"
          for bucket, count in sorted(figures.by_shopify_reason.items())),
        "By who asked:",
        *(f"  {actor}: {count}" for actor, count in sorted(figures.by_actor.items())),
        *(f"  of which from {channel}: {count}" for channel, count in sorted(figures.by_channel.items())),
    ]  # fmt: skip
    return lines


def _span(seconds: float | None) -> str:
    return "-" if seconds is None else fmt_span(seconds)
