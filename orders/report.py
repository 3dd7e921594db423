"""The cancellation report (docs/policy.md, "The report"): orders placed and canceled, by path, reason and
actor, requests denied, and how fast the store decides, counted by Temporal's visibility store
(`orders.counts`) from the search attributes each order keeps current, never by reading every order: its
time hardly grows with the orders (docs/performance.md, "Flat reads").

Counts are over the orders placed in the window (`since` to now); a decision counts with its order.
Read one by one, as before 1.1: orders without the report's attributes (placed by 1.0, or started without
our client and not changed since), and the few with more than one decision (their decision times are in
their memo). Requests denied, decisions and items-only cancellations of the first kind come from their
memo; everything else from the attributes every order has had since 1.0. The value modifications moved
is read from the memos of the modified orders only (`Modifications >= 1`): it grows with them, not with
the orders.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from temporalio.client import Client, WorkflowExecution

from domain.lifecycle import Actor, CancelPath, Status
from domain.reasons import OTHER, Catalogue, Use
from domain.visibility import (
    CANCEL_PATH,
    CANCELED_BY,
    CANCELED_VIA,
    DECISION_SECONDS,
    DECISIONS,
    ITEMS_CANCELED,
    MEMO_KEY,
    MODIFICATIONS,
    ORDER_STATUS,
    REASON_CODE,
    REQUESTS_DENIED,
    OrderMemo,
)
from domain.wire import Channel
from orders.counts import Counts, KthSmallest, none_of, number, one_of, quoted
from workflows.names import ORDERS_QUERY
from workflows.search_attributes import DECISION_SECONDS as DECISION_SECONDS_KEY
from workflows.search_attributes import by_name

ITEMS_ONLY = "items-only"  # some items canceled, the order itself not
PATHS = [*(path.value for path in CancelPath), ITEMS_ONLY]
CANCELED_STATUSES = [Status.CANCEL.value, Status.CANCELED.value]
CANCELED = one_of(ORDER_STATUS, CANCELED_STATUSES)
WITHOUT_ATTRIBUTES = f"{DECISIONS} IS NULL"  # placed by 1.0 (or started some other way, unchanged since)
UNKNOWN_ACTOR = "unknown"
INSIDE = CancelPath.INSIDE_WINDOW.value
# Canceled orders by path, and the orders that had items canceled and went on. A path (and who asked) is
# only ever written with `cancel` or `canceled`, so each count is one attribute's: the store answers it
# from that attribute's index. A canceled order without a path (none since 1.0) counts as inside the
# window: the canceled orders no path counts.
PATH_CLAUSES = {
    **{path.value: f"{CANCEL_PATH} = {quoted(path.value)}" for path in CancelPath},
    ITEMS_ONLY: f"{ITEMS_CANCELED} = true AND {none_of(ORDER_STATUS, CANCELED_STATUSES)}",
}


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
    decisions: int = 0
    decision_seconds_p50: float | None = None
    decision_seconds_p90: float | None = None
    by_channel: dict[str, int] = {}  # cancellations asked for from a surface (the customer's pages)
    modified_orders: int = 0
    modifications: int = 0  # applied
    modification_value_added: int = 0  # cents, across currencies
    modification_value_removed: int = 0


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[rank(len(ordered), fraction) - 1]


def rank(n: int, fraction: float) -> int:
    """The nearest rank (1-based) of `fraction` among n values."""
    return max(1, math.ceil(fraction * n))


async def build_report(
    client: Client, since: datetime, catalogue: Catalogue, *, only: str | None = None
) -> Report:
    """The report over the orders placed since `since` (and matching the visibility clause `only`).
    Its counts are asked all at once (`orders.counts.AT_ONCE` in flight), then those that depend on them
    and the percentiles'."""
    until = datetime.now(UTC)
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    counts = Counts(client, f'{ORDERS_QUERY} AND StartTime >= "{stamp}"' + (f" AND ({only})" if only else ""))
    report = Report(since=since, until=until)
    reason = _Tally(REASON_CODE, _codes(catalogue), OTHER, implies_canceled=False)
    actor = _Tally(CANCELED_BY, [actor.value for actor in Actor], UNKNOWN_ACTOR, implies_canceled=True)
    channels = {channel.value: f"{CANCELED_VIA} = {quoted(channel.value)}" for channel in Channel}
    (
        (placed, canceled, legacy, multiple),
        (paths, reasons, actors),
        (denied, decided, modified),
    ) = await asyncio.gather(
        asyncio.gather(
            counts.count(),
            counts.count(CANCELED),
            _read(counts, WITHOUT_ATTRIBUTES),
            _read(counts, f"{DECISIONS} >= 2"),
        ),
        asyncio.gather(counts.each(PATH_CLAUSES), reason.count(counts), actor.count(counts)),
        asyncio.gather(
            counts.levels(REQUESTS_DENIED), counts.levels(DECISIONS), counts.levels(MODIFICATIONS)
        ),
    )
    via, changed = await asyncio.gather(counts.each(channels), _read(counts, f"{MODIFICATIONS} >= 1"))
    report.by_channel = {channel: count for channel, count in via.items() if count}
    report.modified_orders, report.modifications = (modified[0] if modified else 0), sum(modified)
    report.modification_value_added = sum(memo.value_added for _, memo in changed)
    report.modification_value_removed = sum(memo.value_removed for _, memo in changed)
    report.placed, report.canceled = placed, canceled
    paths[INSIDE] += max(0, canceled - sum(paths[path.value] for path in CancelPath))
    paths[ITEMS_ONLY] += sum(
        1 for execution, memo in legacy if memo.items_canceled and not _canceled(execution)
    )
    report.canceled_by_path = {path: paths.get(path, 0) for path in PATHS}
    report.requests_denied = sum(denied) + sum(memo.denied for _, memo in legacy)
    report.decisions = sum(decided) + sum(len(memo.decisions) for _, memo in legacy)
    single = decided[0] - (decided[1] if len(decided) > 1 else 0)
    extra = sorted(seconds for _, memo in [*legacy, *multiple] for seconds in _seconds(memo))
    (report.by_reason, report.by_actor), (p50, p90) = await asyncio.gather(
        asyncio.gather(reason.finish(counts, reasons, canceled), actor.finish(counts, actors, canceled)),
        _percentiles(counts, single, extra, (0.5, 0.9)),
    )
    report.decision_seconds_p50, report.decision_seconds_p90 = p50, p90
    report.by_shopify_reason = await _shopify(counts, catalogue, report.by_reason)
    report.by_reason_label = {code: reason_label(catalogue, code) for code in report.by_reason}
    return report


