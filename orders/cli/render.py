"""Everything the `orders` tool prints for people, and the JSON it prints for scripts: times, spans and
money as people read them, tables, an order's status page, the verdict on a command and what to do
next, a queued command's receipt, and the rows of `list` and `pending`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import click

from domain.events import EventType
from domain.lifecycle import Action, Actor, Status, Stay, payment_undo, stock_undo
from domain.registry import CommandRecord, decide
from domain.spans import fmt_span
from domain.state import Cancellation, Line, Modification, ModificationStatus, OrderState, TimelineEntry
from domain.text import RAW_IN_JSON, shown
from domain.wire import Item, ItemQuantity
from orders.client import CommandResult
from orders.queue import PendingRequest
from orders.reads import OrderSummary
from orders.words import move_words


def fmt_time(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else "-"


def fmt_relative(at: datetime, now: datetime) -> str:
    delta = (at - now).total_seconds()
    return f"in {fmt_span(delta)}" if delta >= 0 else f"{fmt_span(delta)} ago"


def fmt_money(cents: int, currency: str) -> str:
    return f"{shown(currency)} {Decimal(cents) / 100:.2f}"


def fmt_status(status: Status) -> str:
    return f"{status.display_name} ({status.value})"


def fmt_entry(entry: TimelineEntry) -> str:
    moved = move_words(entry)  # a refusal's note starts with "refused: "
    said = f' "{shown(entry.reason)}"' if entry.reason else ""
    who = f"{entry.actor.value} ({shown(entry.sender)})" if entry.sender else entry.actor.value
    return f"{fmt_time(entry.at)}  {moved}  by {who}: {shown(entry.note)}{said}"


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """Aligned columns; a cell's line feeds and controls are escaped, so a cell can't add a row."""
    rows = [[shown(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in [headers, *rows]]  # fmt: skip


def echo_json(value: Any) -> None:
    """JSON for scripts; what JSON leaves raw but a terminal obeys (C1 controls, bidi overrides) is
    written as a \\u escape, which any JSON reader reads back as the same text."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    click.echo(RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def grace_line(state: OrderState, now: datetime) -> str:
    deadline = state.grace_deadline
    if deadline is None:
        return f"starts at payment approval ({fmt_span(state.grace_period_seconds)} long)"
    if state.status.is_final or state.status is Status.CANCEL:
        return fmt_time(deadline)  # time left no longer matters
    left = "open, " + fmt_span((deadline - now).total_seconds()) + " left" if deadline > now else "over"
    return f"{fmt_time(deadline)} ({left})"


def pending_line(state: OrderState, now: datetime) -> str | None:
    pending, decision = state.pending_request, state.pending_decision()
    if pending is None or state.decision_deadline is None or decision is None:
        return None
    said = f' "{shown(pending.reason)}"' if pending.reason else ""
    items = f" for {items_text(pending.items)}" if pending.items else ""
    return (
        f"by {pending.actor.value}{items} {fmt_relative(pending.requested_at, now)}{said}; "
        f"decide by {fmt_time(state.decision_deadline)} ({fmt_relative(state.decision_deadline, now)}),"
        f" or {decision.timeout} then"
    )


def cancellation_line(state: OrderState) -> str:
    if state.status.is_final or state.status is Status.CANCEL:
        return "not possible now"
    decision = state.pending_decision()
    if decision is not None:
        confirm = "confirm (or cancel again)" if decision.second_cancel_confirms else "confirm"
        return f"waiting for the store: {confirm}: {decision.confirm}; deny: {decision.deny}"
    if state.cancellation_action == "cancel":
        return "a request now cancels at once"
    if state.cancellation_action == "request":
        return "a request now waits for the store's decision"
    return "not possible now" + (" (partially invoiced)" if state.partially_invoiced else "")


