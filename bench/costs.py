# ruff: noqa: RUF001
# (the multiplication sign in the table is meant)
"""What an order costs in Temporal Cloud's billable actions, per path, counted from the histories of real
orders (`bench.actions`): `python -m bench.costs [--against OTHER_CHECKOUT] [--orders N]`.

On a fresh in-memory dev server, an order worker (this checkout's, and with `--against` another's, each on
a task queue of its own) runs `orders` orders down each path, with the commands sent as updates (as the
erp, the REST API and the console send them) and short windows and deadlines so that the timers fire
during the run. Every order's history is then read and its actions counted; the table gives each path's
median. `python -m bench` runs it too (docs/performance.md, "Cost per order").
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.actions import KINDS, NOT_BILLED, billable
from bench.cluster import ROOT, Temporal, start_worker
from bench.histories import histories
from bench.paths import LINES, TOTAL, order_input
from domain.lifecycle import Action, Status
from domain.models import OrderInput
from orders.client import OrdersClient
from orders.converter import DATA_CONVERTER
from orders.settings import Settings
from workflows.names import workflow_id

GRACE = 3  # seconds: the window of an order that goes on past it
DECISION_TIMEOUT = 8  # seconds, with reminders at 6, 4 and 2 s before the deadline
REMINDERS = [6, 4, 2]
ITEM = {"sku": "A1", "quantity": 1}  # one of the bench's two lines' units
ITEM_PRICE = next(int(line["price"]) for line in LINES if line["sku"] == ITEM["sku"])
MODIFY = "modify_order"  # issue 20's command: its row fills in once the lifecycle has it


async def _status(orders: OrdersClient, order_id: str, status: Status, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (await orders.state(order_id)).status is not status:
        if loop.time() > deadline:
            raise TimeoutError(f"order {order_id} never reached {status.value}")
        await asyncio.sleep(0.1)


async def _place(orders: OrdersClient, order: OrderInput) -> None:
    """Place the order and wait for its first workflow task to complete: a command comes later than
    that in life (a customer changes their mind seconds after the order at the soonest), and on a busy
    machine it would otherwise race the placement, which costs otherwise."""
    await orders.place(order)
    handle = orders.temporal.get_workflow_handle(workflow_id(order.order_id))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED not in [
        event.event_type async for event in handle.fetch_history_events()
    ]:
        if loop.time() > deadline:
            raise TimeoutError(f"order {order.order_id} was never placed")
        await asyncio.sleep(0.1)


async def _send(orders: OrdersClient, order_id: str, action: Action | str, **payload: Any) -> None:
    result = await orders.send(order_id, Action(action), payload, update_timeout=30)
    if result.queued:
        raise RuntimeError(f"{order_id}: {action} was not answered")


async def invoiced(orders: OrdersClient, order_id: str) -> None:
    await _place(orders, order_input(order_id, GRACE))
    await _status(orders, order_id, Status.READY_FOR_HANDLING)
    await _send(orders, order_id, Action.START_HANDLING, actor="store")
    await _send(orders, order_id, Action.INVOICE, actor="erp", invoice_number="NF-1", value=TOTAL)


async def canceled_in_window(orders: OrdersClient, order_id: str) -> None:
    await _place(orders, order_input(order_id))
    await _send(orders, order_id, Action.REQUEST_CANCELLATION, actor="customer", reason_code="changed-mind")


async def confirmed(orders: OrdersClient, order_id: str) -> None:
    await _place(orders, order_input(order_id, GRACE))
    await _status(orders, order_id, Status.READY_FOR_HANDLING)
    await _send(orders, order_id, Action.REQUEST_CANCELLATION, actor="customer", reason_code="found-cheaper")
    await asyncio.sleep(1)  # the store decides later than the request's own deliveries take
    await _send(orders, order_id, Action.CONFIRM_CANCELLATION, actor="store")


async def denied_then_invoiced(orders: OrdersClient, order_id: str) -> None:
    await _place(orders, order_input(order_id, GRACE))
    await _status(orders, order_id, Status.READY_FOR_HANDLING)
    await _send(orders, order_id, Action.REQUEST_CANCELLATION, actor="customer")
    await asyncio.sleep(1)
    await _send(orders, order_id, Action.DENY_CANCELLATION, actor="store", reason="shipped",
                reason_code="already-shipped")  # fmt: skip
    await _send(orders, order_id, Action.START_HANDLING, actor="store")
    await _send(orders, order_id, Action.INVOICE, actor="erp", invoice_number="NF-1", value=TOTAL)


async def items_canceled(orders: OrdersClient, order_id: str) -> None:
    await _place(orders, order_input(order_id, GRACE))
    await _send(orders, order_id, Action.CANCEL_ITEMS, actor="customer", items=[ITEM])
    await _status(orders, order_id, Status.READY_FOR_HANDLING)
    await _send(orders, order_id, Action.START_HANDLING, actor="store")
    value = TOTAL - ITEM_PRICE
    await _send(orders, order_id, Action.INVOICE, actor="erp", invoice_number="NF-1", value=value)


async def reminded(orders: OrdersClient, order_id: str) -> None:
    order = order_input(order_id, GRACE).model_copy(
        update={"decision_timeout_seconds": DECISION_TIMEOUT, "reminder_offsets": REMINDERS}
    )
    await _place(orders, order)
    await _status(orders, order_id, Status.READY_FOR_HANDLING)
    await _send(orders, order_id, Action.REQUEST_CANCELLATION, actor="customer")
    await _status(orders, order_id, Status.CANCELED, timeout=DECISION_TIMEOUT + 60)


async def modified(orders: OrdersClient, order_id: str) -> None:
    """Issue 20's modification (SPEC §13's body): one A1 removed, a lower total, applied at once."""
    await _place(orders, order_input(order_id, GRACE))
    await _status(orders, order_id, Status.READY_FOR_HANDLING)
    remove = {"items": [{"id": ITEM["sku"], "quantity": ITEM["quantity"]}]}
    await _send(orders, order_id, MODIFY, actor="store", reason="customer asked", remove=remove)
    await _send(orders, order_id, Action.START_HANDLING, actor="store")
    value = TOTAL - ITEM_PRICE
    await _send(orders, order_id, Action.INVOICE, actor="erp", invoice_number="NF-1", value=value)


Scenario = Callable[[OrdersClient, str], Awaitable[None]]
PATHS: dict[str, tuple[str, Scenario]] = {
    "invoiced": ("placed → invoiced", invoiced),
    "canceled_in_window": ("canceled in the window", canceled_in_window),
    "confirmed": ("requested → confirmed", confirmed),
    "denied_then_invoiced": ("requested → denied → invoiced", denied_then_invoiced),
    "items_canceled": ("one item canceled in the window → invoiced", items_canceled),
    "reminded": ("requested, 3 reminders, decision timeout → canceled", reminded),
}
MODIFIED = ("one item removed by a modification → invoiced", modified)
if MODIFY in {action.value for action in Action}:
    PATHS["modified"] = MODIFIED
    PENDING: dict[str, str] = {}
else:
    PENDING = {"modified": "modified (issue 20: pending until the lifecycle has `modify_order`)"}


async def _run_side(client: Client, orders: OrdersClient, tag: str, count: int) -> dict[str, dict[str, Any]]:
    """Every path, `count` orders each, at once; then each order's actions."""
    runs = [(path, f"{tag}-{path}-{n}") for path in PATHS for n in range(count)]
    await asyncio.gather(*(PATHS[path][1](orders, order_id) for path, order_id in runs))
    await asyncio.sleep(2)  # the last deliveries and upserts land
    found = await histories(client, [workflow_id(order_id) for _, order_id in runs])
    by_path: dict[str, list[dict[str, int]]] = {path: [] for path in PATHS}
    for path, order_id in runs:
        by_path[path].append(billable(found[workflow_id(order_id)]))
    return {
        path: {
            "label": PATHS[path][0],
            "orders": len(costs),
            **{kind: statistics.median(c[kind] for c in costs) for kind in (*KINDS, *NOT_BILLED, "total")},
            "total_range": [min(c["total"] for c in costs), max(c["total"] for c in costs)],
        }
        for path, costs in by_path.items()
    }


