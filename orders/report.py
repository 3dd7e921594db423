"""The cancellation report (SPEC §11): orders placed and canceled, by path, reason and actor, requests
denied, and how fast the store decides, counted by Temporal's visibility store (`orders.counts`) from the
search attributes each order keeps current, never by reading every order: its time hardly grows with the
orders (docs/performance.md, "Flat reads").

Counts are over the orders placed in the window (`since` to now); a decision counts with its order.
Read one by one, as before 1.1: orders without the report's attributes (placed by 1.0, or started without
our client and not changed since), and the few with more than one decision (their decision times are in
their memo). Requests denied, decisions and items-only cancellations of the first kind come from their
memo; everything else from the attributes every order has had since 1.0.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from temporalio.client import Client, WorkflowExecution

from domain.lifecycle import Actor, CancelPath, Status
from domain.reasons import OTHER, SHOPIFY, Catalogue, Use
from domain.visibility import (
    CANCEL_PATH,
    CANCELED_BY,
    DECISION_SECONDS,
    DECISIONS,
    ITEMS_CANCELED,
    MEMO_KEY,
    ORDER_STATUS,
    REASON_CODE,
    REQUESTS_DENIED,
    OrderMemo,
)
from orders.counts import Counts, KthSmallest, number, one_of, quoted
from workflows.names import ORDERS_QUERY
from workflows.search_attributes import DECISION_SECONDS as DECISION_SECONDS_KEY
from workflows.search_attributes import by_name

ITEMS_ONLY = "items-only"  # some items canceled, the order itself not
PATHS = [*(path.value for path in CancelPath), ITEMS_ONLY]
CANCELED = one_of(ORDER_STATUS, [Status.CANCEL.value, Status.CANCELED.value])
NOT_CANCELED = f"NOT {CANCELED} OR {ORDER_STATUS} IS NULL"
WITHOUT_ATTRIBUTES = f"{DECISIONS} IS NULL"  # placed by 1.0 (or started some other way, unchanged since)
UNKNOWN_ACTOR = "unknown"


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
    """The report over the orders placed since `since` (and matching the visibility clause `only`)."""
    until = datetime.now(UTC)
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    counts = Counts(client, f'{ORDERS_QUERY} AND StartTime >= "{stamp}"' + (f" AND ({only})" if only else ""))
    report = Report(since=since, until=until)
    (report.placed, report.canceled), legacy, multiple = await asyncio.gather(
        asyncio.gather(counts.count(), counts.count(CANCELED)),
        _read(counts, WITHOUT_ATTRIBUTES),
        _read(counts, f"{DECISIONS} >= 2"),
    )
    actors = [actor.value for actor in Actor]
    (
        report.canceled_by_path,
        report.by_reason,
        report.by_actor,
        report.by_shopify_reason,
    ) = await asyncio.gather(
        _paths(counts, legacy),
        _tally(counts, REASON_CODE, _codes(catalogue), missing=OTHER),
        _tally(counts, CANCELED_BY, actors, missing=UNKNOWN_ACTOR),
        _shopify(counts, catalogue, report.canceled),
    )
    denied, decisions, single = await asyncio.gather(
        counts.total(REQUESTS_DENIED), counts.total(DECISIONS), counts.count(f"{DECISIONS} = 1")
    )
    report.requests_denied = denied + sum(memo.denied for _, memo in legacy)
    extra = [_seconds(memo) for _, memo in [*legacy, *multiple]]
    report.decisions = decisions + sum(len(seconds) for seconds in extra[: len(legacy)])
    report.by_reason_label = {code: reason_label(catalogue, code) for code in report.by_reason}
    values = sorted(seconds for found in extra for seconds in found)
    p50, p90 = await _percentiles(counts, single, values, (0.5, 0.9))
    report.decision_seconds_p50, report.decision_seconds_p90 = p50, p90
    return report


def since_ago(span: timedelta, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - span


async def _read(counts: Counts, clause: str) -> list[tuple[WorkflowExecution, OrderMemo]]:
    """The orders matching `clause`, each with its memo: the few the counts can't tell about."""
    return [(execution, await read_memo(execution)) async for execution in counts.executions(clause)]


