"""What an order's run cost Temporal, and when things happened in it, read from its history.

Read after a phase is measured (outside its CPU accounting): the moment an item cancellation's effects
were recorded, and what each path costs in workflow tasks, activities, local activities, upserts, events
and Temporal Cloud's billable actions (`bench.actions`).
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Iterable
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from bench.actions import billable

LOCAL_ACTIVITY_MARKER = "core_local_activity"
COST_FIGURES = (
    "workflow_tasks",
    "activities",
    "local_activities",
    "upserts",
    "memo_upserts",
    "timers",
    "events",
    "billable_actions",
)


def _at(event: HistoryEvent) -> float:
    return event.event_time.ToDatetime().timestamp()


def cost(events: list[HistoryEvent]) -> dict[str, int]:
    """Workflow tasks, activities, local activities, search-attribute and memo upserts, timers, events,
    and Temporal Cloud's billable actions (`bench.actions`)."""
    counts = dict.fromkeys(COST_FIGURES, 0)
    counts["events"] = len(events)
    counts["billable_actions"] = billable(events)["total"]
    for event in events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            counts["workflow_tasks"] += 1
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            counts["activities"] += 1
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            if event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER:
                counts["local_activities"] += 1
        elif kind == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            counts["upserts"] += 1
        elif kind == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
            counts["memo_upserts"] += 1
        elif kind == EventType.EVENT_TYPE_TIMER_STARTED:
            counts["timers"] += 1
    return counts


# What Temporal Cloud bills as an Action, read from a history (its "Actions" page): the start, each signal,
# update, timer, activity and local activity, and each search-attribute upsert (memo upserts are not billed).
BILLED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    EventType.EVENT_TYPE_TIMER_STARTED,
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
}


def actions(events: list[HistoryEvent]) -> int:
    """Billable actions in one history: a lower bound (an activity's retries and a query, which leave no
    event of their own, are billed too)."""
    markers = sum(
        1
        for event in events
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
    )
    return markers + sum(1 for event in events if event.event_type in BILLED)


def decided_at(events: list[HistoryEvent]) -> float | None:
    """When the workflow task that took the first signal or update completed: the decision recorded."""
    command_seen = False
    for event in events:
        if event.event_type in (
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
        ):
            command_seen = True
        elif command_seen and event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            return _at(event)
    return None


def settled_at(events: list[HistoryEvent]) -> float | None:
    """The last event: once a run has gone quiet (its effects recorded), when that was."""
    return _at(events[-1]) if events else None


async def histories(
    client: Client, workflow_ids: Iterable[str], concurrency: int = 16
) -> dict[str, list[HistoryEvent]]:
    gate = asyncio.Semaphore(concurrency)
    found: dict[str, list[HistoryEvent]] = {}

    async def one(workflow_id: str) -> None:
        async with gate:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
        found[workflow_id] = list(history.events)

    await asyncio.gather(*(one(w) for w in workflow_ids))
    return found


def typical_cost(costs: list[dict[str, int]]) -> dict[str, Any]:
    """The median of each figure over the runs read (they are alike on the happy path), and its range."""
    if not costs:
        return {}
    typical: dict[str, Any] = {key: statistics.median(c[key] for c in costs) for key in COST_FIGURES}
    typical["events_range"] = [min(c["events"] for c in costs), max(c["events"] for c in costs)]
    typical["sampled"] = len(costs)
    return typical
