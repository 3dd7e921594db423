"""The cancellation report as 1.0 built it: every order in the window read from visibility, its memo
decoded. `python -m bench` times it beside `orders.report.build_report` (which counts instead), and
tests/test_report.py checks that the two agree on the same orders."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from temporalio.client import Client

from domain.lifecycle import Actor, CancelPath, Status
from domain.reasons import Catalogue, Use, request_use
from domain.visibility import CANCEL_PATH, CANCELED_BY, ORDER_STATUS, REASON_CODE
from orders.report import ITEMS_ONLY, PATHS, Report, percentile, read_memo, reason_label
from workflows.names import ORDERS_QUERY
from workflows.search_attributes import by_name

PAGE = 1000


async def report_by_reading(
    client: Client, since: datetime, catalogue: Catalogue, *, only: str | None = None
) -> Report:
    """The report over the orders placed since `since` (and matching the visibility clause `only`)."""
    until = datetime.now(UTC)
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    query = f'{ORDERS_QUERY} AND StartTime >= "{stamp}"' + (f" AND ({only})" if only else "")
    report = Report(since=since, until=until)
    paths: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    shopify: Counter[str] = Counter()
    actors: Counter[str] = Counter()
    waits: list[float] = []
    async for execution in client.list_workflows(query, page_size=PAGE):
        report.placed += 1
        attributes = by_name(execution.typed_search_attributes)
        memo = await read_memo(execution)
        report.requests_denied += memo.denied
        waits += [(d.decided_at - d.requested_at).total_seconds() for d in memo.decisions]
        canceled = attributes.get(ORDER_STATUS) in (Status.CANCEL.value, Status.CANCELED.value)
        if memo.items_canceled and not canceled:
            paths[ITEMS_ONLY] += 1
        if canceled:
            report.canceled += 1
            code = attributes.get(REASON_CODE, "other")
            paths[attributes.get(CANCEL_PATH, CancelPath.INSIDE_WINDOW.value)] += 1
            reasons[code] += 1
            actor = attributes.get(CANCELED_BY, "")
            actors[actor or "unknown"] += 1
            use = request_use(Actor(actor)) if actor in set(Actor) else Use.STORE
            found = catalogue.find(code, use)
            shopify[found.shopify if found else "other"] += 1
    report.canceled_by_path = {path: paths.get(path, 0) for path in PATHS}
    report.by_reason, report.by_shopify_reason, report.by_actor = dict(reasons), dict(shopify), dict(actors)
    report.by_reason_label = {code: reason_label(catalogue, code) for code in reasons}
    report.decisions = len(waits)
    report.decision_seconds_p50 = percentile(waits, 0.5)
    report.decision_seconds_p90 = percentile(waits, 0.9)
    return report
