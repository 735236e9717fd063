"""How Amazon Redshift bills, as AWS's pages state.

- Serverless: RPU-hours, billed per second while queries run, with a 60-second minimum; base
  capacity 8 to 512 RPU (128 by default); nothing while the workgroup is idle.
  https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-billing.html ("Minimum charge -
  The minimum charge is for 60 seconds, metered on a per-second basis"; "When no queries are
  running, you aren't billed for compute capacity"; read 2026-12-06 through the stored copy of
  awsdocs/amazon-redshift-management-guide doc_source/serverless-billing.md) and
  https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-express-capacity-billing.html
  ("billed for each second, with a 60-second minimum ... You pay only while your queries run
  and nothing while the endpoint is idle", read 2026-12-06).
  **What the minimum applies to is not stated** on either page: not per query, not per
  transaction, not per idle-to-active transition of the workgroup. Two third-party sources say
  per query (github.com/dbt-labs/dbt-redshift/issues/855, a user; awsnegotiations.com
  /redshift-serverless-pricing.html, "60-second minimum after each query starts"), neither is
  AWS. So both readings are modelled and both figures are shown:
    lower bound, one minimum per active period: queries with pauses shorter than the minimum
      between them are one period (the pause is counted as billed: a new minimum would cost
      as much), each period billed its length, at least 60 s;
    upper bound, one minimum per query: each query billed its own time, at least 60 s.
  The catalog's `minimum_applies_to` (active_period, the default, or query) picks which is
  the headline figure; the other is printed beside it. A superuser's measured bill
  (SYS_SERVERLESS_USAGE) settles it for a run: the bounds are shown beside it.
- Measured: SYS_SERVERLESS_USAGE.charged_seconds, RPU-seconds in 1-minute intervals, "used to
  calculate the cost", minimum charges included, for the whole workgroup, computed after each
  transaction ends (so it lags); visible only to superusers.
  https://docs.aws.amazon.com/redshift/latest/dg/SYS_SERVERLESS_USAGE.html (read 2026-12-06)
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

from collections.abc import Iterable
from typing import TYPE_CHECKING

from harness import units
from harness.errors import ConfigError
from harness.pricing import (
    DAYS_PER_MONTH,
    FREE,
    GIB,
    HOURS_PER_MONTH,
    Billing,
    Cost,
    Driver,
    Need,
    Priced,
    capacity_needed,
    held_seconds,
    seconds,
    spans,
)
from harness.settings import Pattern
from harness.units import dollars

if TYPE_CHECKING:
    from harness.store.rows import StoredAttempt, StoredLoad

MINIMUM_SECONDS = 60.0  # the Serverless minimum charge (serverless-billing.html, 2026-12-06)
MINIMUM_SOURCE = (
    "https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-billing.html (read 2026-12-06)"
)
READINGS = ("active_period", "query")


def per_active_period(periods: Iterable[tuple[float, float]], minimum: float) -> float:
    """Billed seconds if the minimum applies once per active period (the lower bound): spans
    (start, end) in seconds that are less than `minimum` apart are one period, billed from its
    first start to its last end and at least `minimum`."""
    merged: list[list[float]] = []
    for start, end in sorted(periods):
        if merged and start - merged[-1][1] < minimum:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return sum(max(end - start, minimum) for start, end in merged)


def per_query(periods: Iterable[tuple[float, float]], minimum: float) -> float:
    """Billed seconds if every query carries its own minimum (the upper bound)."""
    return sum(max(end - start, minimum) for start, end in periods)


def daily_bounds(
    count: float, each_seconds: float, active_hours: float, minimum: float
) -> tuple[float, float]:
    """(lower, upper) billed seconds a day for `count` queries of `each_seconds` arriving
    evenly over `active_hours`: the two readings of the minimum, as `per_active_period` and
    `per_query` would bill that day's queries."""
    if count <= 0:
        return 0.0, 0.0
    upper = count * max(each_seconds, minimum)
    gap = active_hours * 3600 / count  # from one query's start to the next one's
    if gap - each_seconds < minimum:
        # One period a day, from the first query's start to the last one's end, pauses
        # included (never more than every query's own minimum).
        return min(max((count - 1) * gap + each_seconds, minimum), upper), upper
    return upper, upper  # every query its own period: both readings agree


