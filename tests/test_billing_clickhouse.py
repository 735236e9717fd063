"""Embedded ClickHouse (chDB) priced as the VM that ran it, by DuckDB's rule and from DuckDB's
list of VMs (harness/engines/clickhouse/billing.py): worked examples by hand.

Sources, read 2026-12-06 (as for DuckDB, tests/test_billing_duckdb.py):
- Per-second billing, 60 s minimum each time a Linux instance enters the running state:
  https://repost.aws/knowledge-center/ec2-instance-hour-billing
- M6i sizes (4 GiB per vCPU): https://aws.amazon.com/ec2/instance-types/m6i/
- M6i on-demand prices, us-east-1, Linux: https://aws.amazon.com/ec2/pricing/on-demand/ could not
  be read from here; the catalog marks them unconfirmed (m6i.large $0.096/h, m6i.2xlarge $0.384/h).
- EBS gp3 $0.08 per GB-month: https://aws.amazon.com/ebs/pricing/ (catalog, as of 2026-11-25).

ClickHouse Cloud (server mode with a cloud_tier; ClickHouseCloudBilling), read 2026-12-06:
- Compute "is metered on a per-minute basis, in 8G RAM increments"; prices "reflect AWS us-east-1
  pricing"; storage on the compressed size, backups billed apart at the same rate, one by default:
  https://clickhouse.com/docs/cloud/manage/billing/overview
- 1 compute unit = 8 GiB RAM, 2 vCPU; Enterprise $0.39030 per unit-hour, storage $25.30 per
  TB-month (AWS us-east-1): https://clickhouse.com/pricing (as its markdown twin was quoted on
  2026-09-05). Scale $0.29846 and Basic $0.21811 per unit-hour are derived from the billing
  overview's worked examples (pricing.yaml shows the arithmetic), which state no rate.
- Not billed while idle; idles after the idle timeout without user queries; automatic idling
  may be turned off ("choose whether or not to allow automatic idling"), and then the service is
  never paused, so billed every hour:
  https://clickhouse.com/docs/cloud/features/autoscaling/idling
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
import stored_rows

from harness.engines import billing_for
from harness.errors import ConfigError
from harness.pricing import GIB, Catalog, load_catalog
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


# -- ClickHouse Cloud ------------------------------------------------------------------------------
SCALE = 0.29846  # USD per compute-unit-hour, Scale, AWS us-east-1 (derived: pricing.yaml)
ENTERPRISE = 0.3903  # stated on clickhouse.com/pricing


def cloud_run(**settings):
    """What ClickHouseEngine.describe() records in server mode, for a Scale service of
    2 replicas x 16 GiB with a 15-minute idle timeout, unless told."""
    recorded = {
        "mode": "server",
        "host": "abc.us-east-1.aws.clickhouse.cloud",
        "secure": True,
        "cloud_tier": "scale",
        "replicas": 2,
        "memory_gib_per_replica": 16,
        "idle_minutes": 15,
        "fetch": "native",
    }
    return stored_rows.run(engine="clickhouse", engine_settings=recorded | settings, started_at=AT)


def timed(start: float, took: float, engine_seconds=None):
    return stored_rows.attempt(
        engine="clickhouse",
        started_at=AT + timedelta(seconds=start),
        ended_at=AT + timedelta(seconds=start + took),
        client_seconds=took,
        engine_seconds=engine_seconds,
    )


TEN_MINUTES = [timed(0, 300), timed(300, 300)]  # 10:00:00 to 10:10:00


def test_worked_a_10_minute_run_on_a_2_replica_scale_service():
    """2 replicas x 16 GiB = 32 GiB = 4 compute units of 8 GiB. Queries from 10:00 to 10:10,
    then the 15-minute idle timeout before the service idles: up 25 minutes, a whole number of
    minutes already. 4 units x 25/60 h x $0.29846 = $0.49743."""
    rules = billing_for(cloud_run(), CATALOG)
    assert type(rules).__name__ == "ClickHouseCloudBilling"
    assert rules.compute_units()[0] == 4
    bill = rules.run_bill(TEN_MINUTES)
    assert bill.cost.dollars == pytest.approx(4 * 25 / 60 * SCALE)
    assert round(bill.cost.dollars, 5) == 0.49743
    assert bill.cost.basis == "modelled"
    assert any("derived" in line for line in bill.explain)  # the Scale rate is not stated
    assert any("egress" in line for line in bill.explain)  # not measured, said


def test_worked_the_idle_timeout_drives_the_bill():
    """The same 10 minutes of queries at other idle timeouts: up 10 + timeout minutes.
    5 min: 4 x 15/60 x $0.29846 = $0.29846; 15 (this run): $0.49743; 30: 4 x 40/60 x $0.29846 =
    $0.79589; 60: 4 x 70/60 x $0.29846 = $1.39281."""
    rules = billing_for(cloud_run(), CATALOG)
    bills = dict(rules.sensitivity(TEN_MINUTES))
    assert sorted(bills) == [5, 15, 30, 60]
    for minutes, cost in bills.items():
        assert cost.dollars == pytest.approx(4 * (10 + minutes) / 60 * SCALE)
    text = rules.price_run(TEN_MINUTES).sensitivity
    assert text.startswith("run bill at idle timeout (min) 5: $0.30")
    assert "15 (this run): $0.50" in text


def test_worked_the_tail_after_each_burst_and_the_minute_rounding():
    """Two one-minute bursts 20 minutes apart (10:00-10:01, 10:20-10:21). With a 15-minute
    timeout the service idles at 10:16 and wakes again at 10:20: two stretches of 16 minutes,
    32 minutes: 4 x 32/60 x $0.29846 = $0.63671. With 30 minutes it never idles between them:
    10:00 to 10:51, 51 minutes, $1.01476. A 30.5 s query with a 5-minute timeout is up 330.5 s,
    billed 6 whole minutes (the docs do not say how a partial minute is billed; rounded up)."""
    bursts = [timed(0, 60), timed(1200, 60)]
    short = billing_for(cloud_run(), CATALOG).run_bill(bursts)
    assert short.cost.dollars == pytest.approx(4 * 32 / 60 * SCALE)
    assert "2 stretch(es)" in short.explain[0]
    longer = billing_for(cloud_run(idle_minutes=30), CATALOG).run_bill(bursts)
    assert longer.cost.dollars == pytest.approx(4 * 51 / 60 * SCALE)
    rounded = billing_for(cloud_run(idle_minutes=5), CATALOG).run_bill([timed(0, 30.5)])
    assert rounded.cost.dollars == pytest.approx(4 * 6 / 60 * SCALE)


def test_worked_the_marginal_cost_is_the_engine_s_seconds_at_the_service_s_rate():
    """A query the engine timed at 1.8 s (2.0 s at the client) on the running service:
    4 units x 1.8/3600 h x $0.29846 = $0.00059692; without the engine's time, the client's 2.0 s:
    $0.00066324. No minute rounding: the service is up anyway."""
    rules = billing_for(cloud_run(), CATALOG)
    assert rules.marginal(timed(0, 2.0, engine_seconds=1.8)).dollars == pytest.approx(
        4 * 1.8 / 3600 * SCALE
    )
    assert rules.marginal(timed(0, 2.0)).dollars == pytest.approx(4 * 2.0 / 3600 * SCALE)


def test_worked_the_docs_examples_reproduce_the_catalog_rates():
    """The billing overview's examples price a month as 732 hours: Enterprise 2 replicas x
    32 GiB (8 units) $2,285.60 at the stated $0.39030; Scale 2 x 16 GiB (4 units) $873.89 at
    the derived $0.29846."""
    enterprise = billing_for(cloud_run(cloud_tier="enterprise", memory_gib_per_replica=32), CATALOG)
    assert round(enterprise._unit_seconds(732 * 3600)[0].dollars, 2) == 2285.60
    scale = billing_for(cloud_run(), CATALOG)
    assert round(scale._unit_seconds(732 * 3600)[0].dollars, 2) == 873.89
    assert not any("derived" in line for line in enterprise._unit_seconds(60)[1])


def test_worked_storage_counts_the_default_backup():
    """500 GB compressed and its one default backup at $25.30 per TB-month: 1 TB, $25.30 — the
    docs' Basic example (500 GB of data + 500 GB of backup: $25.30)."""
    rules = billing_for(
        cloud_run(cloud_tier="basic", replicas=1, memory_gib_per_replica=8), CATALOG
    )
    assert rules.storage_per_month(500e9).cost.dollars == pytest.approx(25.30)
    assert rules.storage_per_month(None).cost.dollars is None


