"""The names other programs use to reach an order (docs/lifecycle.md): workflow type and id, queries.

Each command's signal and update are named after its `domain.lifecycle.Action` value.
"""

from __future__ import annotations

WORKFLOW_TYPE = "OrderWorkflow"
QUERY_STATUS = "status"
QUERY_STATE = "state"
QUERY_PREVIEW_MODIFICATION = "preview_modification"  # what a modify_order would do (docs/modifications.md)
WORKFLOW_ID_PREFIX = "order-"
STILL_PLACING = "is still being placed"  # what a query answers before the order's first workflow task
# Every order once in visibility: its current run (an order that continued as new has closed runs too).
ORDERS_QUERY = f'WorkflowType = "{WORKFLOW_TYPE}" AND ExecutionStatus != "ContinuedAsNew"'


def workflow_id(order_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{order_id}"


def order_id_of(workflow_id: str) -> str:
    return workflow_id.removeprefix(WORKFLOW_ID_PREFIX)
