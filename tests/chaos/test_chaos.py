"""Slow fault tests (`make chaos`): processes killed with SIGKILL, servers restarted, a receiver down for
a while, ten thousand commands to one order.

Real processes throughout: `python worker.py` as users run it, `temporal server start-dev` on a SQLite
file, a loopback HTTP receiver. Durations are short and configured (grace periods of seconds), and every
wait is a bounded poll. docs/reliability.md reports the figures these tests print.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, Status
from domain.state import OrderState
from orders.client import OrdersClient
from orders.errors import TemporalUnavailable
from orders.settings import Settings
from tests.kit.faults import SIGNALS_PER_RUN, flood
from tests.kit.history import all_runs, check_timeline, moves, stuck
from tests.kit.orders import PAYMENT_AND_STOCK, place
from tests.kit.polling import eventually
from tests.kit.processes import children, connect, dev_server, free_port, kill, processes, start_worker
from tests.kit.receiver import SECRET, Receiver
from tests.kit.worker import read_events, running_worker, settings_for
from workflows.names import workflow_id
from workflows.order_workflow import COMMANDS_PER_RUN

pytestmark = pytest.mark.chaos

# Recommended for every Temporal that runs orders (docs/reliability.md, "Flood"): at most 2,000 signals
# per run (Temporal's default is 10,000). A worker coming back to a run holds its signals in one
# workflow task, and 10,000 of them take longer than the SDK's 2 s deadlock limit on a busy 2-core
# machine, which wedges the order; 2,000 take a fifth of it. Runs continue as new long before.
SIGNALS_CAP = f"history.maximumSignalsPerExecution={SIGNALS_PER_RUN}"


async def state_or_none(orders: OrdersClient, order_id: str) -> OrderState | None:
    """The order's state, or None while nobody answers (a restarted worker takes over the orders a dead
    one had cached once their sticky queue times out, a few seconds)."""
    try:
        return await orders.state(order_id)
    except TemporalUnavailable:
        return None


async def reaches(orders: OrdersClient, order_id: str, status: Status, timeout: float = 15) -> OrderState:
    state = await eventually(
        lambda: state_or_none(orders, order_id),
        lambda s: s is not None and s.status is status,
        timeout=timeout,
    )
    assert state is not None
    return state


def effects(settings: Settings, order_id: str) -> list[str]:
    return [e["type"] for e in read_events(settings.event_log) if e["order_id"] == order_id]


# 1. The worker killed inside the grace window, back after the deadline


async def test_a_worker_killed_in_the_window_and_back_after_the_deadline_loses_and_doubles_nothing(
    tmp_path: Path, receiver: Receiver
) -> None:
    grace = 8
    hung: list[float] = []

    def behaviour(event: dict[str, Any], attempt: int) -> str:
        if event["type"] == "payment.void" and event["order_id"].startswith("in-flight") and attempt == 1:
            hung.append(time.monotonic())
            return "hang"  # the worker is killed while this delivery waits for its answer
        return "ok"

    receiver.behaviour, receiver.hang_seconds = behaviour, 4.0
    port = free_port()
    settings = settings_for(
        tmp_path, grace_period_seconds=grace, webhook_url=receiver.url, webhook_secret=SECRET
    )
    async with processes() as started:
        started.append(dev_server(tmp_path / "temporal.db", port, tmp_path / "server.log"))
        client = await connect(port)
        orders = OrdersClient(client, settings.model_copy(update={"update_timeout_seconds": 2.0}))
        env = {"TEMPORAL_ADDRESS": f"localhost:{port}"}
        worker = start_worker(settings, tmp_path / "worker-1.log", **env)
        started.append(worker)
        await worker.logged("worker polling")

        idle, before, after, stamped = [
            await place(orders, order_id=f"{name}-{uuid.uuid4().hex[:6]}")
            for name in ("idle", "before", "after", "stamped")
        ]
        in_flight = await place(orders, order_id=f"in-flight-{uuid.uuid4().hex[:6]}")
        states = {
            o: await reaches(orders, o, Status.WINDOW_TO_CANCEL) for o in (idle, before, after, stamped)
        }
        await eventually(
            lambda: _now(receiver.tries(in_flight)), lambda t: t.get(f"{in_flight}:order.status-changed:1")
        )
        canceling = await orders.send(in_flight, Action.REQUEST_CANCELLATION, {"actor": "customer"})
        assert canceling.state is not None and canceling.state.status is Status.CANCEL
        await eventually(lambda: _now(len(hung)), bool)  # the payment delivery is on the wire

        worker.sigkill()  # inside every order's grace window
        killed_at = datetime.now(UTC)
        deadline = max(s.grace_deadline for s in states.values() if s.grace_deadline)
        assert killed_at < deadline - timedelta(seconds=2)

        # No worker: commands are queued as signals (the update finds nobody within 2 s).
        queued = await orders.send(
            before, Action.REQUEST_CANCELLATION, {"actor": "customer", "reason": "early"}
        )
        assert queued.queued and datetime.now(UTC) < deadline
        await asyncio.sleep(max((deadline - datetime.now(UTC)).total_seconds(), 0) + 0.5)
        late = await orders.send(after, Action.REQUEST_CANCELLATION, {"actor": "customer", "reason": "late"})
        inside = states[stamped].placed_at + timedelta(seconds=grace / 2)
        body = {"actor": "customer", "reason": "asked in time", "requested_at": inside.isoformat()}
        stamped_late = await orders.send(stamped, Action.REQUEST_CANCELLATION, body)
        assert late.queued and stamped_late.queued and datetime.now(UTC) > deadline

        worker = start_worker(settings, tmp_path / "worker-2.log", **env)  # back after the deadline
        started.append(worker)
        restarted = time.monotonic()
        await worker.logged("worker polling")

        ready = await reaches(orders, idle, Status.READY_FOR_HANDLING, timeout=30)
        assert moves(ready) == ["window-to-cancel", "ready-for-handling"]
        assert ready.timeline[1].at == states[idle].grace_deadline  # the timer that fired while down
        for order_id in (before, stamped):  # made inside the window: canceled at once, no approval
            final = await reaches(orders, order_id, Status.CANCELED, timeout=30)
            assert "cancellation-requested" not in moves(final), moves(final)
        waiting = await reaches(orders, after, Status.CANCELLATION_REQUESTED, timeout=30)
        assert moves(waiting) == ["window-to-cancel", "ready-for-handling", "cancellation-requested"]
        # The delivery lost with the worker is retried once its start-to-close timeout passes: 30 s per
        # delivery in sequence, 60 s for the compensation's two waves.
        await reaches(orders, in_flight, Status.CANCELED, timeout=90)
        recovered = time.monotonic() - restarted

        for order_id in (idle, before, after, stamped, in_flight):
            state = await orders.state(order_id)
            check_timeline(state)
            tries = receiver.tries(order_id)
            done = [key for key in receiver.done if key.startswith(f"{order_id}:")]
            undone = [key for key in done if key.split(":")[1] in PAYMENT_AND_STOCK]
            assert len(undone) == (2 if state.status is Status.CANCELED else 0), done
            assert sorted(state.effects) == sorted(k for k in done if ":order.status-changed" not in k)
            assert all(count <= 2 for count in tries.values()), tries  # a retry, never a second effect
        assert receiver.tries(in_flight)[f"{in_flight}:payment.void"] == 2  # hung, then retried: same key
        assert effects(settings, idle) == []  # everything went to the receiver
        assert any(key.startswith(f"{after}:store.decision-needed:") for key in receiver.done)
    print(f"worker back after the deadline: every order settled {recovered:.1f} s after the restart")


async def _now(value: Any) -> Any:
    return value


# 2. The embedded Temporal killed with orders in every status, restarted on the same database


async def test_the_embedded_temporal_killed_with_orders_in_every_status_comes_back_with_all_of_them(
    tmp_path: Path, receiver: Receiver
) -> None:
    blocked: set[str] = set()  # orders whose payment the receiver refuses for now

    def behaviour(event: dict[str, Any], attempt: int) -> str:
        return "fail" if event["order_id"] in blocked and event["type"].startswith("payment.") else "ok"

    receiver.behaviour = behaviour
    port = free_port(pair=True)
    settings = settings_for(tmp_path, webhook_url=receiver.url, webhook_secret=SECRET)
    embedded = {"ORDERS_EMBEDDED_PORT": str(port)}
    async with processes() as started:
        worker = start_worker(settings, tmp_path / "worker-1.log", **embedded)
        started.append(worker)
        await worker.logged("worker polling", timeout=90)
        orders = OrdersClient(await connect(port), settings)

        async def order(status: Status, **overrides: Any) -> str:
            return await place(orders, order_id=f"{status.value}-{uuid.uuid4().hex[:6]}", **overrides)

        long = {"grace_period_seconds": 3600}
        pending = await order(Status.PAYMENT_PENDING, payment_approved=False)
        window = await order(Status.WINDOW_TO_CANCEL, **long)
        expiring = await order(Status.WINDOW_TO_CANCEL, grace_period_seconds=6)
        ready, handling, requested, deciding, partial, canceled, invoiced = [
            await order(s, grace_period_seconds=1, **extra)
            for s, extra in [
                (Status.READY_FOR_HANDLING, {}),
                (Status.HANDLING, {}),
                (Status.CANCELLATION_REQUESTED, {}),
                (Status.CANCELLATION_REQUESTED, {"decision_timeout_seconds": 8}),
                (Status.HANDLING, {}),
                (Status.CANCELED, {}),
                (Status.INVOICED, {}),
            ]
        ]
        canceling = await order(Status.CANCEL, **long)
        blocked.add(canceling)  # its compensation waits for the payment receiver: stays in `cancel`
        for order_id in (ready, handling, requested, deciding, partial, canceled, invoiced):
            await reaches(orders, order_id, Status.READY_FOR_HANDLING)
        await orders.send(handling, Action.START_HANDLING, {"actor": "store"})
        asked = await orders.send(
            requested, Action.REQUEST_CANCELLATION, {"actor": "customer", "request_id": "keep-me"}
        )
        await orders.send(deciding, Action.REQUEST_CANCELLATION, {"actor": "customer"})
        await orders.send(partial, Action.INVOICE, {"actor": "erp", "invoice_number": "NF-1", "value": 5000})
        await orders.send(canceled, Action.REQUEST_CANCELLATION, {"actor": "store"})
        await orders.send(canceled, Action.CONFIRM_CANCELLATION, {"actor": "store"})
        await orders.send(
            invoiced, Action.INVOICE, {"actor": "erp", "invoice_number": "NF-1", "value": 12990}
        )
        await orders.send(canceling, Action.REQUEST_CANCELLATION, {"actor": "erp", "reason": "fraud"})
        expected = {
            pending: Status.PAYMENT_PENDING, window: Status.WINDOW_TO_CANCEL,
            expiring: Status.WINDOW_TO_CANCEL, ready: Status.READY_FOR_HANDLING, handling: Status.HANDLING,
            requested: Status.CANCELLATION_REQUESTED, deciding: Status.CANCELLATION_REQUESTED,
            partial: Status.HANDLING, canceled: Status.CANCELED, invoiced: Status.INVOICED,
            canceling: Status.CANCEL,
        }  # fmt: skip
        await reaches(orders, canceled, Status.CANCELED, timeout=60)
        before = {o: await orders.state(o) for o in expected}
        assert {o: s.status for o, s in before.items()} == expected
        deadlines = [before[expiring].grace_deadline, before[deciding].decision_deadline]
        assert all(deadlines)

        servers = [p for p in children(worker.pid) if "temporal" in Path(f"/proc/{p}/cmdline").read_text()]
        assert len(servers) == 1, servers
        kill(servers[0])  # SIGKILL: no shutdown, whatever SQLite had not written yet is lost
        killed = time.monotonic()
        # The worker doesn't poll a dead server: it exits non-zero, for its supervisor to restart it.
        code = await eventually(
            lambda: asyncio.to_thread(worker.popen.poll), lambda c: c is not None, timeout=15
        )
        assert code == 1 and "the embedded Temporal exited" in worker.log.read_text()
        stopped = f"exit code {code} {time.monotonic() - killed:.1f} s after its server died"
        await asyncio.sleep(max((max(deadlines) - datetime.now(UTC)).total_seconds(), 0) + 1)

        worker = start_worker(settings, tmp_path / "worker-2.log", **embedded)  # same data dir, same database
        started.append(worker)
        await worker.logged("worker polling", timeout=90)
        back = time.monotonic()
        orders = OrdersClient(await connect(port), settings)

        for order_id in expected:
            await eventually(lambda o=order_id: state_or_none(orders, o), bool, timeout=30)
        expected |= {expiring: Status.READY_FOR_HANDLING, deciding: Status.CANCELED}
        await reaches(orders, expiring, Status.READY_FOR_HANDLING, timeout=30)
        await reaches(orders, deciding, Status.CANCELED, timeout=30)
        after = {o: await orders.state(o) for o in expected}
        assert {o: s.status for o, s in after.items()} == expected
        timers_fired = time.monotonic() - back
        assert after[expiring].timeline[1].at == before[expiring].grace_deadline
        decided = after[deciding].cancellation
        assert decided is not None and decided.requested_by == "system"
        assert (
            after[requested].pending_request is not None and after[requested].pending_request.id == "keep-me"
        )
        assert after[requested].decision_deadline == before[requested].decision_deadline
        assert asked.state is not None and after[requested].timeline == before[requested].timeline
        for order_id in (pending, window, ready, handling, partial, canceled, invoiced):
            assert after[order_id].timeline == before[order_id].timeline, order_id
        assert after[partial].partially_invoiced and after[invoiced].invoiced_value == 12990
        # The cancel that was stuck on the payment receiver finishes once it accepts, with effects once.
        blocked.clear()
        await reaches(orders, canceling, Status.CANCELED, timeout=90)
        for order_id in (canceled, canceling, deciding):
            done = [
                k
                for k in receiver.done
                if k.startswith(f"{order_id}:") and k.split(":")[1] in PAYMENT_AND_STOCK
            ]
            assert len(done) == 2, done
        # Listing by status (search attributes) agrees after the restart.
        listed = await eventually(
            lambda: orders.list_orders(status=Status.CANCELLATION_REQUESTED),
            lambda found: {s.order_id for s in found} == {requested},
            timeout=30,
        )
        assert listed
    print(
        f"embedded Temporal down {back - killed:.1f} s; the worker: {stopped}; "
        f"timers that expired meanwhile fired {timers_fired:.1f} s after the restart"
    )


# 3. The receiver down, answering 500, then hanging past the timeout


async def test_effects_arrive_once_after_the_receiver_was_down_failing_and_hanging(
    dev_env: WorkflowEnvironment, tmp_path: Path, receiver: Receiver
) -> None:
    phase = "down"

    def behaviour(event: dict[str, Any], attempt: int) -> str:
        return {"failing": "fail", "hanging": "hang"}.get(phase, "ok")

    receiver.behaviour, receiver.hang_seconds = behaviour, 3.0
    receiver.stop()  # down: connections refused
    settings = settings_for(
        tmp_path, webhook_url=receiver.url, webhook_secret=SECRET, webhook_timeout_seconds=1.0
    )
    async with running_worker(dev_env.client, settings) as orders:
        order_id = await place(orders, payment={"method": "credit-card", "captured": True})
        asked = time.monotonic()
        result = await orders.send(
            order_id, Action.REQUEST_CANCELLATION, {"actor": "customer", "reason": "oops"}
        )
        assert result.state is not None and result.state.status is Status.CANCEL
        await asyncio.sleep(6)
        assert (await orders.state(order_id)).status is Status.CANCEL
        receiver.start()  # up again on the same port, but failing
        phase = "failing"
        await eventually(lambda: _now(receiver.tries(order_id)), lambda t: sum(t.values()) >= 3, timeout=30)
        phase = "hanging"
        await eventually(
            lambda: _now([a for a in receiver.attempts if a.answer == "hang"]),
            lambda h: len(h) >= 2,
            timeout=60,
        )
        assert (await orders.state(order_id)).status is Status.CANCEL
        phase = "ok"
        recovering = time.monotonic()
        final = await reaches(orders, order_id, Status.CANCELED, timeout=90)
        settled = time.monotonic()

    tries = receiver.tries(order_id)
    effects_done = {k: e for k, (_, e) in receiver.done.items() if k.startswith(f"{order_id}:")}
    assert sorted(final.effects) == sorted(
        k for k, e in effects_done.items() if e["type"] != "order.status-changed"
    )
    for effect in ("payment.refund", "stock.release"):
        assert tries[f"{order_id}:{effect}"] >= 3, tries  # refused while down, failing, hanging
    keys_by_type: dict[str, set[str]] = {}
    for attempt in receiver.attempts:
        if attempt.key.startswith(f"{order_id}:"):
            keys_by_type.setdefault(attempt.type + attempt.key.rsplit(":", 1)[-1], set()).add(attempt.key)
    assert all(len(keys) == 1 for keys in keys_by_type.values())  # the same Idempotency-Key on every retry
    assert all(a.signed for a in receiver.attempts)
    canceled_at = next(e.at for e in final.timeline if e.to_status is Status.CANCELED).timestamp()
    wall = time.time() - time.monotonic()
    for effect in ("payment.refund", "stock.release"):
        assert receiver.done[f"{order_id}:{effect}"][0] + wall <= canceled_at + 0.05
    print(
        f"receiver down 6 s, failing, then hanging: {sum(tries.values())} attempts for {len(tries)} events; "
        f"canceled {settled - recovering:.1f} s after it recovered, {settled - asked:.1f} s after the request"
    )


# 4. Ten thousand commands to one order


async def test_ten_thousand_commands_to_one_order_keep_history_bounded_and_state_intact(
    tmp_path: Path,
) -> None:
    port = free_port()
    settings = settings_for(tmp_path, grace_period_seconds=1, decision_timeout_seconds=90)
    async with processes() as started:
        started.append(
            dev_server(
                tmp_path / "temporal.db", port, tmp_path / "server.log",
                "limit.historyCount.suggestContinueAsNew=1000", SIGNALS_CAP,
            )
        )  # fmt: skip
        client = await connect(port)
        orders = OrdersClient(client, settings)
        worker = start_worker(settings, tmp_path / "worker.log", TEMPORAL_ADDRESS=f"localhost:{port}")
        started.append(worker)
        await worker.logged("worker polling")

        order_id = await place(orders)
        await reaches(orders, order_id, Status.READY_FOR_HANDLING)
        first = await orders.send(
            order_id, Action.REQUEST_CANCELLATION, {"actor": "customer", "request_id": "r-1"}
        )
        assert first.state is not None and first.state.status is Status.CANCELLATION_REQUESTED
        handle = client.get_workflow_handle(workflow_id(order_id))
        started_at = time.monotonic()
        signals, updates = await asyncio.gather(
            flood(handle, 9_900, concurrency=16),
            asyncio.gather(*(_verdict(orders, order_id, n) for n in range(100))),
        )
        flooded = time.monotonic() - started_at
        state = await eventually(lambda: state_or_none(orders, order_id), bool, timeout=60)
        assert state is not None
        runs = await all_runs(client, order_id)
        lengths = [len(events) for _, events in runs]
        print(
            f"10,000 commands in {flooded:.1f} s ({10_000 / flooded:.0f}/s): server answers {signals}, "
            f"updates {sum(updates)} taken; {len(runs)} runs of at most {max(lengths)} events "
            f"(mean {sum(lengths) / len(lengths):.0f}); problems {[p for _, e in runs for p in stuck(e)][:3]}"
        )
        # Bounded: runs continue as new after COMMANDS_PER_RUN commands when the worker keeps up, and at the
        # server's cap of 2,000 signals when it does not (a continue-as-new is refused while signals
        # keep arriving); past the cap the server refuses signals, and the senders are told so.
        assert len(runs) >= 3 and max(lengths) <= SIGNALS_PER_RUN + 400, lengths
        limit = "exceeded workflow execution limit for signal events"
        assert set(signals) <= {"taken", limit} and signals["taken"] >= 2 * COMMANDS_PER_RUN, signals
        assert [p for _, events in runs for p in stuck(events)] == []
        assert state.status is Status.CANCELLATION_REQUESTED and state.pending_request is not None
        assert state.pending_request.id == "r-1" and state.decision_deadline == first.state.decision_deadline
        assert moves(state) == ["window-to-cancel", "ready-for-handling", "cancellation-requested"]
        # The decision timer survived every continue-as-new: the store did not decide, so it cancels.
        assert first.state.decision_deadline is not None
        remaining = (first.state.decision_deadline - datetime.now(UTC)).total_seconds()
        final = await reaches(orders, order_id, Status.CANCELED, timeout=max(remaining, 0) + 60)
        assert final.cancellation is not None and final.cancellation.requested_by == "system"
        decided = next(e for e in final.timeline if e.action is Action.DECISION_TIMEOUT)
        assert decided.at == first.state.decision_deadline
        assert sorted(e for e in effects(settings, order_id) if e in PAYMENT_AND_STOCK) == [
            "payment.void",
            "stock.release",
        ]
        assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED


async def _verdict(orders: OrdersClient, order_id: str, n: int) -> bool:
    """One update of the flood: the customer asks again (already waiting), or staff start handling."""
    action, body = (
        (Action.REQUEST_CANCELLATION, {"actor": "customer"})
        if n % 2
        else (Action.START_HANDLING, {"actor": "store"})
    )
    try:
        await orders.send(order_id, action, body)
    except Exception:
        return False
    return True


async def test_ten_thousand_signals_while_no_worker_ran_do_not_wedge_the_order(tmp_path: Path) -> None:
    """A worker coming back finds a run's signals in one workflow task, which must finish within the SDK's
    2 s deadlock limit. With the recommended cap the server takes 2,000 and refuses the rest (the client
    says so); the order handles them, continues as new, and takes signals again."""
    port = free_port()
    settings = settings_for(tmp_path, grace_period_seconds=1)
    async with processes() as started:
        started.append(dev_server(tmp_path / "temporal.db", port, tmp_path / "server.log", SIGNALS_CAP))
        client = await connect(port)
        orders = OrdersClient(client, settings)
        env = {"TEMPORAL_ADDRESS": f"localhost:{port}"}
        worker = start_worker(settings, tmp_path / "worker-1.log", **env)
        started.append(worker)
        await worker.logged("worker polling")
        order_id = await place(orders)
        await reaches(orders, order_id, Status.READY_FOR_HANDLING)
        await orders.send(order_id, Action.REQUEST_CANCELLATION, {"actor": "customer", "request_id": "r-1"})
        worker.stop()

        handle = client.get_workflow_handle(workflow_id(order_id))
        answers = await flood(handle, 10_000, concurrency=32)
        taken = answers.pop("taken", 0)
        assert taken <= SIGNALS_PER_RUN and sum(answers.values()) == 10_000 - taken, answers
        assert all("exceeded workflow execution limit for signal events" in a for a in answers), answers
        with pytest.raises(TemporalUnavailable, match="takes no more commands for now"):
            await orders.send(order_id, Action.START_HANDLING, {"actor": "store"}, as_signal=True)

        worker = start_worker(settings, tmp_path / "worker-2.log", **env)
        started.append(worker)
        await worker.logged("worker polling")
        back = time.monotonic()
        runs = await eventually(lambda: all_runs(client, order_id), lambda r: len(r) >= 2, timeout=60)
        handled = time.monotonic() - back
        state = await eventually(lambda: state_or_none(orders, order_id), bool, timeout=30)
        assert state is not None
        print(
            f"{taken} piled-up signals handled and the run continued as new {handled:.1f} s after the restart"
        )
        assert [p for _, events in runs for p in stuck(events)] == []
        assert "Potential deadlock" not in worker.log.read_text()
        assert state.status is Status.CANCELLATION_REQUESTED and state.pending_request is not None
        assert state.pending_request.id == "r-1"
        assert (await flood(handle, 10, concurrency=1)) == {"taken": 10}  # the new run takes signals again
