"""Traces and logs (docs/observability.md): one REST cancel is one trace, from the API's server span through
the Temporal update, the workflow's handler and the delivery activity to the webhook POST, whose
`traceparent` the receiver sees; JSON log lines name the order and the trace; with no endpoint nothing
of OpenTelemetry's SDK starts; a traced order's history replays with tracing on or off.

Real parts: the dev server, a worker and the API on the traced Temporal client, uvicorn and the webhook
receiver on loopback, and OpenTelemetry's own in-memory exporter in place of the OTLP one (and, once, a
real `orders serve-api` exporting over OTLP/HTTP to a collector stand-in on loopback).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.envconfig import ClientConfigProfile
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from orders import logs, telemetry
from orders.api import create_app
from orders.client import OrdersClient
from orders.connection import connect
from orders.temporal_tracing import CommandTracing
from tests.kit.api import ERP, PVT, credentials_file, serving
from tests.kit.orders import place
from tests.kit.polling import eventually
from tests.kit.receiver import SECRET as WEBHOOK_SECRET
from tests.kit.receiver import Receiver
from tests.kit.worker import running_worker, settings_for
from workflows.names import workflow_id
from workflows.order_workflow import OrderWorkflow

ORDERS_CLI = str(Path(sys.executable).with_name("orders"))


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """This process traced as `configure` would trace it, into memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with telemetry.activated(telemetry.Tracing(provider)):
        yield exporter


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What `ORDERS_LOG_FORMAT=json` prints, from every logger of this process."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonLines())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def by_id(spans: tuple[ReadableSpan, ...]) -> dict[int, ReadableSpan]:
    return {span.context.span_id: span for span in spans}


def parent(span: ReadableSpan, spans: dict[int, ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None, f"{span.name} has no parent"
    return spans[span.parent.span_id]


async def test_one_rest_cancel_is_one_trace_from_the_request_to_the_webhook(
    dev_env: WorkflowEnvironment,
    tmp_path: Path,
    receiver: Receiver,
    spans: InMemorySpanExporter,
    json_log: io.StringIO,
) -> None:
    settings = settings_for(
        tmp_path,
        api_credentials=credentials_file(tmp_path),
        webhook_url=receiver.url,
        webhook_secret=WEBHOOK_SECRET,
    )
    profile = ClientConfigProfile(
        address=dev_env.client.service_client.config.target_host, namespace="default"
    )
    client = await connect(settings, profile)  # as the API and the worker connect: traced
    async with (
        running_worker(client, settings) as orders,
        serving(create_app(settings, OrdersClient(client, settings))) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        order_id = await place(orders)
        answer = await http.post(f"{PVT}/{order_id}/cancel", json={"reason": "customer called"}, headers=ERP)
        assert answer.status_code == 200, answer.text

        def canceled() -> bool:
            return any(
                event["order_id"] == order_id and event["data"].get("to_status") == "canceled"
                for _, event in list(receiver.done.values())
            )

        await eventually(lambda: _now(canceled()), bool)
        # The delivery's span ends once the activity has answered the worker.
        await eventually(lambda: _now(spans.get_finished_spans()), lambda s: _delivery_done(s))

    finished = spans.get_finished_spans()
    server = next(
        s for s in finished if s.kind is SpanKind.SERVER and s.name == f"POST {PVT}/{{orderId}}/cancel"
    )
    trace_id = server.context.trace_id
    in_trace = by_id(tuple(s for s in finished if s.context.trace_id == trace_id))
    names = {s.name for s in in_trace.values()}
    assert server.attributes is not None and server.attributes["order.id"] == order_id
    update = next(s for s in in_trace.values() if s.name == "StartWorkflowUpdate:request_cancellation")
    assert parent(update, in_trace) is server
    handler = next(s for s in in_trace.values() if s.name == "HandleUpdate:request_cancellation")
    assert parent(handler, in_trace) is update
    assert handler.attributes is not None and handler.attributes["temporalWorkflowID"] == workflow_id(
        order_id
    )
    start = next(s for s in in_trace.values() if s.name == "StartActivity:deliver_events")
    assert parent(start, in_trace) is handler
    run = next(s for s in in_trace.values() if s.name == "RunActivity:deliver_events")
    assert parent(run, in_trace) is start
    posts = [s for s in in_trace.values() if s.kind is SpanKind.CLIENT and s.name == "POST"]
    assert posts and all(parent(post, in_trace) is run for post in posts), names

    # The receiver joins the trace: each compensation POST carried its own span as the parent.
    compensation = [
        a for a in receiver.attempts if a.key in {f"{order_id}:payment.void", f"{order_id}:customer.notify"}
    ]
    assert len(compensation) == 2
    for attempt in compensation:
        assert attempt.traceparent is not None
        version, trace_hex, span_hex, _flags = attempt.traceparent.split("-")
        assert (version, int(trace_hex, 16)) == ("00", trace_id)
        assert int(span_hex, 16) in {post.context.span_id for post in posts}

    # The order's log lines, as JSON, name it and, inside the command's trace, the trace.
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    mine = [line for line in lines if line.get("order_id") == order_id]
    in_command = {line["logger"] for line in mine if line.get("trace_id") == format(trace_id, "032x")}
    assert {"orders.client", "temporalio.workflow", "activities.order_activities", "httpx"} <= in_command
    status = next(line for line in mine if "cancel -> canceled by" in line["message"])
    assert status["logger"] == "temporalio.workflow" and len(status["span_id"]) == 16

    # Switching tracing on or off between deploys never breaks an order: its traced history replays both ways.
    history = await client.get_workflow_handle(workflow_id(order_id)).fetch_history()
    for interceptors in ([CommandTracing()], []):
        replayer = Replayer(
            workflows=[OrderWorkflow], data_converter=pydantic_data_converter, interceptors=interceptors
        )
        await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id(order_id), history.to_json()))


async def _now(value: Any) -> Any:
    return value


def _delivery_done(spans: tuple[ReadableSpan, ...]) -> bool:
    return any(s.name == "RunActivity:deliver_events" for s in spans)


def test_json_lines_name_the_order_and_carry_the_traceback() -> None:
    record = logging.LogRecord("orders.api", logging.ERROR, __file__, 1, "order %s: boom", ("5001",), None)
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    record.temporal_workflow = {"workflow_id": workflow_id("5001"), "run_id": "r"}
    line = json.loads(logs.JsonLines().format(record))
    assert line["order_id"] == "5001" and line["message"] == "order 5001: boom" and line["level"] == "ERROR"
    assert "ValueError: boom" in line["exception"] and "trace_id" not in line
    # A workflow that is not an order's names no order.
    record.temporal_workflow = {"workflow_id": "something-else"}
    assert "order_id" not in json.loads(logs.JsonLines().format(record))


async def test_a_request_about_several_orders_names_none() -> None:
    async def request(*order_ids: str) -> str | None:
        for order_id in order_ids:
            logs.concerning(order_id)
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "GET /", (), None)
        return logs.ids(record).get("order_id")

    # Each request is a task of its own, as uvicorn runs them.
    assert await asyncio.create_task(request("5001", "5001")) == "5001"
    assert await asyncio.create_task(request("5001", "5002")) is None
    assert await asyncio.create_task(request()) is None


