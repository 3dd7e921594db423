"""Looks at an order's workflow: its runs (continue-as-new makes several), the workflow tasks that
failed or timed out, when nothing is in flight, and its timeline as one chain of moves."""

from __future__ import annotations

import itertools
from typing import Any

from temporalio.api.enums.v1 import EventType, TimeoutType, WorkflowTaskFailedCause
from temporalio.client import Client, WorkflowHandle

from domain.state import OrderState
from tests.kit.polling import eventually
from workflows.names import workflow_id

# Transient by design, retried at once: a continue-as-new refused because a signal arrived meanwhile
# (UNHANDLED_COMMAND), the server flushing over 100 buffered signals (FORCE_CLOSE_COMMAND), and a task
# left on a stopped or killed worker's sticky queue (SCHEDULE_TO_START). Anything else is a task failing.
BENIGN = (
    "WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND",
    "WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND",
    "TIMEOUT_TYPE_SCHEDULE_TO_START",
)


def history_problems(events: Any) -> list[str]:
    """Workflow task failures and timeouts in a history, each as `event: cause: message`."""
    problems = []
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failed = event.workflow_task_failed_event_attributes
            cause = WorkflowTaskFailedCause.Name(failed.cause)
            problems.append(f"{event.event_id} failed: {cause}: {failed.failure.message[:200]}")
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
            timeout = TimeoutType.Name(event.workflow_task_timed_out_event_attributes.timeout_type)
            problems.append(f"{event.event_id} timed out: {timeout}")
    return problems


def stuck(events: Any) -> list[str]:
    """The history's problems that are not BENIGN: a workflow task that really failed."""
    return [p for p in history_problems(events) if not p.split(": ")[1].startswith(BENIGN)]


async def all_runs(client: Client, order_id: str) -> list[tuple[str, list[Any]]]:
    """Every run of an order's workflow (continue-as-new makes several), oldest first, with its events."""
    runs: list[tuple[str, list[Any]]] = []
    handle = client.get_workflow_handle(workflow_id(order_id))
    run_id: str | None = (await handle.describe()).run_id
    while run_id:  # walk back from the newest run through each first event's previous run
        history = await client.get_workflow_handle(workflow_id(order_id), run_id=run_id).fetch_history()
        runs.insert(0, (run_id, list(history.events)))
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
    return runs


async def quiet(handle: WorkflowHandle[Any, Any]) -> int:
    """Wait until no workflow task or activity is in flight; the history's length then."""
    task_events = {
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    }
    closed = {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }

    async def length_if_quiet() -> int:
        events = (await handle.fetch_history()).events
        if events[-1].event_type in closed:
            return len(events)
        last_task = next(e.event_type for e in reversed(events) if e.event_type in task_events)
        scheduled = {
            e.event_id for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        }
        finished = {
            e.activity_task_completed_event_attributes.scheduled_event_id
            for e in events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
        }
        settled = last_task == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and scheduled <= finished
        return len(events) if settled else -1

    return await eventually(length_if_quiet, lambda n: n > 0, timeout=30, every=0.2)


def moves(state: OrderState) -> list[str]:
    """The statuses the order moved to, in order (refused commands left out)."""
    return [e.to_status.value for e in state.timeline if not e.refused]


def check_timeline(state: OrderState) -> None:
    """One chain of moves from placement to the current status, in time order."""
    chain = [e for e in state.timeline if not e.refused]
    assert chain[0].from_status is None, chain
    for before, entry in itertools.pairwise(chain):
        assert entry.from_status is before.to_status and entry.at >= before.at, state.timeline
    assert chain[-1].to_status is state.status
