"""How a Databricks SQL warehouse bills, as Databricks's pages state it (read 2026-12-06).

A SQL warehouse is billed in DBUs (Databricks Units) for the time it runs, at its size's DBUs per
hour, times a price per DBU that depends on the warehouse type (serverless, pro, classic), the
cloud and the contract. The warehouse cannot say its own price, so the run's engine settings
carry it (`cloud`, `warehouse_type`, `warehouse_size`, `max_clusters`, `auto_stop_minutes`,
`dbu_price`, `vm_dollars_per_hour`); the catalog (pricing.yaml) carries the list prices.

- DBUs per hour by size: "Serverless DBU consumption by SKU", SQL serverless SKU table
  (https://docs.databricks.com/resources/pricing.html, read in its Portuguese edition
  https://docs.databricks.com/pt/resources/pricing.html): 2X-Small 4 … X-Large 80 DBU/hour.
  Not found for pro and classic warehouses: the serverless table is assumed for them and the bill
  says so (pricing.yaml `dbu_rates_assumed`).
- Per second: "A DBU is a unit of processing power per hour, billed on a per second basis"
  (Databricks's own post, https://community.databricks.com/t5/machine-learning/pricing-on-databricks/td-p/33800).
  No minimum per start is documented in the pages read: none is applied.
- Auto stop: a warehouse stops after `auto_stop_mins`, "the amount of time in minutes that a SQL
  warehouse must be idle (i.e., no RUNNING queries) before it is automatically stopped"; "Must be
  == 0 or >= 10 mins", "0 indicates no autostop" (the SQL warehouses API's create request, as the
  Databricks SDK reference states it:
  https://databricks.github.io/sdk-js/api/interfaces/_databricks_sdk-warehouses.v1.CreateWarehouseRequest.html).
  A running warehouse consumes its DBUs per hour whether or not a query runs, so the idle minutes
  before it stops are billed: the pages read say the rate and the stop, not this in so many
  words; the measured bill settles it. Whether the run's first query started the warehouse is not
  recorded: it is taken to have, and the uptime before the first query is not the run's.
- Scaling: a warehouse runs 1 to `max_clusters` clusters of its size, each billed; pro and
  classic add clusters by the time it would take "to process all currently running queries, all
  queued queries, and the incoming queries expected in the next two minutes" ("If less than 2
  minutes, don't upscale"), serverless by Intelligent Workload Management
  (https://docs.databricks.com/aws/en/compute/sql-warehouse/warehouse-behavior). How many ran is
  not recorded: the modelled bill counts one cluster, a lower bound when queries overlapped, and
  says so; the measured bill counts every cluster.
- What the DBU price covers: serverless "one low rate that includes both the Databricks and cloud
  provider costs"; classic (and pro) compute have a DBU cost "as well as associated AWS EC2 /
  Azure VM / GCP GKE, storage, and egress costs that are charged by your cloud provider" (the
  community post above). So pro and classic add the VMs (`vm_dollars_per_hour`, one cluster of
  the size; unknown when not given), and storage is the cloud's (unknown unless the catalog has
  a price).
- Measured: system.billing.usage, `usage_quantity` in `usage_unit` DBU per SKU, per hour
  (`usage_start_time`, `usage_end_time`); "Records are typically available within 12 hours"
  (https://docs.databricks.com/en/admin/system-tables/billing). The engine reads the warehouse's
  DBUs for the billed window (`billed_usage`) and, where readable, prices them with
  system.billing.list_prices. A complete measured bill wins over the model. It holds Databricks's
  DBUs only: a pro or classic warehouse's VMs stay modelled beside it.
"""

from __future__ import annotations

from datetime import timedelta
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

if TYPE_CHECKING:
    from harness.pricing import Price
    from harness.settings import Pattern
    from harness.store.rows import StoredAttempt, StoredLoad

