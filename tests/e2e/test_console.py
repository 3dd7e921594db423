"""The staff console over HTTP (docs/console.md), without a browser: accounts (hashes only, the real CLI), the
session cookie, CSRF, the sign-in rate limit, escaping, reads from visibility with no worker, and the
commands it sends. The browser suite (test_console_browser.py) drives the same pages in Chromium."""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from pydantic import ValidationError
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, Actor, Status
from domain.text import MAX_ID_LENGTH, MAX_REQUEST_ID_LENGTH
from orders.api import create_app
from orders.client import OrdersClient
from orders.console import charts
from orders.console.auth import Throttle
from orders.console.live import QueueCache
from orders.console.revoked import RevokedFile
from orders.console.sessions import signing_secret
from orders.console.users import UsersFile, verify
from orders.report import PATHS
from orders.settings import Settings
from tests.kit.api import serving
from tests.kit.console import PASSWORD, Console, console_service, csrf_of, sign_in
from tests.kit.orders import place
from tests.kit.paths import ORDERS
from tests.kit.worker import running_worker, settings_for

SCRIPT = "<script>alert(1)</script>"


# Accounts


def test_users_file_keeps_argon2_hashes_never_the_password(tmp_path: Path) -> None:
    users = UsersFile(tmp_path / "nested" / "console-users.json")
    user = users.add("Alice", Actor.STORE, PASSWORD)
    text = users.path.read_text()
    assert user.name == "alice" and PASSWORD not in text
    assert '"password_hash": "$argon2id$' in text
    assert stat.S_IMODE(users.path.stat().st_mode) == 0o600
    assert verify(users.get("ALICE"), PASSWORD) and not verify(users.get("alice"), PASSWORD + "x")
    assert not verify(None, PASSWORD)  # unknown user: the same work, never a match
    with pytest.raises(ValueError, match="at least 10"):
        users.add("bob", Actor.STORE, "short")
    with pytest.raises(ValueError, match="user name"):
        users.add("bob smith", Actor.STORE, PASSWORD)
    with pytest.raises(ValueError, match="already exists"):
        users.add("alice", Actor.ERP, PASSWORD)
    assert users.add("alice", Actor.ERP, PASSWORD + "2", replace=True).role is Actor.ERP
    assert users.remove("alice") and users.get("alice") is None


