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

    async def total(self, attribute: str, *common: str) -> int:
        """The sum of an integer attribute over the orders: the count at or above each level."""
        total, level, step = 0, 1, 4
        while True:
            levels = range(level, level + step)
            found = await asyncio.gather(*(self.count(*common, f"{attribute} >= {k}") for k in levels))
            total += sum(found)
            if found[-1] == 0:
                return total
            level += step

    async def executions(self, *clauses: str, limit: int | None = None) -> AsyncIterator[WorkflowExecution]:
        async with self._gate:
            self.queries += 1
        pages = min(limit, 1000) if limit else 1000
        async for execution in self.client.list_workflows(self.where(*clauses), limit=limit, page_size=pages):
            yield execution


# Decision times run from seconds to months: the first probes, in seconds.
FIRST_PROBES = (60.0, 3600.0, 86400.0, 7 * 86400.0, 30 * 86400.0)
SPLITS = 8  # each later round cuts the bracket into this many parts, probed at once
FEW = 64  # values read one by one once the bracket holds no more than this many
TICK = 1e-6  # seconds: the values' precision (a `timedelta`'s), so `≤ v - TICK` counts those `< v`


class KthSmallest:
    """The k-th smallest value of a numeric attribute over `n` values, by counting how many are at
    most `t` for a few `t` at a time, until the bracket around it holds few enough to read.

    `at_most(t)` counts the values ≤ t; `between(lo, hi, limit)` returns values in (lo, hi] (at most
    `limit` of them; -inf and inf: no bound). Counts are kept, so several ranks over the same values share
    their probes. Each round also probes one value from the bracket and the tick below it, so a value
    many orders share (decided at once, to the microsecond) is found in one round."""

    def __init__(
        self,
        n: int,
        at_most: Callable[[float], Awaitable[int]],
        between: Callable[[float, float, int | None], Awaitable[list[float]]],
    ) -> None:
        self.n = n
        self._at_most = at_most
        self._between = between
        self._known: dict[float, int] = {-math.inf: 0, math.inf: n}

    async def _probe(self, points: Iterable[float]) -> None:
        fresh = sorted({float(number(t)) for t in points} - set(self._known))
        found = await asyncio.gather(*(self._at_most(t) for t in fresh))
        self._known.update(zip(fresh, found, strict=True))

    def _bracket(self, k: int) -> tuple[float, float]:
        lo = max(t for t, count in self._known.items() if count < k)
        hi = min(t for t, count in self._known.items() if count >= k)
        return lo, hi

    async def find(self, k: int) -> float:
        """The k-th smallest (1-based) of the n values."""
        if not 1 <= k <= self.n:
            raise ValueError(f"rank {k} of {self.n} values")
        await self._probe(FIRST_PROBES)
        while True:
            lo, hi = self._bracket(k)
            if self._known[hi] - self._known[lo] <= FEW:
                values = sorted(await self._between(lo, hi, None))
                return values[k - self._known[lo] - 1]
            (pivot,) = await self._between(lo, hi, 1)
            start = max(lo, 0.0)
            end = hi if not math.isinf(hi) else max(4 * start, 4 * pivot, 1.0)
            spaced = (start + (end - start) * i / SPLITS for i in range(1, SPLITS))
            await self._probe([pivot - TICK, pivot, *spaced])
            below, upto = self._known[float(number(pivot - TICK))], self._known[float(number(pivot))]
            if below < k <= upto:
                return pivot
