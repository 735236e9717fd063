"""Where the report's numbers come from: each run (engine version, settings, attempts, cache
hits, its bill and how the bill was reached), what each engine's first attempts were, the
loads, every price with its source and date, and each workload's pass over time."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from harness.engines import billing_for, engine_class
from harness.engines.where import where_text
from harness.pricing import Catalog, RunBill
from harness.report.charts import Chart, lines
from harness.report.order import type_order
from harness.report.queries import QueryTable
from harness.scale import Scale
from harness.store import Store
from harness.store.rows import LoadedTable, StoredAttempt, StoredRun
from harness.units import data_size


@dataclass
class RunProvenance:
    """One run as the methodology lists it."""

    run: StoredRun
    where: str  # where it ran, in words (harness.engines.where): service, stand-in, this machine
    settings: dict[str, Any]  # the engine's settings that were set, places named, not linked
    attempts: int
    failed: int
    cache_hits: int
    cache_unknown: int  # attempts whose engine did not say whether a cache answered
    excluded: int  # successful attempts left out of times and verdicts
    bill: RunBill


@dataclass
class FirstRun:
    """What an engine's first attempts were (cold, lukewarm) and how it makes them cold."""

    engine: str
    kinds: str
    text: str


@dataclass
class TableLoads:
    """One table of a workload at a scale: its latest real load on each engine."""

    workload: str
    scale: float
    table_name: str
    engines: dict[str, LoadedTable]


@dataclass
class Price:
    """A price the catalog holds, with its unit, source and date."""

    engine: str
    item: str
    price: Any
    unit: str
    as_of: str
    source: str


@dataclass
class Provenance:
    runs: list[RunProvenance]
    first_runs: list[FirstRun]
    loads: list[TableLoads]
    prices: list[Price]
    pricing_source: str


def provenance(
    store: Store,
    runs: list[StoredRun],
    attempts: dict[str, list[StoredAttempt]],
    tables: list[QueryTable],
    engines: list[str],
    catalog: Catalog,
) -> Provenance:
    """`attempts`: run id -> its attempts."""
    return Provenance(
        # the baseline's runs first, each engine's by data type, as the tables above
        runs=[
            _run(store, run, attempts[run.run_id], catalog)
            for run in sorted(
                runs,
                key=lambda r: (
                    engines.index(r.engine) if r.engine in engines else len(engines),
                    type_order(r.data_type),
                    r.workload,
                    r.scale,
                ),
            )
        ],
        first_runs=[_first_run(engine, tables) for engine in engines],
        loads=_loads(store, runs),
        prices=_prices(catalog, engines),
        pricing_source=catalog.source,
    )


def _run(
    store: Store, run: StoredRun, attempts: list[StoredAttempt], catalog: Catalog
) -> RunProvenance:
    return RunProvenance(
        run=run,
        where=where_text(run.engine, run.endpoint),  # "not recorded" for older runs
        settings={
            k: _features(v) if k == "features" else _plain(v)
            for k, v in (run.engine_settings or {}).items()
            if v is not None
        },
        attempts=len(attempts),
        # an unsupported query is a result (the engine lacks a feature), not a failure
        failed=sum(1 for a in attempts if a.status not in ("ok", "unsupported")),
        cache_hits=sum(1 for a in attempts if a.cache_hit),
        cache_unknown=sum(1 for a in attempts if a.cache_hit is None),
        excluded=sum(1 for a in attempts if a.status == "ok" and a.excluded),
        bill=billing_for(run, catalog).price_run(attempts, store.loads(run.run_id)),
    )


def _first_run(engine: str, tables: list[QueryTable]) -> FirstRun:
    """For the methodology: "cold" appears only where the first attempts were."""
    kinds = sorted(
        {c.first_kind for t in tables for (_, e), c in t.cells.items() if e == engine} - {None}
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
    return FirstRun(engine, " or ".join(kinds) or "–", text)


def _loads(store: Store, runs: list[StoredRun]) -> list[TableLoads]:
    """Per data set and table, each engine's latest real load (a reused table keeps the load
    that made it)."""
    data_sets = {(r.engine, r.namespace) for r in runs}
    latest: dict[tuple[str, str | None, str], LoadedTable] = {}
    for load in store.latest_loads():  # oldest first: the last one of a table is its latest
        if (load.engine, load.namespace) in data_sets:
            latest[load.engine, load.namespace, load.table_name] = load
    tables: dict[tuple[str, float, str], dict[str, LoadedTable]] = defaultdict(dict)
    for load in sorted(
        latest.values(), key=lambda t: (t.workload, t.scale, t.table_name, t.engine)
    ):
        tables[load.workload, load.scale, load.table_name][load.engine] = load
    return [TableLoads(*key, engines=loads) for key, loads in tables.items()]


def _prices(catalog: Catalog, engines: list[str]) -> list[Price]:
    """Every price the catalog holds for these engines, with its unit, source and date."""
    found = []

    def walk(engine: str, path: list[str], node: Any) -> None:
        if isinstance(node, dict) and "price" in node and "unit" in node:
            found.append(
                Price(
                    engine=engine,
                    item=" ".join(path),
                    price=node["price"],
                    unit=node["unit"],
                    as_of=node.get("as_of", "–"),
                    source=_plain(node.get("source", "–")),
                )
            )
        elif isinstance(node, dict):
            for key, child in node.items():
                walk(engine, [*path, str(key)], child)

    for engine in engines:
        walk(engine, [], catalog.section(engine))
    return found


def trend_charts(store: Store, tables: list[QueryTable]) -> list[Chart]:
    """Per workload and scale run more than once on an engine: one pass over time."""
    charts = []
    for table in tables:
        trend = _trend(store, table)
        if trend:
            charts.append(
                Chart(
                    f"{table.workload} at {Scale.named(table.scale)}: one pass over time",
                    lines(trend, "run", "seconds", f"{table.workload} trend", log_x=False),
                )
            )
    return charts


def _trend(store: Store, table: QueryTable) -> dict[str, list[tuple[float, float, str]]]:
    """Every stored run of this workload and scale, per engine: one pass = the sum over
    queries of each query's median successful time (Store.pass_times)."""
    series: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for one_pass in store.pass_times(table.workload, table.scale):
        if one_pass.queries == len(table.queries):  # a partial pass is no pass
            label = f"{one_pass.started_at:%Y-%m-%d %H:%M} ({one_pass.run_id})"
            series[one_pass.engine].append(
                (one_pass.started_at.timestamp(), one_pass.seconds, label)
            )
    return {engine: points for engine, points in series.items() if len(points) > 1}


_SCHEME = re.compile(r"\b[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _features(recorded: dict[str, Any]) -> str:
    """The run's record of its engine's features (harness.capabilities.run_record) in a few
    words: "asof_join emulated, vector_type native"; how and why are in the capability matrix."""
    return ", ".join(f"{name} {support.get('level')}" for name, support in recorded.items())


_BYTES = re.compile(r"(\d+) B")


def _plain(value: Any) -> Any:
    """A setting or source as text with any URL scheme taken off: the report names places,
    it does not link to them (it must open, and stay, offline). A size recorded in bytes
    ("22792458240 B") reads in binary units, as every other size on the page."""
    if isinstance(value, str) and (size := _BYTES.fullmatch(value)):
        return data_size(int(size.group(1)))
    return _SCHEME.sub("", value) if isinstance(value, str) else value
