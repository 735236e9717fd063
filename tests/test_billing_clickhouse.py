"""Embedded ClickHouse (chDB) priced as the VM that ran it, by DuckDB's rule and from DuckDB's
list of VMs (harness/engines/clickhouse/billing.py): worked examples by hand.

Sources, read 2026-12-06 (as for DuckDB, tests/test_billing_duckdb.py):
- Per-second billing, 60 s minimum each time a Linux instance enters the running state:
  https://repost.aws/knowledge-center/ec2-instance-hour-billing
- M6i sizes (4 GiB per vCPU): https://aws.amazon.com/ec2/instance-types/m6i/
- M6i on-demand prices, us-east-1, Linux: https://aws.amazon.com/ec2/pricing/on-demand/ could not
  be read from here; the catalog marks them unconfirmed (m6i.large $0.096/h, m6i.2xlarge $0.384/h).
- EBS gp3 $0.08 per GB-month: https://aws.amazon.com/ebs/pricing/ (catalog, as of 2026-11-25).
ClickHouse Cloud's prices are not here: the server/Cloud mode is not written yet.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import stored_rows

from harness.engines import billing_for
from harness.pricing import GIB, load_catalog
from harness.settings import Pattern

CATALOG = load_catalog()
AT = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def run(threads=2, memory_limit=f"{20 * GIB} B", wall=None):
    # What ClickHouseEngine.describe() records: max_threads, and the memory limit in bytes.
    settings = {"threads": threads, "memory_limit": memory_limit, "path": "results/clickhouse"}
    ended = None if wall is None else AT + timedelta(seconds=wall)
    return stored_rows.run(
        engine="clickhouse", engine_settings=settings, started_at=AT, ended_at=ended
    )


def attempt(start: float, took: float):
    return stored_rows.attempt(
        engine="clickhouse",
        started_at=AT + timedelta(seconds=start),
        ended_at=AT + timedelta(seconds=start + took),
        client_seconds=took,
    )


def test_a_run_is_billed_as_the_host_vm_by_duckdb_s_rule():
    # 2 threads and a 20 GiB memory limit need 2 vCPU and 20 GiB: m6i.2xlarge (8 vCPU, 32 GiB)
    # at $0.384/h, the cheapest with both (m6i.xlarge has 16 GiB). A run of 75 s wall time is
    # billed per second: 75 / 3600 x $0.384 = $0.008.
    rules = billing_for(run(wall=75), CATALOG)
    machine, why = rules.machine()
    assert machine.name == "m6i.2xlarge" and "not confirmed" in why
    bill = rules.run_bill([attempt(5, 10), attempt(20, 30)])
    assert bill.cost.dollars == pytest.approx(75 / 3600 * 0.384)
    assert bill.cost.basis == "modelled"


def test_the_60_second_minimum_and_the_marginal_cost():
    # 20 s wall time is billed the 60 s minimum per start: 60 / 3600 x $0.096 = $0.0016 on an
    # m6i.large (2 threads, 6 GiB limit). One query of 1.8 s on the running VM: no minimum,
    # 1.8 / 3600 x $0.096 = $0.000048.
    rules = billing_for(run(memory_limit="6GiB", wall=20), CATALOG)
    assert rules.machine()[0].name == "m6i.large"
    assert rules.run_bill([attempt(2, 4)]).cost.dollars == pytest.approx(60 / 3600 * 0.096)
    assert rules.marginal(attempt(2, 1.8)).dollars == pytest.approx(1.8 / 3600 * 0.096)


def test_storage_and_a_month_are_duckdb_s_rules_too():
    # 1.5 GiB of data folder on EBS gp3 at $0.08 per GB-month (AWS's GB is 2^30 bytes):
    # 1.5 x 0.08 = $0.12 a month.
    rules = billing_for(run(memory_limit="6GiB"), CATALOG)
    assert rules.storage_per_month(1.5 * GIB).cost.dollars == pytest.approx(0.12)
    # 1000 queries a day of 1 s in 8 active hours: one m6i.large, 8 h a day, 730/24 days:
    # 8 x 730 / 24 x $0.096 = $23.36.
    month = rules.month(
        Pattern(queries_per_day=1000, active_hours=8), rules.marginal(attempt(0, 1)), 1
    )
    assert month.cost.dollars == pytest.approx(8 * 730 / 24 * 0.096)


def test_an_unrecorded_memory_limit_is_unknown_never_a_guess():
    rules = billing_for(run(memory_limit=None, wall=75), CATALOG)
    assert rules.run_bill([attempt(5, 10)]).cost.dollars is None
