"""The statistics every part of the harness uses, defined once: the median, spread, geometric
mean, percentiles, the Mann-Whitney test with Holm's correction, the noise a gate can see
through, and the summary of one query's attempts.

One definition each, so that the per-query cells, the one-pass time, the trend chart, the
regression gate and the cost of a query all mean the same thing by "median".
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.store.rows import StoredAttempt

# Up to this many ways to split the pooled ranks, the Mann-Whitney p-value is exact.
EXACT_LIMIT = 200_000


def median(values: Sequence[float]) -> float:
    """The middle value; with an even count, the mean of the two middle ones (as
    statistics.median and DuckDB's median do)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("median of nothing")
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie, interpolated linearly between the two
    nearest (DuckDB's quantile_cont; `percentile(v, 0.5) == median(v)`)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of nothing")
    position = fraction * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def geometric_mean(values: Iterable[float]) -> float | None:
    """None for no values."""
    logs = [math.log(v) for v in values]
    return math.exp(sum(logs) / len(logs)) if logs else None


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (no difference between a and b): exact
    (every split of the pooled ranks) while that is cheap, else the normal approximation with
    the tie correction."""
    pooled = sorted((v, i) for i, v in enumerate([*a, *b]))
    ranks = [0.0] * len(pooled)
    i = 0
    while i < len(pooled):  # average ranks over ties
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[pooled[k][1]] = (i + j) / 2 + 1
        i = j + 1
    total, small = len(pooled), len(b)
    observed = sum(ranks[len(a) :])
    expected = small * (total + 1) / 2
    if math.comb(total, small) <= EXACT_LIMIT:
        distance = abs(observed - expected) - 1e-9
        splits = itertools.combinations(ranks, small)
        extreme = sum(1 for split in splits if abs(sum(split) - expected) >= distance)
        return extreme / math.comb(total, small)
    ties = Counter(ranks).values()
    variance = (
        len(a) * small / 12 * (total + 1 - sum(t**3 - t for t in ties) / (total * (total - 1)))
    )
    if variance == 0:
        return 1.0
    z = (abs(observed - expected) - 0.5) / math.sqrt(variance)
    return math.erfc(max(z, 0) / math.sqrt(2))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment for testing many hypotheses at once: each p-value made
    comparable to the family's alpha (the chance of any false alarm among all of them), in
    the order given. Holm, "A simple sequentially rejective multiple test procedure" (1979)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def robust_sigma(values: Sequence[float]) -> float:
    """The standard deviation a normal sample with these values' median absolute deviation
    would have (MAD x 1.4826): one outlier does not inflate it."""
    if len(values) < 2:
        return 0.0
    centre = median(values)
    return 1.4826 * median([abs(v - centre) for v in values])


def detectable_factor(
    sigma_log: float, base_count: int, new_count: int, alpha: float, power: float = 0.8
) -> float:
    """The smallest slowdown factor a two-sided test at `alpha` finds with probability `power`
    when log-times have standard deviation `sigma_log` (normal approximation)."""
    if base_count < 1 or new_count < 1:
        return math.inf
    z = NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)
    return math.exp(z * sigma_log * math.sqrt(1 / base_count + 1 / new_count))


def smallest_p(base_attempts: int, new_attempts: int) -> float:
    """The smallest two-sided p-value these sample sizes can give at all."""
    return 2 / math.comb(base_attempts + new_attempts, new_attempts)


@dataclass(frozen=True)
class Timing:
    """One query's attempts summarised: the first attempt (cold or lukewarm), the hot ones, and
    every usable time. Failed attempts and times left out as possible cache reads are not
    times."""

    first: float | None  # the first attempt's seconds
    first_kind: str | None  # "cold" or "lukewarm", as it was run
    hot: list[float]  # the hot attempts' seconds
    times: list[float]  # every usable attempt's seconds
    excluded: int  # successful attempts left out

    @property
    def best_hot(self) -> float | None:
        return min(self.hot) if self.hot else None

    @property
    def median(self) -> float | None:
        return median(self.times) if self.times else None

    @property
    def spread(self) -> tuple[float | None, float | None]:
        return (min(self.times), max(self.times)) if self.times else (None, None)

    @property
    def compared(self) -> list[float]:
        """What a regression gate compares: the hot times, or every time when none is hot."""
        return self.hot or self.times


def timing(attempts: Iterable[StoredAttempt]) -> Timing:
    """Summarise one query's attempts, in attempt order."""
    tried = list(attempts)
    ok = [a for a in tried if a.status == "ok" and a.client_seconds is not None]
    usable = [a for a in ok if not a.excluded]
    first = next((a for a in usable if a.phase != "hot"), None)
    return Timing(
        first=first.client_seconds if first else None,
        first_kind=next((a.phase for a in tried if a.phase != "hot"), None),
        hot=[a.client_seconds for a in usable if a.phase == "hot"],
        times=[a.client_seconds for a in usable],
        excluded=len(ok) - len(usable),
    )
