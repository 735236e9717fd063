"""What a month would cost: the user's activity pattern (`projection:`) on each engine, per
data type, from the runs the matrix compares: the query mix at its marginal cost, the
engine's uptime model for the pattern, and storage."""

from __future__ import annotations

from dataclasses import dataclass

from harness.engines import billing_for
from harness.pricing import Catalog, Cost, stored_bytes
from harness.report.matrix import matrix_tables
from harness.report.queries import QueryTable
from harness.settings import Pattern
from harness.store import Store
from harness.store.rows import StoredAttempt


@dataclass
class MonthRow:
    """A month of the pattern on one engine, from one workload's latest run on it."""

    data_type: str | None
    workload: str
    scale: float
    engine: str
    cost: Cost
    explain: list[str]  # how the figure was reached, in words


@dataclass
class Month:
    pattern: Pattern
    rows: list[MonthRow]


def month(
    store: Store,
    tables: list[QueryTable],
    attempts: dict[str, list[StoredAttempt]],
    catalog: Catalog,
    pattern: Pattern,
) -> Month:
    """`attempts`: run id -> its attempts."""
    rows = []
    # A workload no engine answered prices nothing but failures: no month to project from it.
    for table in (t for t in matrix_tables(tables) if t.answered):
        for engine, run in table.runs.items():
            priced = billing_for(run, catalog).project_month(
                attempts[run.run_id], pattern, stored_bytes(store.loads(run.run_id))
            )
            rows.append(
                MonthRow(
                    data_type=table.data_type,
                    workload=table.workload,
                    scale=table.scale,
                    engine=engine,
                    cost=priced.cost,
                    explain=priced.explain,
                )
            )
    return Month(pattern, rows)
