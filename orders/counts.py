"""Counting orders in Temporal's visibility without reading them: count queries over one base clause
(`CountWorkflowExecutions`, answered from the store's indexes), a few at once, and the k-th smallest
value of a numeric search attribute found by counting (docs/performance.md, "Flat reads")."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

from temporalio.client import Client, WorkflowExecution

AT_ONCE = 8  # count queries in flight together
SAFE_VALUE = re.compile(r"^[A-Za-z0-9._:-]*$")


def quoted(value: str) -> str:
    """A keyword as a query literal. Only the values orders write get here (statuses, reason codes,
    actors, paths: letters, digits, `-`), so a value that would need escaping is a bug."""
    if not SAFE_VALUE.fullmatch(value):
        raise ValueError(f"not a keyword the orders write: {value!r}")
    return f'"{value}"'


def one_of(attribute: str, values: Iterable[str]) -> str:
    return f"{attribute} IN ({', '.join(quoted(v) for v in values)})"


def none_of(attribute: str, values: Iterable[str]) -> str:
    return f"{attribute} NOT IN ({', '.join(quoted(v) for v in values)})"


def number(value: float) -> str:
    """A float as a query literal: fixed point, to the microsecond (what decision times carry)."""
    return f"{value:.6f}"


class Counts:
    """Count queries and listings over the orders matching `base`."""

    def __init__(self, client: Client, base: str, at_once: int = AT_ONCE) -> None:
        self.client = client
        self.base = base
        self.queries = 0  # how many this report asked, for the record
        self._gate = asyncio.Semaphore(at_once)

    def where(self, *clauses: str) -> str:
        return " AND ".join([self.base, *(f"({clause})" for clause in clauses if clause)])

    async def count(self, *clauses: str) -> int:
        async with self._gate:
            self.queries += 1
            return (await self.client.count_workflows(self.where(*clauses))).count

    async def each(self, clauses: dict[str, str], *common: str) -> dict[str, int]:
        """Each clause's count (and'ed with `common`), asked at once."""
        found = await asyncio.gather(*(self.count(*common, clause) for clause in clauses.values()))
        return dict(zip(clauses, found, strict=True))

    async def levels(self, attribute: str, *common: str) -> list[int]:
        """How many orders have an integer attribute at 1 or more, at 2 or more, ... until none: their
        sum is the attribute's sum over the orders."""
        found: list[int] = []
        step = 2
        while not found or found[-1]:
            levels = range(len(found) + 1, len(found) + 1 + step)
            found += await asyncio.gather(*(self.count(*common, f"{attribute} >= {k}") for k in levels))
        return found

    async def executions(self, *clauses: str, limit: int | None = None) -> AsyncIterator[WorkflowExecution]:
        async with self._gate:
            self.queries += 1
        pages = min(limit, 1000) if limit else 1000
        async for execution in self.client.list_workflows(self.where(*clauses), limit=limit, page_size=pages):
            yield execution


# Decision times run from seconds to months: the first probes, in seconds.
FIRST_PROBES = (60.0, 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0)
SPLITS = 8  # each later round cuts the bracket into this many parts, probed at once
FEW = 200  # values read once the bracket holds no more than this many (a page of their attributes)
TICK = 1e-6  # seconds: the values' precision (a `timedelta`'s), so `≤ v - TICK` counts those `< v`


class KthSmallest:
    """The k-th smallest value of a numeric attribute over `n` values, by counting how many fall between
    a few cut points at a time, until the bracket around it holds few enough to read.

    `within(lo, hi)` counts the values in (lo, hi]; `between(lo, hi, limit)` returns them (at most
    `limit`); -inf and inf stand for no bound. Each round counts the bracket's sub-intervals, so it reads
    each value in the bracket once, and the brackets shrink: a rank costs about as much as counting its
    values once. Each round also cuts at one value from the bracket and the tick below it, so a value
    many orders share (decided at once, to the microsecond) is found in one round. Counts are kept, so
    several ranks over the same values share them."""

    def __init__(
        self,
        n: int,
        within: Callable[[float, float], Awaitable[int]],
        between: Callable[[float, float, int | None], Awaitable[list[float]]],
    ) -> None:
        self.n = n
        self._within = within
        self._between = between
        self._known: dict[float, int] = {-math.inf: 0, math.inf: n}  # value → how many at most it

    async def _cut(self, lo: float, hi: float, points: Iterable[float]) -> None:
        """Count (lo, hi] at `points` (no value known lies between lo and hi)."""
        cuts = sorted({p for p in (float(number(point)) for point in points) if lo < p < hi})
        found = await asyncio.gather(*(self._within(a, b) for a, b in zip([lo, *cuts], cuts, strict=False)))
        below = self._known[lo]
        for cut, count in zip(cuts, found, strict=True):
            below += count
            self._known[cut] = below

    def _at_most(self, t: float) -> int:
        return self._known[max(known for known in self._known if known <= t)]

    def _bracket(self, k: int) -> tuple[float, float]:
        lo = max(t for t, count in self._known.items() if count < k)
        hi = min(t for t, count in self._known.items() if count >= k)
        return lo, hi

    async def find(self, k: int) -> float:
        """The k-th smallest (1-based) of the n values."""
        if not 1 <= k <= self.n:
            raise ValueError(f"rank {k} of {self.n} values")
        if len(self._known) == 2:
            await self._cut(-math.inf, math.inf, FIRST_PROBES)
        while True:
            lo, hi = self._bracket(k)
            if self._known[hi] - self._known[lo] <= FEW:
                values = sorted(await self._between(lo, hi, None))
                return values[k - self._known[lo] - 1]
            (pivot,) = await self._between(lo, hi, 1)
            start = max(lo, 0.0)
            end = hi if not math.isinf(hi) else max(4 * start, 4 * pivot, 1.0)
            spaced = [start + (end - start) * i / SPLITS for i in range(1, SPLITS)]
            await self._cut(lo, hi, [pivot - TICK, pivot, *spaced])
            if self._at_most(pivot - TICK) < k <= self._at_most(pivot):
                return pivot
