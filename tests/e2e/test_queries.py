"""Queries answer from the moment an order starts, before its first workflow task has placed it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Status
from domain.models import OrderInput
from domain.state import OrderState
from tests.kit.worker import running_worker, settings_for
from workflows.names import QUERY_STATE, QUERY_STATUS, WORKFLOW_TYPE, workflow_id

ORDERS = 12
QUERIES = 16  # at once, right after each start


async def test_status_and_state_answer_right_after_the_start_with_the_status_it_enters(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """Started as another SDK's client would (no store settings: the worker reads them before it can place
    the order) and by ours, then queried at once, many times: every answer is the status the order enters,
    never an error."""
    settings = settings_for(tmp_path)
    client = dev_env.client
    async with running_worker(client, settings) as orders:

        async def start(n: int) -> tuple[str, Status]:
            order_id = f"early-{n}-{uuid.uuid4().hex[:8]}"
            approved = n % 2 == 0
            order = OrderInput(
                order_id=order_id, customer_id="c-early", total=4200, payment_approved=approved
            )
            if n % 3 == 0:
                await orders.place(order)  # the store's settings travel with the start
            else:
                await client.start_workflow(
                    WORKFLOW_TYPE, order, id=workflow_id(order_id), task_queue=settings.task_queue
                )
            return order_id, Status.WINDOW_TO_CANCEL if approved else Status.PAYMENT_PENDING

        async def query_at_once(order_id: str) -> tuple[list[str], list[OrderState]]:
            handle = client.get_workflow_handle(workflow_id(order_id))
            statuses = [handle.query(QUERY_STATUS, result_type=str) for _ in range(QUERIES)]
            states = [handle.query(QUERY_STATE, result_type=OrderState) for _ in range(QUERIES)]
            answers = await asyncio.gather(*statuses, *states)
            return list(answers[:QUERIES]), list(answers[QUERIES:])

        async def one(n: int) -> None:
            order_id, entering = await start(n)
            statuses, states = await query_at_once(order_id)
            assert statuses == [entering.value] * QUERIES, order_id
            assert {(s.order_id, s.status, s.customer_id, s.total) for s in states} == {
                (order_id, entering, "c-early", 4200)
            }
            assert (await orders.state(order_id)).status is entering  # as the CLI and the API read it

        await asyncio.gather(*(one(n) for n in range(ORDERS)))
