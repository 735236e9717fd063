"""Usage -> dollars, from a price catalog, at report time: the parts common to every engine.

The store keeps what each query used and when it ran; dollars are computed here when asked, so
any stored run can be re-priced with another catalog. Each engine owns its billing rules (a
`Billing` subclass in `harness/engines/<name>/billing.py`) and its section of the catalog
(`harness/engines/<name>/pricing.yaml`); this module loads the catalog, defines `Cost`, the
time arithmetic the rules share, and what the rules add up to (`Billing.price_run`,
`price_performance`, `project_month`). It knows no engine by name and imports none: the
engines import it, and `harness.engines.billing_for(run, catalog)` finds a run's rules.

Two costs answer two questions and are never mixed:

- the **run bill**: what the account is charged for the benchmark's queries as they ran, with
  the engine's uptime, minimums and idle tails (loading is priced separately);
- the **marginal cost** of a query: what one more execution costs on a warehouse that is already
  running, which is what a busy production warehouse pays.

Every figure says its basis: "measured" (the vendor's own billing figures), "modelled" (a
timeline x a rate), or "unknown" (the engine did not report what the price needs: never 0).
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import units
from harness.errors import ConfigError
from harness.paths import YamlError, read_text, read_yaml
from harness.settings import Pattern
from harness.stats import median, timing

if TYPE_CHECKING:  # the rows the billing rules read; only their shape is needed here
    from harness.store.rows import StoredAttempt, StoredLoad, StoredRun

MIB = 2**20
GIB = 2**30
TIB = 2**40
HOURS_PER_MONTH = 730  # the month the cloud vendors' price pages use
DAYS_PER_MONTH = HOURS_PER_MONTH / 24


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
    note: str | None = None  # e.g. why a vendor's figure is still pending

    def __add__(self, other: Cost) -> Cost:
        as_of, note = self.as_of or other.as_of, self.note or other.note
        if self.dollars is None or other.dollars is None:
            return Cost(None, "unknown", as_of, note)
        basis = "measured" if self.basis == other.basis == "measured" else "modelled"
        return Cost(self.dollars + other.dollars, basis, as_of, note)

    def times(self, factor: float) -> Cost:
        if self.dollars is None:
            return self
        return Cost(self.dollars * factor, self.basis, self.as_of, self.note)


FREE = Cost(0.0, "measured")


def total(costs: Iterable[Cost]) -> Cost:
    return sum(costs, FREE)


class Catalog:
    """Prices by engine: each engine's own part (harness/engines/<name>/pricing.yaml), with
    the sections of a user's catalog file in their place where it has them."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data, self.source = data, source

    def section(self, engine: str) -> dict[str, Any]:
        if engine not in self.data:
            self.data[engine] = _bundled_section(engine)
        if self.data[engine] is None:
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
    """The bundled prices, or a user's catalog file (engine -> section) over them."""
    if path is None:
        return Catalog({}, "the bundled prices (harness/engines/*/pricing.yaml)")
    data = _read_catalog(Path(path), user=True)
    return Catalog(data, f"{path} (engines it leaves out: the bundled prices)")


PRICE_FIELDS = ("price", "unit", "source", "as_of")