BASE_RPUS = (8.0, 32.0, 128.0, 512.0)  # base capacities, for bill_driver
# A provisioned cluster's bill is the hours it exists (https://aws.amazon.com/redshift/pricing/:
# "pay an hourly rate based on the type and number of nodes", read 2026-12-06): a cluster made
# for the benchmark and kept up an hour, a working day or a whole day.
CLUSTER_HOURS = "cluster_hours"
CLUSTER_UP_HOURS = (1.0, 8.0, 24.0)

# The most RPUs a month is priced at: the largest base capacity, 1024 RPU in US East (N.
# Virginia) and four other Regions, 512 elsewhere
# (https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-capacity.html), and the express
# configuration's maximum, 64 to 1024 RPU, 512 unless set
# (https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-express-capacity-billing.html);
# both read 2026-12-06. The catalog prices US East.
MAX_RPU = 1024
MAX_RPU_SOURCE = (
    "serverless-capacity.html and serverless-express-capacity-billing.html, read 2026-12-06"
)
# Concurrency scaling clusters a provisioned cluster may add: 1 by default, 0 to 10
# (https://docs.aws.amazon.com/redshift/latest/dg/r_max_concurrency_scaling_clusters.html, read
# 2026-12-06; the 10 is an adjustable quota).
DEFAULT_SCALING_CLUSTERS = 1
MAX_SCALING_CLUSTERS = 10


