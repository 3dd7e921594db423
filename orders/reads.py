"""Reading orders from Temporal's visibility, which needs no worker: one order's summary (one describe
call), pages of orders newest first (orders.listing), counts. `OrdersClient` has these methods."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution as ExecutionRef
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from domain.lifecycle import Status
from orders.errors import CommandRejected, InvalidOrderId, OrderNotFound, unavailable
from orders.listing import Cursor, newest_first
from workflows.names import ORDERS_QUERY, order_id_of
from workflows.search_attributes import CUSTOMER_ID, ORDER_STATUS


@dataclass(frozen=True)
class OrderSummary:
    """An order as visibility lists it: no worker needed."""

    order_id: str
    status: Status
    customer_id: str
    placed_at: datetime | None
    closed: bool
    # The memo as visibility shows it (domain.visibility's `order`, orders.placement's `placement`).
    memo: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, execution: WorkflowExecution, memo: Mapping[str, Any] | None = None) -> OrderSummary:
        attributes = execution.typed_search_attributes
        return cls(
            order_id=order_id_of(execution.id),
            status=Status(attributes.get(ORDER_STATUS) or Status.PAYMENT_PENDING),
            customer_id=attributes.get(CUSTOMER_ID) or "",
            placed_at=execution.start_time,
            closed=execution.status is not WorkflowExecutionStatus.RUNNING,
            memo=dict(memo or {}),
        )


@dataclass(frozen=True)
class OrderPage:
    orders: list[OrderSummary]
    next_page: str | None  # a token for the next page; None on the last


class VisibilityReads:
    """What `OrdersClient` reads from visibility."""

    temporal: Client

    def _handle(self, order_id: str) -> WorkflowHandle[Any, Any]:
        raise NotImplementedError

    async def customer_of(self, order_id: str) -> str | None:
        """The order's customer, from its `CustomerId` search attribute: one describe call, no worker needed.
        Only that attribute is decoded (no memo, no description): an order that exists costs about what an
        unknown one does (docs/reliability.md, "The trust boundary"). None when the order doesn't exist or
        doesn't say."""
        try:
            execution = ExecutionRef(workflow_id=self._handle(order_id).id)
        except InvalidOrderId:
            return None
        request = DescribeWorkflowExecutionRequest(namespace=self.temporal.namespace, execution=execution)
        try:
            described = await self.temporal.workflow_service.describe_workflow_execution(request, retry=True)
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return None
            raise unavailable(err) from None
        attributes = described.workflow_execution_info.search_attributes.indexed_fields
        if CUSTOMER_ID.name not in attributes:
            return None
        customer = json.loads(attributes[CUSTOMER_ID.name].data)  # a keyword: a JSON string
        return customer if isinstance(customer, str) else None

    async def summary(self, order_id: str) -> OrderSummary:
        """The order as visibility shows it (status, customer, memo), read with one describe call that
        needs no worker."""
        try:
            description = await self._handle(order_id).describe()
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                raise OrderNotFound(order_id) from None
            raise unavailable(err) from None
        return OrderSummary.of(description, await description.memo())

    async def list_page(
        self,
        statuses: set[Status] | None = None,
        customer_id: str | None = None,
        size: int = 50,
        page_token: str | None = None,
    ) -> OrderPage:
        """Orders by status (any of `statuses`) and/or customer, newest first, one page."""
        query = self.order_query(statuses, customer_id)
        try:
            after = Cursor.parse(page_token) if page_token else None
        except ValueError as err:
            raise CommandRejected(f"page_token: {err}", "malformed") from None
        try:
            page = await newest_first(self.temporal, query, size, after)
        except RPCError as err:
            raise unavailable(err) from None
        return OrderPage(
            [OrderSummary.of(execution, await execution.memo()) for execution in page.executions],
            page.next.token() if page.next else None,
        )

    async def list_orders(
        self, status: Status | None = None, customer_id: str | None = None, limit: int = 100
    ) -> list[OrderSummary]:
        """Up to `limit` orders, newest first."""
        return (await self.list_orders_page(status, customer_id, limit)).orders

    async def list_orders_page(
        self,
        status: Status | None = None,
        customer_id: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> OrderPage:
        """Up to `limit` orders, newest first, from `page_token` on (read `listing.MAX_PAGE` at a time),
        with the token for the ones after them."""
        found: list[OrderSummary] = []
        token = page_token
        while len(found) < limit:
            page = await self.list_page({status} if status else None, customer_id, limit - len(found), token)
            found += page.orders
            token = page.next_page
            if token is None:
                break
        return OrderPage(found, token)

    async def count(self, statuses: set[Status] | None = None, customer_id: str | None = None) -> int:
        try:
            counted = await self.temporal.count_workflows(self.order_query(statuses, customer_id))
        except RPCError as err:
            raise unavailable(err) from None
        return counted.count

    @staticmethod
    def order_query(statuses: set[Status] | None = None, customer_id: str | None = None) -> str:
        """The visibility query for orders; each status counts once, whatever the caller repeated."""
        clauses = [ORDERS_QUERY]
        if statuses:
            listed = ", ".join(f'"{Status(status).value}"' for status in sorted(statuses))
            clauses.append(f"{ORDER_STATUS.name} IN ({listed})")
        if customer_id is not None:
            clauses.append(f'{CUSTOMER_ID.name} = "{quoted(customer_id)}"')
        return " AND ".join(clauses)


def quoted(value: str) -> str:
    """A value inside a visibility query's double quotes."""
    return value.replace("\\", "\\\\").replace('"', '\\"')
