"""How BigQuery bills queries, loads and storage, as Google's pages state (read 2026-11-26):

- On demand: $ per TiB of bytes billed; bytes are rounded up to the MB with a minimum of 10 MB
  per table referenced per query; cached queries and queries that return an error are free;
  a cancelled query may still be billed. The first 1 TiB a month is free: not applied here.
  https://cloud.google.com/bigquery/pricing#on_demand_pricing
- Editions: the autoscaler scales a reservation in multiples of 50 slots (rounded up from what
  the jobs need), keeps scaled capacity at least 60 s (the scale-down window), and bills the
  slots it scaled to, not the slot-ms a job used -- failed jobs included. Baseline slots bill
  whether used or not. https://cloud.google.com/bigquery/docs/slots-autoscaling-intro, read
  2026-12-06: "Slots always autoscale to a multiple of 50", "Scaling up is based on actual
  usage, and is rounded up to the nearest 50 slot increment", "You are charged for the number
  of scaled slots, not the number of slots used. This charge applies even if the job that
  causes BigQuery to scale up fails." (An older copy of the same page, still served on
  2026-11-26, said "multiples of 100" and called scaling an estimate; Google moved the step from
  100 to 50 in 2024. The step is `autoscale_step_slots` in the catalog.)
- Batch loads from files use the free shared slot pool.
  https://cloud.google.com/bigquery/pricing#data_ingestion_pricing
- Storage: per GiB-month of logical bytes (the default) or of physical, compressed bytes (a
  dataset option; `storage_model` in the catalog picks one).
  https://cloud.google.com/bigquery/pricing#storage. On the physical model time-travel and
  fail-safe bytes are billed too, and the logical model bills neither
  (https://cloud.google.com/bigquery/docs/time-travel, read 2026-12-06: a shorter time travel
  window "lets you save on storage costs when using the physical storage billing model"), so
  physical storage is priced from the tables' numTotalPhysicalBytes ("also includes storage used
  for time travel", https://cloud.google.com/bigquery/docs/reference/rest/v2/tables, read
  2026-12-06), never from numBytes, which is logical. That page does not say whether fail-safe
  bytes are in it; the run's freshly loaded tables have neither history yet. A server that does
  not report them (the bqemulator stand-in) leaves physical storage unknown, never 0.
- Measured: each job's statistics (bytes billed, slot-ms) are on the job object and are the
  on-demand bill itself. An Editions reservation's autoscaled capacity is only visible in
  INFORMATION_SCHEMA.RESERVATIONS_TIMELINE, which bills a query to read; it is not fetched, so
  an Editions run bill stays modelled.
"""

from __future__ import annotations

import functools
import itertools
import math
from datetime import timedelta
from typing import TYPE_CHECKING

from harness import units
from harness.pricing import (
    DAYS_PER_MONTH,
    FREE,
    GIB,
    MIB,
    TIB,
    Billing,
    Cost,
    Price,
    Priced,
    Span,
    attempt_span,
    busy_seconds_per_day,
    capacity_needed,
    seconds,
    total,
)
from harness.settings import Pattern

if TYPE_CHECKING:
    from harness.store.rows import StoredAttempt, StoredLoad