def status_lines(state: OrderState, now: datetime) -> list[str]:
    # Ids and the currency are checked at placement; escaped anyway, as every field this prints is.
    order, customer = shown(state.order_id), shown(state.customer_id)
    lines = [
        f"Order {order} · customer {customer} · {fmt_money(state.total, state.currency)}",
        f"  Status:        {fmt_status(state.status)}",
        f"  Placed:        {fmt_time(state.placed_at)}",
        f"  Grace period:  {grace_line(state, now)}",
    ]
    if state.item_cancellations:
        lines.append(f"  Remaining:     {fmt_money(state.remaining_total, state.currency)} (items canceled)")
    if state.modifications:
        lines.append(f"  Value:         {fmt_money(state.remaining_total, state.currency)} (modified)")
    if state.items:
        lines += ["  Items:", *(f"    {line_text(line, state.currency)}" for line in state.lines)]
    if state.modifications:
        lines += [
            "  Modifications:",
            *(f"    {modification_text(m, state, now)}" for m in state.modifications),
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
        numbers = ", ".join(shown(invoice.invoice_number) for invoice in state.invoices)
        lines.append(f"  Invoiced:      {invoiced} of {fmt_money(state.total, state.currency)} ({numbers})")
    lines.append("  Timeline:")
    lines += [f"    {fmt_entry(entry)}" for entry in state.timeline]
    return lines


def line_text(line: Line, currency: str) -> str:
    canceled = f", {line.canceled} canceled, {line.remaining} left" if line.canceled else ""
    if line.added or line.removed:
        held = line.remaining + line.canceled
        moved = [f"ordered {line.ordered}"] if line.ordered else []
        moved += [f"{line.added} added"] if line.added else []
        moved += [f"{line.removed} removed"] if line.removed else []
        return f"{shown(line.sku)}  {held} x {fmt_money(line.price, currency)} ({', '.join(moved)}){canceled}"
    return f"{shown(line.sku)}  {line.ordered} x {fmt_money(line.price, currency)}{canceled}"


def signed_money(cents: int, currency: str) -> str:
    return ("+" if cents >= 0 else "-") + fmt_money(abs(cents), currency)


def modification_text(m: Modification, state: OrderState, now: datetime) -> str:
    """One modification as `orders status` lists it: what changed, by how much, how it ended."""
    currency, changed = state.currency, []
    if m.removed:
        changed.append("removed " + items_text(m.removed))
    if m.added:
        changed.append("added " + items_text(m.added))
    said = f' "{shown(m.reason)}"' if m.reason else ""
    how = {
        ModificationStatus.APPLIED: f"applied {fmt_time(m.settled_at)}",
        ModificationStatus.WAITING_PAYMENT: "waiting for the customer's payment until "
        f"{fmt_time(m.payment_deadline)}",
        ModificationStatus.LAPSED: f"lapsed ({m.lapsed_because.value if m.lapsed_because else ''})",
    }[m.status]
    return f"{m.id}: {'; '.join(changed)}: {signed_money(m.difference, currency)}, {how}{said}"


def modification_lines(state: OrderState, action: Action, request_id: str, now: datetime) -> list[str]:
    """What a modification command did: the modification it made or settled, and what comes next."""
    if action is Action.MODIFY_ORDER:
        m = next((m for m in reversed(state.modifications) if m.request_id == request_id), None)
    else:
        m = next((m for m in reversed(state.modifications) if m.settled_at is not None), None)
    if m is None:
        return []
    order, money = shown(state.order_id), fmt_money(abs(m.difference), state.currency)
    value = f"{fmt_money(m.before, state.currency)} -> {fmt_money(m.after, state.currency)}"
    if m.status is ModificationStatus.WAITING_PAYMENT and m.payment_deadline is not None:
        deadline = f"{fmt_time(m.payment_deadline)} ({fmt_relative(m.payment_deadline, now)})"
        return [
            f"  Modification {m.id}: {value} once the customer pays the difference, {money}, by {deadline}.",
            f"  Then: orders approve-modification-payment {order} {m.id}  |  "
            f"orders deny-modification-payment {order} {m.id}",
        ]
    if m.status is ModificationStatus.LAPSED:
        kept = fmt_money(state.remaining_total, state.currency)
        return [f"  Modification {m.id} lapsed: the order stays as it was ({kept}); store and customer told."]
    back = f"; {money} voided or refunded" if m.difference < 0 else ""
    return [f"  Modification {m.id}: {value}{back}; stock and customer told."]


def items_text(items: Sequence[ItemQuantity | Item]) -> str:
    return ", ".join(f"{shown(item.sku)} x {item.quantity}" for item in items)


MODIFICATION_ACTIONS = {
    Action.MODIFY_ORDER,
    Action.APPROVE_MODIFICATION_PAYMENT,
    Action.DENY_MODIFICATION_PAYMENT,
    Action.CANCEL_MODIFICATION,
}

UNDONE = {
    EventType.PAYMENT_VOID: "The payment is voided",
    EventType.PAYMENT_REFUND: "The payment is refunded",
    EventType.STOCK_RELEASE: "the stock released",
    EventType.STORE_RESTOCK_NEEDED: "the store is told to restock",
}


def undo_sentence(state: OrderState) -> str:
    """What the cancellation undoes, in the rules' own terms (`lifecycle.payment_undo`, `stock_undo`)."""
    assert state.cancellation is not None
    payment = payment_undo(
        approved=state.payment_approved, captured=state.payment.captured, path=state.cancellation.path
    )
    stock = UNDONE[stock_undo(handling_started=state.handling_started)]
    if payment is None:
        return f"Nothing to void (the payment never came): {stock} and the customer notified."
    return f"{UNDONE[payment]}, {stock} and the customer notified."


def cancellation_summary(c: Cancellation) -> str:
    said = f' "{shown(c.reason)}"' if c.reason else ""
    confirmed = f", confirmed by {c.confirmed_by.value}" if c.confirmed_by else ""
    return f"requested by {c.requested_by.value} at {fmt_time(c.requested_at)}{said}{confirmed}"


def next_steps(state: OrderState, now: datetime) -> list[str]:
    """What the new status means for whoever runs the tool next."""
    order = state.order_id
    if state.status in (Status.CANCEL, Status.CANCELED) and state.cancellation is not None:
        return [f"  {undo_sentence(state)}"]
    decision = state.pending_decision()
    if decision is not None and state.decision_deadline:
        deadline = state.decision_deadline
        return [
            f"  Waiting for the store's decision until {fmt_time(deadline)} ({fmt_relative(deadline, now)});"
            f" with no decision by then {decision.timeout}.",
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
    lines = [f"Order {shown(order_id)}: {shown(what)}.", f"  Status: {fmt_status(state.status)}"]
    if entry is not None and entry.action in MODIFICATION_ACTIONS:
        return lines + modification_lines(state, action, result.request_id, now)
    # Items this command canceled (its own request, or the request it confirmed) were undone at its entry.
    applied = next((c for c in reversed(state.item_cancellations) if entry and c.at == entry.at), None)
    if applied is not None:
        lines.append(
            f"  Canceled: {items_text(applied.items)}; {fmt_money(applied.amount, state.currency)} undone, "
            f"{fmt_money(state.remaining_total, state.currency)} remain."
        )
        return lines
    return lines + next_steps(state, now)


def unchanged_note(state: OrderState, action: Action, actor: Actor, request_id: str) -> str:
    """Why an accepted command changed nothing: the rules' own words when they say so (e.g. a request
    already waiting), else it repeated a request_id already applied."""
    outcome = decide(state.situation(), action, actor)
    if isinstance(outcome, Stay):
        return f"nothing changed: {outcome.note}"
    return f"nothing changed: request id {request_id} was already applied"


def queued_lines(
    record: CommandRecord[Any], result: CommandResult, order_id: str, as_signal: bool
) -> list[str]:
    how = "sent as a signal" if as_signal else "queued as a signal: no worker answered in time"
    return [
        f"Order {order_id}: {record.title}: {how} (request id {result.request_id}).",
        f"  It applies when a worker runs; a refusal shows in the timeline of `orders status {order_id}`.",
    ]


def summary_json(summary: OrderSummary) -> dict[str, Any]:
    return {
        "order_id": summary.order_id,
        "status": summary.status.value,
        "status_description": summary.status.display_name,
        "customer_id": summary.customer_id,
        "placed_at": summary.placed_at.isoformat() if summary.placed_at else None,
        "closed": summary.closed,
    }


def pending_row(row: PendingRequest, now: datetime) -> list[str]:
    request = row.request
    left = fmt_relative(request.decision_deadline, now)
    due = f"{fmt_time(request.decision_deadline)} ({left})"
    if row.urgent(now):
        due = f"! {due}"  # under 24 h: the store is about to run out of time
    reason = f"{request.reason_label or request.reason_code}: {request.reason}".rstrip(": ")
    by = f"{request.actor} ({request.sender})" if request.sender else request.actor
    age = fmt_span((now - request.requested_at).total_seconds())
    return [row.order_id, row.customer_id, by, age, due, reason]


def pending_json(row: PendingRequest, now: datetime) -> dict[str, Any]:
    request = row.request
    return {
        "order_id": row.order_id,
        "customer_id": row.customer_id,
        "value": row.value,
        "currency": row.currency,
        "request_id": request.request_id,
        "requested_by": request.actor,
        "sender": request.sender,
        "reason_code": request.reason_code,
        "reason_label": request.reason_label,
        "reason": request.reason,
        "requested_at": request.requested_at.isoformat(),
        "age_seconds": int((now - request.requested_at).total_seconds()),
        "decision_deadline": request.decision_deadline.isoformat(),
        "time_left_seconds": int(row.time_left(now).total_seconds()),
        "urgent": row.urgent(now),
    }
