"""How a Databricks SQL warehouse bills (a skeleton: the rules and their citations follow).

Until the rules are in, every figure is unknown (None), never 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.pricing import FREE, Billing, Cost, Priced

if TYPE_CHECKING:
    from harness.settings import Pattern
    from harness.store.rows import StoredAttempt, StoredLoad

_PENDING = "Databricks billing rules are not written yet"


class DatabricksBilling(Billing):
    def marginal(self, attempt: StoredAttempt) -> Cost:
        if attempt.status == "skipped":
            return FREE
        return Cost(None, "unknown", None, _PENDING)

    def run_bill(self, attempts: list[StoredAttempt]) -> Priced:
        return Priced(Cost(None, "unknown", None, _PENDING), [_PENDING])

    def load_bill(self, loads: list[StoredLoad]) -> Priced:
        return Priced(Cost(None, "unknown", None, _PENDING), [_PENDING])

    def storage_per_month(self, stored_bytes: float | None) -> Priced:
        return Priced(Cost(None, "unknown", None, _PENDING), [_PENDING])

    def month(self, pattern: Pattern, per_query: Cost, seconds_per_query: float) -> Priced:
        return Priced(Cost(None, "unknown", None, _PENDING), [_PENDING])
