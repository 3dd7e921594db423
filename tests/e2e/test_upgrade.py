"""The 1.0 promise (docs/versioning.md, "The upgrade test"): orders the released 1.0.0 worker left waiting in
every state finish on today's worker, on the same Temporal database, with no workflow task failing (or
timing out, but for the two kinds that doc names) and every effect delivered once.

The 1.0.0 code comes from git (`git archive` of the release commit into a temporary directory) and its
worker runs from there with this venv's Python, against `temporal server start-dev` on a SQLite file. It
stops, the deadlines due meanwhile pass with no worker, and today's `python worker.py` takes over the same
task queue. The test speaks only the wire contract (docs/lifecycle.md, docs/events.md): the workflow type
and id, the commands' names and JSON, the `state` query, the `OrderStatus` search attribute and the events
a real webhook receiver gets, so the Python behind them may move freely.
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType, TaskQueueKind, TimeoutType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import SearchAttributeKey

from tests.kit.history import all_runs, history_problems, quiet
from tests.kit.paths import ORDERS as ORDERS_CLI
from tests.kit.paths import ROOT
from tests.kit.polling import eventually
from tests.kit.processes import Process, connect, dev_server, free_port, processes, start_worker, worker_env
from tests.kit.receiver import SECRET, Receiver
from tests.kit.worker import settings_for

V1_0 = "0e77bbf7197c514817858524ba42a8f039f36c97"  # tag v1.0.0, by hash: a clone may not have the tags
V1_0_CODE = ("worker.py", "activities", "domain", "orders", "workflows")  # what its worker and CLI import
DOWN = 16  # seconds from an order's setup on 1.0 to its deadline due with no worker (docs/versioning.md)
LONG = 3600  # seconds: a deadline no run of the test reaches
ITEMS = [{"sku": "A1", "quantity": 2, "price": 4000}, {"sku": "B2", "quantity": 1, "price": 4990}]
TOTAL = sum(item["price"] * item["quantity"] for item in ITEMS)
B2 = ITEMS[1]["price"]  # the line a customer cancels
# The store's settings, for orders placed without their own durations; no reminders unless an order asks.
STORE = {
    "ORDERS_GRACE_PERIOD_SECONDS": str(LONG),
    "ORDERS_DECISION_TIMEOUT_SECONDS": str(LONG),
    "ORDERS_PAYMENT_TIMEOUT_SECONDS": str(LONG),
    "ORDERS_DECISION_REMINDERS": "",
}
ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")


# What a scenario does to its order, on 1.0 and on today's worker


@dataclass(frozen=True)
class Send:
    """A command as an update, by its name and JSON (docs/lifecycle.md), through the Python SDK's client
    or, with `cli`, the `temporal` CLI; `refused`: words its refusal must contain. With `signal`, sent as
    a signal (fire and forget), as an ERP may."""

    name: str
    payload: dict[str, Any]
    cli: bool = False
    refused: str | None = None
    signal: bool = False


@dataclass(frozen=True)
class OrdersCli:
    """A command through today's `orders` tool (docs/cli.md): `orders VERB ORDER_ID ARGS...`."""

    verb: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reaches:
    """Wait until the order shows this status (a window of 0 s closes in a workflow task of its own)."""

    status: str


Step = Send | OrdersCli | Reaches


def customer_asks(refused: str | None = None) -> Send:
    return Send("request_cancellation", {"actor": "customer", "reason": "changed my mind"}, refused=refused)


def items_asked(sku: str, quantity: int) -> Send:
    items = [{"sku": sku, "quantity": quantity}]
    return Send("cancel_items", {"actor": "customer", "reason": "wrong size", "items": items})


def invoice(value: int, number: str = "NF-1", cli: bool = False) -> Send:
    return Send("invoice", {"actor": "erp", "invoice_number": number, "value": value}, cli=cli)


def extend(deadline: str) -> Send:
    return Send(f"extend_{deadline}", {"actor": "store", "seconds": LONG, "reason": "customer on holiday"})


