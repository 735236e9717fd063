"""Per query: one table per workload and scale, a cell per query and engine (its times,
answer, bytes and cost), each engine's answer checked against the baseline's, and the
ClickBench-style relative scores the matrix is built from."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from harness.answers import Tolerance, compare, shape_of
from harness.engines import billing_for, engine_class
from harness.kept_answers import Difference
from harness.pricing import Billing, Catalog, Cost, PricePerformance, RunBill
from harness.report.charts import Chart, lines
from harness.report.order import engine_order, group_by, type_order
from harness.scale import Scale
from harness.stats import median, timing
from harness.store import Store
from harness.store.rows import StoredAttempt, StoredResult, StoredRun
from harness.workloads import Workload

# ClickBench's rule: 10 ms added to both sides of each ratio, so that queries of a few
# milliseconds do not dominate the geometric mean with noise.
SMALL_SECONDS = 0.010
# "first": each query's first attempt, cold where the engine emptied its caches, else lukewarm.
PHASES = ("first", "hot")
# A query's hot attempts are flagged when the slowest is more than this factor above the fastest
# (10 ms added to both, as in the scores) ...
WIDE_SPREAD = 1.25
# ... or when fewer than this many were timed: two attempts say little about the noise, and a
# bootstrap over them can only pick one or the other.
MIN_HOT_ATTEMPTS = 3


@dataclass
class QueryCell:
    """One query on one engine: its attempts summarised. Attempts that may have read a result
    cache are left out of the times and counted in `excluded`."""

    status: str  # ok, or the failure (error, timeout, skipped), "partly failed", or unsupported
    first: float | None = None  # the first attempt
    first_kind: str | None = None  # cold or lukewarm
    hot: float | None = None  # best of the hot attempts
    # What the engine reported for the same attempts (None where it reports nothing): shown
    # beside client time, which also holds the round trip from wherever whbench ran.
    engine_hot: float | None = None  # engine seconds of the best hot attempt
    engine_median: float | None = None  # median engine seconds of the attempts timed
    median: float | None = None
    low: float | None = None
    high: float | None = None
    rows: int | None = None
    bytes_scanned: int | None = None
    cost: Cost | None = None  # one execution, the median
    checksum: str | None = None  # of the answer most attempts gave
    answer: str | None = None  # against the workload's known answer: correct, wrong, unchecked
    agrees: bool | None = None  # with the baseline engine's answer; None: nothing to compare
    difference: Difference | None = None  # what differed, when the answer is wrong
    excluded: int = 0  # attempts left out: a cache hit, or the cache could not be turned off
    # An approximate query's recall@k (median over its answered attempts), shown beside its
    # time; None for exact queries. Below the query's min_recall its answer is wrong, so the
    # time is charged like a failure and never ranks (harness.answers).
    recall: float | None = None
    error: str | None = None
    sql: str | None = None
    shade: dict[str, str] = field(default_factory=dict)  # metric -> background colour
    # What the intervals resample: each timed hot attempt's seconds (cache suspects out), and
    # each answered attempt's marginal dollars (None: one of them could not be priced).
    hot_times: list[float] = field(default_factory=list)
    costs: list[float] | None = None
    # (slowest hot + 10 ms) / (fastest hot + 10 ms); None with fewer than two hot attempts
    spread: float | None = None
    flags: list[str] = field(default_factory=list)  # "wide spread", "few hot attempts"

    @property
    def hot_attempts(self) -> int:
        return len(self.hot_times)

    @property
    def wrong(self) -> bool:
        """Wrong against the known answer, or (with none) different from the baseline's."""
        return self.answer == "wrong" or (self.answer != "correct" and self.agrees is False)


