"""`whbench compare`: did a change make queries slower? Per query, the change factor of the
median time and a Mann-Whitney U test over the attempts, so that noise is not called a
regression and a regression is not waved away as noise.

Hot attempts are compared when both sides have them (the first attempt measures loading
caches, and would add its own spread); the test is exact (every split of the pooled ranks)
while that is cheap, else the normal approximation with the tie correction.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median
from typing import Any

from harness.errors import UsageError
from harness.store import Store

EXACT_LIMIT = 200_000  # splits to enumerate before falling back to the normal approximation


@dataclass(frozen=True)
class QueryChange:
    query_id: str
    base_seconds: float | None  # median of the compared attempts
    new_seconds: float | None
    factor: float | None  # new / base
    p_value: float | None
    verdict: (
        str  # slower, faster, unchanged, failed (answered before, not now), fixed, added, dropped
    )
    base_attempts: int
    new_attempts: int


def attempts_of(store: Store | None, ref: str) -> tuple[str, list[dict[str, Any]]]:
    """A side of the comparison: a run id (or prefix) in the store, or a JSON file written by
    `whbench results export RUN --format json`."""
    path = Path(ref)
    if path.suffix == ".json" and path.exists():
        try:
            rows = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise UsageError(
                f"{path}: not a whbench export ({exc}); export one with "
                "`whbench results export RUN --format json`"
            ) from None
        if not isinstance(rows, list) or not all("query_id" in r for r in rows):
            raise UsageError(f"{path}: not a whbench export of attempts")
        return str(path), rows
    if store is None:
        raise UsageError(f"no results store, and {ref!r} is not an exported .json file")
    run_id = store.resolve_run(ref)
    return run_id, store.attempts(run_id)


def compare(
    base: list[dict[str, Any]], new: list[dict[str, Any]], threshold: float, alpha: float
) -> list[QueryChange]:
    base_by, new_by = _times(base), _times(new)
    changes = []
    for query_id in sorted(base_by.keys() | new_by.keys()):
        b, n = base_by.get(query_id), new_by.get(query_id)
        if b is None or n is None:
            verdict = "added" if b is None else "dropped"
            changes.append(QueryChange(query_id, None, None, None, None, verdict, 0, 0))
            continue
        if not b or not n:
            verdict = "failed" if b else ("fixed" if n else "unchanged")
            changes.append(
                QueryChange(
                    query_id,
                    median(b) if b else None,
                    median(n) if n else None,
                    None,
                    None,
                    verdict,
                    len(b),
                    len(n),
                )
            )
            continue
        factor = median(n) / median(b) if median(b) > 0 else None
        p = mann_whitney_p(b, n)
        significant = p < alpha
        if factor is not None and significant and factor > threshold:
            verdict = "slower"
        elif factor is not None and significant and factor < 1 / threshold:
            verdict = "faster"
        else:
            verdict = "unchanged"
        changes.append(
            QueryChange(query_id, median(b), median(n), factor, p, verdict, len(b), len(n))
        )
    return changes


def _times(attempts: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Query id -> seconds of its successful hot attempts (all of them if it has no hot ones);
    an empty list when the query only failed. Cache-suspect attempts are left out."""
    grouped: dict[str, list[dict]] = {}
    for a in attempts:
        grouped.setdefault(a["query_id"], []).append(a)
    times = {}
    for query_id, tries in grouped.items():
        ok = [
            a
            for a in tries
            if a["status"] == "ok" and a["client_seconds"] is not None and not a.get("excluded")
        ]
        hot = [a for a in ok if a["phase"] == "hot"]
        times[query_id] = [a["client_seconds"] for a in (hot or ok)]
    return times


def mann_whitney_p(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (no difference between a and b)."""
    pooled = sorted((v, i) for i, v in enumerate(a + b))
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


def smallest_p(base_attempts: int, new_attempts: int) -> float:
    """The smallest two-sided p-value these sample sizes can give at all."""
    return 2 / math.comb(base_attempts + new_attempts, new_attempts)


def summary(changes: list[QueryChange], threshold: float, alpha: float) -> dict[str, Any]:
    factors = [c.factor for c in changes if c.factor]
    counts = Counter(c.verdict for c in changes)
    sizes = [(c.base_attempts, c.new_attempts) for c in changes if c.factor is not None]
    powerless = bool(sizes) and all(smallest_p(b, n) >= alpha for b, n in sizes)
    return {
        "queries": len(changes),
        "geometric_mean_factor": (
            math.exp(sum(map(math.log, factors)) / len(factors)) if factors else None
        ),
        "verdicts": dict(counts),
        "threshold": threshold,
        "alpha": alpha,
        "regressed": counts.get("slower", 0) + counts.get("failed", 0) > 0,
        "too_few_attempts": powerless,
        "changes": [asdict(c) for c in changes],
    }
