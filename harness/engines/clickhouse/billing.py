"""Embedded ClickHouse (chDB) has no bill, but it has a machine: it is priced exactly as DuckDB
is, as the cloud VM that could have run it (harness/engines/duckdb/billing.py, whose rules and
sources apply unchanged: the cheapest catalog VM with the run's recorded `threads` in vCPU and
its `memory_limit` in memory, billed per second with a 60 s minimum per start, the run's wall
time as its uptime, EBS gp3 for the data folder). The VMs and their prices are read from the
section `host_machines` names (the duckdb section), so the host is priced in one place and both
embedded engines on one machine are priced alike.

ClickHouse records `max_threads` as its threads and, as its memory limit, `max_memory_usage`
where set, else the server's `max_server_memory_usage` (the engine's describe()).

ClickHouse Cloud (compute per unit-minute by tier, idling, storage per TB-month) belongs to the
server mode, which is not written yet: no Cloud rule is here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.engines.duckdb.billing import DuckDBBilling

if TYPE_CHECKING:
    from harness.pricing import Catalog, Price
    from harness.store.rows import StoredRun


class ClickHouseBilling(DuckDBBilling):
    def __init__(self, catalog: Catalog, engine: str, run: StoredRun) -> None:
        super().__init__(catalog, engine, run)
        self.host_machines = str(self.section["host_machines"])
        self.section = catalog.section(self.host_machines)

    def price(self, *path: str) -> Price:
        return self.catalog.price(self.host_machines, *path)
