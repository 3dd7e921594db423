"""A flood of commands to one order, shared by the fault tests (e2e) and the chaos tests."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import WorkflowHandle

SIGNALS_PER_RUN = 2000  # recommended: history.maximumSignalsPerExecution (docs/reliability.md, "Flood")

# Commands refused before the grace deadline and after it alike, so the timer may fire mid-flood.
FLOOD_KINDS: list[tuple[str, dict[str, Any]]] = [
    ("start_handling", {"actor": "customer"}),  # customers may only request cancellation
    ("invoice", {"actor": "customer", "invoice_number": "NF-9", "value": 12990}),  # likewise
    ("deny_cancellation", {"actor": "nobody"}),  # malformed
    ("approve_payment", {}),  # already approved
    ("confirm_cancellation", {"actor": "customer", "request_id": "same-every-time"}),  # customers can't
]


async def flood(handle: WorkflowHandle[Any, Any], count: int, concurrency: int) -> dict[str, int]:
    """`count` signals from `concurrency` senders at once; what the server answered, by kind."""
    answers: dict[str, int] = {}
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        name, body = FLOOD_KINDS[n % len(FLOOD_KINDS)]
        async with gate:
            try:
                await handle.signal(name, body)
                answer = "taken"
            except Exception as err:  # the server's own limits answer here, e.g. signals per run
                answer = str(err)[:80]
        answers[answer] = answers.get(answer, 0) + 1

    await asyncio.gather(*(one(n) for n in range(count)))
    return answers
