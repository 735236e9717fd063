"""Usage -> dollars, from a price catalog, at report time.

The store keeps what each query used (bytes billed, slot-ms, seconds …); dollars are computed
here when asked, so any stored run can be re-priced with another catalog. Every figure says its
basis: "measured" (from the engine's own billing figures), "modelled" (time x a rate), or
"unknown" (the engine did not report what the price needs: never a made-up 0).

Which function prices an engine follows from the engine's `cost_basis` capability; the catalog
has one section per engine.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from harness.engines import engine_class
from harness.errors import ConfigError
from harness.paths import bundled, read_yaml

MIB = 2**20
TIB = 2**40


@dataclass(frozen=True)
class Price:
    price: float
    unit: str
    source: str
    as_of: str


@dataclass(frozen=True)
class Cost:
    dollars: float | None  # None: the usage the price needs was not measured
    basis: str  # measured, modelled, unknown
    as_of: str | None = None

    def __add__(self, other: Cost) -> Cost:
        if self.dollars is None or other.dollars is None:
            return Cost(None, "unknown", self.as_of or other.as_of)
        basis = "measured" if self.basis == other.basis == "measured" else "modelled"
        return Cost(self.dollars + other.dollars, basis, self.as_of or other.as_of)


FREE = Cost(0.0, "measured")


class Catalog:
    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data, self.source = data, source

    def section(self, engine: str) -> dict[str, Any]:
        if engine not in self.data:
            raise ConfigError(f"{self.source}: no prices for {engine}; add a `{engine}:` section")
        return self.data[engine]

    def price(self, engine: str, *path: str) -> Price:
        value: Any = self.section(engine)
        for key in path:
            if not isinstance(value, dict) or key not in value:
                raise ConfigError(f"{self.source}: {engine}.{'.'.join(path)}: missing price")
            value = value[key]
        where = f"{self.source}: {engine}.{'.'.join(path)}"
        try:
            price = Price(
                float(value["price"]), str(value["unit"]), str(value["source"]), str(value["as_of"])
            )
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"{where}: a price needs price, unit, source and as_of") from None
        if not price.price >= 0:  # also refuses NaN
            raise ConfigError(f"{where}: price {value['price']} must be zero or more")
        return price


def load_catalog(path: Path | None = None) -> Catalog:
    path = path or bundled("configs") / "pricing.yaml"
    try:
        data = read_yaml(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read price catalog {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: malformed YAML in the price catalog ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a price catalog is a mapping of engine to prices")
    for engine in data:
        engine_class(engine)  # an unknown engine is an error naming it
    return Catalog(data, str(path))


# -- one function per cost basis: (attempt, run, catalog) -> Cost ------------------------------
def _bytes_or_slots(attempt: dict, run: dict, catalog: Catalog) -> Cost:
    """BigQuery. On demand: bytes billed, rounded up to the MB, at least 10 MB, $ per TiB;
    modelled from bytes processed when billed bytes were not reported. Editions: slot-ms."""
    if attempt["status"] != "ok" or attempt.get("cache_hit"):
        return FREE  # failed and cached queries are not billed
    section = catalog.section("bigquery")
    if section.get("model", "on_demand") == "editions":
        price = catalog.price("bigquery", "editions", section.get("edition", "standard"))
        if attempt.get("slot_ms") is None:
            return Cost(None, "unknown", price.as_of)
        minimum_ms = 1000 * section.get("editions_minimum_seconds", 60)
        slot_hours = max(attempt["slot_ms"], minimum_ms) / 3_600_000
        return Cost(slot_hours * price.price, "modelled", price.as_of)
    price = catalog.price("bigquery", "on_demand")
    billed, basis = attempt.get("bytes_billed"), "measured"
    if billed is None:
        billed, basis = attempt.get("bytes_scanned"), "modelled"
        if billed is None:
            return Cost(None, "unknown", price.as_of)
        # At least 10 MB per query and per table it references, rounded up to the MB.
        minimum = section.get("minimum_bytes_per_query", 0) * _tables_referenced(attempt)
        billed = max(math.ceil(billed / MIB) * MIB, minimum)
    return Cost(billed / TIB * price.price, basis, price.as_of)


def _tables_referenced(attempt: dict) -> int:
    """How many tables the query reads (1 when its SQL is not at hand or does not parse)."""
    return _count_tables(attempt["sql"]) if attempt.get("sql") else 1


@functools.lru_cache(maxsize=512)  # every attempt of a query has the same SQL: parse it once
def _count_tables(sql: str) -> int:
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="bigquery")
    except sqlglot.errors.ParseError:
        return 1
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables = {t.name for t in tree.find_all(exp.Table) if t.name not in ctes}
    return max(1, len(tables))


def _credits(attempt: dict, run: dict, catalog: Catalog) -> Cost:
    """Snowflake: the warehouse's credits per hour x the seconds the query ran there."""
    section = catalog.section("snowflake")
    price = catalog.price("snowflake", "credit", section.get("edition", "standard"))
    size = _warehouse_size(run)
    seconds = _first_known(attempt, "warehouse_seconds", "engine_seconds", "client_seconds")
    if size is None or seconds is None:
        return Cost(None, "unknown", price.as_of)
    credits_per_hour = section["credits_per_hour"].get(size)
    if credits_per_hour is None:
        raise ConfigError(f"{catalog.source}: snowflake.credits_per_hour has no size {size}")
    return Cost(credits_per_hour * seconds / 3600 * price.price, "modelled", price.as_of)


