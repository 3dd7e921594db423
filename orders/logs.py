"""Log lines: text for a terminal, or JSON lines (`ORDERS_LOG_FORMAT=json`) that name the order and trace.

Every line about an order carries `order_id`: in a workflow or an activity from its workflow id; in the
API, the console and the client from `concerning(order_id)`, which `OrdersClient` calls for every order
it touches (it also tags the request's span with `order.id`). A line written inside a recorded span
carries `trace_id` and `span_id`, the ids a trace viewer searches by. docs/observability.md.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from opentelemetry import trace
from temporalio import activity, workflow

from workflows.names import WORKFLOW_ID_PREFIX, order_id_of

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ORDER_ATTRIBUTE = "order.id"  # on the span of a request that concerns an order

_order: ContextVar[str | None] = ContextVar("orders_log_order_id", default=None)
SEVERAL = ""  # `_order` of a task that concerns more than one order


def concerning(order_id: str) -> None:
    """What follows in this task (an HTTP request, a CLI command) concerns `order_id`; a task that
    touches several orders (a list page) names none."""
    before = _order.get()
    _order.set(order_id if before in (None, order_id) else SEVERAL)
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute(ORDER_ATTRIBUTE, order_id)


def configure(log_format: LogFormat = "text", level: int = logging.INFO) -> None:
    """The root logger's one handler, on stderr, in `log_format`."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)


class JsonLines(logging.Formatter):
    """One JSON object per line: `time`, `level`, `logger`, `message`, and `order_id`, `trace_id`,
    `span_id` where known; `exception` with the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= ids(record)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def ids(record: logging.LogRecord) -> dict[str, str]:
    """`order_id`, `trace_id` and `span_id` of what the record was written in, where there is one."""
    found: dict[str, str] = {}
    order_id = _order_of(record)
    if order_id is not None:
        found["order_id"] = order_id
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        found["trace_id"] = format(context.trace_id, "032x")
        found["span_id"] = format(context.span_id, "016x")
    return found


def _order_of(record: logging.LogRecord) -> str | None:
    workflow_id: str | None = None
    for extra in ("temporal_workflow", "temporal_activity"):  # workflow.logger, activity.logger
        info = getattr(record, extra, None)
        if isinstance(info, dict) and isinstance(info.get("workflow_id"), str):
            workflow_id = info["workflow_id"]
            break
    if workflow_id is None and activity.in_activity():
        workflow_id = activity.info().workflow_id
    if workflow_id is None and workflow.in_workflow():
        workflow_id = workflow.info().workflow_id
    if workflow_id is not None:
        return order_id_of(workflow_id) if workflow_id.startswith(WORKFLOW_ID_PREFIX) else None
    return _order.get() or None
