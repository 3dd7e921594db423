"""The staff console in a real Chromium (Playwright, driving Debian's /usr/bin/chromium), against the dev
server, a real worker and the API on loopback: what a store employee does all day, selected by role and
accessible name as docs/console.md names them.

Without Chromium these tests skip, saying why; with ORDERS_REQUIRE_BROWSER=1 (set by .ci/run) a missing
browser fails them instead.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, Status
from tests.kit.browser import LIVE, Browser, Page, expect, queue_of, row_of, sign_in
from tests.kit.cli import cli_environment, in_thread
from tests.kit.console import Console, console_service
from tests.kit.orders import TWO_LINES, place
from tests.kit.paths import ORDERS

SCRIPT = "<script>alert(1)</script>"


@pytest_asyncio.fixture(scope="module")
async def console(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> AsyncIterator[Console]:
    async with console_service(dev_env.client, tmp_path_factory.mktemp("console-browser")) as service:
        service.add_user("alice")
        yield service


@pytest_asyncio.fixture
async def page(browser: Browser, console: Console) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) at 1280x800; any script error, CSP violation or dialog
    (a customer's `alert`) fails the test."""
    context = await browser.new_context(base_url=console.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    opened = await context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"script error: {error}"))

    def on_console(message: Any) -> None:
        # A 403 is what the forged-POST test asks for; any other failed load or error is a problem.
        if message.type == "error" and "status of 403" not in message.text:
            problems.append(f"console error: {message.text} ({message.location.get('url')})")

    opened.on("console", on_console)

    async def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        await dialog.dismiss()

    opened.on("dialog", on_dialog)
    yield opened
    await context.close()
    assert not problems, problems


def customer() -> str:
    return f"b-{uuid.uuid4().hex[:8]}"


async def test_sign_in_and_see_a_pending_request_with_its_reason_and_time_left(
    page: Page, console: Console
) -> None:
    who = customer()
    calm = await console.pending(who, reason="saw it for less", code="found-cheaper")
    near = await console.pending(
        who, reason="too slow", code="delivery-too-slow", decision_timeout_seconds=7200
    )
    await sign_in(page, path=f"/console/?customer={who}")
    await expect(page.get_by_role("heading", name="Cancellation requests")).to_be_visible()
    row = row_of(page, calm)
    await expect(row).to_contain_text("Found it cheaper elsewhere")
    await expect(row).to_contain_text("saw it for less")
    await expect(row).to_contain_text(who)
    await expect(row).to_contain_text("BRL 129.90")
    await expect(row).to_contain_text(re.compile(r"\b29d 23h left|\b30d left"))
    urgent = row_of(page, near)
    await expect(urgent).to_contain_text(re.compile(r"⚠ 1h \d+m left"))  # marked in words, not colour alone
    rows = queue_of(page).get_by_role("row")
    await expect(rows.nth(1)).to_contain_text(near)  # soonest deadline first
    await expect(page.get_by_role("checkbox", name=f"Select order {calm}")).to_be_visible()


async def test_deny_with_a_catalogue_reason_returns_the_order_and_the_timeline_names_the_user(
    page: Page, console: Console
) -> None:
    who = customer()
    order_id = await console.pending(who, reason="changed my mind")
    await sign_in(page, path=f"/console/?customer={who}")
    await page.get_by_role("link", name=order_id, exact=True).click()
    await expect(page.get_by_role("heading", name=f"Order {order_id}")).to_be_visible()
    deny = page.get_by_role("form", name="Deny cancellation")
    await deny.get_by_label("Reason", exact=True).select_option(label="Already shipped")
    await deny.get_by_label("Details").fill("left the warehouse this morning")
    await deny.get_by_role("button", name="Deny cancellation").click()
    await expect(page.get_by_role("status").filter(has_text="Cancellation request denied")).to_be_visible()
    await expect(page.locator(".page-head .status")).to_have_text("Ready for handling")
    timeline = page.get_by_role("list", name="Timeline")
    last = timeline.get_by_role("listitem").last
    await expect(last).to_contain_text("Cancellation requested → Ready for handling")
    await expect(last).to_contain_text("by store (alice)")
    await expect(last).to_contain_text("left the warehouse this morning")
    state = await console.orders.state(order_id)
    assert state.status is Status.READY_FOR_HANDLING
    assert state.cancellation_requests[-1].deny_reason_code == "already-shipped"