def _rpu_or_nodes(attempt: dict, run: dict, catalog: Catalog) -> Cost:
    """Redshift. Serverless: RPU-seconds charged (measured), else elapsed x base RPU
    (modelled). Provisioned: elapsed x node-hour price x nodes (modelled)."""
    section = catalog.section("redshift")
    settings = run.get("engine_settings") or {}
    seconds = _first_known(attempt, "engine_seconds", "client_seconds")
    if settings.get("node_type"):
        price = catalog.price("redshift", "node_hour", settings["node_type"])
        if seconds is None:
            return Cost(None, "unknown", price.as_of)
        nodes = settings.get("nodes") or 1
        return Cost(seconds / 3600 * nodes * price.price, "modelled", price.as_of)
    price = catalog.price("redshift", "serverless_rpu_hour")
    if attempt.get("rpu_seconds") is not None:
        return Cost(attempt["rpu_seconds"] / 3600 * price.price, "measured", price.as_of)
    if seconds is None:
        return Cost(None, "unknown", price.as_of)
    rpu = settings.get("base_rpu") or section.get("default_base_rpu", 128)
    return Cost(seconds * rpu / 3600 * price.price, "modelled", price.as_of)


def _machine_hours(attempt: dict, run: dict, catalog: Catalog) -> Cost:
    """DuckDB: the machine it ran on, priced as a comparable cloud VM, for the query's time."""
    price = catalog.price("duckdb", "machine_hour")
    if attempt.get("client_seconds") is None:
        return FREE if attempt["status"] != "ok" else Cost(None, "unknown", price.as_of)
    return Cost(attempt["client_seconds"] / 3600 * price.price, "modelled", price.as_of)


COST_FUNCTIONS: dict[str, Callable[[dict, dict, Catalog], Cost]] = {
    "bytes billed or slot-ms": _bytes_or_slots,
    "credits": _credits,
    "rpu-seconds or node-hours": _rpu_or_nodes,
    "machine-hours": _machine_hours,
}


def dollars(value: float | None) -> str:
    """A dollar figure for people: small ones to three significant digits."""
    if value is None:
        return "unknown"
    return f"${value:.3g}" if 0 < value < 0.01 else f"${value:,.4f}"


def price_per_byte_billed(engine: str, catalog: Catalog) -> float | None:
    """What one billed byte costs, for an engine that bills bytes on demand; else None."""
    if COST_FUNCTIONS.get(engine_class(engine).cost_basis) is not _bytes_or_slots:
        return None
    if catalog.section(engine).get("model", "on_demand") != "on_demand":
        return None
    return catalog.price(engine, "on_demand").price / TIB


