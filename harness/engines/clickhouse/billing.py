"""ClickHouse's billing rules, chosen by the run's recorded mode (the engine's describe()).

**Embedded** (chDB; `mode` "embedded" or absent, as in runs stored before server mode) has no
bill, but it has a machine: it is priced exactly as DuckDB is, as the cloud VM that could have run
it (harness/engines/duckdb/billing.py, whose rules and sources apply unchanged: the cheapest
catalog VM with the run's recorded `threads` in vCPU and its `memory_limit` in memory, billed per
second with a 60 s minimum per start, the run's wall time as its uptime, EBS gp3 for the data
folder). The VMs and their prices are read from the section `host_machines` names (the duckdb
section), so the host is priced in one place and both embedded engines on one machine are priced
alike. ClickHouse records `max_threads` as its threads and, as its memory limit,
`max_memory_usage` where set, else the server's `max_server_memory_usage`.

**ClickHouse Cloud** (`mode` "server" with `cloud_tier` set; `ClickHouseCloudBilling`), as
ClickHouse's pages state it (read 2026-12-06):

- Compute "is metered on a per-minute basis, in 8G RAM increments", at a price per compute unit
  by tier, region and cloud (https://clickhouse.com/docs/cloud/manage/billing/overview); one
  compute unit is 8 GiB of RAM and 2 vCPU (https://clickhouse.com/pricing). A service's units
  are its replicas x memory per replica / 8 GiB (the run's `replicas`, `memory_gib_per_replica`:
  the server cannot say them). The docs do not say how a memory size that is not a multiple of
  8 GiB is billed: the exact ratio is used and the bill says so.
- Idling: "you're not billed for compute resources when the service is paused"; a service idles
  after its idle timeout "when the service isn't executing any user-submitted queries"
  (https://clickhouse.com/docs/cloud/features/autoscaling/idling). So, like Snowflake's
  AUTO_SUSPEND, the bill runs from the query that wakes it to `idle_minutes` after its last one,
  idle tail included. Adaptive idling may keep it up longer (merges running, more than 10,000
  parts, a slow start): not modelled, so the figure is a lower bound in those cases.
- Idling turned off (`idling: false`): the same page says one may "choose whether or not to
  allow automatic idling"; a service that may not idle is never paused, so its compute is billed
  every hour, used or not. The run is charged the stretch it held the service, its first query
  to its last, gaps included (there is no tail: the hours after are billed to whatever follows),
  and a month is the service up around the clock (the billing overview's worked examples price
  such a month as 732 h; whbench's month is 730 h).
- Not said by the docs, so not applied: whether a partial minute is rounded up (each running
  stretch is rounded up to whole minutes here: at most one minute more per stretch, said in the
  bill), any minimum per wake-up (none applied), whether waking up is billed, and whether the
  service was already running when the run began (the first query is taken to wake it).
- Storage per TB-month of compressed data, the same for every tier; backups billed apart at the
  same rate, one by default ("All services will default to one backup"; the docs' examples bill
  "1 TB of data + 1 backup" as 2 TB) (billing overview). Data transfer (egress) is billed too
  but not measured by whbench: left out, and said.
- Prices: AWS us-east-1 only (pricing.yaml, where the Basic and Scale rates are derived from the
  docs' worked examples, which state no rate; the bill says so).

**A self-managed server** (`mode` "server" without `cloud_tier`): its cost is the machines it runs
on, which whbench cannot see: unknown, with a note.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from harness import units
from harness.engines.duckdb.billing import DuckDBBilling
from harness.errors import ConfigError
from harness.pricing import (
    DAYS_PER_MONTH,
    FREE,
    Billing,
    Cost,
    Driver,
    Priced,
    Span,
    busy_seconds_per_day,
    capacity_needed,
    held_seconds,
    merge,
    seconds,
    spans,
)

if TYPE_CHECKING:
    from harness.pricing import Catalog, Price
    from harness.settings import Pattern
    from harness.store.rows import StoredAttempt, StoredLoad, StoredRun

# Idle timeouts to compare a run's bill at, in minutes (bill_driver). The docs list no console
# choices; 15, 30 and 60 are the timeouts adaptive idling sets
# (https://clickhouse.com/docs/cloud/features/autoscaling/idling, read 2026-12-06), 5 a short one.
IDLE_CHOICES = (5.0, 15.0, 30.0, 60.0)

# What a catalog's clickhouse.cloud must have (pricing.yaml).
CLOUD_KEYS = (
    "gib_per_compute_unit",
    "metering_seconds",
    "backup_copies",
    "compute_unit_hour",
    "storage_tb_month",
)

SELF_MANAGED = (
    "a self-managed ClickHouse server: its cost is the machines it runs on, which whbench cannot "
    "see (set cloud_tier, replicas, memory_gib_per_replica and idle_minutes, or idling: false, "
    "for a ClickHouse Cloud service)"
)


def _mode(run: StoredRun) -> str:
    return str((run.engine_settings or {}).get("mode") or "embedded")


class ClickHouseBilling(DuckDBBilling):
    """Embedded: the host VM by DuckDB's rule. A run in server mode gets ClickHouseCloudBilling
    (ClickHouse Cloud, or unknown for a self-managed server) instead."""

    def __new__(cls, catalog: Catalog, engine: str, run: StoredRun) -> Any:
        if cls is ClickHouseBilling and _mode(run) == "server":
            return ClickHouseCloudBilling(catalog, engine, run)
        return super().__new__(cls)

    def __init__(self, catalog: Catalog, engine: str, run: StoredRun) -> None:
        super().__init__(catalog, engine, run)
        self.host_machines = str(self.section["host_machines"])
        self.section = catalog.section(self.host_machines)

    def price(self, *path: str) -> Price:
        return self.catalog.price(self.host_machines, *path)


class ClickHouseCloudBilling(Billing):
    """A ClickHouse Cloud service (or a self-managed server: unknown), from the run's recorded
    cloud_tier, replicas, memory_gib_per_replica and idle_minutes."""

    def __init__(self, catalog: Catalog, engine: str, run: StoredRun) -> None:
        super().__init__(catalog, engine, run)
        cloud = self.section.get("cloud")
        missing = [k for k in CLOUD_KEYS if k not in cloud] if isinstance(cloud, dict) else []
        if not isinstance(cloud, dict) or missing:
            where = f"{engine}.cloud" + (f".{missing[0]}" if missing else "")
            raise ConfigError(
                f"{catalog.source}: {where}: missing, and a ClickHouse Cloud run is priced from "
                "it (see harness/engines/clickhouse/pricing.yaml)"
            )
        self.cloud: dict[str, Any] = cloud

    # -- the service's facts, as recorded with the run ------------------------------------------
    @property
    def tier(self) -> str | None:
        tier = self.settings.get("cloud_tier")
        return None if tier is None else str(tier).lower()

    @property
    def idle_minutes(self) -> float | None:
        value = self.settings.get("idle_minutes")
        return None if value is None else float(value)

    @property
    def never_idles(self) -> bool:
        """Automatic idling turned off (a run recorded before `idling` existed: allowed)."""
        return self.settings.get("idling") is False

    def compute_units(self) -> tuple[float | None, str]:
        """Replicas x memory per replica / 8 GiB, and how (or which setting is missing)."""
        replicas, memory = (
            self.settings.get("replicas"),
            self.settings.get("memory_gib_per_replica"),
        )
        if replicas is None or memory is None:
            return None, (
                "the service's size is not recorded: set replicas and memory_gib_per_replica "
                "in the clickhouse engine settings"
            )
        per_unit = float(self.cloud["gib_per_compute_unit"])
        found = int(replicas) * float(memory) / per_unit
        how = (
            f"{int(replicas)} replica(s) x {units.number(float(memory))} GiB / "
            f"{units.number(per_unit)} GiB per compute unit = {units.number(found)} units"
        )
        if float(memory) % per_unit:
            how += (
                f" (ClickHouse meters in {units.number(per_unit)} GiB increments; how a size that "
                "is not a multiple is billed is not documented: the exact ratio is used)"
            )
        return found, how

    def rate(self) -> tuple[Price | None, str | None]:
        """The tier's price per compute-unit-hour, or why there is none."""
        tier = self.tier
        if tier is None:
            return None, SELF_MANAGED
        prices = self.cloud["compute_unit_hour"]
        if tier not in prices:
            return None, (
                f"no price for ClickHouse Cloud tier {tier!r}: set "
                f"clickhouse.cloud.compute_unit_hour.{tier} in your price catalog"
            )
        price = self.price("cloud", "compute_unit_hour", tier)
        if tier in (self.cloud.get("rates_derived") or []):
            return price, (
                f"the {tier.title()} rate ${price.price}/unit-hour is derived from ClickHouse's "
                "worked examples (billing overview), which state no rate; set "
                f"clickhouse.cloud.compute_unit_hour.{tier} to your console's"
            )
        return price, None

    def _unit_seconds(self, billed_seconds: float) -> tuple[Cost, list[str]]:
        """`billed_seconds` of the whole service at its tier's rate."""
        price, note = self.rate()
        found, how = self.compute_units()
        if price is None:
            return Cost(None, "unknown", None, note), [note or ""]
        if found is None:
            return Cost(None, "unknown", price.as_of, how), [how]
        dollars = found * billed_seconds / 3600 * price.price
        explain = [f"{how} at ${price.price}/unit-hour ({self.tier}, AWS us-east-1)"]
        return Cost(dollars, "modelled", price.as_of), explain + ([note] if note else [])

    def bill_driver(self) -> Driver | None:
        """The idle timeout: the tail billed after every burst of queries."""
        if self.tier is None or self.idle_minutes is None or self.never_idles:
            return None  # never idling: no timeout drives the bill, every hour is billed
        return Driver(
            "idle_minutes",
            "idle timeout (min)",
            self.idle_minutes,
            IDLE_CHOICES,
            "adaptive idling can keep a service up longer",
        )

    # -- the rules --------------------------------------------------------------------------------
    def marginal(self, attempt: StoredAttempt) -> Cost:
        """The query's own seconds on a service that is up anyway: the engine's time, else the
        client's, at the whole service's per-second rate (no per-minute rounding)."""
        if not attempt.sent:
            return FREE
        held = held_seconds(attempt, attempt.engine_seconds, attempt.client_seconds)
        if held is None:
            return Cost(None, "unknown")
        return self._unit_seconds(held)[0]

    def run_bill(self, attempts: list[StoredAttempt]) -> Priced:
        """The service up from the query that wakes it to `idle_minutes` after the last query of
        each burst (bursts closer than the timeout are one stretch), each stretch rounded up to
        whole minutes (per-minute metering), at the service's units and the tier's rate."""
        if self.tier is None:
            return Priced(Cost(None, "unknown", None, SELF_MANAGED), [SELF_MANAGED])
        busy = spans(attempts)
        if not busy:
            return Priced(FREE, ["no query ran: the service was not woken for the run"])
        if self.never_idles:
            return self._held_without_idling(busy)
        idle = self.idle_minutes
        if idle is None:
            why = (
                "the service's idle timeout is not recorded: set idle_minutes in the clickhouse "
                "engine settings (the tail after the last query is billed), or idling: false "
                "for a service that never idles"
            )
            return Priced(Cost(None, "unknown", None, why), [why])
        tail = timedelta(minutes=idle)
        up = merge([(start, end + tail) for start, end in busy])
        step = float(self.cloud["metering_seconds"])
        billed = sum(math.ceil(seconds(s) / step - 1e-9) * step for s in up)
        cost, explain = self._unit_seconds(billed)
        return Priced(
            cost,
            [
                f"service up {units.seconds(sum(seconds(s) for s in up))} in {len(up)} "
                f"stretch(es) (idle timeout {units.number(idle)} min, idle tail included; the "
                f"first query taken to wake it), billed {units.number(billed / 60)} min "
                "(per-minute metering, each stretch rounded up: the docs do not say how a "
                "partial minute is billed)",
                *explain,
                "data transfer (egress) is billed too but not measured: left out",
            ],
        )

    def _held_without_idling(self, busy: list[Span]) -> Priced:
        """A service that never idles, charged from the run's first query to its last, gaps
        included (it did not pause in them), rounded up to whole minutes."""
        start, end = min(s for s, _ in busy), max(e for _, e in busy)
        step = float(self.cloud["metering_seconds"])
        billed = math.ceil(seconds((start, end)) / step - 1e-9) * step
        cost, explain = self._unit_seconds(billed)
        return Priced(
            cost,
            [
                f"idling turned off: the service never scales to zero and is billed every hour, "
                f"used or not; the run held it {units.seconds(seconds((start, end)))}, first "
                "query to last (gaps included, no idle tail), billed "
                f"{units.number(billed / 60)} min (per-minute metering, rounded up)",
                *explain,
                "data transfer (egress) is billed too but not measured: left out",
            ],
        )

    def load_bill(self, loads: list[StoredLoad]) -> Priced:
        """The loads' own seconds on the service (its idle tail is the run bill's)."""
        loaded = [load.seconds for load in loads if load.status == "loaded"]
        if not loaded:
            return Priced(FREE, [])
        if None in loaded:
            return Priced(Cost(None, "unknown"), ["a load's time is unknown"])
        cost, explain = self._unit_seconds(sum(loaded))
        return Priced(cost, [f"loading: {units.seconds(sum(loaded))} on the service", *explain])

    def storage_per_month(self, stored_bytes: float | None) -> Priced:
        """Compressed bytes per TB-month (TB = 10^12 bytes; the docs do not say), plus the
        default backup at the same rate."""
        if self.tier is None:
            return Priced(Cost(None, "unknown", None, SELF_MANAGED), [SELF_MANAGED])
        copies = 1 + int(self.cloud["backup_copies"])
        price = self.price("cloud", "storage_tb_month")
        total = None if stored_bytes is None else stored_bytes * copies
        what = f"compressed (the data and {copies - 1} backup(s), billed alike)"
        return self._stored(total, price, 1e12, "TB", what)

    def month(self, pattern: Pattern, per_query: Cost, seconds_per_query: float) -> Priced:
        """The run's service, up while the pattern's queries come closer together than its idle
        timeout and the timeout after each (per-minute rounding left out); when the pattern needs
        more than one service's capacity at the measured speed (`capacity_needed`), that many
        times its units, up all the active hours plus one idle tail a day: horizontal scaling
        is taken to add throughput in proportion, which was not measured."""
        if self.tier is None:
            return Priced(Cost(None, "unknown", None, SELF_MANAGED), [SELF_MANAGED])
        need = capacity_needed(pattern, seconds_per_query)
        if self.never_idles:
            cost, explain = self._unit_seconds(24 * 3600)
            return Priced(
                cost.times(max(1, need.units) * DAYS_PER_MONTH),
                [
                    need.says("services"),
                    f"{max(1, need.units)} x the run's compute units up 24 h a day, every day: "
                    "idling is turned off, so the service never scales to zero (scaling down "
                    "outside the active hours not modelled)",
                    *explain,
                ],
            )
        idle = self.idle_minutes
        if idle is None:
            why = "the idle timeout is not recorded: set idle_minutes, or idling: false"
            return Priced(Cost(None, "unknown", None, why), [why])
        if need.units <= 1:
            each = seconds_per_query + idle * 60
            daily = busy_seconds_per_day(pattern.queries_per_day, each, pattern.active_hours)
            cost, explain = self._unit_seconds(daily)
            return Priced(
                cost.times(DAYS_PER_MONTH),
                [
                    need.says("services") + ": one keeps up",
                    f"service up {daily / 3600:.2f} h a day (each query keeps it up {each:.0f} s: "
                    f"its time plus the {units.number(idle)} min idle timeout)",
                    *explain,
                ],
            )
        daily = pattern.active_hours * 3600 + idle * 60
        cost, explain = self._unit_seconds(daily)
        return Priced(
            cost.times(need.units * DAYS_PER_MONTH),
            [
                need.says("services"),
                f"{need.units} x the run's compute units, up all "
                f"{units.number(pattern.active_hours)} active hours and one {units.number(idle)} "
                "min idle tail a day (more replicas taken to run proportionally more queries: not "
                "measured)",
                *explain,
            ],
        )