async def test_confirm_cancels_the_order(page: Page, console: Console) -> None:
    order_id = await console.pending(customer())
    await sign_in(page, path=f"/console/orders/{order_id}")
    await page.get_by_role("button", name="Confirm cancellation").click()
    await expect(page.get_by_role("status").filter(has_text="Cancellation confirmed")).to_be_visible()
    await console.reaches(order_id, Status.CANCELED)
    await page.reload()
    await expect(page.locator(".page-head .status")).to_have_text("Canceled")
    await expect(page.get_by_role("list", name="Timeline")).to_contain_text("by store (alice)")
    await expect(page.get_by_role("button", name="Confirm cancellation")).to_have_count(0)


async def test_bulk_confirm_two(page: Page, console: Console) -> None:
    who = customer()
    first, second = [await console.pending(who) for _ in range(2)]
    await sign_in(page, path=f"/console/?customer={who}")
    await page.get_by_role("checkbox", name=f"Select order {first}").check()
    await page.get_by_role("checkbox", name=f"Select order {second}").check()
    await page.get_by_role("button", name="Confirm selected").click()
    await expect(page.get_by_role("status").filter(has_text="Confirm selected: 2 of 2 done.")).to_be_visible()
    for order_id in (first, second):
        await expect(
            page.get_by_role("status").filter(has_text=f"Order {order_id}: Cancellation confirmed")
        ).to_be_visible()
        await console.reaches(order_id, Status.CANCELED)
    await expect(row_of(page, first)).to_have_count(0, timeout=LIVE)
    await expect(row_of(page, second)).to_have_count(0, timeout=LIVE)


async def test_bulk_deny_asks_for_a_reason(page: Page, console: Console) -> None:
    who = customer()
    order_id = await console.pending(who)
    await sign_in(page, path=f"/console/?customer={who}")
    await page.get_by_role("checkbox", name=f"Select order {order_id}").check()
    await page.get_by_role("button", name="Deny selected").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Choose a reason from the list. Nothing was sent."
    )
    await page.get_by_role("checkbox", name=f"Select order {order_id}").check()
    await page.get_by_label("Reason", exact=True).select_option("made-to-order")
    await page.get_by_role("button", name="Deny selected").click()
    await expect(page.get_by_role("status").filter(has_text="Deny selected: 1 of 1 done.")).to_be_visible()
    assert (await console.orders.state(order_id)).status is Status.READY_FOR_HANDLING


async def test_buttons_follow_the_rules_and_a_refused_action_shows_the_rules_reason(
    page: Page, console: Console
) -> None:
    fresh = await place(console.orders, customer_id=customer())  # inside its window
    await sign_in(page, path=f"/console/orders/{fresh}")
    await expect(page.get_by_role("button", name="Cancel order")).to_be_visible()
    for hidden in ("Confirm cancellation", "Deny cancellation", "Start handling"):
        await expect(page.get_by_role("button", name=hidden)).to_have_count(0)

    order_id = await console.pending(customer())
    await page.goto(f"/console/orders/{order_id}")
    confirm = page.get_by_role("button", name="Confirm cancellation")
    await expect(confirm).to_be_visible()
    # Someone else decides first (the CLI, another browser); this page still shows the button.
    deny = {"actor": "store", "sender": "bob", "reason": "already shipped", "reason_code": "already-shipped"}
    await console.orders.send(order_id, Action.DENY_CANCELLATION, deny)
    await confirm.click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "Refused: no cancellation request is waiting for a decision"
    )
    await expect(page.get_by_role("button", name="Confirm cancellation")).to_have_count(0)
    await expect(page.get_by_role("button", name="Start handling")).to_be_visible()
    assert (await console.orders.state(order_id)).status is Status.READY_FOR_HANDLING


async def test_extend_window_moves_the_grace_deadline(page: Page, console: Console) -> None:
    order_id = await place(console.orders, customer_id=customer())  # a 30-minute window, open
    before = (await console.orders.state(order_id)).grace_deadline
    await sign_in(page, path=f"/console/orders/{order_id}")
    extend = page.get_by_role("form", name="Extend window")
    await extend.get_by_label("Extend by").select_option(label="1 day")
    await extend.get_by_role("button", name="Extend window").click()
    await expect(page.get_by_role("status").filter(has_text="Cancellation window extended")).to_be_visible()
    await expect(page.get_by_role("list", name="Timeline")).to_contain_text("by store (alice)")
    after = (await console.orders.state(order_id)).grace_deadline
    assert before is not None and after is not None and (after - before).total_seconds() == 86400
    await expect(page.locator(".facts")).to_contain_text(re.compile(r"1d( \d+m)? left"))


