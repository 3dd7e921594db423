"""Connecting to Temporal: the standard environment configuration, or the embedded dev server."""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError, RPCStatusCode

from orders import telemetry
from orders.converter import DATA_CONVERTER
from orders.settings import Settings, environment
from workflows.metrics import DECISION_BUCKETS, DECISION_SECONDS
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

DEFAULT_NAMESPACE = "default"


def temporal_profile() -> ClientConfigProfile:
    """TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS and `temporal.toml` profiles,
    exactly as the `temporal` CLI reads them, from the environment or `.env`."""
    return ClientConfigProfile.load(override_env_vars=environment())


def uses_embedded_server(profile: ClientConfigProfile) -> bool:
    return not profile.address


def embedded_address(settings: Settings) -> str:
    return f"localhost:{settings.embedded_port}"


def namespace_of(profile: ClientConfigProfile) -> str:
    return profile.namespace or DEFAULT_NAMESPACE


def metrics_runtime(port: int, host: str = "127.0.0.1") -> Runtime:
    """A runtime whose metrics Prometheus scrapes: the SDK's (workflow and activity latencies, task
    queues) and the orders' own (workflows/metrics.py). Unauthenticated, so loopback unless `host`
    (ORDERS_METRICS_HOST) says otherwise."""
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    prometheus = PrometheusConfig(
        bind_address=address, histogram_bucket_overrides={DECISION_SECONDS: DECISION_BUCKETS}
    )
    return Runtime(telemetry=TelemetryConfig(metrics=prometheus))


async def connect(
    settings: Settings, profile: ClientConfigProfile | None = None, runtime: Runtime | None = None
) -> Client:
    profile = profile or temporal_profile()
    config = profile.to_client_connect_config()
    config.setdefault("target_host", embedded_address(settings))
    tracing = telemetry.active()
    return await Client.connect(
        **config,
        data_converter=DATA_CONVERTER,
        runtime=runtime,
        # On the client, the tracing interceptor also applies to the workers built on it.
        interceptors=tracing.interceptors() if tracing else [],
    )


async def connect_when_up(
    settings: Settings, profile: ClientConfigProfile, runtime: Runtime | None, timeout: float = 30.0
) -> Client:
    """`connect` to a server just started: its port opens before its frontend is ready, which then
    answers "not healthy yet" for a moment; retried until `timeout`, the last error raised."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await connect(settings, profile, runtime)
        except RuntimeError as err:
            if "not healthy" not in str(err) or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def ensure_search_attributes(client: Client) -> None:
    """Register the search attributes orders keep current where they are missing (idempotent).

    The dev server's `--search-attribute` flag is ignored once its database exists, so the worker
    registers them through the operator service on every start."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        existing = set(listed.custom_attributes)
    except RPCError as err:
        if err.status is not RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server can't list
            raise
        existing = set()
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type)
        for key in SEARCH_ATTRIBUTES
        if key.name not in existing
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
