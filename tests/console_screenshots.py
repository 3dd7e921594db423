"""`python -m tests.console_screenshots [OUT_DIR]`: the README's pictures of the staff console.

Starts the dev server (in memory), a worker and the API on loopback, fills the queue with a few
realistic requests, signs in in Chromium at 1280x800 and saves docs/console-queue.png,
docs/console-order.png and docs/console-report.png.
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
from tests.kit.browser import chromium, missing_browser, sign_in
from tests.kit.console import PASSWORD, Console, console_service
from tests.kit.orders import place
from tests.kit.paths import ROOT
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

# (customer, total in cents, reason code, what the customer wrote, decision timeout in seconds)
REQUESTS = [
    ("c-ana.souza", 25980, "delivery-too-slow", "The delivery date moved to next month", 5 * 3600),
    ("c-bruno.lima", 8990, "found-cheaper", "Same blender is 20% cheaper at another store", 20 * 3600),
    ("c-carla.m", 129900, "changed-mind", "Decided to keep my old phone", 26 * 86400),
    ("c-diego.r", 4590, "ordered-by-mistake", "Ordered size M, I need L", 29 * 86400),
    ("c-elisa.p", 34900, "other", "<script>alert('hi')</script> I want a refund", 29 * 86400),
    ("c-fabio.t", 15990, "changed-mind", "", 30 * 86400),
]


async def fill(console: Console) -> str:
    """The queue's requests, plus one order asked twice (denied once), whose page is shown."""
    for index, (who, total, code, text, timeout) in enumerate(REQUESTS):
        await console.pending(
            who,
            reason=text,
            code=code,
            total=total,
            order_id=f"10{42 + index}",
            decision_timeout_seconds=timeout,
        )
    shown = await console.pending("c-gabi.n", reason="Wrong colour", code="ordered-by-mistake", total=21980,
                                  order_id="1038")  # fmt: skip
    deny = {
        "actor": "store",
        "sender": "marina",
        "reason": "Already with the carrier",
        "reason_code": "already-shipped",
    }
    await console.orders.send(shown, Action.DENY_CANCELLATION, deny)
    await console.orders.send(shown, Action.START_HANDLING, {"actor": "store", "sender": "marina"})
    again = {"actor": "customer", "sender": "c-gabi.n", "reason": "The carrier says it can still be stopped",
             "reason_code": "changed-mind"}  # fmt: skip
    await console.orders.send(shown, Action.REQUEST_CANCELLATION, again)
    await console.queued(shown)
    # A few cancellations for the report: two inside the window, two the store confirmed.
    for index, code in enumerate(("changed-mind", "found-cheaper")):
        placed = await place(console.orders, customer_id=f"c-r{index}", order_id=f"10{30 + index}")
        cancel = {"actor": "customer", "reason": "", "reason_code": code, "sender": f"c-r{index}"}
        await console.orders.send(placed, Action.REQUEST_CANCELLATION, cancel)
    for index in range(2):
        asked = await console.pending(f"c-s{index}", order_id=f"10{34 + index}", code="delivery-too-slow")
        await console.orders.send(asked, Action.CONFIRM_CANCELLATION, {"actor": "store", "sender": "marina"})
    return shown


async def main(out: Path) -> None:
    why = missing_browser()
    if why:
        raise SystemExit(f"can't take screenshots: {why}")
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=shutil.which("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_extra_args=["--headless"],
    )
    async with env, console_service(env.client, Path(tempfile.mkdtemp())) as console:
        console.add_user("marina")
        order_id = await fill(console)
        async with chromium() as browser:
            context = await browser.new_context(base_url=console.url, viewport={"width": 1280, "height": 800})
            page = await context.new_page()
            await sign_in(page, "marina", PASSWORD)
            await page.get_by_role("checkbox", name="Select order 1043").check()
            await page.screenshot(path=out / "console-queue.png")
            await page.goto(f"/console/orders/{order_id}")
            await page.screenshot(path=out / "console-order.png", full_page=True)
            await page.goto("/console/report?since=1d")
            await page.screenshot(path=out / "console-report.png")
    print(f"saved console-queue.png, console-order.png and console-report.png in {out}")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"))
