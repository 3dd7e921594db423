"""`python -m tests.customer_screenshots [OUT_DIR]`: docs/customer-pages.md's pictures of "My orders".

Starts the dev server (in memory), a worker and the API on loopback, places a few orders for one
customer (one inside its window, one waiting for the store, one the store declined), signs in with a
customer token in Chromium at phone width (375 px) and saves docs/customer-list.png,
docs/customer-order.png (the countdown), docs/customer-cancel.png (the confirming form),
docs/customer-denied.png and docs/customer-order-pt-br.png.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.lifecycle import Action
from tests.kit.browser import CHROMIUM, CHROMIUM_ARGS, missing_browser
from tests.kit.customer import Shop, shop_service, sign_in_path
from tests.kit.paths import ROOT
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

WHO = "c-ana.souza"
PHONE = {"width": 375, "height": 812}


async def fill(shop: Shop) -> tuple[str, str]:
    """Orders of one customer: an older one denied, one waiting for the store, a new one in its window."""
    denied = await shop.pending(WHO, reason="Found it cheaper", order_id="1040")
    deny = {"actor": "store", "sender": "marina", "reason": "It is already with the carrier",
            "reason_code": "already-shipped"}  # fmt: skip
    await shop.orders.send(denied, Action.DENY_CANCELLATION, deny)
    await shop.pending(WHO, reason="The delivery date moved", order_id="1041")
    fresh = await shop.place(WHO, order_id="1042")
    return fresh, denied


async def main(out: Path) -> None:
    from playwright.async_api import async_playwright

    why = missing_browser()
    if why:
        raise SystemExit(f"can't take screenshots: {why}")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=shutil.which("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_extra_args=["--headless"],
    )
    async with env, shop_service(env.client, Path(tempfile.mkdtemp())) as shop:
        fresh, denied = await fill(shop)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for locale, shots in (("en-US", "en"), ("pt-BR", "pt-br")):
                context = await browser.new_context(base_url=shop.url, viewport=PHONE, locale=locale)
                page = await context.new_page()
                await page.goto(sign_in_path(WHO))
                if shots == "en":
                    await page.screenshot(path=out / "customer-list.png", full_page=True)
                    await page.goto(f"/my-orders/{fresh}")
                    await page.screenshot(path=out / "customer-order.png", full_page=True)
                    await page.goto(f"/my-orders/{fresh}/cancel")
                    await page.get_by_label("Reason").select_option("changed-mind")
                    await page.screenshot(path=out / "customer-cancel.png", full_page=True)
                    await page.goto(f"/my-orders/{denied}")
                    await page.screenshot(path=out / "customer-denied.png", full_page=True)
                else:
                    await page.goto(f"/my-orders/{fresh}")
                    await page.screenshot(path=out / "customer-order-pt-br.png", full_page=True)
                await context.close()
            await browser.close()
    print(f"saved customer-list.png, customer-order.png, customer-cancel.png, customer-denied.png and "
          f"customer-order-pt-br.png in {out}")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"))
