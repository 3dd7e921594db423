"""The system's Chromium as Playwright drives it (no browser download): where it is, how it is launched,
why it can't be, and signing in to the console in a page. Shared by tests/e2e/test_console_browser.py
and `python -m tests.console_screenshots`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tests.kit.console import PASSWORD

try:
    from playwright.async_api import Browser, Page, async_playwright, expect
except ImportError:  # pragma: no cover - the dev extra installs it
    async_playwright = None  # type: ignore[assignment]

LIVE = 5_000  # ms: the bound for a change to show on a page without a reload (docs/console.md)
CHROMIUM = os.environ.get("ORDERS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def missing_browser() -> str | None:
    """Why the browser can't run here, or None when it can."""
    if async_playwright is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set ORDERS_CHROMIUM)"
    return None


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """The system's Chromium, launched headless for the block and closed after it."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def sign_in(page: Page, name: str = "alice", password: str = PASSWORD, path: str = "/console/") -> None:
    await page.goto(path)
    await page.get_by_label("Username").fill(name)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def queue_of(page: Page) -> Any:
    return page.get_by_role("table", name="Pending cancellation requests")


def row_of(page: Page, order_id: str) -> Any:
    """The console queue's row of `order_id`."""
    return queue_of(page).get_by_role("row").filter(has=page.get_by_role("link", name=order_id, exact=True))
