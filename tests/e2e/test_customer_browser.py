"""The customer's "My orders" pages in a real Chromium (Playwright, driving Debian's /usr/bin/chromium),
against the dev server, a real worker and the API on loopback: what a customer does, selected by role
and accessible name as SPEC §12 names them, with an axe-core scan of each page (axe-playwright-python
ships axe-core; nothing is fetched) that allows no serious or critical violation.

Same rules as tests/test_console_browser.py: without Chromium these skip, saying why; with
ORDERS_REQUIRE_BROWSER=1 a missing browser fails them. One browser and one service for the module.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action, Status
from orders.api import create_app
from tests.kit.api import serving
from tests.kit.customer import Shop, customer_id, shop_service, sign_in_path
from tests.kit.worker import settings_for

try:
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import Browser, Page, async_playwright, expect
except ImportError:  # pragma: no cover - the dev extra installs them
    async_playwright = None  # type: ignore[assignment]

LIVE = 5_000  # ms: the bound for a change to show without a reload
PHONE = {"width": 375, "height": 812}
SERIOUS = ("serious", "critical")


@pytest_asyncio.fixture(scope="module")
async def shop(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> AsyncIterator[Shop]:
    async with shop_service(dev_env.client, tmp_path_factory.mktemp("my-orders-browser")) as service:
        yield service


async def open_page(browser: Browser, shop: Shop, locale: str = "en-US", **options: Any) -> tuple[Any, Page]:
    context = await browser.new_context(base_url=shop.url, locale=locale, **options)
    context.set_default_timeout(10_000)
    return context, await context.new_page()


@pytest_asyncio.fixture
async def page(browser: Browser, shop: Shop) -> AsyncIterator[Page]:
    """A fresh context (no cookies) at phone width; a script error, a CSP violation or a dialog fails."""
    context, opened = await open_page(browser, shop, viewport=PHONE)
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"script error: {error}"))

    def on_console(message: Any) -> None:
        expected = re.search(r"status of 40[134]", message.text)  # pages that refuse, asked for
        if message.type == "error" and not expected:
            problems.append(f"console error: {message.text} ({message.location.get('url')})")

    opened.on("console", on_console)

    async def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        await dialog.dismiss()

    opened.on("dialog", on_dialog)
    yield opened
    await context.close()
    assert not problems, problems


async def accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    results = await Axe().run(page)
    bad = [
        (v["id"], v["impact"], v["help"]) for v in results.response["violations"] if v["impact"] in SERIOUS
    ]
    assert not bad, bad


async def fits(page: Page, width: int = PHONE["width"]) -> None:
    assert await page.evaluate("document.scrollingElement.scrollWidth") <= width


async def test_sign_in_takes_the_token_out_of_the_address_and_lists_the_orders(
    page: Page, shop: Shop
) -> None:
    who = customer_id()
    older, newer = await shop.place(who), await shop.place(who)
    await page.goto(sign_in_path(who))
    assert page.url == f"{shop.url}/my-orders/"  # no token left in the address bar or the history
    await expect(page.get_by_role("heading", name="My orders")).to_be_visible()
    links = page.get_by_role("link", name=re.compile(r"^Order "))
    await expect(links.first).to_have_text(f"Order {newer}")
    await expect(page.get_by_role("link", name=f"Order {older}", exact=True)).to_be_visible()
    await fits(page)
    await accessible(page)
    await page.get_by_role("link", name=f"Order {older}", exact=True).click()
    await expect(page.get_by_role("heading", name=f"Order {older}")).to_be_visible()
    await fits(page)
    await accessible(page)


async def test_inside_the_window_a_countdown_runs_and_cancel_order_cancels_at_once(
    page: Page, shop: Shop
) -> None:
    who = customer_id()
    order_id = await shop.place(who)
    await page.goto(sign_in_path(who))
    await page.goto(f"/my-orders/{order_id}")
    await expect(page.get_by_text("You can cancel this order until")).to_be_visible()
    timer = page.get_by_role("timer")
    first = await timer.text_content()
    await expect(timer).not_to_have_text(first or "", timeout=3_000)  # it counts down on its own
    assert re.fullmatch(r"(29|30) min( \d+ s)?|29 min", (await timer.text_content()) or ""), first
    await page.get_by_role("button", name="Cancel order").click()
    await expect(page.get_by_role("heading", name="Cancel order")).to_be_visible()
    await fits(page)
    await accessible(page)
    form = page.get_by_role("form", name="Cancel order")
    await form.get_by_label("Reason").select_option(label="Changed my mind")
    await form.get_by_label("Details (optional)").fill("ordered twice")
    await form.get_by_role("button", name="Yes, cancel order").click()
    await expect(page.get_by_role("status").filter(has_text="Your order is canceled.")).to_be_visible()
    await shop.reaches(order_id, Status.CANCELED)
    await expect(page.locator(".page-head .status")).to_have_text("Canceled", timeout=LIVE)
    await expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)
    state = await shop.orders.state(order_id)
    assert state.cancellation is not None and state.cancellation.reason == "ordered twice"


async def test_the_window_closing_shows_live_and_a_request_then_waits_for_the_store(
    page: Page, shop: Shop
) -> None:
    who = customer_id()
    order_id = await shop.place(who, grace=4)
    await page.goto(sign_in_path(who))
    await page.goto(f"/my-orders/{order_id}")
    await expect(page.get_by_role("button", name="Cancel order")).to_be_visible()
    # No reload by the test: the page follows the order once its window closes.
    await expect(page.get_by_role("button", name="Request cancellation")).to_be_visible(timeout=4_000 + LIVE)
    await expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)
    await expect(page.get_by_role("timer")).to_have_count(0)
    await page.get_by_role("button", name="Request cancellation").click()
    form = page.get_by_role("form", name="Request cancellation")
    await form.get_by_label("Reason").select_option("delivery-too-slow")
    await form.get_by_role("button", name="Yes, request cancellation").click()
    await expect(page.get_by_role("heading", name="Waiting for the store")).to_be_visible()
    await expect(page.get_by_text(re.compile("The store will answer by"))).to_be_visible()
    await accessible(page)
    assert (await shop.orders.state(order_id)).status is Status.CANCELLATION_REQUESTED


async def test_a_denial_shows_live_with_the_stores_reason(page: Page, shop: Shop) -> None:
    who = customer_id()
    order_id = await shop.pending(who)
    await page.goto(sign_in_path(who))
    await page.goto(f"/my-orders/{order_id}")
    await expect(page.get_by_role("heading", name="Waiting for the store")).to_be_visible()
    deny = {"actor": "store", "sender": "alice", "reason": "it left the warehouse this morning",
            "reason_code": "already-shipped"}  # fmt: skip
    await shop.orders.send(order_id, Action.DENY_CANCELLATION, deny)
    await expect(page.get_by_text("The store declined your cancellation request")).to_be_visible(timeout=LIVE)
    await expect(page.locator(".denied blockquote")).to_have_text("it left the warehouse this morning")
    await expect(page.get_by_role("heading", name="Waiting for the store")).to_have_count(0)
    await expect(page.get_by_role("list", name="Timeline")).to_contain_text(
        "The store declined your cancellation"
    )
    await expect(page.get_by_role("button", name="Request cancellation")).to_be_visible()  # may ask again
    await accessible(page)


async def test_cancel_items_by_quantity_per_line(page: Page, shop: Shop) -> None:
    who = customer_id()
    order_id = await shop.place(who)
    await page.goto(sign_in_path(who))
    await page.goto(f"/my-orders/{order_id}")
    await page.get_by_role("button", name="Cancel items").click()
    form = page.get_by_role("form", name="Cancel items")
    await form.get_by_label("Quantity of A1").fill("1")
    await form.get_by_label("Reason").select_option(label="Ordered by mistake")
    await fits(page)
    await accessible(page)
    await form.get_by_role("button", name="Yes, cancel items").click()
    await expect(page.get_by_role("status").filter(has_text="Done")).to_be_visible()
    items = page.get_by_role("table", name="Items")
    await expect(items.get_by_role("row").nth(1)).to_contain_text("A1")
    await expect(items.get_by_role("row").nth(1)).to_contain_text("1")
    await expect(page.locator(".facts")).to_contain_text("R$30.00")  # one A1, canceled and released
    state = await shop.orders.state(order_id)
    assert state.canceled_items == {"A1": 1} and state.status is Status.WINDOW_TO_CANCEL


async def test_pt_br_by_accept_language(browser: Browser, shop: Shop) -> None:
    who = customer_id()
    order_id = await shop.place(who)
    context, page = await open_page(browser, shop, locale="pt-BR", viewport=PHONE)
    await page.goto(sign_in_path(who))
    await expect(page.get_by_role("heading", name="Meus pedidos")).to_be_visible()
    await page.get_by_role("link", name=f"Pedido {order_id}", exact=True).click()
    await expect(page.get_by_role("heading", name=f"Pedido {order_id}")).to_be_visible()
    await expect(page.get_by_text("Você pode cancelar este pedido até")).to_be_visible()
    await expect(page.locator(".facts")).to_contain_text("R$ 129,90")
    await page.get_by_role("button", name="Cancelar pedido").click()
    await expect(page.get_by_role("form", name="Cancelar pedido").get_by_label("Motivo")).to_contain_text(
        "Mudei de ideia"
    )
    assert await page.evaluate("document.documentElement.lang") == "pt-BR"
    await fits(page)
    await context.close()


async def test_a_guest_link_opens_its_order_only(page: Page, shop: Shop) -> None:
    who = customer_id()
    order_id, other = await shop.place(who), await shop.place(who)
    await page.goto(shop.guest_path(order_id, who))
    assert page.url == f"{shop.url}/my-orders/{order_id}"  # the token left the address
    await expect(page.get_by_role("heading", name=f"Order {order_id}")).to_be_visible()
    await page.get_by_role("link", name="My orders").click()
    await expect(page.get_by_role("heading", name=f"Order {order_id}")).to_be_visible()  # the one order
    answer = await page.goto(f"/my-orders/{other}")
    assert answer is not None and answer.status == 404
    await expect(page.get_by_role("heading", name="Order not found")).to_be_visible()
    await accessible(page)


async def test_sign_out_ends_the_session_for_good(page: Page, shop: Shop) -> None:
    who = customer_id()
    order_id = await shop.place(who)
    path = sign_in_path(who)
    await page.goto(path)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Signed out")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    answer = await page.goto(f"/my-orders/{order_id}")
    assert answer is not None and answer.status == 401
    await expect(page.get_by_text("Open your orders from the store's website")).to_be_visible()
    await page.goto(path)  # the same link again
    await expect(page.get_by_text("You signed out with this link")).to_be_visible()
    assert order_id not in await page.content()


async def test_pages_off_are_404(browser: Browser, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, customer_pages=False)
    async with serving(create_app(settings)) as url:
        context = await browser.new_context(base_url=url)
        page = await context.new_page()
        for path in ("/my-orders/", sign_in_path("c-1")):
            answer = await page.goto(path)
            assert answer is not None and answer.status == 404, path
        await context.close()
