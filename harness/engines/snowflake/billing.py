"""How Snowflake bills a virtual warehouse, as its documentation states (read 2026-11-26):

- A running warehouse bills credits per second for every second it runs, from a resume to the
  next suspend, idle seconds included, with a minimum of 60 s each time it is started or
  resumed; a multi-cluster warehouse bills each running cluster.
  https://docs.snowflake.com/en/user-guide/cost-understanding-compute
- Credits per hour by size (Gen1 standard): XS 1, S 2, M 4, L 8, XL 16, 2XL 32, 3XL 64, 4XL 128,
  5XL 256, 6XL 512. https://docs.snowflake.com/en/user-guide/warehouses-overview
- Gen2 standard warehouses bill more per hour for the same size (the Snowflake Service
  Consumption Table: 1.35x on AWS); 5XL and 6XL have no Gen2.
  https://docs.snowflake.com/en/user-guide/warehouses-gen2 and
  https://www.snowflake.com/legal-files/CreditConsumptionTable.pdf
- A warehouse suspends AUTO_SUSPEND seconds after its last query (600 by default for a warehouse
  created with CREATE WAREHOUSE). https://docs.snowflake.com/en/sql-reference/sql/create-warehouse
- Multi-cluster, Standard scaling policy: a further cluster starts when queries queue, and shuts
  down after 2 to 3 consecutive successful load checks made at 1-minute intervals; Economy keeps
  queries queued rather than start a cluster unless it would be busy for 6 minutes.
  https://docs.snowflake.com/en/user-guide/warehouses-multicluster
- Cloud-services credits are billed only beyond 10% of the day's warehouse credits, per account
  per day, so a per-run figure for them is modelled, never measured.
  https://docs.snowflake.com/en/user-guide/cost-understanding-compute#cloud-services-credit-usage
- Measured: WAREHOUSE_METERING_HISTORY gives credits per warehouse per hour (compute and cloud
  services); an hour may hold other work on the same warehouse. Each row is one hour, START_TIME
  to END_TIME, "the date and end of the hour in which the warehouse usage took place"
  (https://docs.snowflake.com/en/sql-reference/account-usage/warehouse_metering_history, read
  2026-12-06), so the row of the hour still under way already has its END_TIME and only part of
  its credits. A run's bill ends when the warehouse suspends (its last query + AUTO_SUSPEND), so
  the figure is complete only once the hour holding that suspend has closed and the history has
  a row up to its end (`metering_complete`). The docs give the ACCOUNT_USAGE view's latency (up
  to 3 hours) but not the table function's; they do not say which time zone's hours meter a
  half-hour-offset account: UTC hours are assumed.
  https://docs.snowflake.com/en/sql-reference/functions/warehouse_metering_history
- Edition: the credit price depends on the account's edition. Multi-cluster warehouses need
  Enterprise Edition or higher (https://docs.snowflake.com/en/user-guide/warehouses-multicluster;
  the editions table of https://www.snowflake.com/en/pricing-options/ lists multi-cluster
  warehouses under Enterprise, not Standard; both read 2026-12-06), so with `edition: auto`
  (the bundled default) a warehouse whose max_cluster_count is above 1 is priced at Enterprise,
  and the bill says why.
- Storage: per TB-month of compressed data, at the on-demand price unless the catalog says the
  account has pre-purchased capacity (`storage_contract`): "Database tables, including historical
  data for Time Travel" and Fail-safe count
  (https://docs.snowflake.com/en/user-guide/admin-usage-billing, read 2026-12-06); the bytes the
  harness records are the tables' own (INFORMATION_SCHEMA.TABLES.BYTES), which for freshly
  loaded tables have no Time Travel or Fail-safe history yet. The docs do not say whether a TB
  is 10^12 or 2^40 bytes; 10^12 is used.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from harness import units
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
from harness.settings import Pattern

if TYPE_CHECKING:
    from harness.store.rows import StoredAttempt, StoredLoad

# SHOW WAREHOUSES says X-Small, Small, … X-Large, 2X-Large; CREATE WAREHOUSE says XSMALL …
# XXLARGE, X4LARGE; the catalog says XS, S, … 2XL.
_SIZES = {
    "XSMALL": "XS",
    "SMALL": "S",
    "MEDIUM": "M",
    "LARGE": "L",
    "XLARGE": "XL",
    "XXLARGE": "2XL",
    "2XLARGE": "2XL",
    "XXXLARGE": "3XL",
    "3XLARGE": "3XL",
    "X4LARGE": "4XL",
    "4XLARGE": "4XL",
    "X5LARGE": "5XL",
    "5XLARGE": "5XL",
    "X6LARGE": "6XL",
    "6XLARGE": "6XL",
}


def catalog_size(size: Any) -> str | None:
    """The catalog's name for a warehouse size as Snowflake or a user wrote it."""
    if not size:
        return None
    key = str(size).upper().replace("-", "").replace(" ", "")
    return _SIZES.get(key, key)


