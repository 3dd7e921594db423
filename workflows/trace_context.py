"""Which command's trace an outbox delivery belongs to (docs/observability.md, "One trace per command").

The outbox delivers events after the handler that made them has returned, from the run loop or a task
of its own, where the current OpenTelemetry context is the workflow's, not the command's. So the outbox
keeps the context each command's events were queued under, and starts the activity that delivers them
under the first of those contexts, with the others named as links (`LINKED`, read by
`orders.temporal_tracing`). A context is in-memory only: nothing here reaches the workflow's history,
and with tracing off every context is empty and nothing is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context

LINKED = otel_context.create_key("orders-linked-commands")


def sender() -> Context | None:
    """The current context, if a trace is being recorded in it (a command's handler, traced)."""
    current = otel_context.get_current()
    return current if trace.get_current_span(current).get_span_context().is_valid else None


def merged(contexts: list[Context], more: list[Context]) -> list[Context]:
    """`contexts` then those of `more` whose span is not among them, in order."""
    seen = {_span_id(c) for c in contexts}
    out = list(contexts)
    for c in more:
        if _span_id(c) not in seen:
            seen.add(_span_id(c))
            out.append(c)
    return out


def on_behalf_of(contexts: list[Context]) -> AbstractContextManager[None]:
    """Activities started in this block belong to the first command's trace, linked to the others'."""
    if not contexts:
        return nullcontext()
    first, *others = contexts
    return attached(otel_context.set_value(LINKED, tuple(others), first))


@contextmanager
def attached(context: Context | None) -> Iterator[None]:
    """`context` current for the block (None: nothing changes)."""
    if context is None:
        yield
        return
    token = otel_context.attach(context)
    try:
        yield
    finally:
        # An evicted workflow's coroutine may be closed by the garbage collector in another
        # contextvars context, where the token is not valid: there is nothing to detach there.
        if otel_context.get_current() is context:
            with suppress(ValueError):
                token.var.reset(token)


def linked() -> tuple[Context, ...]:
    """The other commands' contexts of the delivery being started (see `on_behalf_of`)."""
    value = otel_context.get_value(LINKED)
    return value if isinstance(value, tuple) else ()


def _span_id(context: Context) -> int:
    return trace.get_current_span(context).get_span_context().span_id
