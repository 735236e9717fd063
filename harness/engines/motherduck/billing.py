"""MotherDuck's billing rules, as its documentation states them (all read 2026-12-06):

- Compute is a Duckling (a per-user DuckDB instance) of one size: Pulse, Standard, Jumbo, Mega
  or Giga. "MotherDuck meters compute per-second. While Standard, Jumbo, Mega, and Giga
  Ducklings are billed for wall clock time, Pulse Ducklings …" are metered per query, with "a
  minimum of 1 Compute Unit (CU) second per query".
  https://motherduck.com/docs/about-motherduck/billing/pricing/
- A wall-clock Duckling stays up for its cooldown after the last query completes, billed: 1 s
  for Pulse, 60 s for Standard and Jumbo, 5 minutes for Mega, 10 minutes for Giga by default;
  the larger sizes' cooldown is configurable (1 minute to 24 hours), Pulse's is not.
  https://motherduck.com/docs/about-motherduck/billing/duckling-sizes/
- "You will always be billed for a minimum of 60 seconds" — said on the SHUTDOWN page
  (https://motherduck.com/docs/sql-reference/motherduck-sql-reference/shutdown-terminate/); the
  docs do not say what the minimum attaches to. It is applied here to each time the Duckling
  starts, and every explanation says so.
- Storage: GB-months of compressed managed storage, metered per day; $0.0025685 per GB per day
  ("$0.08 per 31-day month") in the pricing page's version that could be read; the current page
  says rates vary by region in three pricing tiers, and its table could not be read from here.
  The docs do not say whether a GB is 10^9 or 2^30 bytes: 10^9 is used, and said.
- Plans: Lite includes 10 CU hours and 10 GB a month (Pulse only); Business has a $250 monthly
  platform fee. Neither is applied to a run (they are per organisation and month); the month's
  projection names them.

What is NOT known here, and so never guessed: the dollar rate of each Duckling size (the
pricing page's compute table could not be read on 2026-12-06): the bundled catalog has none,
and a bill that needs one is unknown (None) and says which `motherduck.ducklings.<size>.hour`
to put in a catalog file (`--pricing FILE`). Pulse's CU-seconds per query are not reported to
the client (QUERY_HISTORY is not read: see the engine's docstring): a Pulse bill is unknown.
The Duckling's start-up time (~100 ms) is not said to be billed or not; it is not added.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness import units
from harness.pricing import (
    DAYS_PER_MONTH,
    FREE,
    Billing,
    Cost,
    Driver,
    Price,
    Priced,
    busy_seconds_per_day,
    held_seconds,
    merge,
    seconds,
    spans,
)

if TYPE_CHECKING:
    from harness.settings import Pattern
    from harness.store.rows import StoredAttempt, StoredLoad

DUCKLINGS = ("pulse", "standard", "jumbo", "mega", "giga")
GB = 10**9  # the docs do not define their GB (see above)
PRICING_PAGE = "https://motherduck.com/docs/about-motherduck/billing/pricing/"


class MotherDuckBilling(Billing):
    # -- the Duckling, from the run's settings -------------------------------------------------
    def duckling(self) -> tuple[str | None, dict[str, Any]]:
        size = self.settings.get("duckling")
        if size is None:
            return None, {}
        return str(size), dict(self.section["ducklings"].get(str(size)) or {})

    def wall_clock(self) -> bool:
        return self.duckling()[1].get("metered") == "wall clock"

    def cooldown(self) -> float:
        """The cooldown: the run's setting, else the size's default (Pulse: 1 s, fixed)."""
        size, facts = self.duckling()
        own = self.settings.get("cooldown_seconds")
        if own is not None and size != "pulse":
            return float(own)
        return float(facts.get("cooldown_seconds", 0))

    def rate(self) -> tuple[Price | None, str]:
        """The Duckling's price per hour, and why there is none when there is none."""
        size, facts = self.duckling()
        if size is None:
            return None, (
                "the Duckling size is not recorded: set engines.motherduck.duckling (pulse, "
                "standard, jumbo, mega or giga) to price the run"
            )
        if facts.get("metered") != "wall clock":
            return None, (
                f"a {size} Duckling is metered in CU-seconds per query (at least 1 each), which "
                "MotherDuck does not report to the client: unknown"
            )
        if "hour" not in facts:
            return None, (
                f"no price for a {size} Duckling: MotherDuck's compute table ({PRICING_PAGE}) "
                f"could not be read on 2026-12-06; put motherduck.ducklings.{size}.hour in a "
                "catalog file (--pricing FILE)"
            )
        return self.price("ducklings", size, "hour"), ""

    def _compute(self, billed_seconds: float) -> tuple[Cost, str]:
        price, why = self.rate()
        if price is None:
            return Cost(None, "unknown", None, why), why
        size = self.duckling()[0]
        return (
            Cost(billed_seconds / 3600 * price.price, "modelled", price.as_of),
            f"a {size} Duckling at ${price.price}/h",
        )

    # -- the rules --------------------------------------------------------------------------------
    def marginal(self, attempt: StoredAttempt) -> Cost:
        """One query on a Duckling that is up anyway: its own seconds, no cooldown, no
        minimum."""
        if not attempt.sent:
            return FREE
        held = held_seconds(attempt, attempt.client_seconds)
        if held is None:
            return Cost(None, "unknown")
        return self._compute(held)[0]

    def uptime(self, attempts: list[StoredAttempt]) -> list[tuple[float, float]]:
        """Each time the Duckling was up for these queries: (seconds busy, seconds billed).
        Queries closer together than the cooldown keep it up in between; after the last one
        it stays up its cooldown; each start bills at least the minimum."""
        cooldown = self.cooldown()
        minimum = float(self.section["minimum_seconds_per_start"])
        periods = merge(spans(attempts), gap_seconds=cooldown)
        return [(seconds(p), max(seconds(p) + cooldown, minimum)) for p in periods]

    def run_bill(self, attempts: list[StoredAttempt]) -> Priced:
        periods = self.uptime(attempts)
        if not periods:
            return Priced(FREE, ["no query ran"])
        if not self.wall_clock():
            cost, why = self._compute(0.0)
            return Priced(cost, [why])
        billed = sum(b for _, b in periods)
        minimum = float(self.section["minimum_seconds_per_start"])
        cost, why = self._compute(billed)
        return Priced(
            cost,
            [
                f"{len(periods)} start(s) of the Duckling, busy "
                f"{units.seconds(sum(u for u, _ in periods))}, each up its "
                f"{units.seconds(self.cooldown())} cooldown after its last query and at least "
                f"{units.seconds(minimum)} (the docs state the 60 s minimum on the SHUTDOWN page "
                f"without saying what it attaches to; applied per start): "
                f"{units.seconds(billed)} billed per second",
                why,
                "if the Duckling was already up (someone else's queries), part of this was "
                "billed anyway",
            ],
        )

    def load_bill(self, loads: list[StoredLoad]) -> Priced:
        loaded = sum(load.seconds for load in loads if load.status == "loaded")
        if not loaded:
            return Priced(FREE, [])
        cost, why = self._compute(loaded) if self.wall_clock() else self._compute(0.0)
        return Priced(cost, [f"loading: {units.seconds(loaded)} on the Duckling", why])

    def storage_per_month(self, stored_bytes: float | None) -> Priced:
        return self._stored(stored_bytes, self.price("storage_gb_month"), GB, "GB", "stored")

    def month(self, pattern: Pattern, per_query: Cost, seconds_per_query: float) -> Priced:
        """The pattern's queries on one Duckling (MotherDuck gives each user their own):
        each keeps it up its own seconds plus the cooldown while they are apart, the active
        hours plus one cooldown once they run into each other."""
        plans = (
            "not included: the plan (Lite includes 10 CU hours and 10 GB a month; Business "
            f"adds a $250 platform fee a month; {PRICING_PAGE})"
        )
        if not self.wall_clock():
            cost, why = self._compute(0.0)
            return Priced(cost, [why, plans])
        cooldown = self.cooldown()
        up = busy_seconds_per_day(
            pattern.queries_per_day, seconds_per_query + cooldown, pattern.active_hours
        )
        hours = up / 3600 * DAYS_PER_MONTH
        cost, why = self._compute(hours * 3600)
        return Priced(
            cost,
            [
                f"{units.number(pattern.queries_per_day)} queries a day over "
                f"{units.number(pattern.active_hours)} h, "
                f"each {units.seconds(seconds_per_query)} plus a {units.seconds(cooldown)} "
                f"cooldown: the Duckling up {units.seconds(up)} a day, {hours:,.1f} h a month",
                why,
                plans,
            ],
        )

    def minimum_charge(self) -> Cost | None:
        if not self.wall_clock():
            return None
        cost, _ = self._compute(float(self.section["minimum_seconds_per_start"]))
        return cost if cost.dollars is not None else None

    def bill_driver(self) -> Driver | None:
        if not self.wall_clock():
            return None
        return Driver(
            "cooldown_seconds",
            "Duckling cooldown (s)",
            self.cooldown(),
            (60.0, 300.0, 600.0, 3600.0),
            "a shorter cooldown may start the Duckling more often",
        )