def attempt_cost(attempt: dict, run: dict, catalog: Catalog) -> Cost:
    return COST_FUNCTIONS[engine_class(run["engine"]).cost_basis](attempt, run, catalog)


def _redshift_minimum(run: dict, attempts: list[dict], catalog: Catalog) -> Cost | None:
    """Serverless bills at least 60 seconds of the base capacity."""
    section = catalog.section("redshift")
    settings = run.get("engine_settings") or {}
    if settings.get("node_type"):
        return None
    price = catalog.price("redshift", "serverless_rpu_hour")
    rpu = settings.get("base_rpu") or section.get("default_base_rpu", 128)
    seconds = section.get("minimum_seconds", 60)
    return Cost(seconds * rpu / 3600 * price.price, "modelled", price.as_of)


@dataclass(frozen=True)
class RunCost:
    queries: dict[str, Cost]  # query id -> all its attempts
    total: Cost  # the queries, or the engine's minimum charge for a run if that is more


def price_run(run: dict, attempts: list[dict], catalog: Catalog) -> RunCost:
    queries: dict[str, Cost] = {}
    for attempt in attempts:
        queries[attempt["query_id"]] = queries.get(attempt["query_id"], FREE) + attempt_cost(
            attempt, run, catalog
        )
    total = sum(queries.values(), FREE)
    measured = _window_charge(run, catalog)
    if measured is not None:
        return RunCost(queries, measured)
    basis = engine_class(run["engine"]).cost_basis
    minimum_rule = RUN_MINIMUMS.get(basis)
    minimum = minimum_rule(run, attempts, catalog) if minimum_rule else None
    if minimum and total.dollars is not None and total.dollars < minimum.dollars:
        total = minimum
    if basis == "credits":
        total = total + _cloud_services(run, attempts, catalog)
    return RunCost(queries, total)


def _window_charge(run: dict, catalog: Catalog) -> Cost | None:
    """What the engine itself billed for the run's window (Redshift Serverless RPU-seconds from
    SYS_SERVERLESS_USAGE), which already holds minimum charges: it wins over the per-query sum."""
    usage = run.get("run_usage") or {}
    if usage.get("rpu_seconds") is None:
        return None
    price = catalog.price("redshift", "serverless_rpu_hour")
    return Cost(usage["rpu_seconds"] / 3600 * price.price, "measured", price.as_of)


def _snowflake_resumes(run: dict, attempts: list[dict], catalog: Catalog) -> Cost | None:
    """Every resume of a warehouse bills at least 60 s. A resume is taken to happen at the
    run's first query and after every pause between queries longer than the warehouse's
    auto-suspend (`auto_suspend_seconds` in the catalog; Snowflake's default is 600)."""
    section = catalog.section("snowflake")
    size = _warehouse_size(run)
    if size is None:
        return None
    price = catalog.price("snowflake", "credit", section.get("edition", "standard"))
    suspend_after = section.get("auto_suspend_seconds", 600)
    minimum = section.get("minimum_seconds_per_resume", 60)
    segments: list[float] = [] if attempts else [0.0]  # no queries yet: the first resume
    last_end = None
    for attempt in sorted(attempts, key=lambda a: a.get("started_at") or 0):
        seconds = (
            _first_known(attempt, "warehouse_seconds", "engine_seconds", "client_seconds") or 0.0
        )
        start = attempt.get("started_at")
        if not segments or (
            start and last_end and (start - last_end).total_seconds() > suspend_after
        ):
            segments.append(0.0)
        segments[-1] += seconds
        if start:
            last_end = start + timedelta(seconds=attempt.get("client_seconds") or seconds)
    billed = sum(max(segment, minimum) for segment in segments)
    return Cost(
        section["credits_per_hour"][size] * billed / 3600 * price.price, "modelled", price.as_of
    )