async def run_costs(
    directory: Path, log: Callable[[str], None], count: int = 3, against: Path | None = None
) -> dict[str, Any]:
    """Each path's billable actions per order, this checkout's (and `against`'s), on a fresh server."""
    tag = uuid.uuid4().hex[:6]
    sides = {"ours": ROOT} | ({"against": against} if against else {})
    results: dict[str, Any] = {"orders_per_path": count, "pending": PENDING}
    async with Temporal("memory", directory / "costs") as temporal:
        workers = {}
        try:
            for side, checkout in sides.items():
                workers[side] = await start_worker(
                    "orders", temporal, directory / "costs", checkout, name=f"costs-{side}",
                    ORDERS_TASK_QUEUE=f"bench-costs-{side}",
                )  # fmt: skip
            client = await Client.connect(temporal.address, data_converter=DATA_CONVERTER)
            for side in sides:
                orders = OrdersClient(client, Settings(_env_file=None, task_queue=f"bench-costs-{side}"))
                results[side] = await _run_side(client, orders, f"{tag}-{side}", count)
                log(f"  costs: {side}'s paths counted ({count} orders each)")
        finally:
            for worker in workers.values():
                await worker.stop()
    if against:
        results["against_checkout"] = str(against)
    return results


def cost_table(costs: dict[str, Any]) -> str:
    """Billable actions per order, by path and kind (and against another checkout's, if measured)."""
    ours, theirs = costs["ours"], costs.get("against")
    head = "| path | " + " | ".join(KINDS) + " | billable actions | memo upserts (not billed) |"
    head += " other checkout | × |" if theirs else ""
    lines = [head, "|---|" + "---|" * (len(KINDS) + 2) + ("---|---|" if theirs else "")]
    for path, figures in ours.items():
        cells = " | ".join(f"{figures[kind]:g}" for kind in KINDS)
        row = f"| {figures['label']} | {cells} | **{figures['total']:g}** | {figures['memo_upserts']:g} |"
        if theirs:
            other = theirs[path]["total"]
            row += f" {other:g} | {figures['total'] / other:.2f} |" if other else " – | – |"
        lines.append(row)
    for label in costs["pending"].values():
        lines.append(f"| {label} | " + " | ".join("–" for _ in KINDS) + " | pending | – |")
    lines += [
        "",
        "Counted from each order's history (`bench.actions`), the median of "
        f"{costs['orders_per_path']} orders per path. Queries are one action each and leave no event: none "
        "here (the commands are updates, which answer with the order); a `state` query the customer's page "
        "or the console makes costs one more.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.costs", description=__doc__)
    parser.add_argument("--against", type=Path, help="another checkout, its paths counted beside these")
    parser.add_argument("--orders", type=int, default=3, help="orders per path (default 3)")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="orders-costs-"))
    try:
        costs = asyncio.run(
            run_costs(directory, lambda m: print(m, file=sys.stderr), args.orders, args.against)
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(cost_table(costs))
    if args.against:
        print("\nThe other checkout's:\n")
        print(cost_table({**costs, "ours": costs["against"], "against": None}))


if __name__ == "__main__":
    main()
