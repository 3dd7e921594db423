"""The Temporal SDK's `TracingInterceptor`, with each command's workflow spans in the command's own trace.

The SDK's interceptor puts a signal's or an update's handler span in the workflow's trace (the order's
placement), linked to the sender's. Here the handler span is a child of the sender's span and the
placement is the link, so one trace follows a command from the HTTP request to the webhook; the outbox
starts the delivery in that trace (workflows/trace_context.py), and the activity names any other command
whose events it carries as links. The SDK's docs invite this: subclass both interceptors.
docs/observability.md shows the spans.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    HandleSignalInput,
    HandleUpdateInput,
    StartActivityInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from workflows.trace_context import attached, linked

LINKS_HEADER = "_orders-linked-traces"  # the other commands whose events an activity delivers

Carrier = dict[str, str]


class CommandTracing(TracingInterceptor):
    """On the client (its calls carry the caller's trace) and the worker (handlers, activities)."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span-making function workflows call
        return CommandWorkflowSpans

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return super().intercept_activity(_LinkedCommands(next, self))


class CommandWorkflowSpans(TracingWorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_LinksOnActivities(outbound, self))

    async def handle_signal(self, input: HandleSignalInput) -> None:
        sender = self._sender(input.headers)
        if sender is None:
            return await super().handle_signal(input)
        with self._command_trace(sender, f"HandleSignal:{input.signal}"):
            await WorkflowInboundInterceptor.handle_signal(self, input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        sender = self._sender(input.headers)
        if sender is None:
            return super().handle_update_validator(input)
        with self._command_trace(sender, f"ValidateUpdate:{input.update}"):
            WorkflowInboundInterceptor.handle_update_validator(self, input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        sender = self._sender(input.headers)
        if sender is None:
            return await super().handle_update_handler(input)
        with self._command_trace(sender, f"HandleUpdate:{input.update}"):
            return await WorkflowInboundInterceptor.handle_update_handler(self, input)

    def _sender(self, headers: Mapping[str, Payload]) -> Carrier | None:
        payload = headers.get(self.header_key)
        carrier = self.payload_converter.from_payloads([payload])[0] if payload else None
        return carrier if isinstance(carrier, dict) and carrier else None

    @contextmanager
    def _command_trace(self, sender: Carrier, name: str) -> Iterator[None]:
        """The handler's span (zero-length, as all the SDK's workflow spans) as a child of the sender's,
        linked to the order's placement; the handler runs with it current. On replay there is no span:
        the handler runs in the sender's context."""
        with attached(self._set_on_context(self.text_map_propagator.extract(sender))):
            made = _Headers()
            self._completed_span(
                name,
                link_context_carrier=self._load_workflow_context_carrier(),
                add_to_outbound=made,
                kind=trace.SpanKind.SERVER,
            )
            span = self._sender(made.headers)
            context = self._set_on_context(self.text_map_propagator.extract(span)) if span else None
            with attached(context):
                yield


class _LinksOnActivities(WorkflowOutboundInterceptor):
    """Puts the other commands' traces (workflows/trace_context.py `linked`) in an activity's headers."""

    def __init__(self, next: WorkflowOutboundInterceptor, root: CommandWorkflowSpans) -> None:
        super().__init__(next)
        self._root = root

    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        input.headers = self._with_links(input.headers)
        return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> workflow.ActivityHandle[Any]:
        input.headers = self._with_links(input.headers)
        return super().start_local_activity(input)

    def _with_links(self, headers: Mapping[str, Payload]) -> Mapping[str, Payload]:
        carriers: list[Carrier] = []
        for context in linked():
            carrier: Carrier = {}
            self._root.text_map_propagator.inject(carrier, context)
            if carrier:
                carriers.append(carrier)
        if not carriers:
            return headers
        return {**headers, LINKS_HEADER: self._root.payload_converter.to_payloads([carriers])[0]}


class _LinkedCommands(ActivityInboundInterceptor):
    """Inside the activity's span: links it to the other commands whose events it delivers."""

    def __init__(self, next: ActivityInboundInterceptor, root: CommandTracing) -> None:
        super().__init__(next)
        self._root = root

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        payload = input.headers.get(LINKS_HEADER)
        if payload is not None:
            span = trace.get_current_span()
            carriers = self._root.payload_converter.from_payloads([payload])[0]
            for carrier in carriers if isinstance(carriers, list) else []:
                if not isinstance(carrier, dict):
                    continue
                linked_span = trace.get_current_span(self._root.text_map_propagator.extract(carrier))
                if linked_span.get_span_context().is_valid:
                    span.add_link(linked_span.get_span_context())
        return await super().execute_activity(input)


@dataclass
class _Headers:
    """Where `_completed_span` writes the span it made, as it writes it on an outbound call."""

    headers: Mapping[str, Payload] = field(default_factory=dict)
