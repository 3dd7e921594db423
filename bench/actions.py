"""Temporal Cloud's billable actions, counted from a run's history (docs/performance.md, "Cost per order").

What counts, by Temporal Cloud's own list of actions: a workflow started (and continue-as-new, which
starts the next run); every timer started (a `wait_condition` with a timeout starts one); every signal;
every update accepted (a rejected update counts too, but leaves no event: the caller counts those); every
activity scheduled, and every retry of it (its `ActivityTaskStarted.attempt` beyond the first); the
markers of one workflow task together as one action (local activities, and a patch's marker with them),
plus the local activities' retries the workflow task records; every search-attribute upsert except one
that only sets `TemporalChangeVersion`. Not billed: memo upserts (`WorkflowPropertiesModified`) and the
search attributes given at the start. Queries and activity heartbeats leave no event: a query is one
action each (the caller counts them); the order's activities heartbeat only when an attempt fails.
"""

from __future__ import annotations

from collections.abc import Iterable

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

CHANGE_VERSION = "TemporalChangeVersion"
KINDS = ("starts", "timers", "signals", "updates", "activities", "markers", "upserts")
NOT_BILLED = ("memo_upserts",)


def billable(events: Iterable[HistoryEvent]) -> dict[str, int]:
    """Billable actions by kind, and `total`; `memo_upserts` beside them (not billed)."""
    counts = dict.fromkeys((*KINDS, *NOT_BILLED), 0)
    marker_tasks: set[int] = set()
    for event in events:
        kind = event.event_type
        if kind in (
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
        ):
            counts["starts"] += 1
        elif kind == EventType.EVENT_TYPE_TIMER_STARTED:
            counts["timers"] += 1
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            counts["signals"] += 1
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            counts["updates"] += 1
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            counts["activities"] += 1
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            counts["activities"] += max(0, event.activity_task_started_event_attributes.attempt - 1)
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker_tasks.add(event.marker_recorded_event_attributes.workflow_task_completed_event_id)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            metering = event.workflow_task_completed_event_attributes.metering_metadata
            counts["markers"] += metering.nonfirst_local_activity_execution_attempts
        elif kind == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            if set(fields) - {CHANGE_VERSION}:
                counts["upserts"] += 1
        elif kind == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
            counts["memo_upserts"] += 1
    counts["markers"] += len(marker_tasks)
    counts["total"] = sum(counts[kind] for kind in KINDS)
    return counts