@dataclass
class QueryTable:
    """One workload at one scale: its queries on every engine that ran it."""

    workload: str
    data_type: str | None
    scale: float
    queries: list[tuple[str, str]]  # (id, title)
    cells: dict[tuple[str, str], QueryCell]  # (query id, engine) -> cell
    engines: list[str]
    runs: dict[str, StoredRun]  # engine -> its latest run here
    passes: dict[str, PricePerformance]  # engine -> one pass at marginal cost
    bills: dict[str, RunBill]  # engine -> the latest run's bill
    ratios: dict[tuple[str, str], list[float]]  # (engine, phase) -> per-query ratio
    unanswered: list[str]  # queries no engine answered: left out of the scores
    # from `workload import-history`: query id -> how it ran on the team's own warehouse
    history: dict[str, dict[str, Any]] = field(default_factory=dict)
    # engine -> its session's round-trip floor ({min, median, n, sql}), None: not measured
    round_trips: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    # (engine, phase) -> query id -> the times its score was charged: the hot attempts (the
    # first one), or the penalty of a failure or wrong answer; what the intervals resample
    charged: dict[tuple[str, str], dict[str, list[float]]] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        """Some engine answered some query: a workload where every query failed says nothing
        of the engines and is left out of its data type's verdict (and said so)."""
        return any(c.status in ("ok", "partly failed") for c in self.cells.values())

    def all_few(self) -> bool:
        """Every timed query has too few hot attempts: said once for the table, not per cell."""
        timed = [c for c in self.cells.values() if c.hot_times]
        return bool(timed) and all("few hot attempts" in c.flags for c in timed)

    def skipped(self) -> list[tuple[str, str, str]]:
        """(query, engine, why) for every query an engine skipped (a translation it could not
        make, a budget refusal): listed, since such a query has no time to show."""
        return [
            (q, e, c.error or "")
            for (q, e), c in sorted(self.cells.items())
            if c.status == "skipped"
        ]

    def any_wrong(self, query_id: str) -> bool:
        return any(c.wrong for (q, _), c in self.cells.items() if q == query_id)

    def first_kind(self, engine: str) -> str:
        """What this engine's first attempts were here: cold, lukewarm, or both."""
        kinds = sorted(
            {c.first_kind for (_, e), c in self.cells.items() if e == engine and c.first_kind}
        )
        return " or ".join(kinds) or "first run"


def query_tables(
    store: Store,
    runs: list[StoredRun],
    attempts: dict[str, list[StoredAttempt]],
    catalog: Catalog,
    workloads: dict[str, Workload],
) -> list[QueryTable]:
    """A table per workload and scale, by data type, then workload, then scale. `attempts`:
    run id -> its attempts, in attempt order."""
    tables = [
        _table(group, attempts, catalog, store, workloads)
        for group in group_by(runs, lambda r: (r.workload, r.scale)).values()
    ]
    return sorted(tables, key=lambda t: (type_order(t.data_type), t.workload, t.scale))


def _table(
    runs: list[StoredRun],
    attempts: dict[str, list[StoredAttempt]],
    catalog: Catalog,
    store: Store,
    workloads: dict[str, Workload],
) -> QueryTable:
    first = runs[0]
    queries: dict[str, str] = {}
    cells: dict[tuple[str, str], QueryCell] = {}
    passes: dict[str, PricePerformance] = {}
    bills: dict[str, RunBill] = {}
    latest: dict[str, StoredRun] = {}
    results: dict[str, dict[str, StoredResult]] = {}  # engine -> query id -> kept result
    round_trips: dict[str, dict[str, Any] | None] = {}
    for engine, engine_runs in group_by(runs, lambda r: r.engine).items():
        run = max(engine_runs, key=lambda r: r.started_at)
        latest[engine] = run
        own = [a for r in engine_runs for a in attempts[r.run_id]]
        rules = billing_for(run, catalog)  # the latest run's settings price all its runs here
        passes[engine] = rules.price_performance(own)
        bills[engine] = rules.price_run(attempts[run.run_id], store.loads(run.run_id))
        kept = store.results(run.run_id)
        results[engine] = kept
        for query_id, tries in group_by(own, lambda a: a.query_id).items():
            queries[query_id] = tries[0].title or ""
            cells[query_id, engine] = _cell(tries, rules, kept.get(query_id))
        # The pass pools every run of the engine here: the largest floor among them, so a
        # margin is never weighed against the network's best session only.
        floors = [r.round_trip_seconds for r in engine_runs if r.round_trip_seconds]
        round_trips[engine] = max(floors, key=lambda f: f["median"]) if floors else None
    engines = engine_order(r.engine for r in runs)
    workload = workloads.get(first.workload)
    _compare_with_baseline(cells, results, engines, workload, first.checksum_decimals)
    table = QueryTable(
        workload=first.workload,
        data_type=first.data_type,
        scale=first.scale,
        queries=sorted(queries.items()),
        cells=cells,
        engines=engines,
        runs=latest,
        passes=passes,
        bills=bills,
        ratios={},
        unanswered=[],
        history=workload.history if workload else {},
        round_trips=round_trips,
    )
    _score(table)
    _shade(table)
    return table