async def test_a_new_request_appears_live_and_a_decision_made_elsewhere_removes_it(
    page: Page, console: Console, dev_env: WorkflowEnvironment
) -> None:
    who = customer()
    kept = await console.pending(who)
    await sign_in(page, path=f"/console/?customer={who}")
    await page.get_by_role("checkbox", name=f"Select order {kept}").check()
    arriving = await console.pending(who, reason="arrived while the page was open")
    row = row_of(page, arriving)
    await expect(row).to_be_visible(timeout=LIVE)  # no reload
    await expect(row).to_contain_text("arrived while the page was open")
    await expect(page.get_by_role("checkbox", name=f"Select order {kept}")).to_be_checked()  # kept ticked
    done = await in_thread(ORDERS, "confirm", arriving, env=cli_environment(dev_env, console.settings))
    assert done.returncode == 0, done.stderr
    await expect(row).to_have_count(0, timeout=LIVE)
    await expect(page.get_by_role("checkbox", name=f"Select order {kept}")).to_be_checked()


async def test_a_forged_post_without_the_csrf_token_gets_403(page: Page, console: Console) -> None:
    order_id = await console.pending(customer())
    await sign_in(page, path=f"/console/orders/{order_id}")
    # From the console's own origin (the cookie goes along), without the token.
    status = await page.evaluate(
        """async (url) => (await fetch(url, {method: "POST", body: new URLSearchParams({request_id: "x"}),
                                              credentials: "same-origin"})).status""",
        f"/console/orders/{order_id}/confirm-cancellation",
    )
    assert status == 403
    # From another site: an auto-submitting form (SameSite=Strict keeps the cookie home, too).
    target = f"{console.url}/console/orders/{order_id}/confirm-cancellation"
    evil = f'<form method="post" action="{target}"><input name="request_id" value="y"></form>'
    await page.route("http://attacker.test/", lambda route: route.fulfill(
        content_type="text/html", body=evil + "<script>document.forms[0].submit()</script>"))  # fmt: skip
    async with page.expect_navigation(url=re.compile(r"/confirm-cancellation$")) as forged:
        await page.goto("http://attacker.test/")
    response = await forged.value
    assert response is not None and response.status == 403
    await expect(page.get_by_role("heading", name="Refused")).to_be_visible()
    assert (await console.orders.state(order_id)).status is Status.CANCELLATION_REQUESTED


async def test_a_script_reason_renders_as_text(page: Page, console: Console) -> None:
    who = customer()
    order_id = await console.pending(who, reason=SCRIPT)
    await sign_in(page, path=f"/console/?customer={who}")
    await expect(row_of(page, order_id)).to_contain_text(SCRIPT)
    await page.get_by_role("link", name=order_id, exact=True).click()
    await expect(page.get_by_role("list", name="Timeline")).to_contain_text(SCRIPT)
    assert await page.locator("script:not([src])").count() == 0  # the fixture fails on any dialog


async def test_a_reason_on_several_lines_shows_on_several_lines(page: Page, console: Console) -> None:
    who = customer()
    order_id = await console.pending(who, reason="first line\nsecond line")
    await sign_in(page, path=f"/console/?customer={who}")
    reason = row_of(page, order_id).locator("q")
    assert await reason.evaluate("(q) => q.innerText") == "first line\nsecond line"
    await page.get_by_role("link", name=order_id, exact=True).click()
    said = page.get_by_role("list", name="Timeline").locator("q").first
    assert await said.evaluate("(q) => q.innerText") == "first line\nsecond line"


async def test_sign_out_ends_the_session(page: Page, console: Console, browser: Browser) -> None:
    await sign_in(page)
    cookies = await page.context.cookies()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    await page.goto("/console/")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    replay = await browser.new_context(base_url=console.url)
    await replay.add_cookies(cookies)  # the cookie from before signing out
    again = await replay.new_page()
    await again.goto("/console/")
    await expect(again.get_by_role("button", name="Sign in")).to_be_visible()
    await replay.close()


async def test_the_api_docs_load_nothing_from_another_host(page: Page, console: Console) -> None:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    opened = await page.goto("/docs", wait_until="networkidle")
    await expect(page.get_by_role("heading", name=re.compile("Orders API"))).to_be_visible()
    # Under the console's kind of policy (no unsafe-inline): a violation would fail the test (`page`).
    assert opened is not None and "frame-ancestors 'none'" in opened.headers["content-security-policy"]
    assert "unsafe-inline" not in opened.headers["content-security-policy"]
    assert asked and all(url.startswith(console.url) for url in asked), asked
    assert (await page.request.get("/redoc")).status == 404  # ReDoc's bundle would fetch a CDN's logo


