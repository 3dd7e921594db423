"""`python -m bench.worker orders|baseline`: one benchmark worker, in a process of its own.

The order worker is the project's own (`worker.build_worker`, tuned by the `ORDERS_WORKER_*` knobs);
the baseline worker runs the floor (`FloorWorkflow` and its activity, unsandboxed) with the same knobs,
so the two differ only in the workflow. Temporal's address comes from
`TEMPORAL_ADDRESS`, everything else from `ORDERS_*`.
Prints `READY` once polling; SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from temporalio.worker import Worker

from bench.baseline import BASELINE_TASK_QUEUE, FloorWorkflow, write_effects
from orders.connection import connect
from orders.settings import Settings
from worker import build_sink, build_worker, worker_options


async def run(kind: str) -> None:
    settings = Settings(_env_file=None)
    client = await connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    sink = build_sink(settings)
    if kind == "orders":
        worker = build_worker(client, settings, sink)
    else:
        worker = Worker(
            client,
            task_queue=BASELINE_TASK_QUEUE,
            workflows=[FloorWorkflow],
            activities=[write_effects],
            **worker_options(settings),
        )
    try:
        async with worker:
            print("READY", flush=True)
            await stop.wait()
    finally:
        await sink.aclose()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if len(sys.argv) != 2 or sys.argv[1] not in ("orders", "baseline"):
        raise SystemExit("usage: python -m bench.worker orders|baseline")
    asyncio.run(run(sys.argv[1]))


if __name__ == "__main__":
    main()
