"""DuckDB has no bill, but it has a machine: priced as a comparable cloud VM (catalog
`duckdb.machine_hour`, EC2 on-demand, per second) and its disk (`duckdb.storage_gb_month`, EBS
gp3). Sources and dates are in the catalog."""

from __future__ import annotations

from harness.config import Pattern
from harness.pricing import (
    FREE,
    GIB,
    HOURS_PER_MONTH,
    Billing,
    Cost,
    Priced,
    held_seconds,
    seconds,
)


class DuckDBBilling(Billing):
    def _machine(self, seconds: float) -> Cost:
        price = self.price("machine_hour")
        return Cost(seconds / 3600 * price.price, "modelled", price.as_of)

    def marginal(self, attempt: dict) -> Cost:
        if attempt["status"] == "skipped":
            return FREE
        held = held_seconds(attempt, "client_seconds")
        return Cost(None, "unknown") if held is None else self._machine(held)

    def run_bill(self, attempts: list[dict]) -> Priced:
        window = self.billed_window(attempts)
        if window is None:
            return Priced(FREE, ["no query ran"])
        wall = seconds(window)
        return Priced(
            self._machine(wall),
            [f"the machine for the query window, {wall:.3g} s (first query start to last end)"],
        )

    def load_bill(self, loads: list[dict]) -> Priced:
        loaded = [row["seconds"] for row in loads if row.get("status") == "loaded"]
        return Priced(self._machine(sum(loaded)), [f"loading: the machine for {sum(loaded):.3g} s"])

    def storage_per_month(self, stored_bytes: float | None) -> Priced:
        # EBS bills GB-months of provisioned volume; AWS's GB is 2^30 bytes (its docs use GiB).
        return self._stored(stored_bytes, self.price("storage_gb_month"), GIB, "GB", "on a disk")

    def month(self, pattern: Pattern, per_query: Cost, seconds_per_query: float) -> Priced:
        price = self.price("machine_hour")
        return Priced(
            Cost(HOURS_PER_MONTH * price.price, "modelled", price.as_of),
            [f"a VM up all month ({HOURS_PER_MONTH} h) at ${price.price}/h"],
        )
