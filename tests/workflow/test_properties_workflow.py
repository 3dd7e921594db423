"""A sample of the property test's random command sequences (tests/unit/test_properties.py) against the real
`OrderWorkflow` on the time-skipping server (real 30-minute and 30-day timers): the same verdicts, the same
path and the same effects, by id, as the pure model."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.events import EventType
from domain.lifecycle import (
    COMMANDS,
    Refuse,
    Status,
)
from domain.state import OrderState
from domain.terms import FINAL_STATUSES
from orders.client import OrdersClient
from orders.errors import CommandRejected
from orders.settings import Settings
from tests.kit.order_model import Model, Send, Wait, actors, moves, orders, waits
from tests.kit.orders import MINUTE, TOTAL, TWO_LINES, place
from tests.kit.polling import eventually
from tests.kit.worker import read_events, running_worker, settings_for
from workflows.names import workflow_id

# A smaller sample against the real workflow


def sample(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` examples of `strategy`, drawn by hypothesis (reproducibly) outside a @given test."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        drawn.append(example)

    collect()
    return drawn[:count]


# Commands the project's own client stamps: at the server's time, or 20 minutes earlier.
workflow_sends = st.builds(
    Send,
    action=st.sampled_from(sorted(COMMANDS)),
    actor=actors,
    request_id=st.none() | st.sampled_from(["r-1", "r-2"]),
    value=st.sampled_from([5000, TOTAL]),
    stamp_offset=st.sampled_from([0, -20 * MINUTE]),
)
workflow_sequences = st.tuples(
    orders,
    st.tuples(
        st.booleans(), st.lists(st.one_of(waits, workflow_sends, workflow_sends), min_size=3, max_size=7)
    ).map(lambda drawn: ([Wait(31 * MINUTE)] if drawn[0] else []) + drawn[1]),
)


def diverse(examples: list[Any], count: int) -> list[Any]:
    """`count` examples the pure model takes down different paths, the busiest of each first."""

    def path(example: Any) -> tuple[tuple[Status, ...], int]:
        overrides, sequence = example
        model = Model.place(overrides)
        accepted = 0
        for step in sequence:
            if isinstance(step, Wait):
                model.wait(step.seconds)
            else:
                accepted += not isinstance(model.send(step), Refuse)
        return tuple(e.to_status for e in model.order.state.timeline if not e.refused), accepted

    scored = sorted(((path(e), e) for e in examples), key=lambda pe: -pe[0][1])
    chosen: list[Any] = []
    ends: set[Status] = set()
    paths: set[tuple[Status, ...]] = set()
    for (statuses, _), example in scored:  # one per final status first, then other paths
        if statuses[-1] not in ends:
            ends.add(statuses[-1])
            paths.add(statuses)
            chosen.append(example)
    for (statuses, _), example in scored:
        if statuses not in paths and len(chosen) < count:
            paths.add(statuses)
            chosen.append(example)
    return chosen[:count]


@dataclass
class Real:
    orders: OrdersClient
    env: WorkflowEnvironment
    settings: Settings

    async def send(self, order_id: str, step: Send) -> tuple[bool, str]:
        """(accepted, refusal code) as the project's client reports the update's verdict."""
        try:
            await self.orders.send(
                order_id, step.action, step.payload(await self.env.get_current_time()), update_timeout=30
            )
        except CommandRejected as refused:
            return False, refused.code
        return True, ""

    async def settled(self, order_id: str) -> OrderState:
        """The order once no compensation is running (the model compensates at once)."""
        return await eventually(
            lambda: self.orders.state(order_id), lambda s: s.status is not Status.CANCEL, timeout=30
        )


@pytest_asyncio.fixture
async def real(time_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Real]:
    settings = settings_for(tmp_path)
    async with running_worker(time_env.client, settings) as orders_client:
        yield Real(orders_client, time_env, settings)


async def test_a_sample_of_sequences_on_the_real_workflow_agrees_with_the_pure_model(real: Real) -> None:
    examples = diverse(sample(workflow_sequences, 600), 8)
    assert len(examples) == 8
    summary: list[str] = []
    for overrides, sequence in examples:
        order_id = f"prop-{uuid.uuid4().hex[:8]}"
        await place(real.orders, order_id=order_id, customer_id="c-1", items=TWO_LINES, **overrides)
        placed = (await real.settled(order_id)).placed_at
        model = Model.place(overrides, placed)
        verdicts: list[tuple[str, tuple[bool, str], tuple[bool, str]]] = []
        for step in sequence:
            if isinstance(step, Wait):
                await real.env.sleep(step.seconds)
                model.wait(step.seconds)
                await real.settled(order_id)
                continue
            model.now = await real.env.get_current_time()
            model.order.catch_up(model.now)
            model.settle()
            expected = model.send(step)
            got = await real.send(order_id, step)
            await real.settled(order_id)
            want = (not isinstance(expected, Refuse), expected.code if isinstance(expected, Refuse) else "")
            final = model.status in FINAL_STATUSES and isinstance(expected, Refuse)
            # Once the workflow has completed, the client answers for it: a refusal is a refusal.
            verdicts.append((f"{step}", want, got if not final else (got[0], want[1])))
        state = await real.settled(order_id)
        assert [(w, g) for _, w, g in verdicts if w != g] == [], (overrides, sequence, verdicts)
        assert moves(state) == moves(model.order.state), (overrides, sequence)
        assert state.status is model.status
        effects = [
            e["id"]
            for e in read_events(real.settings.event_log)
            if e["order_id"] == order_id and e["type"] != EventType.ORDER_STATUS_CHANGED.value
        ]
        # The same effects, by id (numbered by the order itself, so the model and the workflow agree).
        assert sorted(effects) == sorted(key.replace("p-1:", f"{order_id}:", 1) for key in model.effects)
        if model.status in FINAL_STATUSES:
            handle = real.orders.temporal.get_workflow_handle(workflow_id(order_id))
            await eventually(  # once the last events are delivered, the workflow completes
                handle.describe, lambda d: d.status is WorkflowExecutionStatus.COMPLETED, timeout=30
            )
        accepted = sum(1 for _, want, _ in verdicts if want[0])
        summary.append(f"{len(verdicts)} commands ({accepted} accepted) -> {state.status.value}")
    print("real workflow agreed with the model on:", "; ".join(summary))
