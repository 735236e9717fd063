"""Under load (runs with `--streams`): per data type, each engine's concurrency levels
(throughput, p50/p95/p99, failures, scale-out, cost per 1,000 queries), its knee and a verdict
in words, and charts of latency, throughput and cost against the level."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.levels import summary
from harness.pricing import Catalog
from harness.report.charts import Chart, lines
from harness.report.order import group_by, type_order
from harness.store import Store
from harness.store.rows import StoredRun
from harness.units import number, seconds
from harness.workloads import Workload

KNEE = 2.0  # the knee: the first level whose p95 latency passes this multiple of one stream's


@dataclass
class EngineUnderLoad:
    """One engine's run under load: its levels as harness.levels.summary figures them."""

    engine: str
    workload: str
    scale: float
    levels: list[dict[str, Any]]  # per finished level: level, queries, ok, p50_seconds, …
    tpch: dict[str, Any] | None  # TPC-H's Power@Size, Throughput@Size and QphH@Size
    knee: int | None  # the level where latency turned; None: it held
    verdict: str


@dataclass
class LoadGroup:
    """The runs under load of one data type."""

    data_type: str | None
    engines: list[EngineUnderLoad]


@dataclass
class UnderLoad:
    groups: list[LoadGroup]  # empty: no run under load
    charts: list[Chart]
    knee: float = KNEE


def under_load(
    store: Store, runs: list[StoredRun], catalog: Catalog, workloads: dict[str, Workload]
) -> UnderLoad:
    """The runs under load, grouped by data type; a run without a finished level is left out."""
    groups = []
    by_type = group_by(runs, lambda r: r.data_type)
    for data_type in sorted(by_type, key=type_order):
        engines = []
        for run in sorted(by_type[data_type], key=lambda r: (r.engine, r.workload, r.scale)):
            attempts = store.attempts(run.run_id)
            levels = store.levels(run.run_id)
            measured = summary(run, attempts, levels, workloads.get(run.workload), catalog)
            if not measured["levels"]:
                continue
            knee, verdict = _knee(run.engine, measured["levels"])
            engines.append(
                EngineUnderLoad(
                    engine=run.engine,
                    workload=run.workload,
                    scale=run.scale,
                    levels=measured["levels"],
                    tpch=measured.get("tpch"),
                    knee=knee,
                    verdict=verdict,
                )
            )
        if engines:
            groups.append(LoadGroup(data_type, engines))
    return UnderLoad(groups, _charts(groups))


def _knee(engine: str, levels: list[dict[str, Any]]) -> tuple[int | None, str]:
    """Where latency turns: the first level whose p95 passes KNEE x the lowest level's; and
    the verdict in words."""
    measured = [lv for lv in levels if lv["p95_seconds"] is not None]
    if not measured:
        return None, f"{engine}: no level finished a query"
    base = measured[0]
    knee = next((lv for lv in measured[1:] if lv["p95_seconds"] > KNEE * base["p95_seconds"]), None)
    held = [lv for lv in measured if knee is None or lv["level"] < knee["level"]]
    top = max(held, key=lambda lv: lv["level"])
    worst_p95 = max(lv["p95_seconds"] for lv in held)
    verdict = (
        f"{engine} held p95 under {seconds(worst_p95)} up to {top['level']} concurrent "
        f"session{'s' if top['level'] > 1 else ''}"
    )
    if knee is not None:
        verdict += (
            f"; from {knee['level']} its p95 ({seconds(knee['p95_seconds'])}) passed "
            f"{number(KNEE)}x its {base['level']}-stream value: queries queued"
        )
    elif len(measured) > 1:
        verdict += f" (p95 stayed within {number(KNEE)}x its {base['level']}-stream value)"
    errors = sum(lv["errors"] + lv["timeouts"] for lv in levels)
    if errors:
        verdict += f"; {errors} queries failed or timed out"
    return (knee["level"] if knee else None), verdict


def _charts(groups: list[LoadGroup]) -> list[Chart]:
    """Per data type: p95 latency, throughput and cost per 1,000 queries against the level."""
    charts = []
    for group in groups:
        for key, unit, what in (
            ("p95_seconds", "seconds", "p95 latency"),
            ("queries_per_second", "queries/s", "throughput"),
            ("cost_per_1000_queries", "USD", "cost per 1,000 queries"),
        ):
            series = {
                e.engine: [
                    (lv["level"], lv[key], f"{lv['level']} streams")
                    for lv in e.levels
                    if lv[key] is not None
                ]
                for e in group.engines
            }
            svg = lines(series, "concurrent sessions", unit, f"{what} under load")
            if svg:
                charts.append(Chart(f"{group.data_type} under load: {what} by level", svg))
    return charts
