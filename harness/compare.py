"""`whbench compare`: did a change make queries slower? Per query, the change factor of the
median time and a Mann-Whitney U test over the attempts, so that noise is not called a
regression and a regression is not waved away as noise.

Hot attempts are compared when both sides have them (the first attempt measures loading
caches, and would add its own spread); runs under load, level by level, every attempt of a
query at a level (each stream's); the test is exact (every split of the pooled ranks)
while that is cheap, else the normal approximation with the tie correction.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.stats import geometric_mean, mann_whitney_p, median, smallest_p, timing
from harness.store import Store


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
    """Query id -> the seconds a gate compares (stats.Timing.compared); an empty list when the
    query only failed. A run under load is compared level by level: "q06 at 4 streams"."""
    grouped: dict[str, list[dict]] = {}
    for a in attempts:
        level = a.get("level")
        key = a["query_id"] if level is None else f"{a['query_id']} at {level} streams"
        grouped.setdefault(key, []).append(a)
    return {query_id: timing(tries).compared for query_id, tries in grouped.items()}


def summary(changes: list[QueryChange], threshold: float, alpha: float) -> dict[str, Any]:
    factors = [c.factor for c in changes if c.factor]
    counts = Counter(c.verdict for c in changes)
    sizes = [(c.base_attempts, c.new_attempts) for c in changes if c.factor is not None]
    powerless = bool(sizes) and all(smallest_p(b, n) >= alpha for b, n in sizes)
    return {
        "queries": len(changes),
        "geometric_mean_factor": geometric_mean(factors),
        "verdicts": dict(counts),
        "threshold": threshold,
        "alpha": alpha,
        "regressed": counts.get("slower", 0) + counts.get("failed", 0) > 0,
        "too_few_attempts": powerless,
        "changes": [asdict(c) for c in changes],
    }