OFF_PROBE = """
import sys, threading
from opentelemetry import trace
import worker
from orders import telemetry
from orders.api import create_app
from orders.settings import Settings
tracing = telemetry.configure(telemetry.API_SERVICE)
app = create_app(Settings(_env_file=None))
print(
    tracing is None,
    telemetry.active() is None,
    type(trace.get_tracer_provider()).__name__,
    sorted(m for m in sys.modules if m.startswith(("opentelemetry.sdk", "opentelemetry.exporter",
                                                   "opentelemetry.instrumentation"))),
    any("OtelBatch" in t.name for t in threading.enumerate()),
    getattr(app, "_is_instrumented_by_opentelemetry", False),
)
"""


def test_with_no_endpoint_no_provider_or_exporter_starts(tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}

    def probe(**otel: str) -> str:
        env = base | {"ORDERS_DATA_DIR": str(tmp_path)} | otel
        done = subprocess.run([sys.executable, "-c", OFF_PROBE], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert probe() == "True True ProxyTracerProvider [] False False"
    # The same probe notices tracing when it is on: the SDK, its batch exporter, the API's middleware.
    on = probe(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_BSP_SCHEDULE_DELAY="60000")
    assert on.startswith("False False TracerProvider [") and on.endswith("True True")


class Collector:
    """An OTLP/HTTP endpoint on loopback, keeping what it was sent (`/v1/traces`, protobuf)."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/v1/traces" and self.headers["Content-Type"] == "application/x-protobuf":
                    collector.requests.append(ExportTraceServiceRequest.FromString(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def services_and_spans(self) -> set[tuple[str, str]]:
        found = set()
        for request in self.requests:
            for resource_spans in request.resource_spans:
                attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope in resource_spans.scope_spans:
                    found |= {(attributes["service.name"], span.name) for span in scope.spans}
        return found


@pytest.mark.parametrize("service_name", [None, "shop-orders-api"])
async def test_the_api_exports_over_otlp_http_as_the_otel_variables_say(
    tmp_path: Path, service_name: str | None
) -> None:
    collector = Collector()
    sock_port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ORDERS_", "TEMPORAL_"))} | {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "ORDERS_DATA_DIR": str(tmp_path),
        "ORDERS_API_PORT": str(sock_port),
        "TEMPORAL_ADDRESS": "127.0.0.1:9",  # nothing there: the API starts anyway
    }
    if service_name:
        env["OTEL_SERVICE_NAME"] = service_name
    api = subprocess.Popen([ORDERS_CLI, "serve-api"], env=env, stderr=subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock_port}") as http:

            async def asked() -> int:
                try:
                    return (await http.get(f"{PVT}/5001")).status_code
                except httpx.TransportError:
                    return 0

            assert await eventually(asked, bool, timeout=30) == 401  # no credentials configured
            await http.get("/healthz")
        expected = (service_name or "orders-api", f"GET {PVT}/{{orderId}}")
        found = await eventually(lambda: _now(collector.services_and_spans()), lambda s: expected in s)
        assert not any("healthz" in name for _, name in found)  # probes are not traced
    finally:
        api.terminate()
        api.wait(timeout=20)
        collector.server.shutdown()


def test_a_protocol_the_service_does_not_speak_stops_the_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ORDERS_"))} | {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "ORDERS_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run([ORDERS_CLI, "serve-api"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported" in done.stderr


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
