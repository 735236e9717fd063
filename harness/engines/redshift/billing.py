"""How Amazon Redshift bills, as AWS's pages state (read 2026-11-26):

- Serverless: RPU-hours, billed per second for the time the workgroup processes work, with a
  60-second minimum charge; base capacity 8 to 512 RPU (128 by default).
  https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-billing.html and
  https://aws.amazon.com/redshift/pricing/ . The pages do not say how long an idle gap must be
  before a new minimum applies; the model applies it once to the run's query window.
- Measured: SYS_SERVERLESS_USAGE.charged_seconds, RPU-seconds at 1-minute granularity, "used to
  calculate the cost", for the whole workgroup, computed after each transaction ends (so it lags).
  https://docs.aws.amazon.com/redshift/latest/dg/SYS_SERVERLESS_USAGE.html
- Provisioned: each node-hour the cluster exists, busy or not (on demand, per second). A run is
  charged the wall time of its query window; a month is 730 hours.
  https://aws.amazon.com/redshift/pricing/
- Concurrency scaling (provisioned): a scaling cluster is billed per second at the on-demand
  rate, beyond a free credit of one hour accrued per 24 hours the main cluster runs; Serverless
  has it within its RPU billing. https://aws.amazon.com/redshift/pricing/ (as gathered for the
  design notes, 2026-11-25; not re-read here). The page is taken to mean the main cluster's own
  rate (a scaling cluster is its copy); how much free credit an account has left cannot be read
  from SQL, so none is subtracted and the figure is an upper bound.
- Managed storage (RA3 and Serverless): per GB-month. https://aws.amazon.com/redshift/pricing/
  (AWS does not say here whether its GB is 10^9 or 2^30 bytes; its billing uses 2^30 elsewhere,
  which is used.)
"""

from __future__ import annotations

from harness.config import Pattern
from harness.errors import ConfigError
from harness.pricing import (
    DAYS_PER_MONTH,
    FREE,
    GIB,
    HOURS_PER_MONTH,
    Billing,
    Cost,
    Priced,
    busy_seconds_per_day,
    held_seconds,
    seconds,
)


class RedshiftBilling(Billing):
    @property
    def provisioned(self) -> bool:
        return bool(self.settings.get("node_type"))

    def _nodes(self) -> int:
        nodes = self.settings.get("nodes")
        if not nodes:
            raise ConfigError(
                f"run {self.run.get('run_id')}: a provisioned Redshift cluster needs its node "
                "count for cost; set engines.redshift.nodes"
            )
        return int(nodes)

    def _base_rpu(self) -> int:
        return int(self.settings.get("base_rpu") or self.section["default_base_rpu"])

    def _compute(self, busy_seconds: float) -> Cost:
        """What `busy_seconds` of the cluster or workgroup cost."""
        if self.provisioned:
            price = self.price("node_hour", str(self.settings["node_type"]))
            return Cost(busy_seconds / 3600 * self._nodes() * price.price, "modelled", price.as_of)
        price = self.price("serverless_rpu_hour")
        return Cost(busy_seconds * self._base_rpu() / 3600 * price.price, "modelled", price.as_of)

    def marginal(self, attempt: dict) -> Cost:
        if attempt["status"] == "skipped":
            return FREE
        held = held_seconds(attempt, "engine_seconds", "client_seconds")
        return Cost(None, "unknown") if held is None else self._compute(held)

    def run_bill(self, attempts: list[dict]) -> Priced:
        window = self.billed_window(attempts)
        if window is None:
            return Priced(FREE, ["no query ran"])
        wall = seconds(window)
        if self.provisioned:
            return Priced(
                self._compute(wall),
                [
                    f"provisioned: {self._nodes()} x {self.settings['node_type']} for the query "
                    f"window, {wall:.4g} s (a cluster bills every hour it exists, busy or not)"
                ],
            )
        usage = self.run.get("run_usage") or {}
        price = self.price("serverless_rpu_hour")
        if usage.get("rpu_seconds") is not None and usage.get("complete"):
            return Priced(
                Cost(usage["rpu_seconds"] / 3600 * price.price, "measured", price.as_of),
                [
                    f"SYS_SERVERLESS_USAGE: {usage['rpu_seconds']:.0f} RPU-seconds charged in the "
                    f"query window (fetched {usage.get('fetched_at')}; the whole workgroup's work "
                    "in that window counts)"
                ],
            )
        minimum = float(self.section["minimum_seconds"])
        billed = max(wall, minimum)
        explain = [
            f"Serverless: {self._base_rpu()} RPU for the query window, {wall:.3g} s "
            f"(at least {minimum:g} s)"
        ]
        if usage.get("pending"):
            explain.append(f"measured figures pending: {usage['pending']}")
        return Priced(self._compute(billed), explain)

    def scale_out_bill(self, scale_out: dict | None) -> Priced | None:
        used = (scale_out or {}).get("concurrency_scaling_seconds")
        if used is None or not self.provisioned:
            return None
        return Priced(
            self._compute(used),
            [
                f"concurrency scaling: {used:.4g} s at the main cluster's on-demand rate "
                "(SVCS_CONCURRENCY_SCALING_USAGE; the free daily credit, which whbench cannot "
                "see, not subtracted: at most this)"
            ],
        )

    def load_bill(self, loads: list[dict]) -> Priced:
        loaded = [row["seconds"] for row in loads if row.get("status") == "loaded"]
        if not loaded:
            return Priced(FREE, [])
        busy = sum(loaded)
        if not self.provisioned:
            busy = max(busy, float(self.section["minimum_seconds"]))
        return Priced(self._compute(busy), [f"loading: {sum(loaded):.3g} s of COPY"])

    def storage_per_month(self, stored_bytes: float | None) -> Priced:
        price = self.price("managed_storage_gb_month")
        return self._stored(stored_bytes, price, GIB, "GB", "of managed storage")

    def month(self, pattern: Pattern, per_query: Cost, seconds_per_query: float) -> Priced:
        if self.provisioned:
            return Priced(
                self._compute(HOURS_PER_MONTH * 3600),
                [f"provisioned: {self._nodes()} nodes for all {HOURS_PER_MONTH} hours"],
            )
        daily = busy_seconds_per_day(
            pattern.queries_per_day, seconds_per_query, pattern.active_hours
        )
        daily = max(daily, float(self.section["minimum_seconds"]))
        return Priced(
            self._compute(daily).times(DAYS_PER_MONTH),
            [f"Serverless: {self._base_rpu()} RPU busy {daily / 3600:.2f} h a day"],
        )

    def minimum_charge(self) -> Cost | None:
        if self.provisioned:
            return None
        return self._compute(float(self.section["minimum_seconds"]))
