"""Fixtures of the browser tests (docs/development.md, "Browser tests")."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.kit.browser import Browser, chromium, missing_browser


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, one per module. Without it the test skips, saying why; with
    ORDERS_REQUIRE_BROWSER=1 (CI) a missing browser fails it instead."""
    why = missing_browser()
    if why is not None:
        if os.environ.get("ORDERS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"ORDERS_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(f"browser tests skipped: {why}")
    async with chromium() as launched:
        yield launched
