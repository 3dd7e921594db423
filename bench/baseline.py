"""The floor: the least any Temporal program doing this job pays (docs/performance.md, "The floor").

`FloorWorkflow`: a grace timer (one `wait_condition` with a timeout), ended early by an update that
cancels and answers at once; then one activity that writes the compensation's three effects (payment,
stock, the customer's notice) as JSON lines to a file, as the order worker's event log does, and the run
closes. Unsandboxed, the cheaper runner, which the order workflow uses too. Its callers see the decision
when the update returns, and the order canceled when the run has closed.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow

FLOOR_WORKFLOW = "BenchFloorWorkflow"
FLOOR_UPDATE = "cancel"
BASELINE_TASK_QUEUE = "bench-baseline"
EFFECTS_TIMEOUT = timedelta(seconds=60)


@workflow.defn(name=FLOOR_WORKFLOW, sandboxed=False)
class FloorWorkflow:
    def __init__(self) -> None:
        self._canceled = False

    @workflow.run
    async def run(self, grace_seconds: int) -> str:
        try:
            await workflow.wait_condition(lambda: self._canceled, timeout=timedelta(seconds=grace_seconds))
        except asyncio.TimeoutError:
            return "ready-for-handling"
        await workflow.execute_activity(
            write_effects, workflow.info().workflow_id, start_to_close_timeout=EFFECTS_TIMEOUT
        )
        return "canceled"

    @workflow.update(name=FLOOR_UPDATE)
    def cancel(self) -> str:
        self._canceled = True
        return "cancel"


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