# The warehouse sizes the SQL warehouses API accepts (cluster_size; the SDK reference above also
# lists 5X-Large), in order. The system tables write them 2X_SMALL … (system.compute.warehouses).
SIZES = (
    "2X-Small",
    "X-Small",
    "Small",
    "Medium",
    "Large",
    "X-Large",
    "2X-Large",
    "3X-Large",
    "4X-Large",
    "5X-Large",
)
TYPES = ("serverless", "pro", "classic")
CLOUDS = ("aws", "azure", "gcp")
# Pro and classic run on VMs in the customer's cloud account, billed apart from the DBUs.
VM_TYPES = ("pro", "classic")
DEFAULT_AUTO_STOP_MINUTES = 10.0  # the engine settings' default (DatabricksSettings)
# Auto-stop values to compare a run's bill at (bill_driver): 10 is the API's least non-zero
# value, 120 the API's default when none is given; 30 and 60 between.
AUTO_STOPS = (10.0, 30.0, 60.0, 120.0)
# The most clusters a warehouse may have: 40 (the SQL warehouses API, as the Databricks
# Terraform provider took it up in February 2026:
# https://github.com/databricks/terraform-provider-databricks/pull/5351).
MAX_CLUSTERS_LIMIT = 40


def catalog_size(size: Any) -> str | None:
    """The API's name for a warehouse size as a user, the API or a system table wrote it; None
    when none was given. An unknown size is a one-line config error naming the sizes."""
    if size is None or str(size).strip() == "":
        return None
    key = str(size).strip().upper().replace("_", "-").replace(" ", "-")
    for name in SIZES:
        if name.upper() == key:
            return name
    raise ConfigError(
        f"databricks warehouse_size {size!r} is not a SQL warehouse size; "
        f"use one of {', '.join(SIZES)}"
    )


