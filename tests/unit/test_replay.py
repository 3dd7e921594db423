"""Saved histories of the main paths replay with the current code; a non-deterministic change fails."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from domain.state import OrderState
from orders.temporal_tracing import CommandTracing
from tests.kit.paths import HISTORIES as SAVED
from workflows.names import workflow_id
from workflows.order_workflow import OrderWorkflow

# One directory per workflow version (tests/record_histories.py), oldest first.
HISTORIES = sorted(SAVED.glob("*/*.json"))
VERSIONS = sorted({path.parent for path in HISTORIES})


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(workflow_id(f"replay-{path.stem}"), path.read_text())  # as recorded


@pytest.mark.parametrize("version", VERSIONS, ids=lambda p: p.name)
def test_each_version_covers_the_main_paths(version: Path) -> None:
    names = {path.stem for path in HISTORIES if path.parent == version}
    assert {
        "canceled_inside_window",
        "confirmed_after_window",
        "denied_then_invoiced",
        "decision_timeout",
    } <= names


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
async def test_a_saved_history_replays_with_the_current_code(path: Path) -> None:
    replayer = Replayer(workflows=[OrderWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(load(path))


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: f"{p.parent.name}/{p.stem}")
@pytest.mark.parametrize("tracing", [CommandTracing, TracingInterceptor], ids=lambda c: c.__name__)
async def test_a_saved_history_replays_with_tracing_on(path: Path, tracing: type[TracingInterceptor]) -> None:
    """Orders started before tracing existed (docs/observability.md) carry no trace headers: a worker
    with the tracing interceptor, ours or the SDK's own, replays them as they were."""
    replayer = Replayer(
        workflows=[OrderWorkflow], data_converter=pydantic_data_converter, interceptors=[tracing()]
    )
    await replayer.replay_workflow(load(path))


@workflow.defn(name="OrderWorkflow", sandboxed=False)
class ReorderedOrderWorkflow(OrderWorkflow):
    """What an unguarded change looks like: a new timer before anything else the workflow did."""

    @workflow.run
    async def run(self, new_order: Any) -> OrderState:
        await asyncio.sleep(timedelta(seconds=1).total_seconds())
        return await super().run(new_order)


async def test_an_unguarded_change_is_caught_by_replay() -> None:
    replayer = Replayer(workflows=[ReorderedOrderWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(load(HISTORIES[0]), raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert "nondetermin" in str(result.replay_failure).lower()
