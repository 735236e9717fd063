"""How sure a verdict's margin is: a bootstrap interval for the ratio between two engines'
figures, resampling the queries and, within each query, its attempts.

The margin the report prints ("2.4x faster") is one number from one run. Rerun the benchmark and
each query's hot time moves a little, and a different mix of queries would weigh the engines
differently; both are what the interval shows. Each resample draws the queries with replacement
(the same queries for both engines: the comparison is paired) and, for every drawn query, each
engine's attempts with replacement, then recomputes the figure's ratio. The interval is the
middle 95% of those ratios (the percentile bootstrap: Efron & Tibshirani, "An Introduction to
the Bootstrap", 1993, ch. 13). Where it includes 1, the data cannot tell the engines apart:
"within noise", and no one wins.

The resampling is seeded, so the same store always renders the same report.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.stats import median, percentile

RESAMPLES = 1000
LEVEL = 0.95
SEED = 29


@dataclass(frozen=True)
class Interval:
    """A 95% bootstrap interval of a ratio: the runner-up's figure over the winner's, so above 1
    means the winner leads."""

    low: float
    high: float

    def includes_one(self) -> bool:
        return self.low <= 1 <= self.high

    def text(self) -> str:
        return f"95% interval {self.low:.2f}–{self.high:.2f}×"


# Per query, what the attempts' figure is: the best hot time (as the scores use), or the
# median cost of an attempt (as one pass is priced).
def best(values: Sequence[float]) -> float:
    return min(values)


def typical(values: Sequence[float]) -> float:
    return median(values)


def time_ratio(small: float) -> Callable[[list[tuple[float, float]]], float | None]:
    """The ratio of two engines' relative times over paired (leader, other) query figures: the
    geometric mean of (other + small) / (leader + small), as the scores add `small` to both."""

    def ratio(pairs: list[tuple[float, float]]) -> float | None:
        logs = [math.log((other + small) / (leader + small)) for leader, other in pairs]
        return math.exp(sum(logs) / len(logs))

    return ratio


def sum_ratio(pairs: list[tuple[float, float]]) -> float | None:
    """The ratio of two engines' sums over paired query figures (one pass of cost)."""
    leader = sum(p[0] for p in pairs)
    return sum(p[1] for p in pairs) / leader if leader > 0 else None


def bootstrap(
    leader: dict[str, Sequence[float]],
    other: dict[str, Sequence[float]],
    per_query: Callable[[Sequence[float]], float],
    ratio: Callable[[list[tuple[float, float]]], float | None],
    observed: float,
) -> Interval | None:
    """The interval around `observed` (the printed ratio, other over leader) from resampling
    the queries both engines have samples for and, within each, their attempts.

    The bootstrap's spread is carried over to `observed` as factors (its percentiles over its
    own plug-in ratio), because the printed ratio may be taken over a few more queries than the
    two share (one engine could not run a query) or from a bill rather than the queries' sum.
    None when there is nothing to resample: fewer than two shared queries with, between them,
    no more than one attempt each (every resample would be the same)."""
    shared = sorted(set(leader) & set(other))
    if not shared or (len(shared) < 2 and max(len(leader[q]) + len(other[q]) for q in shared) <= 2):
        return None
    plug_in = ratio([(per_query(leader[q]), per_query(other[q])) for q in shared])
    if not plug_in:
        return None
    rng = random.Random(SEED)
    # Each query's figure under attempt resampling, drawn for every resample up front.
    draws = {
        q: (_draws(leader[q], per_query, rng), _draws(other[q], per_query, rng)) for q in shared
    }
    found = []
    for r in range(RESAMPLES):
        chosen = rng.choices(shared, k=len(shared))
        value = ratio([(draws[q][0][r], draws[q][1][r]) for q in chosen])
        if value:
            found.append(value / plug_in)
    if len(found) < RESAMPLES // 2:
        return None
    tail = (1 - LEVEL) / 2
    return Interval(observed * percentile(found, tail), observed * percentile(found, 1 - tail))


# Up to this many attempts, a query's resampled figure is drawn from its exact distribution:
# every multiset of k draws from its k attempts (126 for five, 462 for six), each weighted by
# how many orders give it. The same distribution as drawing the attempts a thousand times, and
# much cheaper; above it, the attempts are drawn.
EXACT_ATTEMPTS = 6


def _draws(
    values: Sequence[float], per_query: Callable[[Sequence[float]], float], rng: random.Random
) -> list[float]:
    """RESAMPLES draws of the query's figure over its attempts resampled with replacement."""
    k = len(values)
    if k == 1:
        return [values[0]] * RESAMPLES
    if k <= EXACT_ATTEMPTS:
        outcomes: Counter[float] = Counter()
        for picked in itertools.combinations_with_replacement(range(k), k):
            orders = math.factorial(k)
            for repeats in Counter(picked).values():
                orders //= math.factorial(repeats)
            outcomes[per_query([values[i] for i in picked])] += orders
        return rng.choices(list(outcomes), weights=list(outcomes.values()), k=RESAMPLES)
    return [per_query(rng.choices(values, k=k)) for _ in range(RESAMPLES)]