CONFIRM = Send("confirm_cancellation", {"actor": "store"})
DENY = Send("deny_cancellation", {"actor": "store", "reason": "already packed"})
START_HANDLING = Send("start_handling", {"actor": "store"})
PLACED = Reaches("ready-for-handling")  # placed with a window of 0 s, and the window closed

# What happens while no worker runs
FIRES = "its timer fires"
MOVED = "its first deadline passes, moved later on 1.0"

# Effects, as the receiver gets them (status changes aside: those are checked against the timeline): the
# event's type, with the amount of a payment and the message of a customer notification.
ASKED = ("store.decision-needed",)
DENIED = ("customer.notify cancellation-denied",)
UNDONE = (f"payment.void {TOTAL}", "stock.release", "customer.notify order-canceled")
B2_UNDONE = (f"payment.void {B2}", "stock.release", "customer.notify items-canceled")


@dataclass(frozen=True)
class Scenario:
    name: str
    order: dict[str, Any]  # the workflow input beside the id, customer, total and items
    on_1_0: tuple[Step, ...]  # sent while the 1.0 worker runs
    waits_in: str  # its status when the 1.0 worker stops
    on_today: tuple[Step, ...]  # sent once today's worker caught up with what came due
    final: str
    effects: tuple[str, ...]  # every effect of its life, each delivered once
    while_down: str = ""  # FIRES or MOVED: a deadline DOWN seconds after its setup passes with no worker
    resumes_in: str = ""  # its status once today's worker caught up, when not `waits_in`
    placed_with_1_0_cli: bool = False  # by 1.0's `orders place` (memo and search attributes at the start)
    payment_refused_on_1_0: bool = False  # the receiver refuses its payment effect until the upgrade

    @property
    def timed(self) -> bool:
        """Set up last on 1.0: its deadline then passes after the stop, and its refused payment's next
        retry (1, 2, 4, 8 s... apart) comes soon after the upgrade."""
        return bool(self.while_down) or self.payment_refused_on_1_0


