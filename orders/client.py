"""The one place that talks to Temporal on behalf of callers: the CLI, the API, the console and scripts.

Every failure comes out as one of the typed errors in `orders.errors`, each with a message a person can
read and no internal address (the detail goes to the log).
"""

from __future__ import annotations

import asyncio
import logging
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

from domain.commands import Command, MalformedCommand
from domain.lifecycle import Action, Status, initial_status
from domain.models import OrderInput
from domain.modifications import ModificationPreview, preview
from domain.registry import parse_command, why_refused
from domain.state import OrderState
from domain.text import ORDER_ID
from domain.visibility import MEMO_KEY, memo_at_placement, report_attributes_at_placement
from orders.connection import connect, temporal_profile, uses_embedded_server
from orders.errors import (
    CommandRejected,
    InvalidOrderId,
    OrderFinal,
    OrderNotFound,
    OrdersError,
    TemporalUnavailable,
    first_line,
    unavailable,
)
from orders.logs import concerning
from orders.placement import PLACEMENT_KEY, PlacementMemo
from orders.reads import VisibilityReads
from orders.settings import Settings
from workflows.names import QUERY_PREVIEW_MODIFICATION, QUERY_STATE, STILL_PLACING, WORKFLOW_TYPE, workflow_id
from workflows.search_attributes import BY_NAME, CUSTOMER_ID, ORDER_STATUS

log = logging.getLogger("orders.client")


@dataclass(frozen=True)
class CommandResult:
    request_id: str
    # The order after the command, when a worker gave its verdict; None when the command was queued.
    state: OrderState | None

    @property
    def queued(self) -> bool:
        return self.state is None


@dataclass(frozen=True)
class Placed:
    order_id: str
    created: bool  # False: an order with this id already existed, and was left as it was


def new_request_id() -> str:
    """A request id for a command whose caller gave none: the one maker for the client and the console."""
    return str(uuid.uuid4())


def stamp(command: Command) -> Command:
    """The command with a request id and the time it was made, as the client sends it: the signal that
    may follow an unanswered update then carries the same id, and counts as made at the same time."""
    return command.model_copy(
        update={
            "request_id": command.request_id or new_request_id(),
            "requested_at": command.requested_at or datetime.now(UTC),
        }
    )


