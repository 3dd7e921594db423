"""The one place that talks to Temporal on behalf of callers: the CLI, the API and scripts use it.

Every failure comes out as one of the typed errors below, each with a message a person can read.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.lifecycle import Action, Actor, Status, why_refused
from domain.models import (
    ID_CHARS,
    MAX_ID_LENGTH,
    Command,
    MalformedCommand,
    OrderInput,
    OrderState,
    parse_command,
)
from orders.connection import connect
from orders.settings import Settings
from workflows.search_attributes import CUSTOMER_ID, ORDER_STATUS

WORKFLOW_TYPE = "OrderWorkflow"
# domain.models.Id, without its whitespace stripping
ORDER_ID = re.compile(rf"{ID_CHARS}{{1,{MAX_ID_LENGTH}}}")


def workflow_id(order_id: str) -> str:
    return f"order-{order_id}"


class OrdersError(Exception):
    """Base of the errors callers map to messages, exit codes and HTTP statuses."""


class OrderNotFound(OrdersError):
    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id} not found")
        self.order_id = order_id


class InvalidOrderId(OrderNotFound):
    """An id no order can have (SPEC §4: 1-64 letters, digits, `.`, `_`, `:`, `-`): refused before any call
    to Temporal, which would answer a megabyte id with an error that reads as an outage."""

    def __init__(self, order_id: str) -> None:
        shown = order_id if len(order_id) <= 64 else f"{order_id[:64]}... ({len(order_id)} characters)"
        OrdersError.__init__(
            self, f"order {shown!r} not found: an order id is 1-64 letters, digits, '.', '_', ':' or '-'"
        )
        self.order_id = order_id


class CommandRejected(OrdersError):
    """The order's rules refused the command; nothing changed."""

    def __init__(self, reason: str, code: str = "refused") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class OrderFinal(CommandRejected):
    def __init__(self, order_id: str, status: str) -> None:
        super().__init__(f"order {order_id} is {status}; {status} orders are final", "final")


class TemporalUnavailable(OrdersError):
    """Temporal (or every worker, for reads that need one) did not answer."""


@dataclass(frozen=True)
class CommandResult:
    request_id: str
    # The order after the command, when a worker gave its verdict; None when the command was queued.
    state: OrderState | None

    @property
    def queued(self) -> bool:
        return self.state is None


@dataclass(frozen=True)
class OrderSummary:
    order_id: str
    status: Status
    customer_id: str
    placed_at: datetime | None
    closed: bool


@dataclass(frozen=True)
class Placed:
    order_id: str
    created: bool  # False: an order with this id already existed, and was left as it was