# What a run bills at the least, by cost basis: (run, attempts, catalog) -> Cost or None.
RUN_MINIMUMS: dict[str, Callable[[dict, list[dict], Catalog], Cost | None]] = {
    "credits": _snowflake_resumes,
    "rpu-seconds or node-hours": _redshift_minimum,
}


def _cloud_services(run: dict, attempts: list[dict], catalog: Catalog) -> Cost:
    """Snowflake bills cloud-services credits only beyond 10% of the day's warehouse credits;
    the run's own warehouse credits stand in for the day's (a conservative reading when
    nothing else ran that day). Not reported: nothing is added, and nothing is claimed."""
    section = catalog.section("snowflake")
    reported = [
        a["cloud_services_credits"] for a in attempts if a.get("cloud_services_credits") is not None
    ]
    size = _warehouse_size(run)
    if not reported or size is None:
        return FREE
    price = catalog.price("snowflake", "credit", section.get("edition", "standard"))
    seconds = sum(
        _first_known(a, "warehouse_seconds", "engine_seconds", "client_seconds") or 0
        for a in attempts
    )
    warehouse_credits = section["credits_per_hour"][size] * seconds / 3600
    billable = max(0.0, sum(reported) - 0.1 * warehouse_credits)
    return Cost(billable * price.price, "measured", price.as_of)


def _warehouse_size(run: dict) -> str | None:
    size = (run.get("engine_settings") or {}).get("warehouse_size")
    if not size:
        return None
    # SHOW WAREHOUSES says X-Small, Small, … X-Large, 2X-Large; the catalog says XS, S, … 2XL.
    words = {
        "X-SMALL": "XS",
        "XSMALL": "XS",
        "SMALL": "S",
        "MEDIUM": "M",
        "LARGE": "L",
        "X-LARGE": "XL",
        "XLARGE": "XL",
    }
    key = str(size).upper().replace(" ", "")
    return words.get(key, key.replace("X-LARGE", "XL").replace("-", ""))


def _first_known(attempt: dict, *keys: str) -> float | None:
    return next((attempt[k] for k in keys if attempt.get(k) is not None), None)


@dataclass(frozen=True)
class PricePerformance:
    """One pass over a workload: every query once, at its typical (median) time and cost."""

    queries: int
    seconds: float | None  # None when a query never succeeded
    cost: Cost

    @property
    def cost_per_query(self) -> float | None:
        return None if self.cost.dollars is None else self.cost.dollars / self.queries

    @property
    def queries_per_dollar(self) -> float | None:
        return None if not self.cost.dollars else self.queries / self.cost.dollars

    @property
    def time_x_cost(self) -> float | None:
        """Seconds x dollars: lower is better value; it rewards neither speed bought at any
        price nor thrift that takes all day."""
        if self.seconds is None or self.cost.dollars is None:
            return None
        return self.seconds * self.cost.dollars


def price_performance(run: dict, attempts: list[dict], catalog: Catalog) -> PricePerformance:
    seconds: dict[str, list[float]] = {}
    costs: dict[str, list[Cost]] = {}
    for attempt in attempts:  # a pass counts only answered queries: failures are no pass
        seconds.setdefault(attempt["query_id"], [])
        costs.setdefault(attempt["query_id"], [])
        if attempt["status"] == "ok":
            seconds[attempt["query_id"]].append(attempt["client_seconds"])
            costs[attempt["query_id"]].append(attempt_cost(attempt, run, catalog))
    total = FREE
    for per_query in costs.values():
        known = sorted(c.dollars for c in per_query if c.dollars is not None)
        if not per_query or len(known) < len(per_query):
            total = total + Cost(None, "unknown")
        else:
            middle = known[len(known) // 2]
            total = total + Cost(middle, per_query[0].basis, per_query[0].as_of)
    pass_seconds = None
    if seconds and all(seconds.values()):
        pass_seconds = sum(sorted(s)[len(s) // 2] for s in seconds.values())
    return PricePerformance(len(costs), pass_seconds, total)