def since_ago(span: timedelta, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - span


async def _read(counts: Counts, clause: str) -> list[tuple[WorkflowExecution, OrderMemo]]:
    """The orders matching `clause`, each with its memo: the few the counts can't tell about."""
    return [(execution, await read_memo(execution)) async for execution in counts.executions(clause)]


class _Tally:
    """Canceled orders by one attribute's value (none: `missing`), one count per value the orders write.
    What the counts leave over are values no one foresaw (none of `values`: read one by one, they are
    few) and orders without the attribute (`missing`). `implies_canceled`: the attribute is only ever
    written on canceling."""

    def __init__(self, attribute: str, values: list[str], missing: str, *, implies_canceled: bool) -> None:
        self.attribute, self.missing = attribute, missing
        self.values = sorted({*values, missing})
        self.canceled = "" if implies_canceled else CANCELED

    async def count(self, counts: Counts) -> dict[str, int]:
        clauses = {value: f"{self.attribute} = {quoted(value)}" for value in self.values}
        return await counts.each(clauses, self.canceled)

    async def finish(self, counts: Counts, found: dict[str, int], canceled: int) -> dict[str, int]:
        left = canceled - sum(found.values())
        if left > 0:
            async for execution in counts.executions(CANCELED, none_of(self.attribute, self.values)):
                value = by_name(execution.typed_search_attributes).get(self.attribute) or self.missing
                found[value] = found.get(value, 0) + 1
                left -= 1
            found[self.missing] += max(0, left)  # without the attribute
        return {value: count for value, count in found.items() if count}


async def _shopify(counts: Counts, catalogue: Catalogue, by_reason: dict[str, int]) -> dict[str, int]:
    """Canceled orders by Shopify's cancel reason: their code as the catalogue maps it for whoever asked
    (a customer's codes, or the store's; a code it doesn't know maps to `other`). A code that maps alike
    for both is counted already; one that doesn't is counted again among the customers' cancellations."""
    buckets: Counter[str] = Counter()

    def bucket(code: str, use: Use) -> str:
        found = catalogue.find(code, use)
        return found.shopify if found else OTHER

    split = [code for code in by_reason if bucket(code, Use.CUSTOMER) != bucket(code, Use.STORE)]
    customer = f"{CANCELED_BY} = {quoted(Actor.CUSTOMER.value)}"

    async def by_customers(code: str) -> int:
        clauses = [f"{REASON_CODE} = {quoted(code)}"] + ([f"{REASON_CODE} IS NULL"] if code == OTHER else [])
        found = await asyncio.gather(*(counts.count(CANCELED, clause, customer) for clause in clauses))
        return sum(found)

    customers = dict(zip(split, await asyncio.gather(*(by_customers(code) for code in split)), strict=True))
    for code, count in by_reason.items():
        mine = customers.get(code, 0)
        buckets[bucket(code, Use.CUSTOMER)] += mine
        buckets[bucket(code, Use.STORE) if code in customers else bucket(code, Use.CUSTOMER)] += count - mine
    return {name: count for name, count in buckets.items() if count}


async def _percentiles(
    counts: Counts, single: int, extra: list[float], fractions: tuple[float, ...]
) -> list[float | None]:
    """Nearest-rank percentiles of the decision times: those of the orders with one decision counted
    in visibility (`DecisionSeconds`), `extra` (read from memos) merged in."""
    n = single + len(extra)
    if not n:
        return [None for _ in fractions]
    one = f"{DECISIONS} = 1"

    def bounds(lo: float, hi: float) -> list[str]:
        found = [f"{DECISION_SECONDS} > {number(lo)}"] if not math.isinf(lo) else []
        return found + ([f"{DECISION_SECONDS} <= {number(hi)}"] if not math.isinf(hi) else [])

    async def within(lo: float, hi: float) -> int:
        return await counts.count(one, *bounds(lo, hi)) + sum(lo < v <= hi for v in extra)

    async def between(lo: float, hi: float, limit: int | None) -> list[float]:
        found = [v for v in extra if lo < v <= hi]
        if limit is not None and len(found) >= limit:
            return found[:limit]
        async for execution in counts.executions(one, *bounds(lo, hi), limit=limit):
            seconds = execution.typed_search_attributes.get(DECISION_SECONDS_KEY)
            if seconds is not None:
                found.append(float(seconds))
        return found

    ranks = KthSmallest(n, within, between)
    found: list[float | None] = [await ranks.find(rank(n, fraction)) for fraction in fractions]
    return found


def _codes(catalogue: Catalogue) -> list[str]:
    """The codes a cancellation can carry: the customer's and the store's."""
    return sorted({r.code for r in catalogue.reasons if r.use in (Use.CUSTOMER, Use.STORE)})


def _canceled(execution: WorkflowExecution) -> bool:
    return by_name(execution.typed_search_attributes).get(ORDER_STATUS) in (
        Status.CANCEL.value,
        Status.CANCELED.value,
    )


def _seconds(memo: OrderMemo) -> list[float]:
    return [(d.decided_at - d.requested_at).total_seconds() for d in memo.decisions]


async def read_memo(execution: WorkflowExecution) -> OrderMemo:
    raw = (await execution.memo()).get(MEMO_KEY)
    if not isinstance(raw, dict):
        return OrderMemo(value=0, currency="")
    return OrderMemo.model_validate(raw)


def reason_label(catalogue: Catalogue, code: str) -> str:
    found = catalogue.find(code, Use.CUSTOMER) or catalogue.find(code, Use.STORE)
    return found.label() if found else code