def _cell(attempts: list[StoredAttempt], rules: Billing, kept: StoredResult | None) -> QueryCell:
    ok = [a for a in attempts if a.status == "ok"]
    failures = Counter(a.status for a in attempts if a.status != "ok")
    error = next((a.error for a in attempts if a.error), None)
    if not ok:
        return QueryCell(status=failures.most_common(1)[0][0], error=error, sql=attempts[0].sql)
    times = timing(attempts)
    answers = {a.answer for a in ok}
    answer = next((a for a in ("wrong", "correct", "unchecked") if a in answers), None)
    costs = [rules.marginal(a) for a in ok]
    if any(c.dollars is None for c in costs):  # one unpriced attempt: the typical cost is unknown
        typical = Cost(None, "unknown")
    else:
        typical = Cost(median([c.dollars for c in costs]), costs[0].basis, costs[0].as_of)
    scanned = [a.bytes_scanned for a in ok if a.bytes_scanned is not None]
    # the engine's own time of the attempts whose client time is shown (cache-suspect ones out)
    timed = [a for a in ok if a.client_seconds is not None and not a.excluded]
    hot = [a for a in timed if a.phase == "hot"]
    best_hot = min(hot, key=lambda a: a.client_seconds) if hot else None
    engine_times = [a.engine_seconds for a in timed if a.engine_seconds is not None]
    recalls = [a.recall for a in ok if a.recall is not None]
    spread = (
        (max(times.hot) + SMALL_SECONDS) / (min(times.hot) + SMALL_SECONDS)
        if len(times.hot) > 1
        else None
    )
    flags = [
        flag
        for flag, raised in (
            ("wide spread", spread is not None and spread > WIDE_SPREAD),
            ("few hot attempts", 0 < len(times.hot) < MIN_HOT_ATTEMPTS),
        )
        if raised
    ]
    return QueryCell(
        status="partly failed" if failures else "ok",
        first=times.first,
        first_kind=times.first_kind,
        hot=times.best_hot,
        engine_hot=best_hot.engine_seconds if best_hot else None,
        engine_median=median(engine_times) if engine_times else None,
        median=times.median,
        low=times.spread[0],
        high=times.spread[1],
        rows=ok[-1].rows,
        bytes_scanned=int(median(scanned)) if scanned else None,
        cost=typical,
        checksum=Counter(a.checksum for a in ok).most_common(1)[0][0],
        answer=answer,
        difference=kept.difference if kept else None,
        excluded=times.excluded,
        recall=median(recalls) if recalls else None,
        error=error if failures else None,
        sql=ok[-1].sql,
        hot_times=times.hot,
        costs=None if any(c.dollars is None for c in costs) else [c.dollars for c in costs],
        spread=spread,
        flags=flags,
    )


def _compare_with_baseline(
    cells: dict[tuple[str, str], QueryCell],
    results: dict[str, dict[str, StoredResult]],
    engines: list[str],
    workload: Workload | None,
    decimals: int | None,
) -> None:
    """Each engine's kept answer against the baseline engine's, value by value
    (harness.answers): `agrees`, and what differed when the answer has nothing else to show."""
    baseline = engines[0]
    for (query_id, engine), cell in cells.items():
        reference = results.get(baseline, {}).get(query_id)
        mine = results.get(engine, {}).get(query_id)
        if engine == baseline or reference is None or mine is None:
            continue
        if cell.recall is not None:
            continue  # an index search is scored by its recall of the exact answer, not by
            # agreeing with another engine's approximation
        base_cell = cells[query_id, baseline]
        if cell.checksum is not None and cell.checksum == base_cell.checksum:
            cell.agrees = True  # equal fingerprints are equal answers: nothing to parse
            continue
        tolerance = (
            workload.answers.tolerance(query_id)
            if workload
            else Tolerance(decimals if decimals is not None else 2)
        )
        difference = compare(
            reference.rows,
            mine.rows,
            functools.partial(shape_of, cell.sql or "", engine_class(engine).dialect),
            tolerance,
        )
        if difference is None and reference.total_rows != mine.total_rows:
            difference = Difference(
                f"{mine.total_rows} rows where {baseline} returned {reference.total_rows}", [], []
            )
        cell.agrees = difference is None
        if difference and cell.difference is None:
            cell.difference = dataclasses.replace(difference, against=f"{baseline}'s answer")


