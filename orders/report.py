"""The cancellation report (docs/policy.md, "The report"): orders placed and canceled, by path, reason and
actor, requests denied, and how fast the store decides, read from Temporal's visibility (search attributes and
the memo each order keeps current), never from each order's history: 10,000 orders in seconds.

Counts are over the orders placed in the window (`since` to now); a decision counts with its order.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from temporalio.client import Client, WorkflowExecution

from domain.lifecycle import Actor, CancelPath, Status
from domain.reasons import Catalogue, Use, request_use
from domain.visibility import CANCEL_PATH, CANCELED_BY, MEMO_KEY, ORDER_STATUS, REASON_CODE, OrderMemo
from workflows.names import ORDERS_QUERY
from workflows.search_attributes import by_name

PAGE = 1000
ITEMS_ONLY = "items-only"  # some items canceled, the order itself not
PATHS = [*(path.value for path in CancelPath), ITEMS_ONLY]


class Report(BaseModel):
    since: datetime
    until: datetime
    placed: int = 0
    canceled: int = 0
    canceled_by_path: dict[str, int] = {}
    requests_denied: int = 0
    by_reason: dict[str, int] = {}  # reason code of the canceled orders
    by_reason_label: dict[str, str] = {}
    by_shopify_reason: dict[str, int] = {}  # the codes mapped onto Shopify's cancel reasons
    by_actor: dict[str, int] = {}  # who asked for the cancellations
    by_channel: dict[str, int] = {}  # where the cancellations' requests were sent from, when one said
    decisions: int = 0
    # Modifications applied (docs/modifications.md), on how many orders, and the value they moved (cents).
    modifications: int = 0
    modified_orders: int = 0
    modification_value_added: int = 0
    modification_value_removed: int = 0
    decision_seconds_p50: float | None = None
    decision_seconds_p90: float | None = None


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def build_report(
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
    channels: Counter[str] = Counter()
    waits: list[float] = []
    async for execution in client.list_workflows(query, page_size=PAGE):
        report.placed += 1
        attributes = by_name(execution.typed_search_attributes)
        memo = await _memo(execution)
        report.requests_denied += memo.denied
        report.modifications += memo.modified
        report.modified_orders += 1 if memo.modified else 0
        report.modification_value_added += memo.value_added
        report.modification_value_removed += memo.value_removed
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
            if memo.canceled_via is not None:
                channels[memo.canceled_via.value] += 1
            use = request_use(Actor(actor)) if actor in set(Actor) else Use.STORE
            found = catalogue.find(code, use)
            shopify[found.shopify if found else "other"] += 1
    report.canceled_by_path = {path: paths.get(path, 0) for path in PATHS}
    report.by_reason, report.by_shopify_reason, report.by_actor = dict(reasons), dict(shopify), dict(actors)
    report.by_channel = dict(channels)
    report.by_reason_label = {code: _label(catalogue, code) for code in reasons}
    report.decisions = len(waits)
    report.decision_seconds_p50 = percentile(waits, 0.5)
    report.decision_seconds_p90 = percentile(waits, 0.9)
    return report


def since_ago(span: timedelta, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - span


async def _memo(execution: WorkflowExecution) -> OrderMemo:
    raw = (await execution.memo()).get(MEMO_KEY)
    if not isinstance(raw, dict):
        return OrderMemo(value=0, currency="")
    return OrderMemo.model_validate(raw)


def _label(catalogue: Catalogue, code: str) -> str:
    found = catalogue.find(code, Use.CUSTOMER) or catalogue.find(code, Use.STORE)
    return found.label() if found else code
