"""The floors: the smallest workflows that do what an order does before and when it is canceled.

`BaselineWorkflow` (the raw floor): one `wait_condition` with a timeout (the grace window), ended early by
one signal (the cancellation). No activities, no search attributes, no payload to speak of: what is left
is Temporal's own cost.

`EffectsFloorWorkflow` (the floor with effects): the same, and once canceled one activity that writes the
compensation's three effects (payment, stock, the customer's notice) as JSON lines to a file, as the
order worker's event log does. What the job needs at the least: a cancellation whose effects are durable.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow

BASELINE_WORKFLOW = "BenchBaselineWorkflow"
EFFECTS_WORKFLOW = "BenchEffectsFloorWorkflow"
BASELINE_TASK_QUEUE = "bench-baseline"
EFFECTS_TIMEOUT = timedelta(seconds=60)


@workflow.defn(name=BASELINE_WORKFLOW)
class BaselineWorkflow:
    def __init__(self) -> None:
        self._canceled = False

    @workflow.run
    async def run(self, grace_seconds: int) -> str:
        try:
            await workflow.wait_condition(lambda: self._canceled, timeout=timedelta(seconds=grace_seconds))
        except asyncio.TimeoutError:
            return "ready-for-handling"
        return "canceled"

    @workflow.signal(name="cancel")
    def cancel(self) -> None:
        self._canceled = True

    @workflow.query(name="status")
    def status(self) -> str:
        return "canceled" if self._canceled else "window-to-cancel"


@workflow.defn(name=EFFECTS_WORKFLOW)
class EffectsFloorWorkflow(BaselineWorkflow):
    """The raw floor plus the one activity any program doing this job runs: the compensation's effects."""

    @workflow.run
    async def run(self, grace_seconds: int) -> str:
        outcome = await super().run(grace_seconds)
        if outcome == "canceled":
            await workflow.execute_activity(
                write_effects, workflow.info().workflow_id, start_to_close_timeout=EFFECTS_TIMEOUT
            )
        return outcome


def effects_file() -> Path:
    return Path(os.environ.get("ORDERS_DATA_DIR", ".")) / "floor-effects.jsonl"


@activity.defn(name="bench_write_effects")
async def write_effects(order_id: str) -> None:
    """The compensation's effects, one JSON line each, in one append."""
    effects = [
        {"id": f"{order_id}-payment", "type": "payment.void", "order_id": order_id, "amount": 12990},
        {"id": f"{order_id}-stock", "type": "stock.release", "order_id": order_id,
         "items": [{"sku": "A1", "quantity": 2}]},
        {"id": f"{order_id}-notice", "type": "customer.notify", "order_id": order_id,
         "message": "order-canceled"},
    ]  # fmt: skip
    lines = "".join(json.dumps(effect, separators=(",", ":")) + "\n" for effect in effects)
    with effects_file().open("a") as out:
        out.write(lines)
