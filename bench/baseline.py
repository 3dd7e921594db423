"""The floor: the smallest workflow that does what an order does before it is canceled.

One `wait_condition` with a timeout (the grace window), ended early by one signal (the cancellation).
No activities, no search attributes, no payload to speak of: what is left is Temporal's own cost.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow

BASELINE_WORKFLOW = "BenchBaselineWorkflow"
BASELINE_TASK_QUEUE = "bench-baseline"


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