async def test_add_user_through_the_cli_with_password_stdin(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERS_", "TEMPORAL_"))}
    env["ORDERS_DATA_DIR"] = str(tmp_path)

    async def cli(*args: str, password: str = PASSWORD) -> tuple[int, str]:
        done = await asyncio.to_thread(
            subprocess.run,
            [ORDERS, "console", *args],
            input=password + "\n",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.returncode, done.stdout + done.stderr

    code, said = await cli("add-user", "Carol", "--role", "erp", "--password-stdin")
    assert code == 0, said
    assert "carol (erp)" in said and "/console" in said
    text = (tmp_path / "console-users.json").read_text()
    assert PASSWORD not in text and "$argon2id$" in text
    assert verify(UsersFile(tmp_path / "console-users.json").get("carol"), PASSWORD)
    assert (await cli("add-user", "carol", "--role", "store", "--password-stdin"))[0] == 1
    assert (await cli("add-user", "dave", "--role", "store", "--password-stdin", password="short"))[0] == 2
    assert (await cli("add-user", "dave", "--role", "admin", "--password-stdin"))[0] == 2
    code, said = await cli("list-users")
    assert code == 0 and re.search(r"carol\s+erp", said) and PASSWORD not in said
    assert (await cli("remove-user", "carol"))[0] == 0
    assert (await cli("remove-user", "carol"))[0] == 1


def test_console_secret_has_a_floor_and_a_kept_default(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        settings_for(tmp_path, console_secret="too-short")
    settings = settings_for(tmp_path)
    first = signing_secret(settings)
    path = tmp_path / "console-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 32
    assert signing_secret(settings) == first  # made once: sessions survive a restart
    given = "x" * 40
    assert signing_secret(settings_for(tmp_path, console_secret=given)) == given


def test_throttle_locks_a_name_after_five_failures_for_fifteen_minutes() -> None:
    throttle = Throttle()
    for second in range(5):
        assert throttle.locked_for("alice", now=1000 + second) == 0
        throttle.failed("alice", now=1000 + second)
    assert throttle.locked_for("alice", now=1005) == pytest.approx(15 * 60 - 1)
    assert throttle.locked_for("bob", now=1005) == 0
    assert throttle.locked_for("alice", now=1004 + 15 * 60 + 1) == 0
    throttle.succeeded("alice")
    assert throttle.locked_for("alice", now=1006) == 0


def test_failing_other_names_never_lifts_a_lock() -> None:
    throttle = Throttle(max_tracked=3)
    for second in range(5):
        throttle.failed("alice", now=1000 + second)
    for n in range(10):  # many other names, each failing once: the oldest unlocked make room
        throttle.failed(f"other-{n}", now=1010 + n)
    assert throttle.locked_for("alice", now=1020) > 0
    full = Throttle(max_tracked=2)
    for name in ("alice", "bob"):
        for second in range(5):
            full.failed(name, now=1000 + second)
    for second in range(5):
        full.failed("carol", now=1010 + second)  # no room but by unlocking: carol is not kept
    assert full.locked_for("alice", now=1020) > 0 and full.locked_for("bob", now=1020) > 0
    assert full.locked_for("carol", now=1020) == 0


# The running console


@pytest_asyncio.fixture(scope="module")
async def console(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    async with console_service(dev_env.client, tmp_path_factory.mktemp("console")) as service:
        service.add_user("alice")
        service.add_user("erin", Actor.ERP)
        yield service


@pytest_asyncio.fixture
async def alice(console: Console) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=console.url) as http:
        assert (await sign_in(http, "alice")).status_code == 303
        yield http


def customer() -> str:
    return f"c-{uuid.uuid4().hex[:8]}"


async def test_pages_need_a_session(console: Console) -> None:
    async with httpx.AsyncClient(base_url=console.url) as http:
        for path in ("/console/", "/console/orders", "/console/report", "/console/orders/x-1"):
            response = await http.get(path)
            assert response.status_code == 303 and "/console/signin?next=" in response.headers["location"]
        assert (await http.get("/console/queue/rows", headers={"X-Console-Fetch": "1"})).status_code == 401
        assert (await http.get("/console")).headers["location"].endswith("/console/")


async def test_session_cookie_is_http_only_strict_and_sign_out_ends_it(console: Console) -> None:
    async with httpx.AsyncClient(base_url=console.url) as http:
        signed = await sign_in(http, "alice")
        assert signed.status_code == 303 and signed.headers["location"] == "/console/"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
        assert "Secure" not in cookie  # plain HTTP on loopback
        kept = http.cookies["orders_console"]
        page = await http.get("/console/")
        assert page.status_code == 200 and "alice" in page.text
        assert (await http.post("/console/signout", data={"csrf": csrf_of(page.text)})).status_code == 303
        assert (await http.get("/console/")).status_code == 303
    async with httpx.AsyncClient(base_url=console.url, cookies={"orders_console": kept}) as replay:
        assert (await replay.get("/console/")).status_code == 303  # the old cookie is worth nothing


async def test_sign_out_holds_after_a_restart_of_the_api(console: Console) -> None:
    order_id = await console.pending(customer())
    async with httpx.AsyncClient(base_url=console.url) as http:
        await sign_in(http, "alice")
        token = csrf_of((await http.get("/console/")).text)
        kept = http.cookies["orders_console"]
        assert (await http.post("/console/signout", data={"csrf": token})).status_code == 303
    restarted = create_app(console.settings, console.orders)  # a new API process on the same data dir
    async with serving(restarted) as url, httpx.AsyncClient(base_url=url) as replay:
        replay.cookies.set("orders_console", kept, path="/console")
        page = await replay.get("/console/")
        assert page.status_code == 303 and "/console/signin?next=" in page.headers["location"]
        refused = await replay.post(f"/console/orders/{order_id}/confirm-cancellation", data={"csrf": token})
        assert refused.status_code == 403  # the old CSRF token went with the session
    assert (await console.orders.state(order_id)).status is Status.CANCELLATION_REQUESTED
    revoked = console.settings.console_users_file.with_name("console-revoked.json")
    assert stat.S_IMODE(revoked.stat().st_mode) == 0o600


def test_revoked_sessions_are_pruned_once_expired(tmp_path: Path) -> None:
    path = tmp_path / "console-revoked.json"
    path.write_text(json.dumps({"version": 1, "revoked": {"old": time.time() - 1}}))
    revoked = RevokedFile(path)
    assert "old" not in revoked
    revoked.add("new", time.time() + 60)
    assert "new" in revoked and "new" in RevokedFile(path)  # another process reads it
    assert set(json.loads(path.read_text())["revoked"]) == {"new"}


async def test_cookie_is_secure_over_https(console: Console) -> None:
    app = create_app(console.settings, console.orders)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://console.example") as http:
        response = await sign_in(http, "alice")
        assert response.status_code == 303
        assert "; Secure" in response.headers["set-cookie"]


async def test_a_post_without_the_csrf_token_is_refused(console: Console, alice: httpx.AsyncClient) -> None:
    order_id = await console.pending(customer())
    for form in ({}, {"csrf": "forged"}):
        refused = await alice.post(f"/console/orders/{order_id}/confirm-cancellation", data=form)
        assert refused.status_code == 403 and "Refused" in refused.text
        bulk = await alice.post("/console/queue/confirm", data={**form, "order": order_id})
        assert bulk.status_code == 403
    async with httpx.AsyncClient(base_url=console.url) as other:  # another session's token
        await sign_in(other, "erin")
        token = csrf_of((await other.get("/console/")).text)
    assert (
        await alice.post(f"/console/orders/{order_id}/confirm-cancellation", data={"csrf": token})
    ).status_code == 403
    assert (await console.orders.state(order_id)).status is Status.CANCELLATION_REQUESTED
    async with httpx.AsyncClient(base_url=console.url) as anonymous:
        form = {"username": "alice", "password": PASSWORD}
        assert (await anonymous.post("/console/signin", data=form)).status_code == 403


async def test_sign_in_is_rate_limited_per_user(console: Console) -> None:
    console.add_user("mallory-target")
    async with httpx.AsyncClient(base_url=console.url) as http:
        for _ in range(5):
            wrong = await sign_in(http, "mallory-target", "wrong-password-123")
            assert wrong.status_code == 401 and "Wrong user name or password" in wrong.text
        locked = await sign_in(http, "mallory-target", PASSWORD)
        assert locked.status_code == 401 and "Too many failed sign-ins" in locked.text
        for _ in range(5):
            await sign_in(http, "nobody-at-all", "wrong-password-123")
        unknown = await sign_in(http, "nobody-at-all", "wrong-password-123")
        assert "Too many failed sign-ins" in unknown.text  # the same for names that don't exist
        assert (await sign_in(http, "erin")).status_code == 303  # other users are not locked out


async def test_a_script_reason_is_shown_as_text(console: Console, alice: httpx.AsyncClient) -> None:
    who = customer()
    order_id = await console.pending(who, reason=SCRIPT)
    queue = await alice.get("/console/", params={"customer": who})
    order = await alice.get(f"/console/orders/{order_id}")
    for page in (queue, order):
        assert page.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert SCRIPT not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
    rows = await alice.get("/console/queue/rows", params={"customer": who})
    assert "&lt;script&gt;" in rows.text and SCRIPT not in rows.text


async def test_line_feeds_in_a_reason_are_kept_and_the_rest_escaped(
    console: Console, alice: httpx.AsyncClient
) -> None:
    who = customer()
    order_id = await console.pending(who, reason="first line\n<b>second</b> line")
    kept = "<q>first line\n&lt;b&gt;second&lt;/b&gt; line</q>"
    pages = [
        await alice.get("/console/", params={"customer": who}),
        await alice.get("/console/queue/rows", params={"customer": who}),
        await alice.get(f"/console/orders/{order_id}"),
    ]
    for page in pages:
        assert kept in page.text and "first line\\n" not in page.text
    css = (await alice.get("/console/static/console.css")).text
    assert "q { white-space: pre-line; }" in css


async def test_queue_filters_by_customer_and_reason_code(console: Console, alice: httpx.AsyncClient) -> None:
    who = customer()
    mind = await console.pending(who, reason="not needed", code="changed-mind")
    cheaper = await console.pending(who, reason="saw it for less", code="found-cheaper")
    other = await console.pending(customer())
    page = (await alice.get("/console/", params={"customer": who})).text
    assert mind in page and cheaper in page and other not in page
    assert "Changed my mind" in page and "Found it cheaper elsewhere" in page
    page = (await alice.get("/console/", params={"customer": who, "reason": "found-cheaper"})).text
    assert cheaper in page and mind not in page
    assert re.search(r"(\d+d \d+h|\d+d) left", page)  # a 30-day decision timeout: not urgent


async def test_commands_carry_the_role_and_the_user_as_sender(
    console: Console, alice: httpx.AsyncClient
) -> None:
    order_id = await console.pending(customer())
    page = await alice.get(f"/console/orders/{order_id}")
    form = {
        "csrf": csrf_of(page.text),
        "reason_code": "made-to-order",
        "details": "",
        "request_id": "r-deny-1",
    }
    done = await alice.post(f"/console/orders/{order_id}/deny-cancellation", data=form)
    assert done.status_code == 303 and done.headers["location"] == f"/console/orders/{order_id}"
    shown = (await alice.get(done.headers["location"])).text
    assert "Cancellation request denied. The order is now Ready for handling." in shown
    state = await console.orders.state(order_id)
    entry = state.moves()[-1]
    assert (entry.actor, entry.sender, entry.reason_code) == (Actor.STORE, "alice", "made-to-order")
    assert entry.reason == "Made to order"  # no details typed: the catalogue's label
    again = await alice.post(f"/console/orders/{order_id}/deny-cancellation", data=form)  # a resubmitted form
    assert again.status_code == 303
    assert len((await console.orders.state(order_id)).cancellation_requests) == 1
    console.add_user("bob")  # erp accounts are read-only in the console (tests/test_hardening.py)
    async with httpx.AsyncClient(base_url=console.url) as bob:
        await sign_in(bob, "bob")
        second = await console.pending(customer())
        token = csrf_of((await bob.get("/console/")).text)
        await bob.post("/console/queue/confirm", data={"csrf": token, "order": [second], "request_id": "b-1"})
    confirmed = await console.orders.state(second)
    assert confirmed.cancellation is not None
    assert (confirmed.cancellation.confirmed_by, confirmed.cancellation.confirmed_by_sender) == (
        Actor.STORE,
        "bob",
    )


async def test_extend_window_takes_one_hour_to_seven_days(console: Console, alice: httpx.AsyncClient) -> None:
    order_id = await place(console.orders, customer_id=customer())  # inside its window
    before = (await console.orders.state(order_id)).grace_deadline
    token = csrf_of((await alice.get(f"/console/orders/{order_id}")).text)
    for seconds in (60, 3599, 7 * 86400 + 1, 30 * 86400):  # outside what the form offers
        form = {"csrf": token, "seconds": str(seconds), "request_id": f"extend-{seconds}"}
        refused = await alice.post(f"/console/orders/{order_id}/extend-grace-period", data=form)
        assert refused.status_code == 400 and "seconds" in refused.text
    assert (await console.orders.state(order_id)).grace_deadline == before
    form = {"csrf": token, "seconds": str(7 * 86400), "request_id": "extend-week"}
    assert (await alice.post(f"/console/orders/{order_id}/extend-grace-period", data=form)).status_code == 303
    after = (await console.orders.state(order_id)).grace_deadline
    assert before is not None and after is not None and (after - before).total_seconds() == 7 * 86400


async def test_console_forms_carry_request_ids_made_as_the_client_makes_them(
    console: Console, alice: httpx.AsyncClient
) -> None:
    order_id = await console.pending(customer())
    pages = [(await alice.get(path)).text for path in ("/console/", f"/console/orders/{order_id}")]
    made = [re.search(r'name="request_id" value="([^"]+)"', page) for page in pages]
    rids = [found.group(1) for found in made if found]
    assert len(rids) == 2 and all(str(uuid.UUID(rid)) == rid for rid in rids)  # as orders.client's
    token = csrf_of(pages[1])
    too_long = "r" * (MAX_REQUEST_ID_LENGTH - MAX_ID_LENGTH)  # no room left for ":<order id>"
    form = {"csrf": token, "request_id": too_long}
    assert (
        await alice.post(f"/console/orders/{order_id}/confirm-cancellation", data=form)
    ).status_code == 400
    form = {"csrf": token, "request_id": rids[1]}
    assert (
        await alice.post(f"/console/orders/{order_id}/confirm-cancellation", data=form)
    ).status_code == 303
    assert any(entry.request_id == rids[1] for entry in (await console.orders.state(order_id)).timeline)


async def test_orders_list_search_and_report(console: Console, alice: httpx.AsyncClient) -> None:
    who = customer()
    placed = await place(console.orders, customer_id=who)
    listed = await alice.get("/console/orders", params={"customer": who, "status": "window-to-cancel"})
    assert listed.status_code == 200 and placed in listed.text and "Cancellation window" in listed.text
    none = await alice.get("/console/orders", params={"customer": who, "status": "invoiced"})
    assert placed not in none.text and "No order matches" in none.text
    found = await alice.get("/console/orders", params={"order": placed})
    assert found.status_code == 303 and found.headers["location"] == f"/console/orders/{placed}"
    missing = await alice.get("/console/orders", params={"order": "no-such-order"}, follow_redirects=True)
    assert "No order has the id no-such-order" in missing.text
    assert (await alice.get("/console/orders", params={"page": "garbage"})).status_code == 422
    bogus = await alice.get("/console/orders", params={"status": "bogus", "customer": who})
    assert bogus.status_code == 400 and placed not in bogus.text  # not every order
    assert "Unknown status &#39;bogus&#39;; one of payment-pending, window-to-cancel," in bogus.text
    report = await alice.get("/console/report", params={"since": "1d"})
    assert report.status_code == 200
    assert (
        "<svg" in report.text and "Orders placed" in report.text and "How orders were canceled" in report.text
    )
    assert "cdn" not in report.text.lower()


async def test_next_after_sign_in_stays_in_the_console(console: Console) -> None:
    async with httpx.AsyncClient(base_url=console.url) as http:
        page = await http.get("/console/signin", params={"next": "//evil.example/"})
        form = {
            "username": "alice",
            "password": PASSWORD,
            "csrf": csrf_of(page.text),
            "next": "//evil.example/",
        }
        assert (await http.post("/console/signin", data=form)).headers["location"] == "/console/"


async def test_without_a_worker_the_queue_renders_and_the_order_page_says_why(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings: Settings = settings_for(tmp_path, update_timeout_seconds=1)
    who = customer()
    async with running_worker(dev_env.client, settings) as orders:
        service = Console("", orders, settings, UsersFile(settings.console_users_file))
        order_id = await service.pending(who, reason="no worker now")
    service.add_user("alice")
    app = create_app(settings, OrdersClient(dev_env.client, settings))
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as http:
        await sign_in(http, "alice")
        queue = await http.get("/console/", params={"customer": who})
        assert queue.status_code == 200 and order_id in queue.text and "no worker now" in queue.text
        page = await http.get(f"/console/orders/{order_id}")
        assert page.status_code == 503
        assert "No worker is answering" in page.text and "the queue still works" in page.text
        assert "Cancellation requested" in page.text and "no worker now" in page.text  # from visibility
        form = {"csrf": csrf_of(page.text), "request_id": "no-worker-confirm"}
        sent = await http.post(
            f"/console/orders/{order_id}/confirm-cancellation", data=form, follow_redirects=True
        )
        assert sent.status_code == 503  # the order page again, still without a worker
        assert "Cancellation confirmed: no worker answered in time, so it is queued" in sent.text


async def test_polls_share_one_visibility_read_a_second() -> None:
    reads = 0

    async def read() -> list:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.05)
        return []

    cache = QueueCache(ttl=0.3)
    await asyncio.gather(*(cache.recent(("", ""), read) for _ in range(20)))
    assert reads == 1  # twenty open pages, one read
    await cache.recent(("c-1", ""), read)
    assert reads == 2  # another filter, another read
    await cache.fresh(("", ""), read)  # a page load always reads
    assert reads == 3
    cache.clear()  # an action was sent
    await cache.recent(("", ""), read)
    assert reads == 4
    await asyncio.sleep(0.35)
    await cache.recent(("", ""), read)
    assert reads == 5


async def test_the_polled_rows_are_compressed_and_revalidated(
    console: Console, alice: httpx.AsyncClient
) -> None:
    who = customer()
    await console.pending(who)
    first = await alice.get(
        "/console/queue/rows", params={"customer": who}, headers={"Accept-Encoding": "gzip"}
    )
    assert first.status_code == 200 and first.headers["content-encoding"] == "gzip"
    assert "private" in first.headers["cache-control"] and 'data-count="1"' in first.text
    etag = first.headers["etag"]
    again = await alice.get("/console/queue/rows", params={"customer": who}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    page = await alice.get("/console/", params={"customer": who}, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in page.headers  # pages carry the CSRF token: never compressed


def test_every_cancel_path_has_a_label_in_the_report() -> None:
    assert set(charts.PATH_LABELS) == set(PATHS)


async def test_static_files_are_shipped_and_revalidated(console: Console) -> None:
    async with httpx.AsyncClient(base_url=console.url) as http:
        for name in ("console.css", "console.js", "favicon.svg"):
            response = await http.get(f"/console/static/{name}")
            assert response.status_code == 200 and response.headers["cache-control"] == "no-cache"
            assert "etag" in response.headers
        page = await http.get("/console/signin")
        assert page.headers["cache-control"] == "no-store"
        assert not re.search(r"https?://(?!127\.0\.0\.1)", page.text)  # nothing from another host


async def test_the_order_page_shows_canceled_items(console: Console, alice: httpx.AsyncClient) -> None:
    order_id = await place(console.orders, customer_id=customer(), total=12990)  # A1 2 x 64.95
    items = {"actor": "store", "sender": "alice", "items": [{"sku": "A1", "quantity": 1}], "reason": "broken"}
    await console.orders.send(order_id, Action.CANCEL_ITEMS, items)
    page = (await alice.get(f"/console/orders/{order_id}")).text
    assert "Remaining total: BRL 64.95 of BRL 129.90." in page
    row = (
        '<td data-label="SKU">A1</td><td data-label="Ordered" class="num">2</td>'
        '<td data-label="Canceled" class="num">1</td><td data-label="Remaining" class="num">1</td>'
    )
    assert row in page  # ordered 2, canceled 1, 1 left