class OrdersClient:
    def __init__(self, client: Client, settings: Settings) -> None:
        self.temporal = client
        self.settings = settings

    @classmethod
    async def connect(cls, settings: Settings | None = None) -> OrdersClient:
        settings = settings or Settings()
        try:
            client = await connect(settings)
        except RuntimeError as err:
            raise TemporalUnavailable(f"can't reach Temporal: {_first_line(err)}") from None
        return cls(client, settings)

    def _handle(self, order_id: str) -> WorkflowHandle[Any, Any]:
        if not ORDER_ID.fullmatch(order_id):
            raise InvalidOrderId(order_id)
        return self.temporal.get_workflow_handle(workflow_id(order_id))

    async def place(self, order: OrderInput) -> Placed:
        """Start `order-<id>` (idempotent: placing an existing order leaves it as it is)."""
        order = order.model_copy(
            update={
                "grace_period_seconds": _default(
                    order.grace_period_seconds, self.settings.grace_period_seconds
                ),
                "decision_timeout_seconds": order.decision_timeout_seconds
                or self.settings.decision_timeout_seconds,
            }
        )
        status = Status.WINDOW_TO_CANCEL if order.payment_approved else Status.PAYMENT_PENDING
        try:
            await self.temporal.start_workflow(
                WORKFLOW_TYPE,
                order,
                id=workflow_id(order.order_id),
                task_queue=self.settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(ORDER_STATUS, status.value),
                        SearchAttributePair(CUSTOMER_ID, order.customer_id),
                    ]
                ),
            )
        except WorkflowAlreadyStartedError:
            return Placed(order.order_id, created=False)
        except RPCError as err:
            raise _unavailable(err) from None
        return Placed(order.order_id, created=True)

    async def send(
        self,
        order_id: str,
        action: Action,
        command: Command | dict[str, Any],
        *,
        as_signal: bool = False,
        update_timeout: float | None = None,
    ) -> CommandResult:
        """Send a command as an update and return the verdict. If no worker answers within
        `update_timeout`, or with `as_signal`, send the same-named signal (same `request_id`, so a
        repeat changes nothing) and return it as queued."""
        try:
            parsed = parse_command(action, command)
        except MalformedCommand as err:
            raise CommandRejected(str(err), "malformed") from None
        stamped = parsed.model_copy(
            update={
                "request_id": parsed.request_id or str(uuid.uuid4()),
                "requested_at": parsed.requested_at or datetime.now(UTC),
            }
        )
        request_id = stamped.request_id or ""
        handle = self._handle(order_id)
        if not as_signal:
            timeout = update_timeout if update_timeout is not None else self.settings.update_timeout_seconds
            try:
                state = await handle.execute_update(
                    action.value, stamped, result_type=OrderState, rpc_timeout=timedelta(seconds=timeout)
                )
                return CommandResult(request_id, state)
            except WorkflowUpdateRPCTimeoutOrCancelledError:
                pass  # no worker answered in time: queue it as a signal
            except WorkflowUpdateFailedError as err:
                raise _rejection(err) from None
            except RPCError as err:
                if err.status is RPCStatusCode.NOT_FOUND:
                    return await self._after_finish(order_id, action, stamped, err)
                # Not taken (e.g. over Temporal's 10 updates at once per order, or aborted by a workflow
                # task the server failed under a flood): queue the same command, same request id.
        try:
            await handle.signal(action.value, stamped)
        except RPCError as err:
            return await self._after_finish(order_id, action, stamped, err)
        return CommandResult(request_id, None)

    async def state(self, order_id: str) -> OrderState:
        """The whole order state (the `state` query); a finished order's final state needs no worker."""
        handle = self._handle(order_id)
        timeout = timedelta(seconds=self.settings.update_timeout_seconds)
        try:
            return await handle.query("state", result_type=OrderState, rpc_timeout=timeout)
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND and not _no_worker(err):
                raise _unavailable(err) from None
            failure: Exception = err
        except WorkflowQueryFailedError as err:
            failure = err
        return await self._final_state(order_id, failure)

    async def status(self, order_id: str) -> Status:
        return (await self.state(order_id)).status

    async def list_orders(
        self, status: Status | None = None, customer_id: str | None = None, limit: int = 100
    ) -> list[OrderSummary]:
        """Orders by status and/or customer, through the search attributes; newest first."""
        clauses = [f'WorkflowType = "{WORKFLOW_TYPE}"']
        if status is not None:
            clauses.append(f'{ORDER_STATUS.name} = "{Status(status).value}"')
        if customer_id is not None:
            clauses.append(f'{CUSTOMER_ID.name} = "{_quoted(customer_id)}"')
        summaries: list[OrderSummary] = []
        try:
            async for execution in self.temporal.list_workflows(" AND ".join(clauses), limit=limit):
                attributes = execution.typed_search_attributes
                summaries.append(
                    OrderSummary(
                        order_id=execution.id.removeprefix("order-"),
                        status=Status(attributes.get(ORDER_STATUS) or Status.PAYMENT_PENDING),
                        customer_id=attributes.get(CUSTOMER_ID) or "",
                        placed_at=execution.start_time,
                        closed=execution.status is not WorkflowExecutionStatus.RUNNING,
                    )
                )
        except RPCError as err:
            raise _unavailable(err) from None
        return summaries

    # Errors

    async def _final_state(self, order_id: str, failure: Exception) -> OrderState:
        handle = self._handle(order_id)
        try:
            description = await handle.describe()
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                raise OrderNotFound(order_id) from None
            raise _unavailable(err) from None
        if description.status is WorkflowExecutionStatus.COMPLETED:
            try:
                return await self.temporal.get_workflow_handle(
                    workflow_id(order_id), result_type=OrderState
                ).result()
            except WorkflowFailureError:
                pass
        if description.status is WorkflowExecutionStatus.RUNNING:
            raise TemporalUnavailable(
                f"no worker answered for order {order_id}: {_first_line(failure)}; is the worker running?"
            )
        raise OrdersError(f"order {order_id}'s workflow is {description.status.name.lower()}")

    async def _after_finish(
        self, order_id: str, action: Action, command: Command, err: RPCError
    ) -> CommandResult:
        """A finished order's workflow takes no more commands. A retry of the command that finished it
        gets the first answer (from the order's timeline); anything else the lifecycle's own refusal,
        as a running order would give it (OMS003 for start_handling)."""
        if err.status is not RPCStatusCode.NOT_FOUND:
            if _over_limit(err):
                raise TemporalUnavailable(
                    f"order {order_id} takes no more commands for now ({_first_line(err)}); "
                    "try again in a moment"
                )
            raise _unavailable(err)
        state = await self._final_state(order_id, err)
        for entry in state.timeline:
            if entry.request_id == command.request_id and entry.action is action and not entry.refused:
                return CommandResult(entry.request_id or "", state)
        refusal = why_refused(state.situation(), action, getattr(command, "actor", Actor.SYSTEM))
        if refusal.code == "final":
            raise OrderFinal(order_id, state.status.value)
        raise CommandRejected(refusal.reason, refusal.code)


def _rejection(err: WorkflowUpdateFailedError) -> CommandRejected:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return CommandRejected(cause.message, cause.type or "refused")
    return CommandRejected(_first_line(cause or err))


def _unavailable(err: RPCError) -> TemporalUnavailable:
    return TemporalUnavailable(f"Temporal did not answer: {_first_line(err)}")


def _over_limit(err: RPCError) -> bool:
    """One of Temporal's limits per workflow (updates at once, signals per run) refused the command."""
    return err.status is RPCStatusCode.RESOURCE_EXHAUSTED or (
        err.status is RPCStatusCode.INVALID_ARGUMENT and "limit" in str(err)
    )


def _no_worker(err: RPCError) -> bool:
    """A query nobody answered: our rpc_timeout expired (CANCELLED), or the server gave up."""
    return err.status in (
        RPCStatusCode.CANCELLED,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.FAILED_PRECONDITION,
    )


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _default(value: int | None, default: int) -> int:
    return default if value is None else value