class DatabricksBilling(Billing):
    # -- the warehouse's facts, as recorded with the run ------------------------------------------
    @property
    def cloud(self) -> str:
        return _choice(self.settings.get("cloud"), "aws", CLOUDS, "cloud")

    @property
    def warehouse_type(self) -> str:
        return _choice(self.settings.get("warehouse_type"), "serverless", TYPES, "warehouse_type")

    @property
    def size(self) -> str | None:
        return catalog_size(self.settings.get("warehouse_size"))

    @property
    def auto_stop_minutes(self) -> float:
        value = self.settings.get("auto_stop_minutes")
        return DEFAULT_AUTO_STOP_MINUTES if value is None else float(value)

    @property
    def max_clusters(self) -> int:
        return max(1, int(self.settings.get("max_clusters") or 1))

    def bill_driver(self) -> Driver | None:
        """Auto stop: the idle tail billed after every burst of queries."""
        if self.auto_stop_minutes <= 0:
            return None
        return Driver(
            "auto_stop_minutes",
            "auto stop (min)",
            self.auto_stop_minutes,
            AUTO_STOPS,
            "the API accepts 0 (never) or 10 minutes and more",
        )

    # -- rates ------------------------------------------------------------------------------
    def dbus_per_hour(self) -> tuple[float | None, str]:
        """One cluster's DBUs per hour and a sentence saying where it came from, or why unknown."""
        kind, size = self.warehouse_type, self.size
        if size is None:
            return None, "the warehouse size is not recorded: set warehouse_size"
        table = (self.section.get("dbu_per_hour") or {}).get(kind) or {}
        if size not in table:
            return None, (
                f"no DBU/hour for a {size} {kind} warehouse in {self.catalog.source} (the "
                f"Databricks page read on 2026-12-06 gave them up to X-Large): add "
                f"databricks.dbu_per_hour.{kind}.{size} to your price catalog"
            )
        rate = float(table[size])
        how = f"{size} {kind}: {units.number(rate)} DBU/h"
        if kind in (self.section.get("dbu_rates_assumed") or []):
            how += (
                f" (the serverless SQL table, assumed for {kind}: Databricks's pages read on "
                "2026-12-06 give no DBU/h by size for it)"
            )
        return rate, how

    def dbu_price(self) -> tuple[float | None, str | None, str]:
        """$ per DBU, its as-of date, and where it came from (or why unknown): the run's
        `dbu_price` setting (a contract's) wins over the catalog's list price."""
        own = self.settings.get("dbu_price")
        if own is not None:
            return float(own), None, f"{units.dollars(float(own))}/DBU (your dbu_price setting)"
        cloud, kind = self.cloud, self.warehouse_type
        listed = (self.section.get("dbu_price") or {}).get(cloud) or {}
        if kind not in listed:
            why = (
                f"no list price per DBU for {kind} warehouses on {cloud} in "
                f"{self.catalog.source}: set dbu_price in the databricks engine settings"
            )
            return None, None, why
        price: Price = self.price("dbu_price", cloud, kind)
        return price.price, price.as_of, f"{units.dollars(price.price)}/DBU ({price.unit})"

    def vm_rate(self) -> tuple[float | None, str | None]:
        """The cloud VMs' $/h of one cluster (pro and classic), 0 for serverless, and a note."""
        if self.warehouse_type not in VM_TYPES:
            return 0.0, None
        value = self.settings.get("vm_dollars_per_hour")
        if value is None:
            return None, (
                f"the cloud VMs of a {self.warehouse_type} warehouse are billed by the cloud "
                "apart from the DBUs and are unknown: set vm_dollars_per_hour (one cluster of "
                "this size) in the databricks engine settings"
            )
        how = f"cloud VMs {units.dollars(float(value))}/h per cluster (vm_dollars_per_hour)"
        return float(value), how

    def cluster_seconds(self, billed: float) -> tuple[Cost, list[str]]:
        """`billed` seconds of one running cluster: its DBUs at the $/DBU, plus its VMs."""
        rate, how = self.dbus_per_hour()
        price, as_of, price_how = self.dbu_price()
        vms, vm_how = self.vm_rate()
        if rate is None or price is None:
            why = how if rate is None else price_how
            return Cost(None, "unknown", as_of, why), [why]
        dbus = rate * billed / 3600
        explain = [f"{how} x {units.seconds(billed)} = {units.figure(dbus)} DBU at {price_how}"]
        if vms is None:
            note = f"{vm_how}; the DBU part alone is {units.dollars(dbus * price)}"
            return Cost(None, "unknown", as_of, note), [*explain, note]
        if vm_how:
            explain.append(f"{vm_how}: {units.dollars(vms * billed / 3600)}")
        return Cost(dbus * price + vms * billed / 3600, "modelled", as_of), explain

    # -- the rules --------------------------------------------------------------------------
    def marginal(self, attempt: StoredAttempt) -> Cost:
        """One cluster for the time the query ran (the engine's figure, else the client's): on a
        warehouse that is up anyway, that is the share of its uptime the query takes."""
        if not attempt.sent:
            return FREE
        held = held_seconds(attempt, attempt.engine_seconds, attempt.client_seconds)
        if held is None:
            return Cost(None, "unknown")
        return self.cluster_seconds(held)[0]

    def run_bill(self, attempts: list[StoredAttempt]) -> Priced:
        measured, pending = self._measured(attempts)
        if measured is not None:
            return measured
        modelled = self.uptime(spans(attempts))
        if pending:
            return Priced(
                modelled.cost, [*modelled.explain, f"measured figures pending: {pending}"]
            )
        return modelled

    def uptime(self, busy: list[Span]) -> Priced:
        """The modelled bill: the warehouse up from the first query to `auto_stop_minutes` after
        the last of each burst (a pause longer than that stops it; the next query starts it),
        per second, one cluster."""
        if not busy:
            return Priced(FREE, ["no query ran: the warehouse was not started for the run"])
        stop = self.auto_stop_minutes
        if stop <= 0:
            queries = sum(seconds(s) for s in merge(busy))
            why = (
                "auto stop is off (auto_stop_minutes 0): the warehouse runs until someone stops "
                f"it, so the run's bill has no end; its queries alone held it "
                f"{units.seconds(queries)}"
            )
            return Priced(Cost(None, "unknown", None, why), [why])
        up = merge([(start, end + timedelta(minutes=stop)) for start, end in busy])
        billed = sum(seconds(s) for s in up)
        cost, explain = self.cluster_seconds(billed)
        return Priced(
            cost,
            [
                f"warehouse up {units.seconds(billed)} in {len(up)} start(s) (auto stop "
                f"{units.number(stop)} min, idle tail included; the first query taken to start "
                "it), billed per second, no minimum documented",
                *explain,
                *self._clusters_note(busy, cost),
            ],
        )

    def _clusters_note(self, busy: list[Span], cost: Cost) -> list[str]:
        """What one cluster leaves out: further clusters the autoscaler may have started, and
        the bill if all `max_clusters` ran the whole time (the most it can be)."""
        if self.max_clusters <= 1:
            return []
        ordered = sorted(busy)
        overlapped = any(
            start < max(end for _, end in ordered[:i]) for i, (start, _) in enumerate(ordered) if i
        )
        if not overlapped:
            return [
                f"max_clusters {self.max_clusters}: queries ran one at a time; the model counts "
                "one cluster (a long-running query can still make pro and classic upscale: not "
                "modelled)"
            ]
        most = cost.times(self.max_clusters).dollars
        return [
            f"max_clusters {self.max_clusters}: queries ran at once, so the autoscaler may have "
            "started more clusters, each billed; how many is not recorded, so this counts one "
            f"(a lower bound; all {self.max_clusters} up the whole time: {units.dollars(most)})"
        ]

    def _measured(self, attempts: list[StoredAttempt]) -> tuple[Priced | None, str | None]:
        """The bill from system.billing.usage when the engine fetched it and it was complete;
        else None and why it is pending. A pro or classic warehouse's VMs are not in it: they
        are added, modelled, from the run's uptime."""
        usage = self.run.run_usage or {}
        if usage.get("dbus") is None:
            return None, usage.get("pending")
        if not usage.get("complete"):
            return None, usage.get("pending") or "system.billing.usage is not complete yet"
        dbus = float(usage["dbus"])
        own, listed = self.settings.get("dbu_price"), usage.get("list_dollars")
        fetched = f"fetched {usage.get('fetched_at') or 'at the end of the run'}"
        if own is not None:
            dollars, how = dbus * float(own), f"at your dbu_price {units.dollars(float(own))}/DBU"
            as_of = None
        elif listed is not None:
            dollars, how = float(listed), "at system.billing.list_prices"
            as_of = None
        else:
            price, as_of, price_how = self.dbu_price()
            if price is None:
                return Priced(
                    Cost(None, "unknown", None, price_how),
                    [f"system.billing.usage: {units.figure(dbus)} DBU; {price_how}"],
                ), None
            dollars, how = dbus * price, f"at {price_how}"
        skus = ", ".join(usage.get("skus") or []) or "the warehouse's SKUs"
        explain = [
            f"system.billing.usage: {units.figure(dbus)} DBU ({skus}) in the run's billed window "
            f"{how} ({fetched}; other work on the warehouse in those hours counts too: a "
            "dedicated warehouse keeps this exact)"
        ]
        cost = Cost(dollars, "measured", as_of)
        if self.warehouse_type in VM_TYPES:
            vms, vm_how = self.vm_rate()
            up = merge(
                [(s, e + timedelta(minutes=self.auto_stop_minutes)) for s, e in spans(attempts)]
            )
            billed = sum(seconds(s) for s in up)
            if vms is not None and self.auto_stop_minutes <= 0:
                vms, vm_how = None, "auto stop is off: the VMs run until someone stops them"
            if vms is None:
                return Priced(Cost(None, "unknown", as_of, vm_how), [*explain, vm_how or ""]), None
            cost = cost + Cost(vms * billed / 3600, "modelled", as_of)
            explain.append(
                f"plus the cloud VMs, not in system.billing.usage, modelled: "
                f"{units.seconds(billed)} up at {units.dollars(vms)}/h = "
                f"{units.dollars(vms * billed / 3600)}"
            )
        return Priced(cost, explain), None

    def billed_window(self, attempts: list[StoredAttempt]) -> Span | None:
        """From the first query to the last one's end plus the auto-stop tail: the DBUs of that
        window are the run's (whbench cost --refresh)."""
        found = spans(attempts)
        if not found:
            return None
        tail = timedelta(minutes=max(self.auto_stop_minutes, 0.0))
        return found[0][0], max(end for _, end in found) + tail

    def load_bill(self, loads: list[StoredLoad]) -> Priced:
        """The loads' own seconds on the warehouse (COPY INTO runs on it; its idle tail is the
        run bill's)."""
        loaded = [load.seconds for load in loads if load.status == "loaded"]
        if not loaded:
            return Priced(FREE, [])
        if None in loaded:
            return Priced(Cost(None, "unknown"), ["a load's time is unknown"])
        cost, explain = self.cluster_seconds(sum(loaded))
        return Priced(cost, [f"loading: {units.seconds(sum(loaded))} of COPY INTO", *explain])

    def storage_per_month(self, stored_bytes: float | None) -> Priced:
        """Managed tables live in object storage billed by the cloud provider, not by the
        warehouse (the community post above): priced only with a catalog price for the cloud."""
        prices = self.section.get("storage_gb_month") or {}
        if self.cloud not in prices:
            why = (
                f"storage: whbench's tables are managed tables in object storage, billed by "
                f"{self.cloud.upper()}, not by the warehouse; no price in {self.catalog.source}: "
                f"add databricks.storage_gb_month.{self.cloud} to your price catalog"
            )
            return Priced(Cost(None, "unknown", None, why), [why])
        price = self.price("storage_gb_month", self.cloud)
        return self._stored(stored_bytes, price, 1e9, "GB", f"in {self.cloud.upper()} storage")

    def month(self, pattern: Pattern, per_query: Cost, seconds_per_query: float) -> Priced:
        """The clusters of the run's size the pattern keeps busy at the measured speed
        (`capacity_needed`), and how long they run. One: the warehouse stays up while queries
        come closer together than auto stop, and each keeps it up auto stop after it ends.
        More: that many clusters (the autoscaler's), the first up all the active hours and one
        auto-stop tail a day, each further one the active hours (the pages read do not say how
        soon an idle cluster is removed: no tail is counted for it, a lower bound)."""
        stop = self.auto_stop_minutes
        if stop <= 0:
            why = "auto stop is off: the warehouse runs all month, 730 hours"
            cost, explain = self.cluster_seconds(DAYS_PER_MONTH * 24 * 3600)
            return Priced(cost, [why, *explain])
        need = capacity_needed(pattern, seconds_per_query)
        size = self.size or "unknown size"
        if need.units <= 1:
            each = seconds_per_query + stop * 60
            daily = busy_seconds_per_day(pattern.queries_per_day, each, pattern.active_hours)
            cost, explain = self.cluster_seconds(daily)
            return Priced(
                cost.times(DAYS_PER_MONTH),
                [
                    need.says(f"{size} clusters") + ": one keeps up",
                    f"warehouse up {daily / 3600:.2f} h a day (each query keeps it up "
                    f"{each:.0f} s: its time plus auto stop {units.number(stop)} min), x "
                    f"{DAYS_PER_MONTH:.1f} days",
                    *explain,
                ],
            )
        clusters = need.units
        daily = pattern.active_hours * 3600 * clusters + stop * 60
        cost, explain = self.cluster_seconds(daily)
        notes = [
            need.says(f"{size} clusters"),
            f"{clusters} x {size} clusters up all {units.number(pattern.active_hours)} active "
            f"hours, one auto-stop tail of {units.number(stop)} min a day: {daily / 3600:,.1f} "
            "cluster-hours a day (a cluster is taken to run the mix at the measured speed, one "
            "query at a time)",
            *explain,
        ]
        if clusters > self.max_clusters:
            notes.append(
                f"the run's warehouse has max_clusters {self.max_clusters}: below {clusters} "
                "queries queue"
            )
        if clusters > MAX_CLUSTERS_LIMIT:
            notes.append(
                f"a warehouse has at most {MAX_CLUSTERS_LIMIT} clusters: this needs a larger "
                "size or more warehouses"
            )
        return Priced(cost.times(DAYS_PER_MONTH), notes)

    def minimum_charge(self) -> Cost | None:
        """A run that starts the warehouse pays at least its auto-stop tail (no minimum per
        start is documented)."""
        if self.auto_stop_minutes <= 0:
            return None
        cost = self.cluster_seconds(self.auto_stop_minutes * 60)[0]
        return None if cost.dollars is None else cost


def _choice(value: Any, default: str, choices: tuple[str, ...], key: str) -> str:
    """A setting that is one of `choices` (any case); a one-line config error otherwise."""
    if value is None or str(value).strip() == "":
        return default
    found = str(value).strip().lower()
    if found not in choices:
        raise ConfigError(
            f"databricks {key} {value!r} is not known; use one of {', '.join(choices)}"
        )
    return found