def test_worked_a_month_of_a_pattern():
    """100 queries a day of 2 s over 8 active hours: 0.056 compute-hours a day, one service
    keeps up. Each query keeps it up 2 s + 900 s; 100 x 902 s is more than the day's 8 h plus one
    tail (29,702 s), so it is up 29,702 s a day: 4 units x 29,702/3600 h x $0.29846 x 730/24 days
    = $299.60."""
    rules = billing_for(cloud_run(), CATALOG)
    month = rules.month(
        Pattern(queries_per_day=100, active_hours=8), rules.marginal(timed(0, 2)), 2
    )
    assert month.cost.dollars == pytest.approx(4 * 29702 / 3600 * SCALE * 730 / 24)
    assert round(month.cost.dollars, 2) == 299.60


def test_worked_a_service_that_never_idles_is_billed_every_hour():
    """Idling turned off (`idling: false`), the same 4-unit Scale service. The run is charged
    the stretch it held the service, first query to last, gaps included and no idle tail: the
    10 minutes of queries are 4 x 10/60 h x $0.29846 = $0.19897 (idling after 15 minutes, the
    tail made it $0.49743). Two one-minute bursts 20 minutes apart are 10:00 to 10:21, one
    stretch: 4 x 21/60 x $0.29846 = $0.41784 (idling, two stretches of 16 minutes). A month is the
    service up around the clock whatever the pattern: 4 units x 24 h x 730/24 days x $0.29846 =
    4 x 730 x $0.29846 = $871.50 (the docs' own example of this service, at 732 h: $873.89)."""
    rules = billing_for(cloud_run(idle_minutes=None, idling=False), CATALOG)
    bill = rules.run_bill(TEN_MINUTES)
    assert round(bill.cost.dollars, 5) == 0.19897
    assert "idling turned off" in bill.explain[0] and "no idle tail" in bill.explain[0]
    bursts = rules.run_bill([timed(0, 60), timed(1200, 60)])
    assert bursts.cost.dollars == pytest.approx(4 * 21 / 60 * SCALE)
    assert round(bursts.cost.dollars, 5) == 0.41784
    assert rules.bill_driver() is None and rules.price_run(TEN_MINUTES).sensitivity is None
    for queries_per_day in (1, 100):  # the pattern does not move it: every hour is billed
        month = rules.month(
            Pattern(queries_per_day=queries_per_day, active_hours=8), rules.marginal(timed(0, 2)), 2
        )
        assert round(month.cost.dollars, 2) == 871.50
    # The marginal cost of a query on the running service is unchanged.
    assert rules.marginal(timed(0, 2.0)).dollars == pytest.approx(4 * 2.0 / 3600 * SCALE)
    # A run recorded before `idling` existed is taken to idle, as it was priced then.
    assert not billing_for(cloud_run(), CATALOG).never_idles


