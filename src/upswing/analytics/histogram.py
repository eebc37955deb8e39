"""Fixed histograms, so that a median or a p90 can be read from counts that add up across days (the daily rollups)
as well as from rows read live, with the same answer either way. Pure: plain numbers in, numbers out.

A histogram has fixed *lower bounds* (ascending, the first 0). A value counts in the bucket of the largest bound
not above it (a negative value in the first), so each value stands for its bucket's lower bound: a percentile is
PostgreSQL's ``percentile_cont`` over the values rounded down to their bounds. Its error is below the width of the
bucket the percentile falls in, and it is exact for values that sit on a bound (10 minutes, 3 days).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Buckets:
    """A histogram's lower bounds, the prefix of the rollup columns that hold its counts (``rt_90``), and its
    resolution in words (for the reports' notes)."""

    prefix: str
    bounds: tuple[int, ...]
    resolution: str

    def __post_init__(self) -> None:
        if not self.bounds or self.bounds[0] != 0 or list(self.bounds) != sorted(set(self.bounds)):
            raise ValueError(f"{self.prefix}: bounds must start at 0 and ascend")

    def column(self, bound: int) -> str:
        return f"{self.prefix}_{bound}"

    @property
    def columns(self) -> list[str]:
        return [self.column(bound) for bound in self.bounds]

    def bound_of(self, value: float) -> int:
        """The lower bound of the bucket ``value`` falls in."""
        chosen = self.bounds[0]
        for bound in self.bounds:
            if value < bound:
                break
            chosen = bound
        return chosen


def _steps(*spans: tuple[int, int, int]) -> tuple[int, ...]:
    """Bounds from (first, last, step) spans."""
    return tuple(sorted({bound for first, last, step in spans for bound in range(first, last + 1, step)}))


#: Minutes from detection to the first action (response times).
RESPONSE_MINUTES = Buckets("rt", _steps((0, 10, 1), (15, 60, 5), (75, 120, 15), (150, 240, 30), (300, 720, 60),
                                        (960, 1440, 240), (2160, 4320, 720), (5760, 10080, 1440),
                                        (20160, 40320, 10080)),
                           "1 minute wide under 10 minutes, 5 minutes under an hour, 15 minutes under 2 hours, "
                           "30 minutes under 4 hours, an hour under 12 hours, 4 hours under a day, 12 hours under "
                           "3 days, a day under a week, a week under 4 weeks, then one bucket")
#: Days from a lead's placement (``created_at``) to its first payment.
FIRST_PAYMENT_DAYS = Buckets("fp", _steps((0, 7, 1), (14, 84, 7), (112, 364, 28), (455, 1092, 91)),
                             "1 day wide under a week, a week under 12 weeks, 4 weeks under 52 weeks, 13 weeks "
                             "under 156 weeks, then one bucket")
#: Hours since a lead was last looked at (coverage); the age bands' limits (1, 7 and 30 days) are bounds.
AGE_HOURS = Buckets("age", _steps((0, 6, 1), (9, 24, 3), (36, 72, 12), (96, 168, 24), (240, 720, 120),
                                  (1440, 2160, 720), (4320, 8760, 4440)),
                    "1 hour wide under 6 hours, 3 hours under a day, 12 hours under 3 days, a day under a week, "
                    "5 days under 30 days, 30 days under 90 days, then 90 days, 6 months and a year")


def counts_of(buckets: Buckets, values: Iterable[float]) -> dict[int, int]:
    """A histogram (lower bound → count) of raw values."""
    counts: dict[int, int] = {}
    for value in values:
        bound = buckets.bound_of(value)
        counts[bound] = counts.get(bound, 0) + 1
    return counts


def add(into: dict[int, int], counts: Mapping[int, int]) -> dict[int, int]:
    for bound, n in counts.items():
        if n:
            into[bound] = into.get(bound, 0) + n
    return into


def total(counts: Mapping[int, int]) -> int:
    return sum(counts.values())


def percentile(counts: Mapping[int, int], fraction: float) -> float | None:
    """The continuous percentile (``percentile_cont``) of the values the counts stand for (each its bucket's lower
    bound); None when there are none."""
    ordered = sorted((bound, n) for bound, n in counts.items() if n > 0)
    n = sum(count for _, count in ordered)
    if not n:
        return None
    position = fraction * (n - 1)
    low, high = math.floor(position), math.ceil(position)
    return _value_at(ordered, low) + (_value_at(ordered, high) - _value_at(ordered, low)) * (position - low)


def _value_at(ordered: Sequence[tuple[int, int]], rank: int) -> float:
    seen = 0
    for bound, count in ordered:
        seen += count
        if rank < seen:
            return float(bound)
    return float(ordered[-1][0])