async def _paths(counts: Counts, legacy: list[tuple[WorkflowExecution, OrderMemo]]) -> dict[str, int]:
    """Canceled orders by path (one canceled before 1.0 wrote its path counts as inside the window),
    and the orders that had items canceled and went on."""
    clauses = {path.value: f"{CANCEL_PATH} = {quoted(path.value)}" for path in CancelPath}
    inside = CancelPath.INSIDE_WINDOW.value
    clauses[inside] = f"{clauses[inside]} OR {CANCEL_PATH} IS NULL"
    clauses[ITEMS_ONLY] = f"{ITEMS_CANCELED} = true AND ({NOT_CANCELED})"
    found = await counts.each({k: v for k, v in clauses.items() if k != ITEMS_ONLY}, CANCELED)
    found[ITEMS_ONLY] = await counts.count(clauses[ITEMS_ONLY]) + sum(
        1 for execution, memo in legacy if memo.items_canceled and not _canceled(execution)
    )
    return {path: found.get(path, 0) for path in PATHS}


async def _tally(counts: Counts, attribute: str, values: list[str], *, missing: str) -> dict[str, int]:
    """Canceled orders by an attribute's value (none, or empty: `missing`); values no one foresaw (none
    of `values`) are few, and read one by one."""
    clauses = {value: f"{attribute} = {quoted(value)}" for value in {*values, missing}}
    clauses[missing] += f" OR {attribute} IS NULL OR {attribute} = {quoted('')}"
    found = await counts.each(clauses, CANCELED)
    unforeseen = f"NOT {one_of(attribute, [*clauses, ''])}"
    if await counts.count(CANCELED, unforeseen):
        async for execution in counts.executions(CANCELED, unforeseen):
            value = by_name(execution.typed_search_attributes).get(attribute) or missing
            found[value] = found.get(value, 0) + 1
    return {value: count for value, count in found.items() if count}


async def _shopify(counts: Counts, catalogue: Catalogue, canceled: int) -> dict[str, int]:
    """Canceled orders by Shopify's cancel reason: their code as the catalogue maps it for whoever
    asked (a customer's codes, or the store's); a code it doesn't know counts as `other`."""
    terms: dict[str, list[str]] = {bucket: [] for bucket in SHOPIFY if bucket != OTHER}
    for code in _codes(catalogue):
        is_code = f"{REASON_CODE} = {quoted(code)}" + (f" OR {REASON_CODE} IS NULL" if code == OTHER else "")
        by_customer, by_store = catalogue.find(code, Use.CUSTOMER), catalogue.find(code, Use.STORE)
        customer = f"{CANCELED_BY} = {quoted(Actor.CUSTOMER.value)}"
        for bucket in terms:
            customers = by_customer is not None and by_customer.shopify == bucket
            store = by_store is not None and by_store.shopify == bucket
            if customers and store:
                terms[bucket].append(f"({is_code})")
            elif customers:
                terms[bucket].append(f"({is_code}) AND {customer}")
            elif store:
                terms[bucket].append(f"({is_code}) AND (NOT {customer} OR {CANCELED_BY} IS NULL)")
    clauses = {bucket: " OR ".join(f"({term})" for term in found) for bucket, found in terms.items() if found}
    buckets = await counts.each(clauses, CANCELED)
    buckets[OTHER] = max(0, canceled - sum(buckets.values()))  # every other canceled order
    return {bucket: count for bucket, count in buckets.items() if count}


async def _percentiles(
    counts: Counts, single: int, extra: list[float], fractions: tuple[float, ...]
) -> list[float | None]:
    """Nearest-rank percentiles of the decision times: those of the orders with one decision counted
    in visibility (`DecisionSeconds`), `extra` (read from memos) merged in."""
    n = single + len(extra)
    if not n:
        return [None for _ in fractions]
    one = f"{DECISIONS} = 1"

    async def at_most(t: float) -> int:
        return await counts.count(one, f"{DECISION_SECONDS} <= {number(t)}") + sum(v <= t for v in extra)

    async def between(lo: float, hi: float, limit: int | None) -> list[float]:
        bounds = [f"{DECISION_SECONDS} > {number(lo)}"] if not math.isinf(lo) else []
        bounds += [f"{DECISION_SECONDS} <= {number(hi)}"] if not math.isinf(hi) else []
        found = [v for v in extra if lo < v <= hi]
        if limit is not None and len(found) >= limit:
            return found[:limit]
        async for execution in counts.executions(one, *bounds, limit=limit):
            seconds = execution.typed_search_attributes.get(DECISION_SECONDS_KEY)
            if seconds is not None:
                found.append(float(seconds))
        return found

    ranks = KthSmallest(n, at_most, between)
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