class OrdersClient(VisibilityReads):
    def __init__(self, client: Client, settings: Settings) -> None:
        self.temporal = client
        self.settings = settings

    @classmethod
    async def connect(cls, settings: Settings | None = None) -> OrdersClient:
        settings = settings or Settings()
        profile = temporal_profile()
        try:
            client = await connect(settings, profile)
        except RuntimeError as err:
            log.warning("can't reach Temporal: %s", first_line(err))
            # What to do, without the address: this may reach the API's callers (docs/api.md, "Errors").
            if uses_embedded_server(profile):
                raise TemporalUnavailable(
                    "can't reach Temporal: start the service with `make run`; if it runs, set "
                    "ORDERS_EMBEDDED_PORT here (or in .env) to the port it uses"
                ) from None
            raise TemporalUnavailable(
                "can't reach Temporal: check that TEMPORAL_ADDRESS (or TEMPORAL_PROFILE) names where "
                "your Temporal runs"
            ) from None
        return cls(client, settings)

    def _handle(self, order_id: str) -> WorkflowHandle[Any, Any]:
        if not ORDER_ID.fullmatch(order_id):
            raise InvalidOrderId(order_id)
        concerning(order_id)
        return self.temporal.get_workflow_handle(workflow_id(order_id))

    async def place(self, order: OrderInput) -> Placed:
        """Start `order-<id>` (idempotent: placing an existing order leaves it as it is)."""
        order = order.with_defaults(self.settings.store)
        concerning(order.order_id)
        status = initial_status(payment_approved=order.payment_approved)
        try:
            await self.temporal.start_workflow(
                WORKFLOW_TYPE,
                order,
                id=workflow_id(order.order_id),
                task_queue=self.settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                # What the report counts goes in at the start too (not billed there): the workflow then
                # writes it only when it changes (docs/performance.md, "Flat reads").
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(ORDER_STATUS, status.value),
                        SearchAttributePair(CUSTOMER_ID, order.customer_id),
                        *(
                            SearchAttributePair(BY_NAME[name], value)
                            for name, value in report_attributes_at_placement().items()
                        ),
                    ]
                ),
                # What the workflow would write at placement, written here: it then writes nothing.
                memo={
                    MEMO_KEY: memo_at_placement(order).model_dump(mode="json"),
                    PLACEMENT_KEY: PlacementMemo.of(order).model_dump(mode="json"),
                },
            )
        except WorkflowAlreadyStartedError:
            return Placed(order.order_id, created=False)
        except RPCError as err:
            raise unavailable(err) from None
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
            stamped = stamp(parse_command(action, command))
        except MalformedCommand as err:
            raise CommandRejected(str(err), "malformed") from None
        request_id = stamped.request_id or ""
        handle = self._handle(order_id)
        if not as_signal:
            timeout = update_timeout if update_timeout is not None else self.settings.update_timeout_seconds
            try:
                # The SDK may make two calls (start, then poll), each with its own rpc_timeout: the
                # whole wait is bounded here, so no caller waits longer than the setting says.
                state: OrderState = await asyncio.wait_for(
                    handle.execute_update(
                        action.value, stamped, result_type=OrderState, rpc_timeout=timedelta(seconds=timeout)
                    ),
                    timeout,
                )
                log.info(
                    "order %s: %s by %s done; now %s", order_id, action.value, stamped.actor, state.status
                )
                return CommandResult(request_id, state)
            except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
                pass  # no worker answered in time: queue it as a signal
            except WorkflowUpdateFailedError as err:
                rejection = _rejection(err)
                log.info(
                    "order %s: %s by %s refused (%s)", order_id, action.value, stamped.actor, rejection.code
                )
                raise rejection from None
            except RPCError as err:
                if err.status is RPCStatusCode.NOT_FOUND:
                    return await self._after_finish(order_id, action, stamped, err)
                # Not taken (e.g. over Temporal's 10 updates at once per order, or aborted by a workflow
                # task the server failed under a flood): queue the same command, same request id.
        try:
            await handle.signal(action.value, stamped)
        except RPCError as err:
            return await self._after_finish(order_id, action, stamped, err)
        log.info("order %s: %s by %s queued", order_id, action.value, stamped.actor)
        return CommandResult(request_id, None)

    async def state(self, order_id: str) -> OrderState:
        """The whole order state (the `state` query); a finished order's final state needs no worker."""
        handle = self._handle(order_id)
        timeout = timedelta(seconds=self.settings.update_timeout_seconds)
        try:
            state: OrderState = await handle.query(QUERY_STATE, result_type=OrderState, rpc_timeout=timeout)
            return state
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND and not _no_worker(err):
                raise unavailable(err) from None
            failure: Exception = err
        except WorkflowQueryFailedError as err:
            if STILL_PLACING in str(err):  # a worker answered: the order has no state to show yet
                raise TemporalUnavailable(
                    f"order {order_id} {STILL_PLACING}; ask again in a moment"
                ) from None
            failure = err
        return await self._final_state(order_id, failure)

    async def preview(self, order_id: str, command: Command | dict[str, Any]) -> ModificationPreview:
        """What `modify_order` would do now (the `preview_modification` query, docs/modifications.md): the
        value before and after, the difference, or why it would be refused. Nothing changes."""
        try:
            parsed = parse_command(Action.MODIFY_ORDER, command)
        except MalformedCommand as err:
            raise CommandRejected(str(err), "malformed") from None
        handle = self._handle(order_id)
        timeout = timedelta(seconds=self.settings.update_timeout_seconds)
        try:
            answer: ModificationPreview = await handle.query(
                QUERY_PREVIEW_MODIFICATION, parsed, result_type=ModificationPreview, rpc_timeout=timeout
            )
            return answer
        except RPCError as err:
            if err.status is not RPCStatusCode.NOT_FOUND and not _no_worker(err):
                raise unavailable(err) from None
            failure: Exception = err
        except WorkflowQueryFailedError as err:
            if STILL_PLACING in str(err):
                raise TemporalUnavailable(
                    f"order {order_id} {STILL_PLACING}; ask again in a moment"
                ) from None
            raise CommandRejected(first_line(err), "malformed") from None
        final = await self._final_state(order_id, failure)  # a finished order is modified no more
        return preview(final, why_refused(final.situation(), Action.MODIFY_ORDER, parsed.actor))

    async def status(self, order_id: str) -> Status:
        return (await self.state(order_id)).status

    # Errors

    async def _final_state(self, order_id: str, failure: Exception) -> OrderState:
        handle = self._handle(order_id)
        try:
            description = await handle.describe()
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                raise OrderNotFound(order_id) from None
            raise unavailable(err) from None
        if description.status is WorkflowExecutionStatus.COMPLETED:
            try:
                handle = self.temporal.get_workflow_handle(workflow_id(order_id), result_type=OrderState)
                final: OrderState = await handle.result()
                return final
            except WorkflowFailureError:
                pass
        if description.status is WorkflowExecutionStatus.RUNNING:
            log.warning("no worker answered for order %s: %s", order_id, first_line(failure))
            raise TemporalUnavailable(f"no worker answered for order {order_id}; is the worker running?")
        status = description.status.name.lower() if description.status else "gone"
        raise OrdersError(f"order {order_id}'s workflow is {status}")

    async def _after_finish(
        self, order_id: str, action: Action, command: Command, err: RPCError
    ) -> CommandResult:
        """A finished order's workflow takes no more commands. A retry of the command that finished it
        gets the first answer (from the order's timeline); anything else the lifecycle's own refusal,
        as a running order would give it (OMS003 for start_handling)."""
        if err.status is not RPCStatusCode.NOT_FOUND:
            if _over_limit(err):
                log.warning("order %s refused a command at a limit: %s", order_id, first_line(err))
                raise TemporalUnavailable(f"order {order_id} takes no more commands for now; try again later")
            raise unavailable(err)
        state = await self._final_state(order_id, err)
        for entry in state.moves():
            same_sender = (entry.actor, entry.sender) == (command.actor, command.sender)
            if entry.request_id == command.request_id and entry.action is action and same_sender:
                return CommandResult(entry.request_id or "", state)
        refusal = why_refused(state.situation(), action, command.actor)
        if refusal.code == "final":
            raise OrderFinal(order_id, state.status.value)
        raise CommandRejected(refusal.reason, refusal.code)


def _rejection(err: WorkflowUpdateFailedError) -> CommandRejected:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return CommandRejected(cause.message, cause.type or "refused")
    return CommandRejected(first_line(cause or err))


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