SCENARIOS = [
    Scenario(
        "window-open", {}, placed_with_1_0_cli=True,  # the store's grace period (LONG), from 1.0's settings
        on_1_0=(), waits_in="window-to-cancel",
        on_today=(customer_asks(),), final="canceled", effects=UNDONE,
    ),
    Scenario(
        "window-ends-while-down", {"grace_period_seconds": DOWN},
        on_1_0=(), waits_in="window-to-cancel", while_down=FIRES, resumes_in="ready-for-handling",
        on_today=(START_HANDLING, invoice(TOTAL)), final="invoiced", effects=(),
    ),
    Scenario(
        "window-extended", {"grace_period_seconds": DOWN},
        on_1_0=(extend("grace_period"),), waits_in="window-to-cancel", while_down=MOVED,
        on_today=(customer_asks(),), final="canceled", effects=UNDONE,  # at once: inside the moved window
    ),
    Scenario(
        "request-pending", {"grace_period_seconds": 0},
        on_1_0=(PLACED, customer_asks()), waits_in="cancellation-requested",
        on_today=(Send("confirm_cancellation", {"actor": "store"}, cli=True),), final="canceled",
        effects=ASKED + UNDONE,
    ),
    Scenario(
        "decision-deadline-passes-while-down", {"grace_period_seconds": 0, "decision_timeout_seconds": DOWN},
        on_1_0=(PLACED, customer_asks()), waits_in="cancellation-requested", while_down=FIRES,
        resumes_in="canceled", on_today=(), final="canceled", effects=ASKED + UNDONE,
    ),
    Scenario(
        "decision-deadline-extended", {"grace_period_seconds": 0, "decision_timeout_seconds": DOWN},
        on_1_0=(PLACED, customer_asks(), extend("decision_deadline")), waits_in="cancellation-requested",
        while_down=MOVED, on_today=(OrdersCli("confirm"),), final="canceled", effects=ASKED + UNDONE,
    ),
    Scenario(
        "reminder-due-while-down", {"grace_period_seconds": 0, "reminder_offsets": [LONG - DOWN]},
        on_1_0=(PLACED, customer_asks()), waits_in="cancellation-requested", while_down=FIRES,
        on_today=(DENY, invoice(TOTAL)), final="invoiced",
        effects=(*ASKED, "store.decision-reminder", *DENIED),
    ),
    Scenario(
        "denied-then-invoiced", {"grace_period_seconds": 0},
        on_1_0=(PLACED, customer_asks(), DENY), waits_in="ready-for-handling",
        on_today=(OrdersCli("invoice", ("--number", "NF-1", "--value", f"{TOTAL / 100}", "--as", "erp")),),
        final="invoiced", effects=ASKED + DENIED,
    ),
    Scenario(
        "handling", {"grace_period_seconds": 0},
        on_1_0=(PLACED, START_HANDLING), waits_in="handling",
        on_today=(customer_asks(), CONFIRM), final="canceled",
        effects=(*ASKED, f"payment.void {TOTAL}", "store.restock-needed", "customer.notify order-canceled"),
    ),
    Scenario(
        "partially-invoiced", {"grace_period_seconds": 0},
        on_1_0=(PLACED, invoice(5000)), waits_in="handling",
        on_today=(customer_asks(refused="partially invoiced"), invoice(TOTAL - 5000, "NF-2", cli=True)),
        final="invoiced", effects=(),
    ),
    Scenario(
        "payment-pending", {"payment_approved": False, "grace_period_seconds": 0},
        on_1_0=(), waits_in="payment-pending",
        on_today=(Send("approve_payment", {}), PLACED, invoice(TOTAL)), final="invoiced", effects=(),
    ),
    Scenario(
        "payment-times-out-while-down", {"payment_approved": False, "payment_timeout_seconds": DOWN},
        on_1_0=(), waits_in="payment-pending", while_down=FIRES, resumes_in="canceled",
        on_today=(), final="canceled", effects=("stock.release", "customer.notify order-canceled"),
    ),  # nothing was authorized: nothing to void
    Scenario(
        "items-canceled", {},
        on_1_0=(items_asked("B2", 1),), waits_in="window-to-cancel",
        on_today=(Send("request_cancellation", {"actor": "erp", "reason": "fraud check"}),), final="canceled",
        effects=(*B2_UNDONE, f"payment.void {TOTAL - B2}", "stock.release", "customer.notify order-canceled"),
    ),
    Scenario(
        "item-request-pending", {"grace_period_seconds": 0},
        on_1_0=(PLACED, items_asked("B2", 1)), waits_in="cancellation-requested",
        on_today=(CONFIRM, PLACED, invoice(TOTAL - B2)), final="invoiced", effects=ASKED + B2_UNDONE,
    ),
    # What 1.0 took that today's code reads differently (docs/versioning.md): a surface it didn't know,
    # ignored then and now; and a 1.1 command signaled to the 1.0 worker, which kept it unhandled.
    Scenario(
        "unknown-channel", {"grace_period_seconds": 0},
        on_1_0=(PLACED, Send("request_cancellation", {"actor": "customer", "channel": "web"}, signal=True),
                Reaches("cancellation-requested")),
        waits_in="cancellation-requested", on_today=(CONFIRM,), final="canceled", effects=ASKED + UNDONE,
    ),
    Scenario(
        "new-command-signaled-to-1.0", {"grace_period_seconds": 0},
        on_1_0=(PLACED, Send("modify_order", {"actor": "store", "reason": "out of stock", "remove": {
            "items": [{"id": "B2", "quantity": 1}]}}, signal=True), START_HANDLING),
        waits_in="handling", on_today=(invoice(TOTAL),), final="invoiced", effects=(),
    ),
    Scenario(
        "canceling", {}, payment_refused_on_1_0=True,  # its refund is retried across the upgrade
        on_1_0=(customer_asks(),), waits_in="cancel", resumes_in="canceled",
        on_today=(), final="canceled", effects=UNDONE,
    ),
]  # fmt: skip