def test_never_idling_with_an_idle_timeout_is_refused_in_one_line():
    from harness.engines.clickhouse import ClickHouseEngine, ClickHouseSettings

    with pytest.raises(ConfigError, match=r"^engines\.clickhouse\.idle_minutes: .*idling: false"):
        ClickHouseEngine(ClickHouseSettings(host="h", idling=False, idle_minutes=15))


def test_unknowns_are_none_never_zero():
    # A self-managed server: its machines are not visible.
    server = billing_for(cloud_run(cloud_tier=None), CATALOG)
    for cost in (
        server.run_bill(TEN_MINUTES).cost,
        server.marginal(timed(0, 1)),
        server.storage_per_month(1e9).cost,
    ):
        assert cost.dollars is None and "self-managed" in cost.note
    assert server.bill_driver() is None
    # A Cloud service whose idle timeout or size was not recorded.
    no_idle = billing_for(cloud_run(idle_minutes=None), CATALOG).run_bill(TEN_MINUTES)
    assert no_idle.cost.dollars is None and "idle_minutes" in no_idle.cost.note
    no_size = billing_for(cloud_run(replicas=None), CATALOG)
    assert no_size.run_bill(TEN_MINUTES).cost.dollars is None
    assert "memory_gib_per_replica" in no_size.marginal(timed(0, 1)).note
    # A tier the catalog has no price for names the key to set.
    data = copy.deepcopy(CATALOG.section("clickhouse"))
    del data["cloud"]["compute_unit_hour"]["basic"]
    rules = billing_for(cloud_run(cloud_tier="basic"), Catalog({"clickhouse": data}, "test"))
    cost = rules.run_bill(TEN_MINUTES).cost
    assert cost.dollars is None and "clickhouse.cloud.compute_unit_hour.basic" in cost.note


def test_embedded_mode_recorded_explicitly_is_still_the_host_vm():
    settings = {"mode": "embedded", "threads": 2, "memory_limit": "6GiB", "path": "x"}
    rules = billing_for(
        stored_rows.run(engine="clickhouse", engine_settings=settings, started_at=AT), CATALOG
    )
    assert type(rules).__name__ == "ClickHouseBilling"
    assert rules.machine()[0].name == "m6i.large"


def test_a_catalog_without_cloud_prices_is_a_one_line_error():
    # A catalog file whose clickhouse section predates ClickHouse Cloud (host_machines only).
    old = Catalog({"clickhouse": {"host_machines": "duckdb"}}, "mine.yaml")
    with pytest.raises(ConfigError, match=r"^mine.yaml: clickhouse.cloud: missing"):
        billing_for(cloud_run(), old)
    assert billing_for(run(memory_limit="6GiB"), old).machine()[0].name == "m6i.large"
