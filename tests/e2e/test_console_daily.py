"""The console for the people who use it all day (issue 26), in Chromium as test_console_browser.py drives
it: the queue's amount is what confirming would refund, the order page puts what is asked before the
buttons that decide it, times read in the browser's own time zone with UTC on hover, a request that comes
in while the queue is open is marked new, the orders list shows amounts, the report's labels stay legible
on a phone, and the bulk deny's hint shows whole."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, Status
from tests.kit.browser import LIVE, row_of, sign_in
from tests.kit.console import Console, console_service
from tests.kit.orders import place

ITEMS = [{"sku": "A1", "quantity": 2, "price": 3000}, {"sku": "B2", "quantity": 1, "price": 6990}]
PHONE = {"width": 375, "height": 812}


def customer() -> str:
    return f"d-{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture(scope="module")
async def console(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> AsyncIterator[Console]:
    async with console_service(dev_env.client, tmp_path_factory.mktemp("console-daily")) as service:
        service.add_user("alice")
        yield service


@pytest_asyncio.fixture
async def open_page(browser: Browser, console: Console) -> AsyncIterator[Page]:
    """A page in São Paulo's time zone, so local times differ from UTC."""
    context = await browser.new_context(
        base_url=console.url, viewport={"width": 1280, "height": 800}, timezone_id="America/Sao_Paulo",
        locale="en-US",
    )  # fmt: skip
    context.set_default_timeout(10_000)
    opened = await context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    await context.close()
    assert not errors, errors


async def item_request(console: Console, who: str) -> str:
    order_id = await place(console.orders, customer_id=who, grace_period_seconds=0, items=ITEMS, total=12990)
    await console.reaches(order_id, Status.READY_FOR_HANDLING)
    asked = {"actor": "customer", "reason": "one is enough", "items": [{"sku": "B2", "quantity": 1}]}
    await console.orders.send(order_id, Action.CANCEL_ITEMS, asked)
    await console.queued(order_id)
    return order_id


async def test_the_queue_shows_what_confirming_would_refund(open_page: Page, console: Console) -> None:
    who = customer()
    whole = await console.pending(who)
    items = await item_request(console, who)
    await sign_in(open_page, path=f"/console/?customer={who}")
    amount = 'td[data-label="Amount"]'
    await expect(row_of(open_page, whole).locator(amount)).to_have_text("BRL 129.90")
    await expect(row_of(open_page, items).locator(amount)).to_have_text("BRL 69.90")  # B2 alone


async def test_on_a_phone_what_is_asked_comes_before_the_buttons(browser: Browser, console: Console) -> None:
    order_id = await item_request(console, customer())
    context = await browser.new_context(base_url=console.url, viewport=PHONE)
    phone = await context.new_page()
    await sign_in(phone, path=f"/console/orders/{order_id}")
    asked = phone.get_by_role("region", name="What is asked")
    await expect(asked).to_contain_text("one is enough")
    await expect(asked).to_contain_text(
        "B2 \u00d7 1: BRL 69.90 refunded or voided"
    )  # the multiplication sign
    confirm = phone.get_by_role("button", name="Confirm cancellation")
    reason_box = await asked.get_by_text("one is enough").bounding_box()
    button_box = await confirm.bounding_box()
    assert reason_box and button_box and reason_box["y"] + reason_box["height"] <= button_box["y"]
    # Each button says what it does: extending the deadline asks for nothing.
    await expect(phone.get_by_role("form", name="Extend deadline")).to_contain_text(
        "Decision deadline extended."
    )
    await context.close()


async def test_times_read_in_the_browsers_time_zone_with_utc_on_hover(
    open_page: Page,
    console: Console,
) -> None:
    who = customer()
    order_id = await console.pending(who)
    await sign_in(open_page, path=f"/console/?customer={who}")
    requested = row_of(open_page, order_id).locator('td[data-label="Requested"] time')
    await expect(requested).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$"))
    await expect(requested).to_have_text(re.compile(r"GMT-3$"))  # São Paulo's
    await open_page.goto(f"/console/orders/{order_id}")
    for time in await open_page.locator("main time").all():
        await expect(time).to_have_attribute("title", re.compile(r" UTC$"))
        await expect(time).to_have_text(re.compile(r"GMT-3$"))


async def test_a_request_that_comes_in_is_marked_new(open_page: Page, console: Console) -> None:
    who = customer()
    there = await console.pending(who)
    await sign_in(open_page, path=f"/console/?customer={who}")
    await expect(row_of(open_page, there)).to_be_visible()
    arriving = await console.pending(who, decision_timeout_seconds=3600)  # urgent, too
    row = row_of(open_page, arriving)
    await expect(row).to_be_visible(timeout=LIVE)
    await expect(row).to_have_class(re.compile(r"\barrived\b"))
    await expect(row).to_have_class(re.compile(r"\burgent\b"))
    await expect(row.locator(".new")).to_have_text("New")  # in words, not colour alone
    await expect(open_page.locator("#queue-live")).to_have_text(f"New request: order {arriving}.")
    await expect(row_of(open_page, there)).not_to_have_class(re.compile(r"\barrived\b"))
    await console.orders.send(there, Action.DENY_CANCELLATION, {"actor": "store", "reason": "kept"})
    await expect(row_of(open_page, there)).to_have_count(0, timeout=LIVE)
    await expect(row.locator(".new")).to_have_text("New")  # still marked after the queue changed again


async def test_the_orders_list_shows_the_amount(open_page: Page, console: Console) -> None:
    who = customer()
    order_id = await place(console.orders, customer_id=who, total=4990)
    await sign_in(open_page, path=f"/console/orders?customer={who}")
    row = open_page.get_by_role("row").filter(has=open_page.get_by_role("link", name=order_id, exact=True))
    await expect(row.locator('td[data-label="Amount"]')).to_have_text("BRL 49.90")


async def test_the_reports_bar_labels_are_legible_on_a_phone(browser: Browser, console: Console) -> None:
    await console.pending(customer())  # something to chart
    context = await browser.new_context(base_url=console.url, viewport=PHONE)
    phone = await context.new_page()
    await sign_in(phone, path="/console/report?since=1d")
    await expect(phone.locator(".bar-label").first).to_be_visible()
    sizes = await phone.locator(".bar-label").evaluate_all(
        """(labels) => labels.map((label) => {
            const svg = label.ownerSVGElement;
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return parseFloat(getComputedStyle(label).fontSize) * scale;
        })"""
    )
    assert sizes and min(sizes) >= 12, sizes  # CSS px as drawn; they were about 8 at this width
    assert await phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    titles = await phone.locator("figcaption").all_inner_texts()
    assert not [title for title in titles if "Shopify" in title or " path" in title], titles
    await context.close()


async def test_the_bulk_deny_hint_shows_whole(browser: Browser, console: Console) -> None:
    await console.pending(customer())
    for viewport in ({"width": 1280, "height": 800}, PHONE):
        context = await browser.new_context(base_url=console.url, viewport=viewport)
        page = await context.new_page()
        await sign_in(page)
        details = page.locator("#bulk-details")
        room, needed = await details.evaluate(
            """(input) => {
                const style = getComputedStyle(input);
                const ink = document.createElement("canvas").getContext("2d");
                ink.font = style.font;
                const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
                return [input.clientWidth - padding, ink.measureText(input.placeholder).width];
            }"""
        )
        assert needed <= room, (viewport, needed, room)
        await context.close()
