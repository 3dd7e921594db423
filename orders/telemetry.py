"""Traces: OpenTelemetry, configured by the standard `OTEL_*` variables; off, and free, with no endpoint.

`configure(service)` runs once as a process starts (the worker, the API). With
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, spans go over OTLP
(http/protobuf) in batches (`OTEL_BSP_*`), sampled as `OTEL_TRACES_SAMPLER` says, under
`OTEL_SERVICE_NAME` or the service's default name; the Temporal client and worker carry the SDK's tracing
interceptor (orders/temporal_tracing.py), the API and console a server span per request, the webhook
client a span per POST with its `traceparent`. Unset, nothing of the OpenTelemetry SDK is imported: no
provider, no exporter, no interceptor. docs/observability.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span

    from orders.temporal_tracing import CommandTracing

API_SERVICE = "orders-api"
WORKER_SERVICE = "orders-worker"
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
PROTOCOL_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
PROTOCOL = "http/protobuf"
# Probes and static files: a span for each would bury the requests people look for.
UNTRACED_URLS = "/healthz$,/readyz$,/docs-assets/,/console/static/"
# URL attributes of an HTTP client span, old and stable semantic conventions.
URL_ATTRIBUTES = ("http.url", "url.full")


class TelemetryError(Exception):
    """An `OTEL_*` setting this service can't honour; the message names it."""


class Tracing:
    """Tracing on: the provider every span of this process goes to, and how each part joins it."""

    def __init__(self, provider: TracerProvider) -> None:
        from orders.temporal_tracing import CommandTracing

        self.provider = provider
        self._interceptor = CommandTracing(provider.get_tracer("orders.temporal"))

    def interceptors(self) -> list[CommandTracing]:
        """For `Client.connect`: the client's calls, and the workers built on that client."""
        return [self._interceptor]

    def instrument_app(self, app: FastAPI) -> None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        # OTEL_PYTHON_FASTAPI_EXCLUDED_URLS, when set, is read by the instrumentation itself.
        excluded = None if os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS") else UNTRACED_URLS
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=self.provider, excluded_urls=excluded, exclude_spans=["receive", "send"]
        )

    def instrument_http(self, client: httpx.AsyncClient) -> None:
        """A span per request, and the W3C `traceparent` header on it."""
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor.instrument_client(
            client, tracer_provider=self.provider, request_hook=_shown_url
        )

    def flush(self, timeout_seconds: float = 5.0) -> None:
        """Export what is buffered (a process about to `os._exit` skips the SDK's own exit hook)."""
        self.provider.force_flush(int(timeout_seconds * 1000))


_active: Tracing | None = None


def active() -> Tracing | None:
    """This process's tracing, or None when it is off."""
    return _active


def wanted() -> bool:
    disabled = os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    return not disabled and any(os.environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def configure(default_service: str) -> Tracing | None:
    """Tracing for this process as the `OTEL_*` variables say, or None (no endpoint: off)."""
    global _active
    if not wanted():
        return None
    for name in PROTOCOL_VARIABLES:
        protocol = os.environ.get(name, "").strip()
        if protocol and protocol != PROTOCOL:
            raise TelemetryError(f"{name}={protocol} is not supported: traces go over {PROTOCOL}")
        if protocol:
            break
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=resource(default_service))  # the sampler: OTEL_TRACES_SAMPLER
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # OTEL_BSP_*, OTEL_EXPORTER_*
    trace.set_tracer_provider(provider)
    _active = Tracing(provider)
    return _active


def resource(default_service: str) -> Any:
    """`service.name` from OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES), else the default; the
    rest of OTEL_RESOURCE_ATTRIBUTES, and this service's version."""
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, OTELResourceDetector, Resource

    named = OTELResourceDetector().detect().attributes.get(SERVICE_NAME)
    attributes: dict[str, str] = {SERVICE_NAME: str(named or default_service)}
    with suppress(PackageNotFoundError):
        attributes[SERVICE_VERSION] = version("order-cancellation")
    return Resource.create(attributes)


@contextmanager
def activated(tracing: Tracing) -> Iterator[Tracing]:
    """`tracing` as this process's for the block (tests, with a provider of their own)."""
    global _active
    before, _active = _active, tracing
    try:
        yield tracing
    finally:
        _active = before


async def _shown_url(span: Span, request: Any) -> None:
    """The URL as failures show it (activities/delivery.py `shown`): a receiver's token in the query
    string or the userinfo stays out of the trace."""
    from activities.delivery import shown

    attributes = getattr(span, "attributes", None) or {}
    for name in URL_ATTRIBUTES:
        if name in attributes:
            span.set_attribute(name, shown(str(request.url)))
