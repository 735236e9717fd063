"""`whbench compare`: did a change make queries slower? A gate that people can leave on: it
must catch a 1.3x slowdown of one query and must not cry wolf on unchanged code.

Three things stood between the old per-query test and that (measured on the development
machine, see docs/regression-gate.md):

- **Common-mode drift.** One process often runs every query a few percent slower or faster
  than another (a busier neighbour, another CPU frequency, a different memory layout). Per
  query, that looks like a change. The drift of a comparison is the median over queries of
  each query's change factor; each query is then judged on its factor divided by the drift. A
  single regressed query barely moves a median of many. The drift itself is reported as the
  whole workload's change, with a confidence interval over queries, and gated on its own.
- **Many tests at once.** Twenty-two queries tested at alpha = 0.05 give about one false
  "slower" per comparison. Holm's correction holds the chance of any false alarm in the whole
  comparison to alpha.
- **Noise between processes, query by query.** Two processes also differ query by query (a
  neighbour busy during a few queries), which no test of one query's attempts can see; the
  spread of every query's drift-adjusted factor can. A query must move beyond NOISE_Z robust
  standard deviations of that spread (the noise floor) as well as beyond the threshold.
- **What the noise allows.** From the spread of each query's own attempts and the noise floor,
  the comparison says the smallest slowdown it could have seen, and warns when that is above
  the threshold.

Per query: hot attempts when both sides have them (the first attempt measures loading caches
and would add its own spread); runs under load, level by level, every attempt of a query at a
level (each stream's). The Mann-Whitney test is exact (every split of the pooled ranks) while
that is cheap, else the normal approximation with the tie correction.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from statistics import NormalDist
from typing import Any

from harness.errors import UsageError
from harness.scale import Scale
from harness.stats import (
    detectable_factor,
    geometric_mean,
    holm,
    mann_whitney_p,
    median,
    robust_sigma,
    smallest_p,
    timing,
)
from harness.store import Store, StoredAttempt, StoredRun

THRESHOLD = 1.10  # a query is slower when it changed by more than this, beyond the drift
ALPHA = 0.05  # the chance of any false "slower" in a whole comparison (Holm)
# The whole workload is slower when its drift is, beyond doubt, more than this: separate
# processes on a shared machine differ by up to ~15% with the same code (docs/regression-gate.md).
WORKLOAD_THRESHOLD = 1.25
MIN_QUERIES_FOR_DRIFT = 3  # fewer than this, and drift cannot be told from a change
# How far beyond the spread of the other queries' factors a query must move: separate processes
# also differ query by query (a neighbour busy during a few queries), which no test of one
# query's attempts can see; the spread of every query's factor around the drift can.
NOISE_Z = 3.0  # the floor across queries, with several runs a side
NOISE_Z_PROCESS = 2.0  # each query's own floor from process to process (several runs a side)
# With one run a side nothing shows how far each query alone moves between processes, so the
# spread over queries must stand for it, with a wider margin (docs/regression-gate.md: the figures).
NOISE_Z_ONE_RUN = 5.0


@dataclass(frozen=True)
class QueryChange:
    query_id: str
    base_seconds: float | None  # median of the compared attempts
    new_seconds: float | None
    factor: float | None  # new / base, as measured
    adjusted_factor: float | None  # factor / the comparison's drift: what the verdict uses
    p_value: float | None  # Mann-Whitney, on the drift-adjusted times
    holm_p: float | None  # the same, adjusted for testing every query (Holm)
    detectable: float | None  # the smallest slowdown the noise of this query lets the test see
    verdict: str  # slower, faster, unchanged, failed (answered before, not now), fixed, added,
    # dropped
    base_attempts: int
    new_attempts: int


class RunAttempts(list[StoredAttempt]):
    """One run's attempts, and its row of the store's runs table when it came from the store
    (None for an exported file): what the gate checks the two sides are comparable on."""

    def __init__(self, attempts: list[StoredAttempt], run: StoredRun | None = None):
        super().__init__(attempts)
        self.run = run


def side_of(store: Store | None, refs: str) -> tuple[str, list[list[StoredAttempt]]]:
    """A side of the comparison: one run, or several separated by commas (processes run in
    turn with the other side's), each a run id (or prefix) or an exported .json file."""
    named = [attempts_of(store, ref.strip()) for ref in refs.split(",") if ref.strip()]
    if not named:
        raise UsageError(f"{refs!r} names no run")
    return ",".join(name for name, _ in named), [attempts for _, attempts in named]


def attempts_of(store: Store | None, ref: str) -> tuple[str, RunAttempts]:
    """One run's attempts: a run id (or prefix) in the store, or a JSON file written by
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
        if not isinstance(rows, list) or not all(
            isinstance(r, dict) and "query_id" in r for r in rows
        ):
            raise UsageError(f"{path}: not a whbench export of attempts")
        return str(path), RunAttempts([_exported(row) for row in rows])
    if store is None:
        raise UsageError(f"no results store, and {ref!r} is not an exported .json file")
    run_id = store.resolve_run(ref)
    return run_id, RunAttempts(store.attempts(run_id), store.run(run_id))


_ATTEMPT_FIELDS = [f.name for f in dataclasses.fields(StoredAttempt)]


def _exported(row: dict[str, Any]) -> StoredAttempt:
    """An attempt as `whbench results export --format json` wrote it (the store's
    attempt_details columns): a column an older export lacks is None, one this whbench does
    not know is left out."""
    found = {name: row.get(name) for name in _ATTEMPT_FIELDS}
    for moment in ("started_at", "ended_at"):
        if isinstance(found[moment], str):
            try:
                found[moment] = datetime.fromisoformat(found[moment])
            except ValueError:
                found[moment] = None  # the gate reads no times of day
    return StoredAttempt(**found)


@dataclass(frozen=True)
class RunIdentity:
    """What a run measured, as far as it is known (None: not known, as for an exported file
    without it): runs that differ in any of it measured different work, so no change in time
    between them says anything about the code."""

    run_id: str | None
    workload: str | None
    scale: float | None
    options: str | None  # the workload's options (generator parameters), as sorted JSON
    data: str | None  # your data's files, by their fingerprint (harness.datagen.files)

    @classmethod
    def of(cls, attempts: list[StoredAttempt]) -> RunIdentity:
        """From the run's row where the store has it, else from its first attempt (all of a
        run's attempts carry its id, workload and scale)."""
        run = attempts.run if isinstance(attempts, RunAttempts) else None
        first = attempts[0] if attempts else None
        if run is not None:
            run_id, workload, scale = run.run_id, run.workload, run.scale
        elif first is not None:
            run_id, workload, scale = first.run_id, first.workload, first.scale
        else:
            run_id = workload = scale = None
        options = run.workload_options if run is not None else None
        data = re.search(r"_data_([0-9a-f]{8})$", (run.namespace if run else None) or "")
        return cls(
            run_id,
            workload,
            float(scale) if scale is not None else None,
            json.dumps(options, sort_keys=True) if options is not None else None,
            data.group(1) if data else None,
        )

    def named(self) -> str:
        return self.run_id or "an exported run"


# What a gate refuses to compare across, in the order it says so: (field, in words).
_SAME = (
    ("workload", "workloads"),
    ("scale", "scales"),
    ("options", "workload options"),
    ("data", "data (your data's files changed)"),
)


def check_comparable(base: list[list[StoredAttempt]], new: list[list[StoredAttempt]]) -> None:
    """Refuse (UsageError, exit 2) what a CI gate must not pass on: a run compared with itself
    (or twice on one side), and runs of different workloads, scales, workload options or data,
    whose times differ for reasons other than the code. Only what both runs record is checked:
    an exported file knows its workload and scale but not its options."""
    identities = [
        (side, RunIdentity.of(attempts))
        for side, runs in (("base", base), ("new", new))
        for attempts in runs
    ]
    seen: dict[str, str] = {}
    for side, identity in identities:
        if identity.run_id is None:
            continue
        if identity.run_id in seen:
            where = (
                "on both sides" if seen[identity.run_id] != side else f"twice on the {side} side"
            )
            raise UsageError(
                f"run {identity.run_id} is {where} of the comparison: compare a run with a "
                "different one (see `whbench results list`)"
            )
        seen[identity.run_id] = side
    for field, words in _SAME:
        values = {
            getattr(identity, field): identity
            for _, identity in identities
            if getattr(identity, field) is not None
        }
        if len(values) > 1:
            shown = " against ".join(
                f"{_shown(field, value)} ({identity.named()})"
                for value, identity in list(values.items())[:2]
            )
            raise UsageError(
                f"the runs compared ran different {words}: {shown}; a gate compares runs of "
                "one workload at one scale on the same data, so give runs that match"
            )


def _shown(field: str, value: Any) -> str:
    if field == "scale":
        return Scale.named(value)
    if field == "data":
        return f"data {value}"
    return str(value)


@dataclass(frozen=True)
class Drift:
    """The change common to every query: the whole workload's factor, with its interval."""

    factor: float  # 1.0 when there are too few queries to tell
    low: float
    high: float
    queries: int
    noise_floor: float = 1.0  # a query must move beyond this factor (see _noise_floor)


def compare(
    base: list[list[StoredAttempt]],
    new: list[list[StoredAttempt]],
    threshold: float = THRESHOLD,
    alpha: float = ALPHA,
    interleaved: bool = False,
) -> tuple[list[QueryChange], Drift]:
    """Each side is one run's attempts or several runs' (separate processes, run in turn with
    the other side's): their times are pooled, and their spread from process to process sets
    each query's own noise floor. `interleaved`: the two sides ran in one process, in turn
    (`whbench compare --interleave`), so no process-to-process noise lies between them.
    Refuses (UsageError) sides that are not comparable: see check_comparable."""
    check_comparable(base, new)
    base_runs, new_runs = [_times(run) for run in base], [_times(run) for run in new]
    base_by, new_by = _pooled(base_runs), _pooled(new_runs)
    both = {
        key: (b, n)
        for key in base_by.keys() & new_by.keys()
        if (b := base_by[key]) and (n := new_by[key]) and median(b) > 0
    }
    drift = _drift({key: median(n) / median(b) for key, (b, n) in both.items()})
    tested = sorted(both)
    floor = _noise_floor(
        {key: median(n) / median(b) / drift.factor for key, (b, n) in both.items()},
        NOISE_Z if interleaved or min(len(base), len(new)) > 1 else NOISE_Z_ONE_RUN,
    )
    process_floor = {key: _process_floor(key, base_runs, new_runs) for key in tested}
    p_values = [
        mann_whitney_p(both[key][0], [t / drift.factor for t in both[key][1]]) for key in tested
    ]
    holm_p = dict(zip(tested, holm(p_values), strict=True))
    raw_p = dict(zip(tested, p_values, strict=True))
    changes = []
    for key in sorted(base_by.keys() | new_by.keys()):
        b, n = base_by.get(key), new_by.get(key)
        if key not in both:
            if b is None or n is None:
                verdict = "added" if b is None else "dropped"
            else:
                verdict = "failed" if b else ("fixed" if n else "unchanged")
            changes.append(
                QueryChange(
                    key,
                    median(b) if b else None,
                    median(n) if n else None,
                    None,
                    None,
                    None,
                    None,
                    None,
                    verdict,
                    len(b or []),
                    len(n or []),
                )
            )
            continue
        factor = median(n) / median(b)
        adjusted = factor / drift.factor
        # The noise: each side's log-times around their own median, pooled. Holm's first step
        # tests at alpha / (number of queries): the bar the clearest change must clear.
        sigma = robust_sigma(_residuals(b) + _residuals(n))
        detectable = max(
            detectable_factor(sigma, len(b), len(n), alpha / len(tested)), process_floor[key]
        )
        significant = holm_p[key] < alpha
        bar = max(threshold, floor, process_floor[key])
        if significant and adjusted > bar:
            verdict = "slower"
        elif significant and adjusted < 1 / bar:
            verdict = "faster"
        else:
            verdict = "unchanged"
        changes.append(
            QueryChange(
                key,
                median(b),
                median(n),
                factor,
                adjusted,
                raw_p[key],
                holm_p[key],
                detectable,
                verdict,
                len(b),
                len(n),
            )
        )
    return changes, Drift(drift.factor, drift.low, drift.high, drift.queries, floor)


def _noise_floor(adjusted: dict[str, float], z: float) -> float:
    """exp(z x the robust spread of the queries' log factors around the drift): how far one
    query's factor wanders between two processes with nothing changed. 1.0 with too few
    queries to tell."""
    if len(adjusted) < MIN_QUERIES_FOR_DRIFT:
        return 1.0
    return math.exp(z * robust_sigma([math.log(f) for f in adjusted.values()]))


def _pooled(runs: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    pooled: dict[str, list[float]] = {}
    for run in runs:
        for key, times in run.items():
            pooled.setdefault(key, []).extend(times)
    return pooled


def _process_floor(
    key: str, base_runs: list[dict[str, list[float]]], new_runs: list[dict[str, list[float]]]
) -> float:
    """With several runs a side: how far this query's median moves from process to process
    (the pooled standard deviation of each run's log median around its side's mean), scaled to
    the difference of two sides' means and taken NOISE_Z times. 1.0 with one run a side."""
    sides = [
        [math.log(median(run[key])) for run in runs if run.get(key) and median(run[key]) > 0]
        for runs in (base_runs, new_runs)
    ]
    freedom = sum(len(logs) - 1 for logs in sides if logs)
    if freedom < 1:
        return 1.0
    squares = sum(sum((v - sum(logs) / len(logs)) ** 2 for v in logs) for logs in sides if logs)
    spread = math.sqrt(squares / freedom)
    scale = math.sqrt(sum(1 / len(logs) for logs in sides if logs))
    return math.exp(NOISE_Z_PROCESS * spread * scale)


def _residuals(times: list[float]) -> list[float]:
    logs = [math.log(t) for t in times if t > 0]
    centre = median(logs) if logs else 0.0
    return [v - centre for v in logs]


def _drift(factors: dict[str, float]) -> Drift:
    """The median factor over queries, with a 95% interval from the spread of their log
    factors (normal approximation of the median's standard error, 1.2533 sigma / sqrt(n))."""
    if len(factors) < MIN_QUERIES_FOR_DRIFT:
        return Drift(1.0, 1.0, 1.0, len(factors))
    logs = [math.log(f) for f in factors.values()]
    centre = median(logs)
    error = 1.2533 * robust_sigma(logs) / math.sqrt(len(logs))
    z = NormalDist().inv_cdf(0.975)
    return Drift(
        math.exp(centre), math.exp(centre - z * error), math.exp(centre + z * error), len(logs)
    )


def _times(attempts: list[StoredAttempt]) -> dict[str, list[float]]:
    """Query id -> the seconds a gate compares (stats.Timing.compared); an empty list when the
    query only failed. A run under load is compared level by level: "q06 at 4 streams"."""
    grouped: dict[str, list[StoredAttempt]] = {}
    for a in attempts:
        key = a.query_id if a.level is None else f"{a.query_id} at {a.level} streams"
        grouped.setdefault(key, []).append(a)
    return {query_id: timing(tries).compared for query_id, tries in grouped.items()}


def summary(
    changes: list[QueryChange],
    drift: Drift,
    threshold: float = THRESHOLD,
    alpha: float = ALPHA,
    workload_threshold: float = WORKLOAD_THRESHOLD,
) -> dict[str, Any]:
    counts = Counter(c.verdict for c in changes)
    tested = [c for c in changes if c.factor is not None]
    sizes = [(c.base_attempts, c.new_attempts) for c in tested]
    per_test = alpha / max(len(tested), 1)  # what the smallest p of Holm's ladder must beat
    powerless = bool(sizes) and all(smallest_p(b, n) >= per_test for b, n in sizes)
    detectable = [c.detectable for c in tested if c.detectable is not None]
    workload_slower = drift.queries >= MIN_QUERIES_FOR_DRIFT and drift.low > workload_threshold
    return {
        "queries": len(changes),
        "geometric_mean_factor": geometric_mean(c.factor for c in tested),
        "workload": {
            "factor": drift.factor,
            "interval_95": [drift.low, drift.high],
            "threshold": workload_threshold,
            "slower": workload_slower,
        },
        "noise_floor": drift.noise_floor,
        # the smallest change the comparison could call: the typical query's own noise, or
        # the spread between processes, whichever is larger
        "can_see": max(median(detectable), drift.noise_floor) if detectable else None,
        "verdicts": dict(counts),
        "threshold": threshold,
        "alpha": alpha,
        "regressed": counts.get("slower", 0) + counts.get("failed", 0) > 0 or workload_slower,
        "too_few_attempts": powerless,
        "changes": [asdict(c) for c in changes],
    }