# The 1.0.0 code, from git


def git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)


def has_release_commit() -> bool:
    return shutil.which("git") is not None and git("cat-file", "-e", f"{V1_0}^{{commit}}").returncode == 0


def check_out_1_0(target: Path) -> Path:
    """The 1.0.0 worker's code in `target` (`git archive`: no worktree for git to remember)."""
    archive = git("archive", "--format=tar", V1_0, *V1_0_CODE)
    assert archive.returncode == 0, archive.stderr.decode()
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target


# Run from the checkout with `-c`, Python looks there first (sys.path[0]) and then at this tree, which the
# venv has installed as editable; the worker's first line says which code it loaded.
LAUNCH_1_0 = (
    "import runpy, workflows.order_workflow as w, domain.lifecycle as d; "
    "print('workflow code from', w.__file__, 'and', d.__file__, flush=True); "
    "runpy.run_path('worker.py', run_name='__main__')"
)


def loaded_from(tree: Path) -> str:
    return f"workflow code from {tree}/workflows/order_workflow.py and {tree}/domain/lifecycle.py"


async def place_with_1_0_cli(tree: Path, env: dict[str, str], order_id: str) -> None:
    items = [f"--item={i['sku']}:{i['quantity']}:{i['price'] / 100:.2f}" for i in ITEMS]
    args = [sys.executable, "-c", "from orders.cli import main; main()", "place", order_id]
    args += ["--customer", "c-42", "--total", f"{TOTAL / 100:.2f}", *items]
    done = await asyncio.to_thread(subprocess.run, args, cwd=tree, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# Orders over the wire


async def run_tool(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, args, env=env, capture_output=True, text=True, timeout=60)


def temporal() -> str:
    return shutil.which("temporal") or str(Path(sys.executable).with_name("temporal"))


@dataclass
class Orders:
    client: Client
    address: str
    task_queue: str
    env: dict[str, str]  # the `orders` tool's environment
    ids: dict[str, str]  # scenario name -> order id

    def handle(self, s: Scenario) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(f"order-{self.ids[s.name]}")

    async def place(self, s: Scenario) -> None:
        order = {"order_id": self.ids[s.name], "customer_id": "c-42", "total": TOTAL, "items": ITEMS}
        await self.client.start_workflow(
            "OrderWorkflow", order | s.order, id=f"order-{self.ids[s.name]}", task_queue=self.task_queue
        )

    async def state(self, s: Scenario) -> dict[str, Any]:
        state: dict[str, Any] = await self.handle(s).query("state", result_type=dict)
        return state

    async def status(self, s: Scenario) -> str:
        """Its `OrderStatus` search attribute as the server holds it: no query for the worker to answer
        beside its workflow tasks (queries racing a task sometimes cost that task its 10 s timeout)."""
        return (await self.handle(s).describe()).typed_search_attributes.get(ORDER_STATUS) or ""

    async def reaches(self, s: Scenario, status: str) -> None:
        await eventually(lambda: self.status(s), lambda now: now == status, timeout=30, every=0.2)

    async def run(self, s: Scenario, step: Step) -> None:
        order_id = self.ids[s.name]
        if isinstance(step, Reaches):
            await self.reaches(s, step.status)
        elif isinstance(step, OrdersCli):
            done = await run_tool([ORDERS_CLI, step.verb, order_id, *step.args], self.env)
            assert done.returncode == 0, (s.name, step, done.stdout, done.stderr)
        elif step.signal:
            await self.handle(s).signal(step.name, step.payload)
        elif step.cli:
            update = ["workflow", "update", "execute", "--address", self.address, "--name", step.name]
            payload = json.dumps(step.payload)
            done = await run_tool(
                [temporal(), *update, "--workflow-id", f"order-{order_id}", "--input", payload]
            )
            assert (done.returncode != 0) == (step.refused is not None), (s.name, step, done.stderr)
            assert step.refused is None or step.refused in done.stderr, (s.name, done.stderr)
        else:
            try:
                await asyncio.wait_for(self.handle(s).execute_update(step.name, step.payload), 30)
            except WorkflowUpdateFailedError as err:
                assert step.refused is not None and step.refused in str(err.cause), (s.name, step, err.cause)
            else:
                assert step.refused is None, (s.name, f"{step} was not refused")

    async def each(self, scenarios: list[Scenario], act: Callable[[Scenario], Awaitable[Any]]) -> None:
        """`act` on every scenario at once: one failing cancels the others, and says what went wrong in its
        order's workflow tasks (a replay that fails only shows as an order that never gets there)."""

        async def explained(s: Scenario) -> None:
            try:
                await act(s)
            except (AssertionError, TimeoutError) as err:
                runs = await all_runs(self.client, self.ids[s.name])
                problems = [problem for _, events in runs for problem in history_problems(events)]
                raise AssertionError(f"{s.name}: {err}\nits workflow tasks: {problems[:3]}") from err

        async with asyncio.TaskGroup() as group:
            for scenario in scenarios:
                group.create_task(explained(scenario))


# The checks


def payment_key(order_id: str) -> str:
    return f"{order_id}:payment.void"  # the event id of a whole order's void (docs/events.md, "Ids")


def effect(event: dict[str, Any]) -> str:
    if event["type"].startswith("payment."):
        return f"{event['type']} {event['data']['amount']}"
    if event["type"] == "customer.notify":
        return f"customer.notify {event['data']['message']}"
    return str(event["type"])


def check_deliveries(
    receiver: Receiver, s: Scenario, order_id: str, state: dict[str, Any], stopped_at: float
) -> None:
    """Every effect once: one accepted attempt per event id, the effects the rules say, one status event
    per move in the timeline, and the order's own list of what was delivered agrees. A payment refused
    while 1.0 ran was accepted once, from today's worker."""
    with receiver.lock:
        attempts = [a for a in receiver.attempts if a.key.startswith(f"{order_id}:")]
        done = {key: event for key, (_, event) in receiver.done.items() if key.startswith(f"{order_id}:")}
    accepted = [a.key for a in attempts if a.answer == "ok"]
    assert sorted(accepted) == sorted(done), (s.name, "accepted twice", accepted)
    assert all(a.signed for a in attempts), s.name
    refused = [(a.key, a.answer, a.at < stopped_at) for a in attempts if a.answer != "ok"]
    if s.payment_refused_on_1_0:
        assert refused and set(refused) == {(payment_key(order_id), "fail", True)}, (s.name, refused)
        last = [(a.answer, a.at < stopped_at) for a in attempts if a.key == payment_key(order_id)][-1]
        assert last == ("ok", False), (s.name, last)
    else:
        assert refused == [], (s.name, refused)
    effects = {key: event for key, event in done.items() if event["type"] != "order.status-changed"}
    assert sorted(map(effect, effects.values())) == sorted(s.effects), s.name
    assert sorted(state["effects"]) == sorted(effects), s.name
    statuses = sorted(
        (e for e in done.values() if e["type"] == "order.status-changed"),
        key=lambda e: int(e["id"].split(":")[-1]),
    )
    moved = [e for e in state["timeline"] if not e["refused"] and e["to_status"] != e["from_status"]]
    assert [e["data"]["to_status"] for e in statuses] == [e["to_status"] for e in moved], s.name


def excused(events: list[Any], stopped: int) -> tuple[set[int], set[int]]:
    """The workflow task timeouts the test lets pass (docs/versioning.md, "The upgrade test"), by event id:
    tasks Temporal sent to the stopped worker's own (sticky) queue, and tasks a running worker started and
    never finished whose retry then completed; never a task that failed, nor one whose retry did not."""
    scheduled, completed, failed, timed_out = (
        EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
    )
    queues = {
        e.event_id: e.workflow_task_scheduled_event_attributes.task_queue
        for e in events
        if e.event_type == scheduled
    }
    stale, lost = set(), set()
    for at, event in enumerate(events):
        if event.event_type != timed_out:
            continue
        queue = queues[event.workflow_task_timed_out_event_attributes.scheduled_event_id]
        if queue.kind == TaskQueueKind.TASK_QUEUE_KIND_STICKY and queue.name.startswith(f"{stopped}@"):
            stale.add(event.event_id)  # a sticky queue is named after its worker: <pid>@<host>-...
            continue
        retry = next(
            (e.event_type for e in events[at + 1 :] if e.event_type in (completed, failed, timed_out)), None
        )
        timeout = event.workflow_task_timed_out_event_attributes.timeout_type
        if timeout == TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE and retry == completed:
            lost.add(event.event_id)
    return stale, lost


def check_history(
    s: Scenario, runs: list[list[Any]], workers: dict[str, int], down: tuple[datetime, datetime]
) -> tuple[int, int]:
    """No workflow task failed or timed out, but for the timeouts `excused` lets pass (counted); the 1.0
    worker ran the order's first tasks and today's the rest; a timer due while no worker ran fired then."""
    stale, lost = 0, 0
    for events in runs:
        sent_to_stopped, lost_once = excused(events, workers["1.0"])
        problems = history_problems([e for e in events if e.event_id not in sent_to_stopped | lost_once])
        assert problems == [], (s.name, problems)
        stale, lost = stale + len(sent_to_stopped), lost + len(lost_once)
    events = [event for run in runs for event in run]
    completed = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    by_pid = {str(pid): version for version, pid in workers.items()}
    identities = [
        e.workflow_task_completed_event_attributes.identity for e in events if e.event_type == completed
    ]
    versions = [by_pid.get(identity.partition("@")[0], identity) for identity in identities]
    assert list(dict.fromkeys(versions)) == ["1.0", "today"], (s.name, versions)
    if s.while_down == FIRES:
        fired = [
            e.event_time.ToDatetime(UTC) for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED
        ]
        assert any(down[0] < at < down[1] for at in fired), (s.name, fired, down)
    return stale, lost


@pytest.mark.skipif(
    not has_release_commit(),
    reason=f"the 1.0.0 commit {V1_0[:8]} is not in this clone (shallow, or no git): the upgrade test runs "
    "that commit's worker; fetch the history (git fetch --unshallow) to run it",
)
async def test_orders_left_in_every_state_by_the_1_0_worker_finish_on_todays_worker(
    tmp_path: Path, receiver: Receiver
) -> None:
    started = time.monotonic()
    run = uuid.uuid4().hex[:6]
    ids = {s.name: f"{s.name}-{run}" for s in SCENARIOS}
    refusing = {ids[s.name] for s in SCENARIOS if s.payment_refused_on_1_0}  # until the upgrade

    def behaviour(event: dict[str, Any], attempt: int) -> str:
        return "fail" if event["type"].startswith("payment.") and event["order_id"] in refusing else "ok"

    receiver.behaviour = behaviour
    port = free_port()
    settings = settings_for(tmp_path, webhook_url=receiver.url, webhook_secret=SECRET)
    address = f"localhost:{port}"
    env = worker_env(settings, TEMPORAL_ADDRESS=address, **STORE)
    tree = check_out_1_0(tmp_path / "v1.0.0")
    try:
        async with processes() as running:
            running.append(dev_server(tmp_path / "temporal.db", port, tmp_path / "server.log"))
            tools = env | {"ORDERS_UPDATE_TIMEOUT_SECONDS": "30"}  # a verdict, not a command queued for later
            orders = Orders(await connect(port), address, settings.task_queue, tools, ids)

            # 1.0.0: its worker, and orders left waiting in every state.
            old = Process.start(
                [sys.executable, "-c", LAUNCH_1_0], tmp_path / "worker-1.0.log", env, cwd=tree
            )
            running.append(old)
            await old.logged("worker polling")
            assert loaded_from(tree) in old.log.read_text().splitlines(), old.log.read_text()[:2000]

            async def set_up(s: Scenario) -> None:
                if s.placed_with_1_0_cli:
                    await place_with_1_0_cli(tree, env, ids[s.name])
                else:
                    await orders.place(s)
                for step in s.on_1_0:
                    await orders.run(s, step)
                await orders.reaches(s, s.waits_in)
                if s.payment_refused_on_1_0:  # refused on 1.0 at least once; retried until the upgrade
                    key = payment_key(ids[s.name])
                    await eventually(
                        lambda: asyncio.to_thread(receiver.tries, ids[s.name]), lambda t: key in t
                    )
                else:
                    await quiet(orders.handle(s))

            await orders.each([s for s in SCENARIOS if not s.timed], set_up)
            timed_from = time.monotonic()  # every deadline due while down is at least DOWN s after this
            await orders.each([s for s in SCENARIOS if s.timed], set_up)
            set_up_at = time.monotonic()  # ... and at most DOWN s after this
            await asyncio.to_thread(old.stop)
            stopped_at, stopped = time.monotonic(), datetime.now(UTC)
            assert old.popen.returncode == 0, old.log.read_text()[-3000:]
            assert stopped_at < timed_from + DOWN - 1, (
                f"the last orders took {stopped_at - timed_from:.1f} s to set up on 1.0 and stop its worker: "
                "their deadlines passed before it stopped (raise DOWN)"
            )

            # No worker: the deadlines pass; Temporal fires the timers and nothing acts on them yet.
            await asyncio.sleep(max(set_up_at + DOWN + 1 - time.monotonic(), 0))

            # Today's worker, on the same database and task queue.
            refusing.clear()
            upgraded_at, upgraded = time.monotonic(), datetime.now(UTC)
            new = start_worker(settings, tmp_path / "worker-today.log", TEMPORAL_ADDRESS=address, **STORE)
            running.append(new)
            await new.logged("worker polling")

            async def finish(s: Scenario) -> None:
                await quiet(orders.handle(s))  # caught up with what came due, and with the refused payment
                await orders.reaches(s, s.resumes_in or s.waits_in)
                for step in s.on_today:
                    await orders.run(s, step)
                await orders.reaches(s, s.final)
                await quiet(orders.handle(s))

            await orders.each(SCENARIOS, finish)
            finished_at = time.monotonic()

            workers, excused_timeouts = {"1.0": old.pid, "today": new.pid}, (0, 0)
            for s in SCENARIOS:
                state = await orders.state(s)
                assert state["status"] == s.final, s.name
                assert (await orders.handle(s).describe()).status is WorkflowExecutionStatus.COMPLETED, s.name
                runs = [events for _, events in await all_runs(orders.client, ids[s.name])]
                stale, lost = check_history(s, runs, workers, (stopped, upgraded))
                excused_timeouts = (excused_timeouts[0] + stale, excused_timeouts[1] + lost)
                check_deliveries(receiver, s, ids[s.name], state, stopped_at)

            # Visibility agrees: each order's status search attribute, which 1.0 wrote first.
            expected = {f"order-{ids[s.name]}": s.final for s in SCENARIOS}

            async def listed() -> dict[str, str]:
                found = orders.client.list_workflows(f'TaskQueue = "{settings.task_queue}"')
                return {w.id: w.typed_search_attributes.get(ORDER_STATUS) or "" async for w in found}

            await eventually(listed, lambda seen: seen == expected, timeout=15)
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    print(
        f"upgrade test: {len(SCENARIOS)} orders set up on 1.0 in {set_up_at - started:.1f} s "
        f"(the timed ones and the stop {stopped_at - timed_from:.1f} s), no worker for "
        f"{upgraded_at - stopped_at:.1f} s, finished on today's worker in {finished_at - upgraded_at:.1f} s; "
        f"{time.monotonic() - started:.1f} s in all; workflow tasks timed out: {excused_timeouts[0]} sent to "
        f"the stopped worker, {excused_timeouts[1]} started and lost, then run at once"
    )