class RedshiftBilling(Billing):
    @property
    def provisioned(self) -> bool:
        return bool(self.settings.get("node_type"))

    def _nodes(self) -> int:
        nodes = self.settings.get("nodes")
        if not nodes:
            raise ConfigError(
                f"run {self.run.run_id}: a provisioned Redshift cluster needs its node "
                "count for cost; set engines.redshift.nodes"
            )
        return int(nodes)

    def _base_rpu(self) -> int:
        return int(self.settings.get("base_rpu") or self.section["default_base_rpu"])

    def bill_driver(self) -> Driver:
        """Serverless: the base capacity in RPUs, 8 to 512 in steps of 8, 128 unless set
        (Amazon Redshift Serverless "Understanding Amazon Redshift Serverless capacity",
        https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-capacity.html, read
        2026-12-06). Provisioned: the hours the cluster stands for the benchmark."""
        if self.provisioned:
            # Not a setting of the engine's: how long the cluster stood for the benchmark.
            return Driver(
                CLUSTER_HOURS,
                "hours the cluster is up (0: the query window only)",
                0.0,
                CLUSTER_UP_HOURS,
                "a cluster bills every hour it exists, busy or not",
            )
        return Driver(
            "base_rpu",
            "base RPU",
            float(self._base_rpu()),
            BASE_RPUS,
            "at the times measured: more RPUs usually run the same queries faster",
        )

    def _minimum(self) -> float:
        return float(self.section.get("minimum_seconds", MINIMUM_SECONDS))

    def _reading(self) -> str:
        """Which reading of the minimum is the headline figure (the other is printed)."""
        reading = str(self.section.get("minimum_applies_to", "active_period"))
        if reading not in READINGS:
            raise ConfigError(
                f"redshift.minimum_applies_to: {reading!r}; expected one of {', '.join(READINGS)}"
            )
        return reading

    def _unpriced(self, node_type: str) -> str | None:
        """Why a known node type has no price in the catalog (None: it has one)."""
        return (self.section.get("unpriced_node_types") or {}).get(node_type)

    def _node_notes(self) -> list[str]:
        """What the catalog says about the cluster's node type (e.g. that it is retiring)."""
        node_type = str(self.settings["node_type"])
        notes = []
        if (retiring := (self.section.get("retiring_node_types") or {}).get(node_type)) is not None:
            notes.append(f"{node_type}: {retiring}")
        cost = self._compute(0.0)
        if cost.dollars is None and cost.note:
            notes.append(cost.note)
        return notes

    def _compute(self, busy_seconds: float) -> Cost:
        """What `busy_seconds` of the cluster or workgroup cost."""
        if self.provisioned:
            node_type = str(self.settings["node_type"])
            priced = node_type in (self.section.get("node_hour") or {})
            if not priced and (why := self._unpriced(node_type)) is not None:
                return Cost(None, "unknown", note=f"{node_type}: {why}")
            price = self.price("node_hour", node_type)
            return Cost(busy_seconds / 3600 * self._nodes() * price.price, "modelled", price.as_of)
        price = self.price("serverless_rpu_hour")
        return Cost(busy_seconds * self._base_rpu() / 3600 * price.price, "modelled", price.as_of)

    def _bounds(self, lower: float, upper: float, what: str) -> Priced:
        """The headline reading's cost, with both readings in words."""
        low, high = self._compute(lower), self._compute(upper)
        reading = self._reading()
        cost = low if reading == "active_period" else high
        note = (
            f"60 s minimum per active period {dollars(low.dollars)}, per query "
            f"{dollars(high.dollars)}; AWS does not say which ({MINIMUM_SOURCE})"
        )
        explain = [
            f"Serverless: {self._base_rpu()} RPU for {what}: {units.seconds(lower)} if the "
            f"{units.seconds(self._minimum())} minimum applies once per active period "
            f"({dollars(low.dollars)}), {units.seconds(upper)} if it applies to each query "
            f"({dollars(high.dollars)}); AWS's billing page states the minimum but not what it "
            f"applies to, so both are shown; the headline is per {reading.replace('_', ' ')}"
        ]
        return Priced(Cost(cost.dollars, cost.basis, cost.as_of, note), explain)

    def _span_seconds(self, attempts: list[StoredAttempt]) -> list[tuple[float, float]]:
        found = spans(attempts)
        if not found:
            return []
        origin = found[0][0]
        return [
            ((start - origin).total_seconds(), (end - origin).total_seconds())
            for start, end in found
        ]

    def marginal(self, attempt: StoredAttempt) -> Cost:
        if not attempt.sent:
            return FREE
        held = held_seconds(attempt, attempt.engine_seconds, attempt.client_seconds)
        return Cost(None, "unknown") if held is None else self._compute(held)

    def run_bill(self, attempts: list[StoredAttempt]) -> Priced:
        window = self.billed_window(attempts)
        if window is None:
            return Priced(FREE, ["no query ran"])
        wall = seconds(window)
        if self.provisioned:
            # A cluster bills every second it exists, busy or not: the run bill is the query
            # window unless the sensitivity asks what a cluster kept up longer for it costs.
            up_hours = float(self.settings.get(CLUSTER_HOURS) or 0)
            up = max(wall, up_hours * 3600)
            what = (
                f"the query window, {units.seconds(wall)}"
                if up == wall
                else f"{units.number(up_hours)} h"
            )
            return Priced(
                self._compute(up),
                [
                    f"provisioned: {self._nodes()} x {self.settings['node_type']} for {what} "
                    "(a cluster bills every hour it exists, busy or not)",
                    *self._node_notes(),
                ],
            )
        minimum = self._minimum()
        periods = self._span_seconds(attempts)
        modelled = self._bounds(
            per_active_period(periods, minimum),
            per_query(periods, minimum),
            f"the run's {len(periods)} queries",
        )
        usage = self.run.run_usage or {}
        price = self.price("serverless_rpu_hour")
        if usage.get("rpu_seconds") is not None and usage.get("complete"):
            return Priced(
                Cost(usage["rpu_seconds"] / 3600 * price.price, "measured", price.as_of),
                [
                    f"SYS_SERVERLESS_USAGE: {usage['rpu_seconds']:.0f} RPU-seconds charged in the "
                    f"query window's minutes (fetched {usage.get('fetched_at')}; the whole "
                    "workgroup's work in those minutes counts)",
                    f"modelled beside it: {modelled.cost.note}",
                ],
            )
        explain = list(modelled.explain)
        cost = modelled.cost
        if usage.get("not_visible"):
            # Not a lag: it will never arrive for this user, so no "pending".
            explain.append(f"measured figures not visible to this user: {usage['not_visible']}")
        elif usage.get("pending"):
            explain.append(f"measured figures pending: {usage['pending']}")
        return Priced(cost, explain)

    def scale_out_bill(self, scale_out: dict | None) -> Priced | None:
        used = (scale_out or {}).get("concurrency_scaling_seconds")
        if used is None or not self.provisioned:
            return None
        return Priced(
            self._compute(used),
            [
                f"concurrency scaling: {units.seconds(used)} at the main cluster's on-demand rate "
                "(SVCS_CONCURRENCY_SCALING_USAGE; the free daily credit, which whbench cannot "
                "see, not subtracted: at most this)"
            ],
        )

    def load_bill(self, loads: list[StoredLoad]) -> Priced:
        loaded = [load.seconds for load in loads if load.status == "loaded"]
        if not loaded:
            return Priced(FREE, [])
        busy = sum(loaded)
        if self.provisioned:
            return Priced(self._compute(busy), [f"loading: {units.seconds(busy)} of COPY"])
        # Tables load one after another in one session: one active period (at least the
        # minimum) for the lower bound, a minimum per COPY for the upper.
        minimum = self._minimum()
        one_after_another, at = [], 0.0
        for each in loaded:
            one_after_another.append((at, at + each))
            at += each
        return self._bounds(
            per_active_period(one_after_another, minimum),
            per_query(one_after_another, minimum),
            f"loading, {units.seconds(busy)} of COPY in {len(loaded)} tables",
        )

    def storage_per_month(self, stored_bytes: float | None) -> Priced:
        price = self.price("managed_storage_gb_month")
        return self._stored(stored_bytes, price, GIB, "GB", "of managed storage")

    def month(self, pattern: Pattern, per_query: Cost, seconds_per_query: float) -> Priced:
        """The capacity the pattern keeps busy at the measured speed (`capacity_needed`: copies
        of the run's cluster or base RPU), priced.

        Provisioned: the cluster's nodes all 730 hours; a pattern that needs more than one
        cluster runs the rest on concurrency scaling clusters (`_scaling_month`). Serverless:
        one copy keeps up: the day's queries with both readings of the 60 s minimum
        (`daily_bounds`); more: the workgroup at base RPU x copies (`_scaled_serverless`)."""
        need = capacity_needed(pattern, seconds_per_query)
        if self.provisioned:
            main = self._compute(HOURS_PER_MONTH * 3600)
            explain = [
                need.says(f"x {self._nodes()}-node {self.settings['node_type']} clusters"),
                f"provisioned: {self._nodes()} nodes for all {HOURS_PER_MONTH} hours",
                *self._node_notes(),
            ]
            if need.units <= 1:
                return Priced(main, explain)
            scaling = self._scaling_month(need)
            return Priced(main + scaling.cost, explain + scaling.explain)
        if need.units > 1:
            return self._scaled_serverless(pattern, seconds_per_query, need)
        lower, upper = daily_bounds(
            pattern.queries_per_day, seconds_per_query, pattern.active_hours, self._minimum()
        )
        daily = self._bounds(lower, upper, "a day's queries")
        low = self._compute(lower).times(DAYS_PER_MONTH)
        high = self._compute(upper).times(DAYS_PER_MONTH)
        headline = low if self._reading() == "active_period" else high
        note = (
            f"a month at one 60 s minimum per active period {dollars(low.dollars)}, per query "
            f"{dollars(high.dollars)}; AWS does not say which ({MINIMUM_SOURCE})"
        )
        return Priced(
            Cost(headline.dollars, headline.basis, headline.as_of, note),
            [
                need.says(f"x {self._base_rpu()} RPU") + ": the base capacity keeps up",
                *daily.explain,
                f"a month: {dollars(low.dollars)} (per active period) to {dollars(high.dollars)} "
                "(per query)",
            ],
        )

    def _scaled_serverless(self, pattern: Pattern, seconds_per_query: float, need: Need) -> Priced:
        """Serverless scales above its base capacity automatically as the number of queries
        grows (https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-billing-on-demand.html,
        read 2026-12-06 in its Japanese and China-Region copies, paraphrased): a pattern that keeps
        `need.units` copies of the base busy runs at base x units RPU, never idle in the active
        hours, up to MAX_RPU. Lower bound (one minimum per active period): that many RPU for
        the active hours, one period a day. Upper bound (a minimum per query): every query its
        own max(time, 60 s) at the base RPU, never below the lower."""
        price, base = self.price("serverless_rpu_hour"), self._base_rpu()
        wanted = base * need.units
        rpu = min(wanted, MAX_RPU)
        lower = rpu * pattern.active_hours * 3600  # RPU-seconds a day
        each = max(seconds_per_query, self._minimum())
        upper = max(lower, base * pattern.queries_per_day * each)
        low = Cost(lower / 3600 * price.price * DAYS_PER_MONTH, "modelled", price.as_of)
        high = Cost(upper / 3600 * price.price * DAYS_PER_MONTH, "modelled", price.as_of)
        headline = low if self._reading() == "active_period" else high
        note = (
            f"a month at one 60 s minimum per active period {dollars(low.dollars)}, per query "
            f"{dollars(high.dollars)}; AWS does not say which ({MINIMUM_SOURCE})"
        )
        explain = [
            need.says(f"x {base} RPU"),
            f"Serverless: {need.units} x the base {base} RPU = {wanted} RPU"
            + (f", held to {MAX_RPU}" if wanted > MAX_RPU else "")
            + f" for all {units.number(pattern.active_hours)} active hours a day: "
            f"{lower / 3600:,.0f} RPU-hours a day if the 60 s minimum applies once per active "
            f"period ({dollars(low.dollars)} a month), {upper / 3600:,.0f} if every query "
            f"carries its own at {base} RPU ({dollars(high.dollars)}); AWS does not say which; "
            f"the headline is per {self._reading().replace('_', ' ')}",
        ]
        if wanted > MAX_RPU:
            explain.append(
                f"{wanted} RPU is more than the {MAX_RPU} RPU AWS gives as the most base "
                f"capacity (US East; 512 in most Regions) and as the express configuration's "
                f"maximum ({MAX_RPU_SOURCE}); AWS does not say how far automatic scaling goes "
                f"beyond it: priced at {MAX_RPU}, so queries would queue and this is a lower "
                "bound"
            )
        return Priced(Cost(headline.dollars, headline.basis, headline.as_of, note), explain)

    def _scaling_month(self, need: Need) -> Priced:
        """The clusters beyond the main one, as concurrency scaling clusters: each a copy of the
        main cluster billed per second at its on-demand rate while it runs (here, the active
        hours of every day), less the one hour of free credit accrued per 24 hours the main
        cluster runs (https://aws.amazon.com/redshift/pricing/, as gathered 2026-11-25; not
        re-read). At most `max_concurrency_scaling_clusters` run: 1 by default, 0 to 10, an
        adjustable quota (https://docs.aws.amazon.com/redshift/latest/dg/
        r_max_concurrency_scaling_clusters.html, read 2026-12-06). Only queries that
        concurrency scaling can run (reads, COPY) leave the main cluster: a mix of writes needs
        a larger cluster instead."""
        extra = need.units - 1
        hours = extra * need.active_hours * DAYS_PER_MONTH
        free = min(hours, HOURS_PER_MONTH / 24)  # an hour of credit a day the cluster runs
        cost = self._compute((hours - free) * 3600)
        explain = [
            f"the pattern needs {need.units} clusters at the measured speed, more than one: "
            f"{extra} concurrency scaling cluster(s) of the same nodes for "
            f"{units.number(need.active_hours)} h a day, {hours:,.0f} cluster-hours a month less "
            f"{free:,.1f} free (one hour of credit a day): {dollars(cost.dollars)}",
        ]
        if extra > DEFAULT_SCALING_CLUSTERS:
            explain.append(
                f"max_concurrency_scaling_clusters is {DEFAULT_SCALING_CLUSTERS} by default: set "
                f"it to at least {extra}"
                + (
                    f" (more than {MAX_SCALING_CLUSTERS} needs the quota raised, or a larger "
                    "cluster)"
                    if extra > MAX_SCALING_CLUSTERS
                    else ""
                )
                + ", or queries queue"
            )
        return Priced(cost, explain)

    def minimum_charge(self) -> Cost | None:
        if self.provisioned:
            return None
        return self._compute(self._minimum())