def _read_catalog(path: Path, user: bool = False) -> dict[str, Any]:
    """A catalog file, checked: every price has exactly PRICE_FIELDS, no key is without a
    value, and (in a user's catalog) each section has only keys its engine's own catalog has,
    which are the ones its billing rules read. A key written twice is refused by read_yaml."""
    text = read_text(path, "price catalog", ConfigError)
    try:
        data = read_yaml(text)
    except YamlError as exc:
        where = f"{path}:{exc.where}"
        raise ConfigError(
            f"{where}: malformed YAML in the price catalog ({exc})"
            + (f"; {exc.hint}" if exc.hint else "")
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a price catalog is a mapping of engine to prices")
    for engine, section in data.items():
        if user and _bundled_path(engine) is None:  # an unknown engine is an error naming it
            known = ", ".join(sorted(p.parent.name for p in ENGINES_FOLDER.glob("*/pricing.yaml")))
            raise ConfigError(f"{path}: unknown engine {engine!r}; engines with prices: {known}")
        if section is None:
            continue  # no prices for it: an error only when it is priced (Catalog.section)
        if not isinstance(section, dict):
            _catalog_error(path, text, (engine,), f"{engine}: a section is a mapping of prices")
        own = _bundled_section(engine) if user else None
        for key in section if own is not None else ():
            if key not in own:
                import difflib

                close = difflib.get_close_matches(str(key), list(own), n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(own)}"
                _catalog_error(
                    path, text, (engine, key), f"unknown key {key!r} in {engine}; {hint}"
                )
        _check_prices(path, text, (engine,), section)
    return data


def _check_prices(path: Path, text: str, at: tuple[str, ...], section: dict[str, Any]) -> None:
    """Every mapping with a `price` is a price: exactly PRICE_FIELDS. No key without a value
    (an unquoted comma in a `{ }` mapping makes one, and cuts the value before it)."""
    from harness.paths import COMMA_HINT

    where = ".".join(map(str, at))
    if "price" in section:
        for key in section:
            if key not in PRICE_FIELDS:
                hint = COMMA_HINT if section[key] is None else "remove it"
                _catalog_error(
                    path, text, (*at, key), f"unknown key {key!r} in the price {where}; {hint}"
                )
        if missing := [key for key in PRICE_FIELDS if key not in section]:
            _catalog_error(
                path,
                text,
                at,
                f"{where}: a price needs price, unit, source and as_of; add {', '.join(missing)}",
            )
        return
    for key, value in section.items():
        if value is None:
            _catalog_error(path, text, (*at, key), f"{where}.{key} has no value; {COMMA_HINT}")
        if isinstance(value, dict):
            _check_prices(path, text, (*at, key), value)


def _catalog_error(path: Path, text: str, at: tuple[str, ...], problem: str) -> None:
    from harness.paths import key_line

    line = key_line(text, at)
    raise ConfigError(f"{path}:{f' line {line}:' if line else ''} {problem}")


# Each engine's package is named after it (harness.engines.<name>: a test holds the registry
# to that) and keeps its part of the catalog beside its billing rules. Found by path, not
# through the registry: the engines import this module.
ENGINES_FOLDER = Path(__file__).parent / "engines"


def _bundled_path(engine: str) -> Path | None:
    path = ENGINES_FOLDER / engine / "pricing.yaml"
    return path if engine.isidentifier() and path.is_file() else None


def _bundled_section(engine: str) -> dict[str, Any] | None:
    """An engine's own part of the catalog, from its package; None when it has none."""
    path = _bundled_path(engine)
    return _read_catalog(path).get(engine) if path is not None else None


# -- time arithmetic the billing rules share --------------------------------------------------
Span = tuple[datetime, datetime]


def attempt_span(attempt: StoredAttempt) -> Span | None:
    """When an attempt held the engine: from its start to its end (stored since schema 6; for
    older runs, start + client seconds). None for an attempt that never ran."""
    start = attempt.started_at
    if start is None or not attempt.sent:
        return None
    end = attempt.ended_at
    if end is None:
        end = start + timedelta(seconds=attempt.client_seconds or 0.0)
    return start, max(start, end)


def held_seconds(attempt: StoredAttempt, *reported: float | None) -> float | None:
    """How long an attempt used the engine: the first of the `reported` figures that is known
    (attempt.engine_seconds …, in the engine's order of trust), else its span (a failure holds
    the engine until it ends); None when nothing says."""
    for figure in reported:
        if figure is not None:
            return float(figure)
    span = attempt_span(attempt)
    return None if span is None else seconds(span)


def spans(attempts: Iterable[StoredAttempt]) -> list[Span]:
    return sorted(s for a in attempts if (s := attempt_span(a)) is not None)


def merge(intervals: Iterable[Span], gap_seconds: float = 0.0) -> list[Span]:
    """Overlapping intervals (or ones at most `gap_seconds` apart) joined into one."""
    merged: list[Span] = []
    for start, end in sorted(intervals):
        if merged and (start - merged[-1][1]).total_seconds() <= gap_seconds:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def seconds(span: Span) -> float:
    return (span[1] - span[0]).total_seconds()


def busy_seconds_per_day(count: float, each_seconds: float, active_hours: float) -> float:
    """How long something is up in a day when `count` jobs, each keeping it up `each_seconds`,
    arrive evenly over `active_hours`: their lengths added up while they are apart, the active
    window (plus one tail) once they run into each other."""
    if count <= 0:
        return 0.0
    return min(count * each_seconds, active_hours * 3600 + each_seconds)


# -- what each engine's billing rules provide ----------------------------------------------------
@dataclass(frozen=True)
class Priced:
    """A cost with how it was reached, in words a reader can check."""

    cost: Cost
    explain: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Driver:
    """A setting that drives a run bill, for the report's "what your setting would change"."""

    setting: str  # the key in the run's engine settings
    label: str  # how the report names it: "AUTO_SUSPEND (s)"
    value: float  # this run's
    choices: tuple[float, ...]  # values teams commonly choose
    caveat: str = ""  # what the figures at other values do not account for


class Billing(abc.ABC):
    """One engine's billing rules, bound to a stored run's settings and a catalog.

    Subclasses live beside their engine and are the only code that knows its billing units,
    sizes and node types. Every rule cites the vendor's page it follows.
    """

    def __init__(self, catalog: Catalog, engine: str, run: StoredRun) -> None:
        self.catalog, self.engine, self.run = catalog, engine, run
        self.section = catalog.section(engine)
        self.settings: dict[str, Any] = run.engine_settings or {}

    def price(self, *path: str) -> Price:
        return self.catalog.price(self.engine, *path)

    @abc.abstractmethod
    def marginal(self, attempt: StoredAttempt) -> Cost:
        """One execution on a warehouse that is already running: the query's own share."""

    @abc.abstractmethod
    def run_bill(self, attempts: list[StoredAttempt]) -> Priced:
        """What the account is charged for these queries as they ran (not the load)."""

    @abc.abstractmethod
    def load_bill(self, loads: list[StoredLoad]) -> Priced:
        """What loading the run's tables cost (tables reused from earlier runs cost nothing)."""

    @abc.abstractmethod
    def storage_per_month(self, stored_bytes: float | None) -> Priced:
        """Keeping `stored_bytes` for a month."""

    @abc.abstractmethod
    def month(self, pattern: Pattern, per_query: Cost, seconds_per_query: float) -> Priced:
        """Compute for a month of the user's pattern: `per_query` is the mix's marginal cost,
        `seconds_per_query` its typical time. Storage is added by the caller."""

    def scale_out_bill(self, scale_out: dict[str, Any] | None) -> Priced | None:
        """What the compute an engine added under load (`Engine.scale_out`) cost, beside its
        base capacity; None when the engine reported none or bills none apart."""
        return None

    def _stored(
        self, stored_bytes: float | None, price: Price, unit_bytes: float, unit: str, what: str
    ) -> Priced:
        """Storage for a month: `stored_bytes` in the vendor's `unit` at `price` per unit-month."""
        if stored_bytes is None:
            return Priced(Cost(None, "unknown", price.as_of), ["stored size unknown"])
        amount = stored_bytes / unit_bytes
        return Priced(
            Cost(amount * price.price, "modelled", price.as_of),
            [f"storage: {units.number(amount, 4)} {unit} {what} at ${price.price}/{unit}-month"],
        )

    def billed_window(self, attempts: list[StoredAttempt]) -> Span | None:
        """The window whose vendor-billed figures belong to this run (`whbench cost --refresh`):
        by default from the first query's start to the last one's end."""
        found = spans(attempts)
        return (found[0][0], max(end for _, end in found)) if found else None

    def minimum_charge(self) -> Cost | None:
        """The least a run can cost before its first query, for the budget guard."""
        return None

    def bill_driver(self) -> Driver | None:
        """The setting that most drives this engine's run bill (Snowflake's AUTO_SUSPEND), its
        value for this run and other values teams commonly choose; None when no one setting
        does (a bill of bytes scanned)."""
        return None

    def sensitivity(self, attempts: list[StoredAttempt]) -> list[tuple[float, Cost]]:
        """The run bill modelled again with the driving setting at each of its common values
        and the run's own, at the times measured: how much the reader's own setting would move
        the figure. Modelled, so a measured bill is left out of it."""
        driver = self.bill_driver()
        if driver is None:
            return []
        bills = []
        for value in sorted({driver.value, *driver.choices}):
            settings = {**self.settings, driver.setting: value}
            run = dataclasses.replace(self.run, engine_settings=settings, run_usage=None)
            other = type(self)(self.catalog, self.engine, run)
            bills.append((value, other.run_bill(attempts).cost))
        return bills

    def price_per_byte_billed(self) -> float | None:
        """What one billed byte costs where the engine bills bytes (its hard spend limit)."""
        return None

    # -- what the rules add up to (the same for every engine: not overridden) -------------------
    def price_run(
        self, attempts: list[StoredAttempt], loads: list[StoredLoad] | None = None
    ) -> RunBill:
        """The run bill, each query's marginal cost, the load, and a month of its storage."""
        queries: dict[str, Cost] = {}
        for attempt in attempts:
            queries[attempt.query_id] = queries.get(attempt.query_id, FREE) + self.marginal(attempt)
        bill = self.run_bill(attempts)
        load = self.load_bill(loads or [])
        storage = self.storage_per_month(stored_bytes(loads or []))
        return RunBill(
            queries=queries,
            marginal=total(queries.values()),
            total=bill.cost,
            load=load.cost,
            storage_per_month=storage.cost,
            explain=bill.explain + load.explain + storage.explain,
            sensitivity=self._sensitivity_text(attempts),
        )

    def _sensitivity_text(self, attempts: list[StoredAttempt]) -> str | None:
        """ "run bill at AUTO_SUSPEND (s) 60: $0.09 · 600 (this run's): $0.39 …", or None."""
        driver, bills = self.bill_driver(), self.sensitivity(attempts)
        if driver is None or not bills:
            return None
        figures = " · ".join(
            f"{units.number(value)}{' (this run)' if value == driver.value else ''}: "
            f"{units.dollars(cost.dollars)}"
            for value, cost in bills
        )
        caveat = f" ({driver.caveat})" if driver.caveat else ""
        return f"run bill at {driver.label} {figures}{caveat}"

    def price_performance(self, attempts: list[StoredAttempt]) -> PricePerformance:
        """One pass over the workload: every query once, at its typical (median) time and
        marginal cost."""
        by_query: dict[str, list[StoredAttempt]] = {}
        costs: dict[str, list[Cost]] = {}
        for attempt in attempts:  # a pass counts only answered queries: failures are no pass
            if attempt.status == "unsupported":
                continue  # the engine lacks a feature the query needs: not part of its pass
            by_query.setdefault(attempt.query_id, []).append(attempt)
            costs.setdefault(attempt.query_id, [])
            if attempt.status == "ok":
                costs[attempt.query_id].append(self.marginal(attempt))
        one_pass = FREE
        for per_query in costs.values():
            known = sorted(c.dollars for c in per_query if c.dollars is not None)
            if not per_query or len(known) < len(per_query):
                one_pass = one_pass + Cost(None, "unknown")
            else:
                typical = median(known)
                one_pass = one_pass + Cost(typical, per_query[0].basis, per_query[0].as_of)
        typical = [timing(tries).median for tries in by_query.values()]
        pass_seconds = sum(typical) if typical and None not in typical else None
        return PricePerformance(len(costs), pass_seconds, one_pass)

    def project_month(
        self, attempts: list[StoredAttempt], pattern: Pattern, stored_bytes: float | None
    ) -> Priced:
        """A month of the user's pattern on this run's engine: the query mix's typical marginal
        cost and time, the capacity the pattern needs at that time (`capacity_needed`; each
        engine's `month()` says how many machines, clusters, RPUs or slots it provisions and
        prices them), the engine's uptime model for the pattern, and storage."""
        one_pass = self.price_performance(attempts)
        if one_pass.seconds is None or one_pass.cost.dollars is None or not one_pass.queries:
            return Priced(Cost(None, "unknown"), ["a query never succeeded or its cost is unknown"])
        per_query = one_pass.cost.times(1 / one_pass.queries)
        compute = self.month(pattern, per_query, one_pass.seconds / one_pass.queries)
        data = stored_bytes if pattern.data_gb is None else pattern.data_gb * 1e9
        storage = self.storage_per_month(data)
        return Priced(
            compute.cost + storage.cost,
            [
                f"{units.number(pattern.queries_per_day)} queries a day, evenly over "
                f"{units.number(pattern.active_hours)} active hours, {DAYS_PER_MONTH:.1f} days a "
                f"month ({HOURS_PER_MONTH} hours)",
                f"this run's query mix: {units.seconds(one_pass.seconds / one_pass.queries)} and "
                f"{units.dollars(per_query.dollars)} per query (median of each query's attempts)",
                *compute.explain,
                *storage.explain,
            ],
        )


@dataclass(frozen=True)
class RunBill:
    queries: dict[str, Cost]  # query id -> marginal cost of all its attempts
    marginal: Cost  # every attempt's marginal cost added up
    total: Cost  # the run bill for the queries as they ran
    load: Cost
    storage_per_month: Cost
    explain: list[str]
    # The run bill at other values of the setting that drives it, in words (bill_driver)
    sensitivity: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "total": vars(self.total),
            "marginal": vars(self.marginal),
            "load": vars(self.load),
            "storage_per_month": vars(self.storage_per_month),
            "explain": self.explain,
            "sensitivity": self.sensitivity,
            "queries": {q: vars(c) for q, c in sorted(self.queries.items())},
        }


