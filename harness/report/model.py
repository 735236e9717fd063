"""What the decision report says, computed from the store: per-query cells, ClickBench-style
relative scores, the per-data-type matrix with its verdicts, loads, chart data and provenance.

The template only lays this out; every number and every sentence of a verdict is made here.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from harness.answers import Difference, Tolerance, compare, shape_of
from harness.engines import engine_class
from harness.pricing import (
    Catalog,
    Cost,
    PricePerformance,
    RunBill,
    attempt_cost,
    dollars,
    price_performance,
    price_run,
    project_month,
    stored_bytes,
)
from harness.report import charts
from harness.scale import Scale
from harness.settings import Pattern
from harness.stats import geometric_mean, median, timing
from harness.store import Store
from harness.workloads import DATA_TYPES, Workload

# ClickBench's rule: 10 ms added to both sides of each ratio, so that queries of a few
# milliseconds do not dominate the geometric mean with noise.
SMALL_SECONDS = 0.010
# The cost the "cheapest" verdict is decided on; the other stands beside it in the matrix.
COST_BASIS = (
    "the run bill: what each account is charged for the benchmark's queries as they ran, "
    "uptime, minimums and idle tails included (loading and storage apart)"
)
# "first": each query's first attempt, cold where the engine emptied its caches, else lukewarm.
PHASES = ("first", "hot")


@dataclass
class Cell:
    """One query on one engine: its attempts summarised. Attempts that may have read a result
    cache are left out of the times and counted in `excluded`."""

    status: str  # ok, or the failure (error, timeout, skipped), or "partly failed"
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
    error: str | None = None
    sql: str | None = None
    shade: dict[str, str] = field(default_factory=dict)  # metric -> background colour

    @property
    def wrong(self) -> bool:
        """Wrong against the known answer, or (with none) different from the baseline's."""
        return self.answer == "wrong" or (self.answer != "correct" and self.agrees is False)


@dataclass
class Section:
    """One workload at one scale: its queries on every engine that ran it."""

    workload: str
    data_type: str
    scale: float
    queries: list[tuple[str, str]]  # (id, title)
    cells: dict[tuple[str, str], Cell]  # (query id, engine) -> cell
    engines: list[str]
    runs: dict[str, dict]  # engine -> run
    passes: dict[str, PricePerformance]  # engine -> one pass at marginal cost
    bills: dict[str, RunBill]  # engine -> the latest run's bill
    ratios: dict[tuple[str, str], list[float]]  # (engine, phase) -> per-query ratio
    unanswered: list[str]  # queries no engine answered: left out of the scores
    # from `workload import-history`: query id -> how it ran on the team's own warehouse
    history: dict[str, dict] = field(default_factory=dict)
    # engine -> its session's round-trip floor ({min, median, n, sql}), None: not measured
    round_trips: dict[str, dict | None] = field(default_factory=dict)

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


def build(
    store: Store,
    runs: list[dict],
    catalog: Catalog,
    pattern: Pattern | None = None,
    workloads: dict[str, Workload] | None = None,
) -> dict[str, Any]:
    loaded = [r for r in runs if r.get("load")]  # runs under load have a section of their own
    runs = [r for r in runs if not r.get("load")]
    run_ids = [r["run_id"] for r in runs]
    marks = ", ".join("?" * len(run_ids)) or "NULL"
    attempts = store.rows(
        f"SELECT * FROM attempt_details WHERE run_id IN ({marks}) ORDER BY attempt", run_ids
    )
    by_run: dict[str, list[dict]] = defaultdict(list)
    for a in attempts:
        by_run[a["run_id"]].append(a)
    engines = _engine_order(runs + loaded)
    sections = sorted(
        (
            _section(group, by_run, catalog, store, workloads or {})
            for group in _group(runs, ("workload", "scale")).values()
        ),
        key=lambda s: (_type_order(s.data_type), s.workload, s.scale),
    )
    matrix = _matrix(sections, engines)
    under_load = _under_load(store, loaded, catalog, workloads or {})
    return {
        "under_load": under_load,
        "engines": engines,
        "baseline": engines[0],
        "sections": sections,
        "matrix": matrix,
        "charts": _charts(store, sections, matrix, engines),
        "load_charts": _load_charts(under_load),
        "loads": _loads(store, runs),
        "runs": [_provenance(store, r, by_run[r["run_id"]], catalog) for r in runs],
        "first_runs": _first_runs(sections, engines),
        "months": _months(store, sections, by_run, catalog, pattern or Pattern()),
        "pattern": pattern or Pattern(),
        "cost_basis": COST_BASIS,
        "prices": _prices(catalog, engines),
        "pricing_source": catalog.source,
        "missing": _missing(runs, sections, engines),
        "small_ms": SMALL_SECONDS * 1000,
        "knee": KNEE,
    }


