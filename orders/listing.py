"""Orders newest first, a page at a time, from Temporal's visibility (no worker needed).

Temporal's SQL visibility (the embedded server, PostgreSQL) can't `ORDER BY`: it lists running workflows
first, newest started first, then closed ones by close time. An order closes after it starts, so the
closed list can be read until its close times fall below the oldest start time a page still needs; the
two lists merged give the newest placements first. A page costs about two pages of rows, read with
Temporal's page tokens; the cursor to the next page is (start time, workflow id) of the last order shown.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from temporalio.client import Client, WorkflowExecution

from domain.text import MAX_ID_LENGTH
from workflows.names import workflow_id

MAX_PAGE = 100
# A cursor's start time lies where Temporal keeps times (nanoseconds since 1970 in 64 bits: to 2262).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2262, 4, 11, tzinfo=UTC)
MAX_WORKFLOW_ID = len(workflow_id("x" * MAX_ID_LENGTH))  # the longest an order's workflow id is
# How many closed orders one page may read past the ones it shows (long-lived orders close late).
MAX_CLOSED_READ = 2000


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: orders placed before (started_at, workflow_id)."""

    started_at: datetime
    workflow_id: str

    def token(self) -> str:
        raw = json.dumps({"t": self.started_at.isoformat(), "id": self.workflow_id})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str) -> Cursor:
        """A page token as given out by `token`; anything else is a ValueError naming what is wrong: a
        time without a zone, or outside what Temporal keeps, would fail the read (or its query) later."""
        try:
            raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            started_at, workflow_id = datetime.fromisoformat(raw["t"]), raw["id"]
        except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):
            raise ValueError("not a page token this service gave out") from None
        if started_at.tzinfo is None or not EARLIEST <= started_at <= LATEST:
            raise ValueError("not a page token this service gave out (its time is out of range)")
        if not isinstance(workflow_id, str) or not 0 < len(workflow_id) <= MAX_WORKFLOW_ID:
            raise ValueError("not a page token this service gave out (its order is not one)")
        return cls(started_at, workflow_id)


@dataclass(frozen=True)
class Page:
    executions: list[WorkflowExecution]
    next: Cursor | None  # None: this was the last page


def _key(execution: WorkflowExecution) -> tuple[datetime, str]:
    return (execution.start_time or datetime.min.replace(tzinfo=UTC), execution.id)


def _quote_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def newest_first(client: Client, query: str, size: int, after: Cursor | None = None) -> Page:
    """The `size` most recently placed orders matching `query` (placed before `after`, if given)."""
    size = max(1, min(size, MAX_PAGE))
    # A microsecond past the cursor: the server keeps nanoseconds, which the SDK's datetimes drop.
    bound = after.started_at + timedelta(microseconds=1) if after else None
    before = f' AND StartTime <= "{_quote_time(bound)}"' if bound else ""

    def wanted(execution: WorkflowExecution) -> bool:
        return after is None or _key(execution) < (after.started_at, after.workflow_id)

    running = await _read(client, f'({query}) AND ExecutionStatus = "Running"{before}', size + 1, wanted)
    # Closed orders come by close time, newest first; once a close time is older than the oldest start
    # still in the page, no later closed order can belong in it.
    candidates = sorted(running, key=_key, reverse=True)[: size + 1]
    closed_query = f'({query}) AND ExecutionStatus != "Running"{before}'
    iterator = client.list_workflows(closed_query, page_size=size + 1)
    read = 0
    async for execution in iterator:
        read += 1
        threshold = _key(candidates[size])[0] if len(candidates) > size else None
        if threshold is not None and execution.close_time is not None and execution.close_time < threshold:
            break
        if wanted(execution):
            candidates = sorted([*candidates, execution], key=_key, reverse=True)[: size + 1]
        if read >= MAX_CLOSED_READ:
            break
    shown = candidates[:size]
    more = len(candidates) > size
    return Page(shown, Cursor(*_key(shown[-1])) if more and shown else None)


async def _read(
    client: Client, query: str, limit: int, wanted: Callable[[WorkflowExecution], bool]
) -> list[WorkflowExecution]:
    found: list[WorkflowExecution] = []
    async for execution in client.list_workflows(query, page_size=limit):
        if wanted(execution):
            found.append(execution)
            if len(found) >= limit:
                break
    return found