class BigQueryBilling(Billing):
    @property
    def on_demand(self) -> bool:
        return self.section.get("model", "on_demand") == "on_demand"

    def _slot_price(self):
        return self.price("editions", self.section.get("edition", "standard"))

    def _step(self) -> int:
        return int(self.section["autoscale_step_slots"])

    # -- per query --------------------------------------------------------------------------------
    def marginal(self, attempt: StoredAttempt) -> Cost:
        if not self.on_demand:
            # On a reservation that is already scaled up, a job costs the slot time it used.
            price = self._slot_price()
            if not attempt.sent:
                return FREE
            if attempt.slot_ms is None:
                return Cost(None, "unknown", price.as_of)
            return Cost(attempt.slot_ms / 3_600_000 * price.price, "modelled", price.as_of)
        price = self.price("on_demand")
        if attempt.status == "error" or not attempt.sent or attempt.cache_hit:
            return FREE  # errors and cached results are not billed
        billed, basis = attempt.bytes_billed, "measured"
        if billed is None:
            billed, basis = attempt.bytes_scanned, "modelled"
            if billed is None or attempt.status != "ok":
                # A cancelled (timed-out) job may be billed up to the full cost: not knowable.
                return Cost(None, "unknown", price.as_of)
            minimum = self.section["minimum_bytes_per_table"] * _tables_referenced(attempt)
            billed = max(math.ceil(billed / MIB) * MIB, minimum)
        return Cost(billed / TIB * price.price, basis, price.as_of)

    # -- the run ----------------------------------------------------------------------------------
    def run_bill(self, attempts: list[StoredAttempt]) -> Priced:
        if self.on_demand:
            bill = total(self.marginal(a) for a in attempts)
            return Priced(
                bill,
                [
                    "on demand: the bytes each job billed (the job statistics are the bill); "
                    "the free first TiB a month is not applied"
                ],
            )
        return self._autoscaled(attempts)

    def _autoscaled(self, attempts: list[StoredAttempt]) -> Priced:
        """Editions: each job's slots (its slot-ms over its duration, rounded up to the
        autoscaler's step) held from its start until at least 60 s later; where holds overlap,
        the larger capacity; plus any baseline slots for the whole window."""
        price, step = self._slot_price(), self._step()
        window = float(self.section["scale_down_window_seconds"])
        holds: list[tuple[Span, int]] = []
        unknown = 0
        for attempt in attempts:
            span = attempt_span(attempt)
            if span is None:
                continue
            (start, end), duration = span, max(seconds(span), 0.001)
            slot_ms = attempt.slot_ms
            if slot_ms is None:
                unknown += 1
                needed = step  # at least one step: what the smallest scale-up bills
            else:
                needed = max(step, math.ceil(slot_ms / 1000 / duration / step) * step)
            holds.append(((start, max(end, start + timedelta(seconds=window))), needed))
        slot_seconds = _capacity_seconds(holds)
        baseline = int(self.section.get("baseline_slots") or 0)
        run_window = self.billed_window(attempts)
        if baseline and run_window:
            slot_seconds += baseline * seconds(run_window)
        explain = [
            f"Editions autoscaling: {units.number(slot_seconds / 3600, 4)} slot-hours "
            f"({step}-slot steps, each held at least {units.seconds(window)}, failed jobs included)"
        ]
        if baseline:
            explain.append(f"{baseline} baseline slots billed for the whole query window")
        if unknown:
            explain.append(f"{unknown} job(s) reported no slot-ms: one {step}-slot step assumed")
        return Priced(Cost(slot_seconds / 3600 * price.price, "modelled", price.as_of), explain)

    def load_bill(self, loads: list[StoredLoad]) -> Priced:
        if not any(load.status == "loaded" for load in loads):
            return Priced(FREE, [])
        return Priced(FREE, ["loading: batch load jobs use the free shared slot pool"])

    def storage_per_month(self, stored_bytes: float | None) -> Priced:
        """`stored_bytes` are logical (numBytes, what the loads recorded, or the user's data
        size). Long-term storage (90 days unmodified) costs half; the free 10 GiB is not
        applied."""
        model = self.section.get("storage_model", "logical")
        price = self.price("storage", f"{model}_active")
        if model != "physical":
            return self._stored(stored_bytes, price, GIB, "GiB", f"{model} active")
        return self._physical(stored_bytes, price)

    def _physical(self, stored_bytes: float | None, price: Price) -> Priced:
        """Physical (compressed) bytes at the physical price: the run's tables' physical bytes,
        recorded after its last query, scaled to `stored_bytes` by the tables' own physical to
        logical ratio (the same data compresses alike); unknown when they were not reported."""
        facts = (self.run.after_run or {}).get("storage") or {}
        physical, logical = facts.get("physical_bytes"), facts.get("logical_bytes")
        what = "physical active (numTotalPhysicalBytes: compressed, time travel included)"
        if physical is None:
            why = (
                "the server did not report the tables' physical bytes (numTotalPhysicalBytes)"
                if facts
                else "the run recorded no physical bytes"
            )
            return Priced(
                Cost(None, "unknown", price.as_of),
                [f"storage: physical billing, but {why}: unknown, not 0"],
            )
        if stored_bytes is None or not logical:
            return self._stored(physical, price, GIB, "GiB", what)
        ratio = physical / logical
        priced = self._stored(stored_bytes * ratio, price, GIB, "GiB", what)
        return Priced(
            priced.cost,
            [
                *priced.explain,
                f"physical bytes are {units.figure(ratio)} of logical in this run's tables "
                f"({physical:,} of {logical:,})",
            ],
        )

    def month(self, pattern: Pattern, per_query: Cost, seconds_per_query: float) -> Priced:
        """On demand: the bytes, which scale linearly with the queries; there is no capacity to
        provision (the bill is bytes processed, https://cloud.google.com/bigquery/pricing
        #on_demand_pricing, read 2026-12-06), so the compute-hours the pattern needs are only
        stated. Editions: the slots the pattern keeps busy (the mix's slot time a query x
        queries, over the active hours), autoscaled in multiples of the step and billed for
        the slots scaled to (https://cloud.google.com/bigquery/docs/slots-autoscaling-intro,
        read 2026-12-06); while that is one step, every job holds a step for the scale-down
        window, as before. How many slots a reservation may scale to is its own setting, not
        known here."""
        need = capacity_needed(pattern, seconds_per_query)
        if self.on_demand:
            return Priced(
                per_query.times(pattern.queries_per_day * DAYS_PER_MONTH),
                [
                    f"on demand: no capacity to provision: the {units.figure(need.compute_hours)} "
                    "compute-hours a day the pattern needs at the measured speed run on "
                    "Google's shared slots, and the bill is bytes, which scale linearly: the "
                    "mix's bytes billed per query x queries"
                ],
            )
        price, step = self._slot_price(), self._step()
        window = float(self.section["scale_down_window_seconds"])
        baseline = int(self.section.get("baseline_slots") or 0)
        slots = self._slots_needed(pattern, per_query)
        if slots is not None and slots[1] > step:
            busy, scaled = slots
            daily = scaled * (pattern.active_hours * 3600 + window)  # slot-seconds a day
            slot_hours = daily / 3600 * DAYS_PER_MONTH + baseline * 24 * DAYS_PER_MONTH
            return Priced(
                Cost(slot_hours * price.price, "modelled", price.as_of),
                [
                    f"Editions: the mix uses {busy * pattern.active_hours:,.0f} slot-hours a "
                    f"day ({units.figure(per_query.dollars / price.price * 3600)} "
                    "slot-seconds a query x "
                    f"queries): {busy:,.1f} slots busy all "
                    f"{units.number(pattern.active_hours)} active hours, autoscaled to {scaled} "
                    f"(multiples of {step}), held all the active hours and the "
                    f"{units.seconds(window)} scale-down window: {daily / 3600:,.0f} "
                    f"slot-hours a day; {baseline} baseline slots all month",
                ],
            )
        each = max(seconds_per_query, window)
        daily = busy_seconds_per_day(pattern.queries_per_day, each, pattern.active_hours)
        slot_hours = daily * step / 3600 * DAYS_PER_MONTH
        slot_hours += baseline * 24 * DAYS_PER_MONTH
        return Priced(
            Cost(slot_hours * price.price, "modelled", price.as_of),
            [
                f"Editions: {step} slots up {daily / 3600:.2f} h a day (each job holds them "
                f"{each:.0f} s), {baseline} baseline slots all month"
                + ("" if slots is None else f"; the mix keeps {units.figure(slots[0])} slots busy"),
            ],
        )

    def _slots_needed(self, pattern: Pattern, per_query: Cost) -> tuple[float, int] | None:
        """The slots the pattern keeps busy on average over its active hours (the mix's slot
        time a query, from its marginal cost, which is slot-ms at the slot price), and that
        rounded up to the autoscaler's step; None when the slot time is unknown."""
        price, step = self._slot_price(), self._step()
        if per_query.dollars is None or not price.price or pattern.active_hours <= 0:
            return None
        slot_seconds = per_query.dollars / price.price * 3600
        busy = pattern.queries_per_day * slot_seconds / (pattern.active_hours * 3600)
        return busy, max(step, math.ceil(busy / step - 1e-9) * step)

    def minimum_charge(self) -> Cost | None:
        if self.on_demand:
            price = self.price("on_demand")
            return Cost(self.section["minimum_bytes_per_table"] / TIB * price.price, "modelled")
        price = self._slot_price()
        slot_seconds = self._step() * float(self.section["scale_down_window_seconds"])
        return Cost(slot_seconds / 3600 * price.price, "modelled", price.as_of)

    def price_per_byte_billed(self) -> float | None:
        return self.price("on_demand").price / TIB if self.on_demand else None


def _capacity_seconds(holds: list[tuple[Span, int]]) -> float:
    """Slot-seconds of a capacity that is, at each moment, the largest hold then in force."""
    moments = sorted({t for (start, end), _ in holds for t in (start, end)})
    slot_seconds = 0.0
    for begin, finish in itertools.pairwise(moments):
        level = max((n for (s, e), n in holds if s <= begin and e >= finish), default=0)
        slot_seconds += level * (finish - begin).total_seconds()
    return slot_seconds


def _tables_referenced(attempt: StoredAttempt) -> int:
    """How many tables the query reads (1 when its SQL is not at hand or does not parse)."""
    return _count_tables(attempt.sql) if attempt.sql else 1


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