# -- under load --------------------------------------------------------------------------------
KNEE = 2.0  # the knee: the first level whose p95 latency passes this multiple of one stream's


def _under_load(
    store: Store, runs: list[dict], catalog: Catalog, workloads: dict[str, Workload]
) -> list[dict[str, Any]]:
    """Per data type, each engine's levels (throughput, p50/p95, cost per 1,000 queries), its
    knee and a verdict in words."""
    from harness.load import summary

    found = []
    for (data_type,), group in sorted(
        _group(runs, ("data_type",)).items(), key=lambda item: _type_order(item[0][0])
    ):
        engines = []
        for run in sorted(group, key=lambda r: (r["engine"], r["workload"], r["scale"])):
            attempts = store.attempts(run["run_id"])
            measured = summary(
                run, attempts, store.levels(run["run_id"]), workloads.get(run["workload"]), catalog
            )
            levels = measured["levels"]
            if not levels:
                continue
            engines.append(
                {
                    "engine": run["engine"],
                    "workload": run["workload"],
                    "scale": run["scale"],
                    "levels": levels,
                    "tpch": measured.get("tpch"),
                    **_knee(run["engine"], levels),
                }
            )
        if engines:
            found.append({"data_type": data_type, "engines": engines})
    return found


def _knee(engine: str, levels: list[dict]) -> dict[str, Any]:
    """Where latency turns: the first level whose p95 passes KNEE x the lowest level's."""
    measured = [lv for lv in levels if lv["p95_seconds"] is not None]
    if not measured:
        return {"knee": None, "verdict": f"{engine}: no level finished a query"}
    base = measured[0]
    knee = next((lv for lv in measured[1:] if lv["p95_seconds"] > KNEE * base["p95_seconds"]), None)
    held = [lv for lv in measured if knee is None or lv["level"] < knee["level"]]
    top = max(held, key=lambda lv: lv["level"])
    worst_p95 = max(lv["p95_seconds"] for lv in held)
    verdict = (
        f"{engine} held p95 under {_short_seconds(worst_p95)} up to {top['level']} concurrent "
        f"session{'s' if top['level'] > 1 else ''}"
    )
    if knee is not None:
        verdict += (
            f"; from {knee['level']} its p95 ({_short_seconds(knee['p95_seconds'])}) passed "
            f"{KNEE:g}x its {base['level']}-stream value: queries queued"
        )
    elif len(measured) > 1:
        verdict += f" (p95 stayed within {KNEE:g}x its {base['level']}-stream value)"
    errors = sum(lv["errors"] + lv["timeouts"] for lv in levels)
    if errors:
        verdict += f"; {errors} queries failed or timed out"
    return {"knee": knee["level"] if knee else None, "verdict": verdict}


def _short_seconds(value: float) -> str:
    return f"{value * 1000:.3g} ms" if value < 1 else f"{value:.3g} s"


def _load_charts(under_load: list[dict]) -> list[dict[str, str]]:
    out = []
    for group in under_load:
        for key, unit, what in (
            ("p95_seconds", "seconds", "p95 latency"),
            ("queries_per_second", "queries/s", "throughput"),
            ("cost_per_1000_queries", "USD", "cost per 1,000 queries"),
        ):
            series = {
                e["engine"]: [
                    (lv["level"], lv[key], f"{lv['level']} streams")
                    for lv in e["levels"]
                    if lv[key] is not None
                ]
                for e in group["engines"]
            }
            svg = charts.lines(series, "concurrent sessions", unit, f"{what} under load")
            if svg:
                out.append(
                    {"title": f"{group['data_type']} under load: {what} by level", "svg": svg}
                )
    return out


