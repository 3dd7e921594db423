"""No internal identifier reaches a person's screen (issue 26): the console's pages, as a browser shows them
(text, titles, labels, placeholders), and what the `orders` CLI prints, its refusals included, for orders
that went down every road: canceled in the window after an extension and an item cancellation, canceled
after the store confirmed, partially invoiced with a refused request and a return, and requests waiting
for the store (the whole order, some items).

Internal means what only the code and the wire say: the commands' wire names (`request_cancellation`,
`cancel_items`, ...), the event types (`payment.void`) and the event ids made of them
(`2001:store.decision-needed:3`), the cancellation paths (`after-confirmation`), the invoice kinds
`(output)`/`(input)`, any snake_case word; and on the console the status slugs (`window-to-cancel`), where
each status has a display name. The CLI writes a status's slug once, beside its display name on the
`Status:` line, since `orders list --status` takes it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from domain.events import EventType
from domain.lifecycle import Action, CancelPath, Status
from tests.kit.cli import cli_environment, in_thread
from tests.kit.console import Console, console_service, sign_in
from tests.kit.orders import place
from tests.kit.paths import ORDERS as ORDERS_CLI

WIRE_NAMES = [action.value for action in Action if "_" in action.value]
INTERNAL = [*WIRE_NAMES, *(kind.value for kind in EventType), *(path.value for path in CancelPath)]
EVENT_ID = re.compile(r"\S:(?:payment|stock|store|customer|order)\.[a-z]")
SNAKE_CASE = re.compile(r"\b[a-z]+_[a-z_]+\b")
INVOICE_KIND = re.compile(r"\((?:output|input)\)", re.I)
STATUS_SLUGS = [status.value for status in Status if "-" in status.value]


def internal_words(text: str, *, slugs: bool) -> list[str]:
    found = [word for word in INTERNAL if word in text]
    found += [m.group() for pattern in (EVENT_ID, SNAKE_CASE, INVOICE_KIND) for m in pattern.finditer(text)]
    if slugs:
        found += [slug for slug in STATUS_SLUGS if slug in text]
    return found


class Visible(HTMLParser):
    """What a page shows a person: its text, and the attributes a browser shows or reads out."""

    SHOWN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        self.parts += [value for name, value in attrs if name in self.SHOWN_ATTRIBUTES and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


@pytest_asyncio.fixture(scope="module")
async def console(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    async with console_service(dev_env.client, tmp_path_factory.mktemp("words")) as service:
        service.add_user("alice")
        yield service


ITEMS = [{"sku": "A1", "quantity": 2, "price": 3000}, {"sku": "B2", "quantity": 1, "price": 6990}]


async def every_road(console: Console, who: str) -> dict[str, str]:
    """One order down each road; their ids by name."""
    orders = console.orders
    store = {"actor": "store", "sender": "ana"}
    windowed = await place(console.orders, customer_id=who, items=ITEMS)
    await orders.send(windowed, Action.EXTEND_GRACE_PERIOD, store | {"seconds": 3600, "reason": "asked"})
    await orders.send(windowed, Action.CANCEL_ITEMS, store | {"items": [{"sku": "A1", "quantity": 1}]})
    await orders.send(windowed, Action.REQUEST_CANCELLATION, {"actor": "customer", "reason": "no longer"})

    confirmed = await console.pending(who)
    await orders.send(confirmed, Action.CONFIRM_CANCELLATION, store)

    invoiced = await place(console.orders, customer_id=who, grace_period_seconds=0)
    await console.reaches(invoiced, Status.READY_FOR_HANDLING)
    await orders.send(invoiced, Action.START_HANDLING, store)
    bill = store | {"invoice_number": "NF-1", "issued_at": datetime.now(UTC).isoformat()}
    await orders.send(invoiced, Action.INVOICE, bill | {"value": 5000})
    # Refused as a signal, so the refusal is in the timeline.
    await orders.send(
        invoiced, Action.REQUEST_CANCELLATION, {"actor": "customer", "reason": "x"}, as_signal=True
    )
    await orders.send(
        invoiced, Action.INVOICE, bill | {"invoice_number": "NF-1-R", "value": 1000, "kind": "input"}
    )

    whole = await console.pending(who)
    items = await place(console.orders, customer_id=who, grace_period_seconds=0, items=ITEMS)
    await console.reaches(items, Status.READY_FOR_HANDLING)
    asked = {"actor": "customer", "reason": "one is enough", "items": [{"sku": "B2", "quantity": 1}]}
    await orders.send(items, Action.CANCEL_ITEMS, asked)
    await console.queued(items)
    for order_id in (windowed, confirmed):
        await console.reaches(order_id, Status.CANCELED)
    return {
        "windowed": windowed,
        "confirmed": confirmed,
        "invoiced": invoiced,
        "whole": whole,
        "items": items,
    }


async def test_no_internal_identifier_on_the_consoles_pages_or_in_the_clis_output(
    console: Console, dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    who = f"w-{uuid.uuid4().hex[:8]}"
    ids = await every_road(console, who)
    pages = [f"/console/?customer={who}", "/console/orders?customer=" + who, "/console/report?since=1d"]
    pages += [f"/console/orders/{order_id}" for order_id in ids.values()]
    async with httpx.AsyncClient(base_url=console.url) as http:
        assert (await sign_in(http, "alice")).status_code == 303
        shown = {path: visible((await http.get(path)).text) for path in pages}
        rows = await http.get(f"/console/queue/rows?customer={who}", headers={"X-Console-Fetch": "1"})
        shown["/console/queue/rows"] = visible(rows.text)
    order_page = shown[f"/console/orders/{ids['windowed']}"]
    assert (
        "Payment voided" in order_page and "Still Cancellation window" in order_page
    )  # what it says instead
    assert "return invoice" in shown[f"/console/orders/{ids['invoiced']}"]
    assert "Can't request cancellation" in shown[f"/console/orders/{ids['invoiced']}"]
    for path, text in shown.items():
        assert not internal_words(text, slugs=True), (path, internal_words(text, slugs=True), text)

    env = cli_environment(dev_env, console.settings)
    invoiced, whole, items, canceled = ids["invoiced"], ids["whole"], ids["items"], ids["confirmed"]
    runs = [
        *(("status", order_id) for order_id in ids.values()),
        ("watch", canceled),
        ("list", "--customer", who),
        ("pending", "--customer", who),
        ("report", "--since", "1d"),
        # Refusals, one of each kind the rules give.
        ("cancel", invoiced, "--reason", "again", "--as", "customer"),
        ("confirm", canceled),
        ("start-handling", whole),
        ("approve-payment", whole),
        ("deny-payment", whole, "--as", "erp"),
        ("extend", items, "--window", "1h"),
        ("cancel", items, "--item", "A1:1"),
        ("invoice", whole, "--number", "NF-9", "--value", "1"),
        ("deny", ids["windowed"], "--reason", "no"),
        ("invoice", invoiced, "--number", "NF-2", "--value", "1", "--request-id", f"r-{who}"),
        ("start-handling", invoiced, "--request-id", f"r-{who}"),
    ]
    for args in runs:
        done = await in_thread(ORDERS_CLI, *args, env=env)
        said = done.stdout + done.stderr
        outside_status = "\n".join(line for line in said.splitlines() if not line.startswith("  Status:"))
        found = internal_words(outside_status, slugs=True)
        assert not found, (args, found, said)
        assert "Traceback" not in said, said
    refused = await in_thread(ORDERS_CLI, "start-handling", invoiced, "--request-id", f"r-{who}", env=env)
    assert refused.returncode == 1 and "was already used to invoice the order" in refused.stderr, (
        refused.stderr
    )


def test_the_grep_finds_what_it_looks_for() -> None:
    assert "store.decision-needed" in internal_words("2001:store.decision-needed:3", slugs=False)
    assert internal_words("2001:order.x", slugs=False)  # an event id of any type
    assert internal_words("request_cancellation refused", slugs=False)
    assert internal_words("NF-1: BRL 1.00 (output)", slugs=False) == ["(output)"]
    assert internal_words("Canceled (after-confirmation)", slugs=False) == ["after-confirmation"]
    assert internal_words("window-to-cancel", slugs=True) == ["window-to-cancel"]
    assert not internal_words("Canceled after the store confirmed; Payment voided", slugs=True)
    assert visible("<p title='a_b'>x<script>request_cancellation</script></p>") == "a_b x"