def stored_bytes(loads: list[StoredLoad]) -> float | None:
    """What a run's loaded tables occupy; None when any size is unknown."""
    stored = [load.bytes_stored for load in loads if load.status == "loaded"]
    return sum(stored) if stored and None not in stored else None


@dataclass(frozen=True)
class Need:
    """The capacity a pattern needs at the measured speed (`capacity_needed`)."""

    compute_hours: float  # a day: queries_per_day x seconds_per_query / 3600
    busy: float  # compute_hours / active_hours: copies of the run's capacity busy all day
    units: int  # `busy` rounded up: the copies to provision (0 only for no queries)
    active_hours: float

    def says(self, unit: str) -> str:
        """ "87.5 compute-hours a day: needs 3.65 m6i.2xlarge busy all 24 h, so 4" """
        return (
            f"{units.figure(self.compute_hours)} compute-hours a day at the measured speed "
            f"(queries a day x seconds a query): needs {units.figure(self.busy)} {unit} busy "
            f"all {units.number(self.active_hours)} active hours, so {self.units}"
        )


def capacity_needed(pattern: Pattern, seconds_per_query: float) -> Need:
    """How many copies of the capacity a run had (its machine, cluster, base RPU) a pattern
    keeps busy: the compute-hours a day it needs at the run's measured time per query, spread
    over its active hours, rounded up. This assumes each copy runs the mix at the measured
    speed, one query at a time, as the run did; running several at once on one copy shares it
    and was not measured."""
    hours = pattern.queries_per_day * max(seconds_per_query, 0.0) / 3600
    busy = hours / pattern.active_hours if pattern.active_hours > 0 else 0.0
    units = 0 if hours <= 0 else max(1, math.ceil(busy - 1e-9))
    return Need(hours, busy, units, pattern.active_hours)


@dataclass(frozen=True)
class PricePerformance:
    """One pass over a workload: every query once, at its typical (median) time and marginal
    cost."""

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