# -- per query -------------------------------------------------------------------------------
def _section(
    runs: list[dict],
    by_run: dict[str, list[dict]],
    catalog: Catalog,
    store: Store,
    workloads: dict[str, Workload],
) -> Section:
    first = runs[0]
    engines = _engine_order(runs)
    queries: dict[str, str] = {}
    cells: dict[tuple[str, str], Cell] = {}
    passes: dict[str, PricePerformance] = {}
    bills: dict[str, RunBill] = {}
    latest: dict[str, dict] = {}
    results: dict[str, dict[str, dict]] = {}  # engine -> query id -> kept result
    for engine, engine_runs in _group(runs, ("engine",)).items():
        run = max(engine_runs, key=lambda r: r["started_at"])
        latest[engine[0]] = run
        own = [a for r in engine_runs for a in by_run[r["run_id"]]]
        passes[engine[0]] = price_performance(run, own, catalog)
        bills[engine[0]] = price_run(
            run, by_run[run["run_id"]], catalog, store.loads(run["run_id"])
        )
        kept = store.results(run["run_id"])
        results[engine[0]] = kept
        for query_id, tries in _group(own, ("query_id",)).items():
            queries[query_id[0]] = tries[0]["title"] or ""
            cells[query_id[0], engine[0]] = _cell(tries, run, catalog, kept.get(query_id[0]))
    workload = workloads.get(first["workload"])
    _compare_with_baseline(cells, results, engines, workload, first["checksum_decimals"])
    round_trips: dict[str, dict | None] = {}
    for engine, engine_runs in _group(runs, ("engine",)).items():
        # The pass pools every run of the engine here: the largest floor among them, so a
        # margin is never weighed against the network's best session only.
        floors = [r["round_trip_seconds"] for r in engine_runs if r.get("round_trip_seconds")]
        round_trips[engine[0]] = max(floors, key=lambda f: f["median"]) if floors else None
    section = Section(
        workload=first["workload"],
        data_type=first["data_type"],
        scale=first["scale"],
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
    _score(section)
    _shade(section)
    return section


def _cell(attempts: list[dict], run: dict, catalog: Catalog, kept: dict | None) -> Cell:
    ok = [a for a in attempts if a["status"] == "ok"]
    failures = Counter(a["status"] for a in attempts if a["status"] != "ok")
    error = next((a["error"] for a in attempts if a["error"]), None)
    if not ok:
        return Cell(status=failures.most_common(1)[0][0], error=error, sql=attempts[0]["sql"])
    times = timing(attempts)
    answers = {a.get("answer") for a in ok}
    answer = next((a for a in ("wrong", "correct", "unchecked") if a in answers), None)
    costs = [attempt_cost(a, run, catalog) for a in ok]
    if any(c.dollars is None for c in costs):  # one unpriced attempt: the typical cost is unknown
        typical = Cost(None, "unknown")
    else:
        typical = Cost(median([c.dollars for c in costs]), costs[0].basis, costs[0].as_of)
    scanned = [a["bytes_scanned"] for a in ok if a["bytes_scanned"] is not None]
    # the engine's own time of the attempts whose client time is shown (cache-suspect ones out)
    timed = [a for a in ok if a["client_seconds"] is not None and not a.get("excluded")]
    hot = [a for a in timed if a["phase"] == "hot"]
    best_hot = min(hot, key=lambda a: a["client_seconds"]) if hot else None
    engine_times = [a["engine_seconds"] for a in timed if a["engine_seconds"] is not None]
    return Cell(
        status="partly failed" if failures else "ok",
        first=times.first,
        first_kind=times.first_kind,
        hot=times.best_hot,
        engine_hot=best_hot["engine_seconds"] if best_hot else None,
        engine_median=median(engine_times) if engine_times else None,
        median=times.median,
        low=times.spread[0],
        high=times.spread[1],
        rows=ok[-1]["rows"],
        bytes_scanned=int(median(scanned)) if scanned else None,
        cost=typical,
        checksum=Counter(a["checksum"] for a in ok).most_common(1)[0][0],
        answer=answer,
        difference=kept["difference"] if kept else None,
        excluded=times.excluded,
        error=error if failures else None,
        sql=ok[-1]["sql"],
    )


def _compare_with_baseline(
    cells: dict[tuple[str, str], Cell],
    results: dict[str, dict[str, dict]],
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
            reference["rows"],
            mine["rows"],
            functools.partial(shape_of, cell.sql or "", engine_class(engine).dialect),
            tolerance,
        )
        if difference is None and reference["total_rows"] != mine["total_rows"]:
            difference = Difference(
                f"{mine['total_rows']} rows where {baseline} returned {reference['total_rows']}",
                [],
                [],
            )
        cell.agrees = difference is None
        if difference and cell.difference is None:
            cell.difference = dataclasses.replace(difference, against=f"{baseline}'s answer")


def _score(section: Section) -> None:
    """Per query and phase: (t + 10 ms) / (best + 10 ms). A failed or timed-out query, and a
    wrong answer, is charged the run's time limit, so it can never look better than a right
    answer. A time left out because it may have been a cache read scores nothing."""
    measured: set[tuple[str, str]] = set()
    for phase in PHASES:
        for query_id, _ in section.queries:
            times: dict[str, float | None] = {}
            for engine in section.engines:
                cell = section.cells.get((query_id, engine))
                if cell is not None and cell.wrong:
                    times[engine] = None  # charged like a failure
                elif cell is not None and cell.excluded and getattr(cell, phase) is None:
                    continue  # only cache-suspect times: no measurement, no penalty
                else:
                    times[engine] = cell and getattr(cell, phase)
            answered = [t for t in times.values() if t is not None]
            if not answered:
                if phase == "hot" and query_id not in section.unanswered:
                    section.unanswered.append(query_id)
                continue
            best = min(answered)
            for engine, t in times.items():
                if t is None:  # failed, wrong, timed out, skipped or not run: the penalty
                    t = max(section.runs[engine]["timeout_seconds"] or 0, max(answered))
                else:
                    measured.add((engine, phase))
                ratio = (t + SMALL_SECONDS) / (best + SMALL_SECONDS)
                section.ratios.setdefault((engine, phase), []).append(ratio)
    # An engine none of whose times could be used has no score: penalties alone are no measure.
    for key in set(section.ratios) - measured:
        del section.ratios[key]


def _shade(section: Section) -> None:
    """Background colours per time metric: green for the row's best, towards red at 10x."""
    for query_id, _ in section.queries:
        for metric in ("first", "hot", "median"):
            values = [
                getattr(section.cells[query_id, e], metric)
                for e in section.engines
                if (query_id, e) in section.cells
            ]
            known = [v for v in values if v is not None]
            if not known:
                continue
            best = min(known)
            for engine in section.engines:
                cell = section.cells.get((query_id, engine))
                value = cell and getattr(cell, metric)
                if value is None:
                    continue
                ratio = (value + SMALL_SECONDS) / (best + SMALL_SECONDS)
                hue = 120 * (1 - min(math.log10(ratio), 1))  # 120 green ... 0 red
                cell.shade[metric] = f"hsl({hue:.0f} 70% 90%)"


# -- the matrix --------------------------------------------------------------------------------
def _matrix(sections: list[Section], engines: list[str]) -> list[dict[str, Any]]:
    """One row per data type: per engine relative time (first run, hot), one-pass time and cost,
    marginal cost; and, in words, who is fastest, cheapest and best value, by how much."""
    rows = []
    for data_type in DATA_TYPES:
        chosen = _matrix_sections([s for s in sections if s.data_type == data_type])
        if not chosen:
            continue
        cells = {}
        for engine in engines:
            present = [s for s in chosen if engine in s.engines]
            if not present:
                continue
            seconds = [s.passes[engine].seconds for s in present]
            cost = sum((s.bills[engine].total for s in present), Cost(0.0, "measured"))
            marginal = sum((s.passes[engine].cost for s in present), Cost(0.0, "measured"))
            pass_seconds = None if None in seconds else sum(seconds)
            # The round trip one pass pays: each query once x its session's median SELECT 1
            # (every query pays a typical round trip, not the best one); None when a section's
            # floor was not measured.
            floors = [(s.round_trips.get(engine), s.passes[engine].queries) for s in present]
            round_trip = None
            if floors and all(f is not None for f, _ in floors):
                queries = sum(n for _, n in floors)
                total = sum(f["median"] * n for f, n in floors)
                round_trip = {"seconds": total, "queries": queries, "per_query": total / queries}
            cells[engine] = {
                "first": geometric_mean(
                    [r for s in present for r in s.ratios.get((engine, "first"), [])]
                ),
                "first_kind": " or ".join(
                    sorted({k for s in present for k in s.first_kind(engine).split(" or ")})
                ),
                "wrong": sum(
                    1 for s in present for (_, e), c in s.cells.items() if e == engine and c.wrong
                ),
                "hot": geometric_mean(
                    [r for s in present for r in s.ratios.get((engine, "hot"), [])]
                ),
                "seconds": pass_seconds,
                "round_trip": round_trip,
                "cost": cost,
                # what the reader's own setting of the bill's driver would make of it
                "sensitivity": [
                    s.bills[engine].sensitivity for s in present if s.bills[engine].sensitivity
                ],
                "marginal": marginal,
                # Price-performance: what one pass of the work costs at the measured speed on a
                # warehouse kept busy (the marginal cost), as TPC prices a system per unit of
                # throughput. Time counts once, through each engine's own bill: seconds x rate
                # for a time-billed engine, bytes x price for BigQuery on-demand. (One pass's
                # seconds x the run bill counted time twice for time-billed engines, so the
                # verdict rewarded the billing model rather than the engine.)
                "value": marginal.dollars,
                "badges": [],
            }
        rows.append(
            {
                "data_type": data_type,
                "workloads": [f"{s.workload} at {Scale.named(s.scale)}" for s in chosen],
                "cells": cells,
                "verdicts": _verdicts(cells),
            }
        )
    return rows


def _matrix_sections(sections: list[Section]) -> list[Section]:
    """Per workload, the scale run on the most engines, the largest of those: a comparison
    needs the engines side by side more than it needs the biggest data."""
    chosen: dict[str, Section] = {}
    for s in sections:
        best = chosen.get(s.workload)
        if best is None or (len(s.engines), s.scale) > (len(best.engines), best.scale):
            chosen[s.workload] = s
    return list(chosen.values())


VERDICTS = (
    # key, badge, lower is better: how it reads
    ("hot", "fastest", "relative hot time {value:.2f}", "{ratio:.1f}x faster than {other}"),
    ("dollars", "cheapest", "run bill {value}", "{ratio:.1f}x cheaper than {other}"),
    ("value", "best value", "{value} a pass when busy", "{ratio:.1f}x less per pass than {other}"),
)


def _verdicts(cells: dict[str, dict]) -> list[str]:
    """Who wins each figure, by how much. An engine that gave a wrong answer is never ranked:
    being fast or cheap at the wrong answer is no win."""
    sentences = []
    disqualified = {e: c["wrong"] for e, c in cells.items() if c["wrong"]}
    for key, badge, shown, margin in VERDICTS:
        ranked = sorted(
            (value, engine)
            for engine, cell in cells.items()
            if engine not in disqualified
            and (value := cell["cost"].dollars if key == "dollars" else cell[key]) is not None
        )
        unknown = sorted(
            e for e in cells if e not in disqualified and e not in {engine for _, engine in ranked}
        )
        lost = "".join(
            f"; {e} not ranked: {n} wrong answer{'s' if n > 1 else ''}"
            for e, n in sorted(disqualified.items())
        )
        if not ranked:
            sentences.append(f"{badge.capitalize()}: cannot say — no engine has the figures{lost}.")
            continue
        value, winner = ranked[0]
        cells[winner]["badges"].append(badge)
        figure = shown.format(value=dollars(value) if key in ("dollars", "value") else value)
        sentence = f"{badge.capitalize()}: {winner} ({figure})"
        if len(ranked) > 1:
            runner_value, runner = ranked[1]
            # a time margin inside the round trip may be the network: no factor claimed
            within = key == "hot" and _within_round_trip(cells[winner], cells[runner], runner)
            if within:
                sentence += ", " + within
            elif value > 0:
                sentence += ", " + margin.format(ratio=runner_value / value, other=runner)
            else:
                sentence += f", ahead of {runner}"
        else:
            sentence += " — the only engine with this figure" if unknown else " — the only engine"
        if unknown:
            sentence += f"; unknown for {', '.join(unknown)}"
        sentences.append(sentence + lost + ".")
    return sentences


def _within_round_trip(winner: dict, runner_up: dict, runner: str) -> str | None:
    """When the fastest engine's one pass differs from the runner-up's by no more than the
    round trip one pass pays (its queries x the larger of the two sessions' median SELECT 1),
    the words that say so; else None, and the margin stands. Client time holds the network
    between whbench and each warehouse, so a margin inside it says nothing of the engines."""
    ours, theirs = winner.get("seconds"), runner_up.get("seconds")
    floors = [f for f in (winner.get("round_trip"), runner_up.get("round_trip")) if f]
    if ours is None or theirs is None or not floors:
        return None
    floor = max(floors, key=lambda f: f["seconds"])
    gap = abs(theirs - ours)
    if gap > floor["seconds"]:
        return None
    return (
        f"within the round-trip floor (one pass differs from {runner}'s by "
        f"{_short_seconds(gap)}, inside {floor['queries']} queries x "
        f"{_short_seconds(floor['per_query'])} median SELECT 1 round trip = "
        f"{_short_seconds(floor['seconds'])}): the margin may be the network, not the engine"
    )


# -- loads, charts, provenance -----------------------------------------------------------------
def _loads(store: Store, runs: list[dict]) -> list[dict]:
    """Per engine, data set and table, its latest real load (a reused table keeps the load
    that made it)."""
    keys = {(r["engine"], r["namespace"]) for r in runs}
    rows = store.rows(
        """SELECT r.engine, r.workload, r.scale, r.namespace, l.table_name, l.rows,
                  l.bytes_stored, l.seconds, r.started_at
           FROM loads l JOIN runs r USING (run_id) WHERE l.status = 'loaded'
           ORDER BY r.started_at"""
    )
    latest: dict[tuple, dict] = {}
    for row in rows:
        if (row["engine"], row["namespace"]) in keys:
            latest[row["engine"], row["namespace"], row["table_name"]] = row
    return sorted(
        latest.values(), key=lambda r: (r["workload"], r["scale"], r["table_name"], r["engine"])
    )


def _charts(
    store: Store, sections: list[Section], matrix: list[dict], engines: list[str]
) -> list[dict[str, str]]:
    out = []
    groups = [row["data_type"] for row in matrix]
    for phase in PHASES:
        values = {
            (row["data_type"], e): c[phase] for row in matrix for e, c in row["cells"].items()
        }
        what = "first-run (cold or lukewarm: see methodology)" if phase == "first" else phase
        out.append(
            {
                "title": f"Relative {what} time by data type (1 = fastest on every query)",
                "svg": charts.grouped_bars(
                    groups, engines, values, "x best", f"relative {phase} time"
                ),
            }
        )
    costs = {
        (row["data_type"], e): c["cost"].dollars for row in matrix for e, c in row["cells"].items()
    }
    out.append(
        {
            "title": "Cost of one pass by data type (n/a: cost unknown)",
            "svg": charts.grouped_bars(groups, engines, costs, "USD", "cost of one pass"),
        }
    )
    points = [
        (e, row["data_type"], c["seconds"], c["cost"].dollars)
        for row in matrix
        for e, c in row["cells"].items()
        if c["seconds"] is not None and c["cost"].dollars is not None
    ]
    if points:
        out.append(
            {
                "title": "Time against cost of one pass (lower left is better)",
                "svg": charts.scatter_log(points, "seconds", "USD", "time against cost"),
            }
        )
    for workload, scaled in _group_sections_by_workload(sections).items():
        if len(scaled) < 2:
            continue
        for what, unit in (("seconds", "seconds"), ("dollars", "USD")):
            series: dict[str, list] = defaultdict(list)
            for s in scaled:
                for e, one_pass in s.passes.items():
                    value = one_pass.seconds if what == "seconds" else one_pass.cost.dollars
                    if value is not None:
                        series[e].append((s.scale, value, Scale.named(s.scale)))
            out.append(
                {
                    "title": f"{workload}: one pass against scale ({what})",
                    "svg": charts.lines(dict(series), "scale", unit, f"{workload} {what} by scale"),
                }
            )
    for s in sections:
        trend = _trend(store, s)
        if trend:
            out.append(
                {
                    "title": f"{s.workload} at {Scale.named(s.scale)}: one pass over time",
                    "svg": charts.lines(
                        trend, "run", "seconds", f"{s.workload} trend", log_x=False
                    ),
                }
            )
    return [c for c in out if c["svg"]]


def _group_sections_by_workload(sections: list[Section]) -> dict[str, list[Section]]:
    grouped: dict[str, list[Section]] = defaultdict(list)
    for s in sections:
        grouped[s.workload].append(s)
    return grouped


def _trend(store: Store, section: Section) -> dict[str, list[tuple[float, float, str]]]:
    """Every stored run of this workload and scale, per engine: one pass = the sum over
    queries of each query's median successful time. Computed in the store, since a long
    history holds many attempts: the store's SQL median is stats.median (the mean of the two
    middle values for an even count)."""
    rows = store.rows(
        """WITH per_query AS (
               SELECT r.run_id, r.engine, r.started_at, a.query_id,
                      median(a.client_seconds) AS seconds
               FROM attempt_details a JOIN runs r USING (run_id)
               WHERE r.workload = ? AND r.scale = ? AND a.status = 'ok'
                 AND a.excluded IS NULL
               GROUP BY ALL)
           SELECT engine, run_id, started_at, sum(seconds) AS seconds, count(*) AS queries
           FROM per_query GROUP BY ALL ORDER BY started_at""",
        [section.workload, section.scale],
    )
    series: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for row in rows:
        if row["queries"] == len(section.queries):  # a partial pass is no pass
            stamp = row["started_at"].timestamp()
            label = f"{row['started_at']:%Y-%m-%d %H:%M} ({row['run_id']})"
            series[row["engine"]].append((stamp, row["seconds"], label))
    return {e: points for e, points in series.items() if len(points) > 1}


def _provenance(store: Store, run: dict, attempts: list[dict], catalog: Catalog) -> dict[str, Any]:
    bill = price_run(run, attempts, catalog, store.loads(run["run_id"]))
    return {
        **run,
        "settings": {
            k: _plain(v) for k, v in (run["engine_settings"] or {}).items() if v is not None
        },
        "cache_hits": sum(1 for a in attempts if a["cache_hit"]),
        "excluded": sum(1 for a in attempts if a["status"] == "ok" and a["excluded"]),
        "cache_unknown": sum(1 for a in attempts if a["cache_hit"] is None),
        "attempts": len(attempts),
        "failed": sum(1 for a in attempts if a["status"] != "ok"),
        "cost": bill.total,
        "bill": bill,
    }


def _first_runs(sections: list[Section], engines: list[str]) -> list[dict[str, str]]:
    """Per engine, what its first attempts were and how it makes them cold, for the
    methodology: "cold" appears only where they were."""
    found = []
    for engine in engines:
        kinds = sorted(
            {c.first_kind for s in sections for (_, e), c in s.cells.items() if e == engine}
            - {None}
        )
        how = engine_class(engine).cold_method
        if "cold" in kinds:
            text = f"cold: {how}"
        elif how:
            text = (
                "lukewarm: the result cache is off, but earlier queries may have left data in "
                f"memory or on local disk (it can be made cold: {how})"
            )
        else:
            text = (
                "lukewarm: the result cache is off, but the engine offers no way to empty its "
                "other caches, so earlier queries may have left data in them"
            )
        if "cold" in kinds and "lukewarm" in kinds:
            text += "; some first attempts could not be made cold and are lukewarm (see notes)"
        found.append({"engine": engine, "kinds": " or ".join(kinds) or "–", "text": text})
    return found


def _months(
    store: Store,
    sections: list[Section],
    by_run: dict[str, list[dict]],
    catalog: Catalog,
    pattern: Pattern,
) -> list[dict[str, Any]]:
    """A month of the user's pattern on each engine, per data type, from the matrix's runs."""
    months = []
    for s in _matrix_sections(sections):
        for engine, run in s.runs.items():
            month = project_month(
                run,
                by_run[run["run_id"]],
                catalog,
                pattern,
                stored_bytes(store.loads(run["run_id"])),
            )
            months.append(
                {
                    "data_type": s.data_type,
                    "workload": s.workload,
                    "scale": s.scale,
                    "engine": engine,
                    "cost": month.cost,
                    "explain": month.explain,
                }
            )
    return months


def _prices(catalog: Catalog, engines: list[str]) -> list[dict[str, str]]:
    """Every price the catalog holds for these engines, with its unit, source and date."""
    found = []

    def walk(engine: str, path: list[str], node: Any) -> None:
        if isinstance(node, dict) and "price" in node and "unit" in node:
            found.append(
                {
                    "engine": engine,
                    "item": " ".join(path),
                    "price": node["price"],
                    "unit": node["unit"],
                    "as_of": node.get("as_of", "–"),
                    "source": _plain(node.get("source", "–")),
                }
            )
        elif isinstance(node, dict):
            for key, child in node.items():
                walk(engine, [*path, str(key)], child)

    for engine in engines:
        walk(engine, [], catalog.section(engine))
    return found


def _missing(runs: list[dict], sections: list[Section], engines: list[str]) -> list[str]:
    """What the report cannot show, said plainly."""
    notes = []
    for s in sections:
        absent = [e for e in engines if e not in s.engines]
        if absent:
            notes.append(
                f"{s.workload} at {Scale.named(s.scale)} was not run on {', '.join(absent)}."
            )
        for engine in s.engines:
            cells = [c for (q, e), c in s.cells.items() if e == engine]
            if cells and all(c.status != "ok" and c.status != "partly failed" for c in cells):
                notes.append(f"Every query of {s.workload} failed on {engine}.")
        if s.unanswered:
            notes.append(
                f"No engine answered {', '.join(s.unanswered)} of {s.workload}: left out of "
                "the scores."
            )
    for s in _matrix_sections(sections):
        distinct = sorted({x.scale for x in sections if x.workload == s.workload})
        if len(distinct) > 1:
            notes.append(
                f"{s.workload} ran at several scales ({', '.join(map(Scale.text, distinct))}): "
                f"the matrix uses {Scale.text(s.scale)}, the largest run on the most engines; "
                "every scale has its own table."
            )
    for s in sections:
        for engine in s.engines:
            left_out = sum(c.excluded for (_, e), c in s.cells.items() if e == engine)
            if left_out:
                notes.append(
                    f"{left_out} attempts of {s.workload} on {engine} are left out of times and "
                    "verdicts: they hit a result cache, or the session could not turn it off."
                )
            wrong = sorted(q for (q, e), c in s.cells.items() if e == engine and c.wrong)
            if wrong:
                notes.append(
                    f"{engine} gave wrong answers to {', '.join(wrong)} of {s.workload}: charged "
                    "as failures, and never fastest or cheapest."
                )
    for run in runs:
        if run["status"] != "finished":
            notes.append(f"Run {run['run_id']} ({run['engine']}) ended {run['status']}.")
    return notes


def _engine_order(runs: list[dict]) -> list[str]:
    """The baseline engine first (answers are checked against it), then the others by name."""
    return sorted({r["engine"] for r in runs}, key=lambda e: (not engine_class(e).reference, e))


def _type_order(data_type: str) -> int:
    return DATA_TYPES.index(data_type) if data_type in DATA_TYPES else len(DATA_TYPES)


def _group(items: list[dict], keys: tuple[str, ...]) -> dict[tuple, list[dict]]:
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for item in items:
        grouped[tuple(item[k] for k in keys)].append(item)
    return grouped


_SCHEME = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _plain(value: Any) -> Any:
    """A setting or source as text with any URL scheme taken off: the report names places,
    it does not link to them (it must open, and stay, offline)."""
    return _SCHEME.sub("", value) if isinstance(value, str) else value