SUSPENDS = (60.0, 300.0, 600.0, 3600.0)  # common AUTO_SUSPEND choices, for bill_driver

# The most clusters a multi-cluster warehouse of each size may have, and the limit every
# warehouse has unless it is raised (https://docs.snowflake.com/en/user-guide/warehouses-multicluster,
# "Upper limit on number of clusters for a multi-cluster warehouse", read 2026-12-06).
MAX_CLUSTERS = {"XS": 300, "S": 300, "M": 300, "L": 160, "XL": 80, "2XL": 40, "3XL": 20}
MAX_CLUSTERS.update({"4XL": 10, "5XL": 10, "6XL": 10})
DEFAULT_MAX_CLUSTERS = 10


class SnowflakeBilling(Billing):
    # -- the warehouse's facts, as recorded with the run ----------------------------------------
    @property
    def generation(self) -> str:
        return str(self.settings.get("warehouse_generation") or "1")

    @property
    def auto_suspend(self) -> float:
        value = self.settings.get("auto_suspend_seconds")
        return float(self.section["default_auto_suspend_seconds"] if value is None else value)

    def bill_driver(self) -> Driver:
        """AUTO_SUSPEND: the idle tail billed after every burst of queries. Values in seconds
        (CREATE WAREHOUSE, https://docs.snowflake.com/en/sql-reference/sql/create-warehouse,
        read 2026-12-06: 600 when not given); 60 is a common cost-saving choice, 300 and 3600
        others seen. At 60 a run's bill can be a quarter of what it is at 600."""
        return Driver("auto_suspend_seconds", "AUTO_SUSPEND (s)", self.auto_suspend, SUSPENDS)

    @property
    def suspended_at(self) -> datetime | None:
        """When whbench suspended the warehouse after the run (suspend_after_run), if it did."""
        return _when((self.run.after_run or {}).get("suspended_at"))

    def _credits_per_hour(self) -> float | None:
        size = catalog_size(self.settings.get("warehouse_size"))
        if size is None:
            return None
        table = self.section["credits_per_hour"].get(f"gen{self.generation}")
        if table is None or size not in table:
            raise ConfigError(
                f"{self.catalog.source}: snowflake.credits_per_hour.gen{self.generation} has no "
                f"size {size}"
            )
        return float(table[size])

    @property
    def multi_cluster(self) -> bool:
        """A warehouse that may run more than one cluster (SHOW WAREHOUSES max_cluster_count)."""
        return int(self.settings.get("max_clusters") or 1) > 1

    def edition(self) -> tuple[str, str | None]:
        """The edition whose credit price applies, and a sentence when the warehouse's facts
        decided it or contradict the catalog. Multi-cluster warehouses need Enterprise or higher
        (https://docs.snowflake.com/en/user-guide/warehouses-multicluster, read 2026-12-06)."""
        edition = str(self.section.get("edition", "auto"))
        most = self.settings.get("max_clusters")
        if edition == "auto":
            if self.multi_cluster:
                return "enterprise", (
                    f"edition: Enterprise, because the warehouse is multi-cluster "
                    f"(max_cluster_count {most}) and multi-cluster warehouses need Enterprise "
                    "Edition or higher; set snowflake.edition in your price catalog if yours is "
                    "Business Critical"
                )
            return "standard", None
        if edition == "standard" and self.multi_cluster:
            return edition, (
                f"the catalog says Standard edition, but the warehouse is multi-cluster "
                f"(max_cluster_count {most}), which needs Enterprise or higher: check "
                "snowflake.edition"
            )
        return edition, None

    def _credit_price(self):
        return self.price("credit", self.edition()[0])

    def _edition_note(self) -> list[str]:
        note = self.edition()[1]
        return [note] if note else []

    def _credits(self, seconds_running: float, basis: str = "modelled") -> Cost:
        price = self._credit_price()
        rate = self._credits_per_hour()
        if rate is None:
            return Cost(None, "unknown", price.as_of, "warehouse size unknown")
        return Cost(rate * seconds_running / 3600 * price.price, basis, price.as_of)

    # -- the rules --------------------------------------------------------------------------------
    def marginal(self, attempt: StoredAttempt) -> Cost:
        """One cluster's credits for the time the query executed: on a warehouse that is up
        anyway, that is the share of its uptime the query takes."""
        if not attempt.sent:
            return FREE
        seconds_used = held_seconds(
            attempt, attempt.warehouse_seconds, attempt.engine_seconds, attempt.client_seconds
        )
        if seconds_used is None:
            return Cost(None, "unknown")
        return self._credits(seconds_used)

    def run_bill(self, attempts: list[StoredAttempt]) -> Priced:
        measured, pending = self._measured()
        if measured is not None:
            return Priced(measured.cost, measured.explain + self._edition_note())
        # A cold attempt (`cold: suspend`) began a new resume: the warehouse was suspended just
        # before it.
        restarts = [a.started_at for a in attempts if a.phase == "cold"]
        modelled = self.uptime(spans(attempts), restarts)
        services = self._cloud_services(attempts, modelled.cost)
        explain = modelled.explain + services.explain + self._edition_note()
        if pending:
            explain.append(f"measured figures pending: {pending}")
        return Priced(modelled.cost + services.cost, explain)

    def uptime(self, busy: list[Span], restarts: list[datetime] = ()) -> Priced:
        """The modelled bill of a warehouse that runs the queries in `busy`: a resume at the first
        query, another after every pause longer than AUTO_SUSPEND and at every one of
        `restarts` (the harness suspended and resumed it), a suspend AUTO_SUSPEND after the
        last query (or when the harness suspended it), at least 60 s per resume, and one more
        cluster for every further `max_concurrency_level` queries running at once."""
        if not busy:
            return Priced(FREE, ["no query ran: the warehouse was not resumed for the run"])
        minimum = float(self.section["minimum_seconds_per_resume"])
        suspended_at = self.suspended_at
        already_running = self.settings.get("state_at_start") == "STARTED"
        up = merge(
            [(start, end + timedelta(seconds=self.auto_suspend)) for start, end in busy],
        )
        last_busy = max(end for _, end in busy)
        if suspended_at is not None and suspended_at >= last_busy:
            up[-1] = (up[-1][0], min(up[-1][1], suspended_at))
        restarted = 0
        for moment in restarts:
            restarted += any(start < moment < end for start, end in up)
            up = [
                part
                for start, end in up
                for part in (
                    ((start, moment), (moment, end)) if start < moment < end else ((start, end),)
                )
            ]
        billed = 0.0
        for number, segment in enumerate(up):
            resumed = number > 0 or not already_running
            billed += max(seconds(segment), minimum) if resumed else seconds(segment)
        clusters = max(1, int(self.settings.get("min_clusters") or 1))
        extra = self._extra_clusters(busy, clusters, minimum)
        explain = [
            f"warehouse up {sum(seconds(s) for s in up):.0f} s in {len(up)} resume(s) "
            f"(AUTO_SUSPEND {units.seconds(self.auto_suspend)}"
            + (", suspended by whbench after the run" if suspended_at else ", idle tail included")
            + f"; at least {units.seconds(minimum)} per resume"
            + (f"; {restarted} suspended for cold attempts" if restarted else "")
            + f"), billed {billed:.0f} s"
            + (f" x {clusters} clusters" if clusters > 1 else ""),
        ]
        if already_running:
            explain.append(
                "the warehouse was already running when the run began: no resume minimum for "
                "its first stretch, and the uptime before the first query is not the run's"
            )
        elif self.settings.get("state_at_start") is None:
            explain.append(
                "whether the warehouse was running at the start is unknown: the model assumes "
                "the run's first query resumed it"
            )
        if extra:
            explain.append(f"extra clusters for concurrent queries: {extra:.0f} s")
        return Priced(self._credits(billed * clusters + extra), explain)

    def _extra_clusters(self, busy: list[Span], running: int, minimum: float) -> float:
        """Cluster-seconds beyond the always-running ones: cluster k runs while more than
        (k-1) x max_concurrency_level queries run at once, until `cluster_shutdown_seconds`
        of low load have passed (Standard policy, lower bound of its 2-3 one-minute checks)."""
        most = int(self.settings.get("max_clusters") or running)
        if most <= running:
            return 0.0
        per_cluster = int(self.section["max_concurrency_level"])
        linger = float(self.section["cluster_shutdown_seconds"])
        events = sorted([(s, 1) for s, _ in busy] + [(e, -1) for _, e in busy])
        billed, level = 0.0, 0
        crowded: dict[int, list[Span]] = {}
        opened: dict[int, datetime] = {}
        for moment, step in events:
            level += step
            needed = min(most, -(-level // per_cluster))
            for k in range(running + 1, most + 1):
                if k <= needed and k not in opened:
                    opened[k] = moment
                elif k > needed and k in opened:
                    crowded.setdefault(k, []).append((opened.pop(k), moment))
        for stretches in crowded.values():
            lingering = [(s, e + timedelta(seconds=linger)) for s, e in stretches]
            billed += sum(max(seconds(s), minimum) for s in merge(lingering))
        return billed

    def _cloud_services(self, attempts: list[StoredAttempt], warehouse: Cost) -> Priced:
        reported = [
            a.cloud_services_credits for a in attempts if a.cloud_services_credits is not None
        ]
        if not reported:
            return Priced(FREE, ["cloud-services credits not reported: not included"])
        price = self._credit_price()
        if warehouse.dollars is None:
            return Priced(Cost(None, "unknown", price.as_of), [])
        warehouse_credits = warehouse.dollars / price.price
        free_share = float(self.section["cloud_services_free_fraction"])
        billable = max(0.0, sum(reported) - free_share * warehouse_credits)
        return Priced(
            Cost(billable * price.price, "modelled", price.as_of),
            [
                f"cloud services: {units.number(sum(reported), 4)} credits, billed beyond "
                f"{free_share:.0%} of the warehouse credits (Snowflake applies this per account "
                "per day; the run's own credits stand in for the day's)"
            ],
        )

    def _measured(self) -> tuple[Priced | None, str | None]:
        """The metered bill when WAREHOUSE_METERING_HISTORY covered the run's whole billed
        window when it was fetched, else None and why it is still pending. A figure stored as
        complete is checked again against when it was fetched and the window it was fetched
        for (runs stored before this rule counted a still-open hour as complete)."""
        usage = self.run.run_usage or {}
        if usage.get("credits_compute") is None:
            return None, usage.get("pending")
        if not usage.get("complete"):
            return None, usage.get("pending") or "WAREHOUSE_METERING_HISTORY is not complete"
        window, fetched = usage.get("window"), _when(usage.get("fetched_at"), strict=False)
        if window and fetched is not None:
            # Stored before `metered_until` was: "complete" then meant a row ending at or after
            # the window's end, and any hour's end at or after it is at or after its hour's end.
            until = _when(usage.get("metered_until"), strict=False) or hour_end(_when(window[1]))
            complete, why = metering_complete(until, _when(window[1]), fetched)
            if not complete:
                return None, why
        price = self._credit_price()
        credits = float(usage["credits_compute"])
        return Priced(
            Cost(credits * price.price, "measured", price.as_of),
            [
                f"WAREHOUSE_METERING_HISTORY: {units.number(credits, 4)} compute credits in the "
                f"hours of the run (fetched {usage.get('fetched_at')}; other work on the "
                "warehouse in those hours counts too: a dedicated warehouse keeps this exact)"
            ],
        ), None

    def billed_window(self, attempts: list[StoredAttempt]) -> Span | None:
        found = spans(attempts)
        if not found:
            return None
        end = max(e for _, e in found) + timedelta(seconds=self.auto_suspend)
        return found[0][0], min(end, self.suspended_at) if self.suspended_at else end

    def load_bill(self, loads: list[StoredLoad]) -> Priced:
        loaded = [load.seconds for load in loads if load.status == "loaded"]
        if not loaded:
            return Priced(FREE, [])
        minimum = float(self.section["minimum_seconds_per_resume"])
        billed = max(sum(loaded), minimum)
        return Priced(
            self._credits(billed),
            [
                f"loading: {units.seconds(sum(loaded))} of COPY on the warehouse (at least "
                "one resume)"
            ],
        )

    def storage_per_month(self, stored_bytes: float | None) -> Priced:
        """Compressed bytes per TB-month at the on-demand or the capacity price
        (`storage_contract`; capacity is pre-purchased, on demand is what an account without a
        storage commitment pays)."""
        contract = str(self.section.get("storage_contract", "on_demand"))
        prices = self.section["storage_tb_month"]
        if "price" in prices:  # a catalog with one storage price (before storage_contract)
            return self._stored(stored_bytes, self.price("storage_tb_month"), 1e12, "TB", "")
        if contract not in prices:
            raise ConfigError(
                f"{self.catalog.source}: snowflake.storage_contract {contract!r} has no price in "
                f"snowflake.storage_tb_month (known: {', '.join(prices)})"
            )
        price = self.price("storage_tb_month", contract)
        what = f"(compressed, {contract.replace('_', '-')} storage)"
        return self._stored(stored_bytes, price, 1e12, "TB", what)

    def month(self, pattern: Pattern, per_query: Cost, seconds_per_query: float) -> Priced:
        """The clusters of the run's warehouse size the pattern keeps busy at the measured speed
        (`capacity_needed`), and how long they run.

        One cluster: the warehouse stays up while queries come closer together than
        AUTO_SUSPEND, and each one keeps it up AUTO_SUSPEND seconds after it ends (60 s at the
        least). More than one: a multi-cluster warehouse of that many clusters, the first up
        all the active hours and one AUTO_SUSPEND tail a day, each further one the active hours
        and `cluster_shutdown_seconds` after (its load checks). Multi-cluster warehouses need
        Enterprise Edition or higher, and a warehouse may have at most 300 (XS to M), 160 (L),
        80 (XL), 40 (2XL), 20 (3XL) or 10 (4XL to 6XL) clusters, 10 unless raised
        (https://docs.snowflake.com/en/user-guide/warehouses-multicluster, read 2026-12-06).
        A cluster runs up to 8 queries at once, sharing its resources: whether that is faster
        than one after another was not measured, so a cluster is taken to do the mix at the
        measured speed, one query at a time."""
        need = capacity_needed(pattern, seconds_per_query)
        running = max(1, int(self.settings.get("min_clusters") or 1))
        if need.units <= 1:
            each = max(
                seconds_per_query + self.auto_suspend, self.section["minimum_seconds_per_resume"]
            )
            daily = busy_seconds_per_day(pattern.queries_per_day, each, pattern.active_hours)
            cost = self._credits(daily * running).times(DAYS_PER_MONTH)
            return Priced(
                cost,
                [
                    need.says(f"{catalog_size(self.settings.get('warehouse_size'))} clusters")
                    + ": one cluster keeps up",
                    f"warehouse up {daily / 3600:.2f} h a day (each query keeps it up "
                    f"{each:.0f} s: its time plus AUTO_SUSPEND {units.seconds(self.auto_suspend)})"
                    + (f" x {running} clusters" if running > 1 else ""),
                    "cloud-services credits beyond 10% a day are not projected",
                    *self._edition_note(),
                ],
            )
        clusters = max(need.units, running)
        # As the warehouse the pattern needs: `clusters` at most, so the edition rule applies.
        most = max(clusters, int(self.settings.get("max_clusters") or 1))
        settings = {**self.settings, "max_clusters": most}
        sized = type(self)(self.catalog, self.engine, replace(self.run, engine_settings=settings))
        first = pattern.active_hours * 3600 + self.auto_suspend
        further = pattern.active_hours * 3600 + float(self.section["cluster_shutdown_seconds"])
        daily = first + (clusters - 1) * further
        cost = sized._credits(daily).times(DAYS_PER_MONTH)
        size = catalog_size(self.settings.get("warehouse_size")) or "unknown size"
        explain = [
            need.says(f"{size} clusters"),
            f"a multi-cluster warehouse of {clusters} x {size} clusters, up all "
            f"{units.number(pattern.active_hours)} active hours a day (the first with its "
            f"AUTO_SUSPEND {units.seconds(self.auto_suspend)} tail, the others shutting down "
            "after the load checks): "
            f"{daily / 3600:,.1f} cluster-hours a day (the queries alone use "
            f"{need.compute_hours:,.1f}: a running cluster bills idle or busy)",
            "a cluster is taken to run the mix at the measured speed, one query at a time (it "
            "can run 8 at once, sharing its resources: not measured)",
            "cloud-services credits beyond 10% a day are not projected",
            *sized._edition_note(),
        ]
        current = int(self.settings.get("max_clusters") or 1)
        if current < clusters:
            explain.append(
                f"the run's warehouse has max_cluster_count {current}: at {clusters} or more "
                "the pattern runs at the measured speed, below it queries queue"
            )
        limit = MAX_CLUSTERS.get(size)
        if limit is not None and clusters > limit:
            explain.append(
                f"a {size} warehouse can have at most {limit} clusters (Snowflake, "
                "warehouses-multicluster, read 2026-12-06): this needs a larger size or more "
                "than one warehouse"
            )
        elif clusters > DEFAULT_MAX_CLUSTERS:
            explain.append(
                f"more than {DEFAULT_MAX_CLUSTERS} clusters: a warehouse is limited to "
                f"{DEFAULT_MAX_CLUSTERS} unless the limit is raised (up to {limit} for {size})"
            )
        return Priced(cost, explain)

    def minimum_charge(self) -> Cost | None:
        cost = self._credits(float(self.section["minimum_seconds_per_resume"]))
        return None if cost.dollars is None else cost


def hour_end(moment: datetime) -> datetime:
    """The end of the (UTC) hour that holds `moment`: when WAREHOUSE_METERING_HISTORY's row for
    it stops growing. A moment exactly on the hour belongs to the hour before it."""
    moment = _utc(moment)
    start = moment.replace(minute=0, second=0, microsecond=0)
    return start if start == moment else start + timedelta(hours=1)


def metering_complete(
    latest_end: datetime | None, billed_end: datetime, now: datetime
) -> tuple[bool, str | None]:
    """Whether WAREHOUSE_METERING_HISTORY, fetched at `now` with rows up to `latest_end`, holds
    the whole bill of a warehouse that stops billing at `billed_end` (its last query plus the
    AUTO_SUSPEND tail, or when whbench suspended it), and if not, why. Complete only when the
    hour holding `billed_end` has closed and the history has a row up to that hour's end:
    before that, the tail has not happened yet, or its hour's credits are still being added."""
    closes = hour_end(billed_end)
    if _utc(now) < closes:
        return False, (
            f"the warehouse bills until {_utc(billed_end):%Y-%m-%d %H:%M:%S} UTC (the last "
            f"query plus its AUTO_SUSPEND tail); that hour's WAREHOUSE_METERING_HISTORY row is "
            f"partial until it closes at {closes:%H:%M} UTC: run `whbench cost --refresh` then"
        )
    if latest_end is None or _utc(latest_end) < closes:
        return False, (
            f"WAREHOUSE_METERING_HISTORY has no row up to {closes:%Y-%m-%d %H:%M} UTC yet (the end "
            "of the hour the warehouse suspended in); it lags"
        )
    return True, None


def _utc(moment: datetime) -> datetime:
    """Naive times are the harness's own, which are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _when(value: Any, strict: bool = True) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        if strict:
            raise
        return None