def _score(table: QueryTable) -> None:
    """Per query and phase: (t + 10 ms) / (best + 10 ms). A failed or timed-out query, and a
    wrong answer, is charged the run's time limit, so it can never look better than a right
    answer. A time left out because it may have been a cache read scores nothing."""
    measured: set[tuple[str, str]] = set()
    scored: set[str] = set()  # queries some engine answered in some phase
    for phase in PHASES:
        for query_id, _ in table.queries:
            times: dict[str, float | None] = {}
            for engine in table.engines:
                cell = table.cells.get((query_id, engine))
                if cell is not None and cell.wrong:
                    times[engine] = None  # charged like a failure
                elif cell is not None and cell.status == "unsupported":
                    continue  # the engine lacks a feature the query needs: a result, not a failure
                elif cell is not None and cell.excluded and getattr(cell, phase) is None:
                    continue  # only cache-suspect times: no measurement, no penalty
                else:
                    times[engine] = cell and getattr(cell, phase)
            answered = [t for t in times.values() if t is not None]
            if not answered:
                continue
            scored.add(query_id)
            best = min(answered)
            for engine, t in times.items():
                if t is None:  # failed, wrong, timed out, skipped or not run: the penalty
                    t = max(table.runs[engine].timeout_seconds or 0, max(answered))
                    charged = [t]
                else:
                    measured.add((engine, phase))
                    cell = table.cells[query_id, engine]
                    charged = cell.hot_times if phase == "hot" and cell.hot_times else [t]
                ratio = (t + SMALL_SECONDS) / (best + SMALL_SECONDS)
                table.ratios.setdefault((engine, phase), []).append(ratio)
                table.charged.setdefault((engine, phase), {})[query_id] = charged
    # With one attempt a query (runs: 1) there are no hot times: a first one answers it.
    table.unanswered = [q for q, _ in table.queries if q not in scored]
    # An engine none of whose times could be used has no score: penalties alone are no measure.
    for key in set(table.ratios) - measured:
        del table.ratios[key]
        del table.charged[key]


def _shade(table: QueryTable) -> None:
    """Background colours per time metric: green for the row's best, towards red at 10x."""
    for query_id, _ in table.queries:
        for metric in ("first", "hot", "median"):
            values = [
                getattr(table.cells[query_id, e], metric)
                for e in table.engines
                if (query_id, e) in table.cells
            ]
            known = [v for v in values if v is not None]
            if not known:
                continue
            best = min(known)
            for engine in table.engines:
                cell = table.cells.get((query_id, engine))
                value = cell and getattr(cell, metric)
                if value is None:
                    continue
                ratio = (value + SMALL_SECONDS) / (best + SMALL_SECONDS)
                hue = 120 * (1 - min(math.log10(ratio), 1))  # 120 green ... 0 red
                cell.shade[metric] = f"hsl({hue:.0f} 70% 90%)"


def scale_charts(tables: list[QueryTable]) -> list[Chart]:
    """Per workload run at several scales: one pass against scale, in seconds and in dollars."""
    charts = []
    for workload, scaled in group_by(tables, lambda t: t.workload).items():
        if len(scaled) < 2:
            continue
        for what, unit in (("seconds", "seconds"), ("dollars", "USD")):
            series: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
            for t in scaled:
                for engine, one_pass in t.passes.items():
                    value = one_pass.seconds if what == "seconds" else one_pass.cost.dollars
                    if value is not None:
                        series[engine].append((t.scale, value, Scale.named(t.scale)))
            svg = lines(dict(series), "scale", unit, f"{workload} {what} by scale")
            charts.append(Chart(f"{workload}: one pass against scale ({what})", svg))
    return charts