async def test_the_queue_fits_a_phone(browser: Browser, console: Console) -> None:
    who = customer()
    order_id = await console.pending(who, reason="a fairly long reason to see how the card wraps on a phone")
    context = await browser.new_context(base_url=console.url, viewport={"width": 390, "height": 844})
    phone = await context.new_page()
    await sign_in(phone, path=f"/console/?customer={who}")
    await expect(row_of(phone, order_id)).to_be_visible()
    await expect(phone.get_by_role("checkbox", name=f"Select order {order_id}")).to_be_visible()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
    await context.close()


async def test_the_order_pages_tables_keep_their_column_labels_on_a_phone(
    browser: Browser, console: Console
) -> None:
    order_id = await console.pending(customer())
    context = await browser.new_context(base_url=console.url, viewport={"width": 375, "height": 812})
    phone = await context.new_page()
    await sign_in(phone, path=f"/console/orders/{order_id}")
    # At this width the header row is hidden and each cell writes its column's name before it.
    labels = """(table) => [...table.querySelector('tbody tr').cells].map((cell) => [
        getComputedStyle(cell, '::before').content, cell.closest('table').tHead.offsetParent === null])"""
    items = await phone.get_by_role("table", name="Items", exact=True).evaluate(labels)
    assert items[:4] == [['"SKU"', True], ['"Ordered"', True], ['"Price"', True], ['"Line total"', True]]
    requests = await phone.get_by_role("table", name="Cancellation requests", exact=True).evaluate(labels)
    assert requests == [['"Requested"', True], ['"By"', True], ['"Reason"', True], ['"Outcome"', True]]
    await context.close()


async def test_per_line_cancel_controls_cancel_items_and_the_queue_shows_an_item_requests_lines(
    page: Page, console: Console
) -> None:
    items = TWO_LINES
    order_id = await place(
        console.orders, customer_id=customer(), items=items
    )  # in its window: cancels at once
    await sign_in(page, path=f"/console/orders/{order_id}")
    line = page.get_by_role("form", name="Cancel items of A1")
    await line.get_by_label("Quantity of A1").fill("1")
    await line.get_by_label("Reason").select_option(label="Out of stock")
    await line.get_by_role("button", name="Cancel A1").click()
    await expect(page.get_by_role("status").filter(has_text="Items canceled")).to_be_visible()
    state = await console.orders.state(order_id)
    assert [(line.sku, line.remaining) for line in state.lines] == [("A1", 1), ("B2", 1)]
    assert state.remaining_total == 9990 and state.status is Status.WINDOW_TO_CANCEL

    asking = await place(console.orders, customer_id=customer(), items=items, grace_period_seconds=0)
    await console.reaches(asking, Status.READY_FOR_HANDLING)
    await console.orders.send(
        asking, Action.CANCEL_ITEMS, {"actor": "customer", "items": [{"sku": "B2", "quantity": 1}]}
    )
    await page.goto("/console/")
    await expect(row_of(page, asking)).to_contain_text("items: B2 x 1", timeout=LIVE)


async def test_modify_order_removes_a_quantity_and_adds_a_line(page: Page, console: Console) -> None:
    items = [{"sku": "A1", "quantity": 2, "price": 3000}, {"sku": "B2", "quantity": 1, "price": 6990}]
    order_id = await place(console.orders, customer_id=customer(), items=items, grace_period_seconds=0)
    await console.reaches(order_id, Status.READY_FOR_HANDLING)
    await sign_in(page, path=f"/console/orders/{order_id}")
    form = page.get_by_role("form", name="Modify order")
    await form.get_by_label("Remove of A1").fill("1")
    await form.get_by_label("SKU").fill("C3")
    await form.get_by_label("Quantity").fill("1")
    await form.get_by_label("Price").fill("10.00")
    await form.get_by_label("Reason").fill("one shirt for a cable")
    await form.get_by_role("button", name="Modify order").click()
    await expect(page.get_by_role("status").filter(has_text="Order modified")).to_be_visible()
    modifications = page.get_by_role("table", name="Modifications")
    await expect(modifications).to_contain_text("removed A1 \u00d7 1; added C3 \u00d7 1 at BRL 10.00")
    await expect(modifications).to_contain_text("-BRL 20.00")
    state = await console.orders.state(order_id)
    assert state.remaining_total == 10990 and [m.sender for m in state.modifications] == ["alice"]
