"""A month of a team's own pattern prices the capacity the volume needs (issue 25, item 10):
worked examples by hand.

The rule (harness/pricing.py `capacity_needed`): the compute-hours a day the pattern needs =
queries a day x the mix's measured seconds a query (on the capacity the run had) / 3600; spread
over the active hours, the copies of that capacity needed = compute-hours / active hours, rounded
up. Each engine's own month() prices that many machines, clusters, RPUs or slots. The issue's
shape: 50,000 queries a day over 24 h at ~6.3 s a query = 87.5 compute-hours a day = 3.65 busy
all day: 4 machines, not one.

Vendor pages, each read 2026-12-06:
- EC2 = https://repost.aws/knowledge-center/ec2-instance-hour-billing: Linux instances are
  billed per second, with a 60 s minimum each time one enters the running state.
- MULTICLUSTER = https://docs.snowflake.com/en/user-guide/warehouses-multicluster: multi-cluster
  warehouses need Enterprise Edition or higher; at most 300 clusters for XS to M, 160 L, 80 XL,
  40 2XL, 20 3XL, 10 4XL to 6XL, and 10 unless the limit is raised.
- RS_CAPACITY = https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-capacity.html: base
  capacity 8 to 512 RPU (128 by default), up to 1024 in US East (N. Virginia) and four other
  Regions.
- RS_BILLING = https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-billing.html: RPU-hours
  billed per second while queries run, 60 s minimum, $0.375 per RPU-hour in US East.
- RS_SCALING = https://docs.aws.amazon.com/redshift/latest/dg/r_max_concurrency_scaling_clusters.html:
  max_concurrency_scaling_clusters is 1 by default, 0 to 10 (an adjustable quota).
- RS_PRICING = https://aws.amazon.com/redshift/pricing/ (as gathered 2026-11-25 for the design
  notes): concurrency scaling billed per second at the on-demand rate, one hour of free credit
  accrued per 24 hours the main cluster runs.
- BQ_PRICING = https://cloud.google.com/bigquery/pricing#on_demand_pricing: on demand bills bytes
  processed, not capacity.
- BQ_AUTOSCALE = https://cloud.google.com/bigquery/docs/slots-autoscaling-intro: slots autoscale
  in multiples of 50, billed for the slots scaled to.
"""

from __future__ import annotations

import pytest
import stored_rows

from harness.engines import billing_for
from harness.pricing import Catalog, Cost, capacity_needed, load_catalog
from harness.settings import Pattern
from harness.store.rows import StoredRun

CATALOG = load_catalog()
DAYS = 730 / 24
ISSUE = Pattern(queries_per_day=50_000, active_hours=24)  # the issue's pattern
SECONDS = 6.3  # the issue's mix: ~6.3 s a query
FREE_COST = Cost(0.0, "modelled")


def test_the_issues_shape_needs_88_compute_hours_a_day_so_4_copies():
    # 50,000 x 6.3 s / 3600 = 87.5 compute-hours a day; / 24 h = 3.65 busy all day; 4.
    need = capacity_needed(ISSUE, SECONDS)
    assert need.compute_hours == pytest.approx(87.5)
    assert need.busy == pytest.approx(3.6458, abs=1e-4)
    assert need.units == 4
    # Exactly full is not rounded up, a little over is; no queries need nothing.
    assert capacity_needed(Pattern(3600, 1), 2.0).units == 2
    assert capacity_needed(Pattern(3601, 1), 2.0).units == 3
    assert capacity_needed(Pattern(0, 8), 2.0).units == 0
    # A light pattern still needs one.
    assert capacity_needed(Pattern(1000, 8), 2.0).units == 1


# -- DuckDB: VMs of the run's size --------------------------------------------------------------
def duckdb(threads: int = 2, memory_limit: str = "18.8 GiB") -> StoredRun:
    settings = {"threads": threads, "memory_limit": memory_limit}
    return stored_rows.run(engine="duckdb", engine_settings=settings)


def test_worked_duckdb_the_issues_pattern_is_4_vms_not_one():
    # A run on 2 threads with the 18.8 GiB default limit is an m6i.2xlarge (8 vCPU, 32 GiB,
    # $0.384/h in the catalog, unconfirmed on AWS's page). 4 of them, each up 24 h a day (EC2:
    # per second, 60 s minimum a start): 4 x 24 x 30.42 x $0.384 = $1,121.28 a month. The old
    # projection priced one VM all month ($280.32 for this machine; $70.08 for the m6i.large it
    # used to assume): 4x low.
    month = billing_for(duckdb(), CATALOG).month(ISSUE, FREE_COST, SECONDS)
    assert month.cost.dollars == pytest.approx(4 * 24 * DAYS * 0.384)
    assert month.cost.dollars == pytest.approx(1121.28, abs=0.01)
    assert month.cost.basis == "modelled"
    text = "\n".join(month.explain)
    assert "87.5 compute-hours a day" in text
    assert "needs 3.65 x m6i.2xlarge busy all 24 active hours, so 4" in text
    assert "4 x m6i.2xlarge for 24 h a day" in text
    # One machine with 4x the vCPU and memory is named, not priced (DuckDB's speed on it
    # was not measured): 32 vCPU, 128 GiB is an m6i.8xlarge.
    assert "or one m6i.8xlarge" in text and "not priced" in text


def test_worked_duckdb_a_light_pattern_is_one_vm_for_its_active_hours():
    # 1,000 queries of 2 s over 8 h: 0.56 compute-hours a day, one VM, up the 8 active hours:
    # 8 x 30.42 x $0.384 = $93.44 a month.
    month = billing_for(duckdb(), CATALOG).month(Pattern(1000, 8), FREE_COST, 2.0)
    assert month.cost.dollars == pytest.approx(8 * DAYS * 0.384)
    assert any("1 x m6i.2xlarge for 8 h a day" in line for line in month.explain)


def test_duckdb_without_recorded_threads_is_unknown():
    month = billing_for(duckdb(threads=None), CATALOG).month(ISSUE, FREE_COST, SECONDS)
    assert month.cost.dollars is None and month.cost.basis == "unknown"


# -- Snowflake: clusters of the run's size ------------------------------------------------------
def snowflake(**settings) -> StoredRun:
    settings = {"warehouse_size": "X-Small", "auto_suspend_seconds": 600, **settings}
    return stored_rows.run(engine="snowflake", engine_settings=settings)


def test_worked_snowflake_the_issues_pattern_is_4_clusters_at_enterprise():
    # 4 XS clusters (1 credit/h each, warehouses-overview): the first up 24 h + the 600 s
    # AUTO_SUSPEND tail, the other three 24 h + 120 s (load checks): 345,600 + 600 + 360 =
    # 346,560 s = 96.27 cluster-hours a day. Multi-cluster needs Enterprise (MULTICLUSTER), $3
    # a credit: 96.27 x $3 x 30.42 = $8,784.33 a month.
    month = billing_for(snowflake(), CATALOG).month(ISSUE, FREE_COST, SECONDS)
    daily_hours = (4 * 86_400 + 600 + 3 * 120) / 3600
    assert month.cost.dollars == pytest.approx(daily_hours * 3.0 * DAYS)
    assert month.cost.dollars == pytest.approx(8784.33, abs=0.01)
    text = "\n".join(month.explain)
    assert "needs 3.65 XS clusters busy all 24 active hours, so 4" in text
    assert "4 x XS clusters" in text
    assert "edition: Enterprise" in text
    assert "max_cluster_count 1: at 4 or more" in text  # the run's warehouse would queue


def test_worked_snowflake_a_light_pattern_keeps_one_cluster_and_its_tail():
    # 1,000 queries of 2 s over 8 h: one cluster keeps up; the warehouse stays up the 8 h and
    # one 602 s tail: (28,800 + 602) / 3600 x 1 credit x $2 (Standard) x 30.42 = $496.83 (as in
    # tests/test_pricing.py).
    month = billing_for(snowflake(), CATALOG).month(Pattern(1000, 8), FREE_COST, 2.0)
    assert month.cost.dollars == pytest.approx((28_800 + 602) / 3600 * 2 * DAYS)
    assert "one cluster keeps up" in month.explain[0]


def test_worked_snowflake_beyond_a_sizes_cluster_limit_says_so():
    # A 4XL may have at most 10 clusters (MULTICLUSTER): 50,000 queries of 20 s over 24 h need
    # 277.8 compute-hours a day, 11.6 busy, 12 clusters: more than a 4XL warehouse can have.
    month = billing_for(snowflake(warehouse_size="X4LARGE"), CATALOG).month(ISSUE, FREE_COST, 20.0)
    text = "\n".join(month.explain)
    assert "12 x 4XL clusters" in text
    assert "a 4XL warehouse can have at most 10 clusters" in text
    # An XS may have 300, but 10 unless the limit is raised.
    month = billing_for(snowflake(), CATALOG).month(ISSUE, FREE_COST, 20.0)
    assert any("limited to 10 unless the limit is raised" in e for e in month.explain)


# -- Redshift: Serverless RPUs, provisioned clusters ---------------------------------------------
def serverless(base_rpu: int = 8) -> StoredRun:
    return stored_rows.run(engine="redshift", engine_settings={"base_rpu": base_rpu})


def test_worked_serverless_the_issues_pattern_is_4_x_the_base_rpu():
    # Base 8 RPU, 4 copies busy: 32 RPU all 24 h, never idle: 768 RPU-hours a day x $0.375
    # (RS_BILLING) = $288 a day, x 30.42 = $8,760.00 a month (one 60 s minimum per active
    # period, the headline). A minimum per query at the base: 50,000 x 60 s x 8 RPU = 6,666.7
    # RPU-hours a day = $76,041.67 a month. The old projection (8 RPU, the day one period) gave
    # 86,404.6 s x 8 RPU = $2,190.12: 4x low.
    month = billing_for(serverless(), CATALOG).month(ISSUE, FREE_COST, SECONDS)
    assert month.cost.dollars == pytest.approx(32 * 24 * 0.375 * DAYS)
    assert month.cost.dollars == pytest.approx(8760.00, abs=0.01)
    assert "$76,041.67" in month.cost.note
    text = "\n".join(month.explain)
    assert "needs 3.65 x 8 RPU busy all 24 active hours, so 4" in text
    assert "4 x the base 8 RPU = 32 RPU for all 24 active hours a day: 768 RPU-hours" in text


def test_worked_serverless_is_held_to_the_1024_rpu_maximum():
    # Base 512 x 4 = 2,048 RPU, more than the 1024 RPU of RS_CAPACITY (US East): priced at
    # 1024 RPU x 24 h x $0.375 x 30.42 = $280,320 a month, and said to be a lower bound.
    month = billing_for(serverless(512), CATALOG).month(ISSUE, FREE_COST, SECONDS)
    assert month.cost.dollars == pytest.approx(1024 * 24 * 0.375 * DAYS)
    text = "\n".join(month.explain)
    assert "= 2048 RPU, held to 1024" in text and "lower bound" in text


def test_worked_serverless_a_light_pattern_keeps_the_base_model():
    # 1,000 queries of 2 s over 8 h need 0.56 compute-hours a day: the base keeps up, and the
    # month is tests/test_billing_redshift.py's $729.32 (one active period a day at 8 RPU).
    month = billing_for(serverless(), CATALOG).month(Pattern(1000, 8), FREE_COST, 2.0)
    assert month.cost.dollars == pytest.approx((999 * 28.8 + 2) * 8 / 3600 * 0.375 * DAYS)
    assert "the base capacity keeps up" in month.explain[0]


def test_worked_provisioned_beyond_one_cluster_adds_concurrency_scaling():
    # 2 x ra3.xlplus ($1.086 a node-hour, catalog) all 730 h: $1,585.56. The pattern needs 4
    # clusters: 3 concurrency scaling clusters of 2 nodes for 24 h a day (RS_PRICING: per
    # second at the on-demand rate), 3 x 24 x 30.42 = 2,190 cluster-hours, less 30.42 free (an
    # hour a day): 2,159.58 x 2 x $1.086 = $4,690.61. Together $6,276.17. RS_SCALING: 1 scaling
    # cluster by default, so the bill says to raise it to 3.
    settings = {"node_type": "ra3.xlplus", "nodes": 2}
    run = stored_rows.run(engine="redshift", engine_settings=settings)
    month = billing_for(run, CATALOG).month(ISSUE, FREE_COST, SECONDS)
    main = 730 * 2 * 1.086
    scaling = (3 * 24 * DAYS - DAYS) * 2 * 1.086
    assert month.cost.dollars == pytest.approx(main + scaling)
    assert month.cost.dollars == pytest.approx(6276.17, abs=0.01)
    text = "\n".join(month.explain)
    assert "needs 3.65 x 2-node ra3.xlplus clusters busy all 24 active hours, so 4" in text
    assert "3 concurrency scaling cluster(s)" in text
    assert "max_concurrency_scaling_clusters is 1 by default: set it to at least 3" in text
    # A pattern one cluster keeps up with is the 730 hours alone.
    light = billing_for(run, CATALOG).month(Pattern(1000, 8), FREE_COST, 2.0)
    assert light.cost.dollars == pytest.approx(main)


# -- BigQuery: bytes on demand, slots on Editions -------------------------------------------------
BIGQUERY = stored_rows.run(engine="bigquery", engine_settings={})


def editions() -> Catalog:
    return Catalog({"bigquery": dict(CATALOG.section("bigquery"), model="editions")}, "test")


def test_worked_bigquery_on_demand_needs_no_capacity_bytes_scale_linearly():
    # 1 GiB billed a query at $6.25 a TiB (BQ_PRICING): 50,000 x 30.42 x $6.25 / 1024 =
    # $9,282.43 a month whatever the speed; the compute-hours are stated, not priced.
    per_query = Cost(6.25 / 1024, "measured")
    month = billing_for(BIGQUERY, CATALOG).month(ISSUE, per_query, SECONDS)
    assert month.cost.dollars == pytest.approx(6.25 / 1024 * 50_000 * DAYS)
    assert month.cost.dollars == pytest.approx(9282.43, abs=0.01)
    assert "no capacity to provision: the 87.5 compute-hours a day" in month.explain[0]
    assert "scale linearly" in month.explain[0]


def test_worked_bigquery_editions_the_slots_the_pattern_keeps_busy():
    # Each query uses 200 slot-seconds (its marginal cost: 200 / 3600 slot-hours x $0.04,
    # Standard). 50,000 x 200 / 86,400 = 115.7 slots busy all day, autoscaled to 150 (multiples
    # of 50, BQ_AUTOSCALE), held 24 h and the 60 s window: 150 x 86,460 / 3600 = 3,602.5
    # slot-hours a day x $0.04 x 30.42 = $4,383.04 a month.
    per_query = Cost(200 / 3600 * 0.04, "modelled")
    month = billing_for(BIGQUERY, editions()).month(ISSUE, per_query, SECONDS)
    assert month.cost.dollars == pytest.approx(150 * 86_460 / 3600 * 0.04 * DAYS)
    assert month.cost.dollars == pytest.approx(4383.04, abs=0.01)
    text = "\n".join(month.explain)
    assert "115.7 slots busy all 24 active hours, autoscaled to 150" in text


def test_worked_bigquery_editions_within_one_step_keeps_the_hold_model():
    # 1,000 queries of 2 s and 20 slot-seconds over 8 h: 0.7 slots busy, within one 50-slot
    # step: each job holds 50 slots for the 60 s window; jobs 28.8 s apart keep them up all 8 h
    # and one window: (28,800 + 60) x 50 / 3600 x $0.04 x 30.42 = $487.67 a month.
    per_query = Cost(20 / 3600 * 0.04, "modelled")
    month = billing_for(BIGQUERY, editions()).month(Pattern(1000, 8), per_query, 2.0)
    assert month.cost.dollars == pytest.approx((28_800 + 60) * 50 / 3600 * 0.04 * DAYS)
    assert "the mix keeps 0.694 slots busy" in month.explain[0]


# -- the real CLI ---------------------------------------------------------------------------------
def test_whbench_project_states_and_prices_the_capacity(whbench, make_config):
    # A DuckDB run of tpch at scale 0.01, then the issue's pattern through `whbench project`:
    # the month names the compute-hours, the machines they need and prices exactly those.
    import re

    config = make_config(runs=1)
    ran = whbench("run", "--config", config, "--quiet")
    assert ran.code == 0, ran.stderr
    result = whbench(
        "project", "--config", config, "--queries-per-day", 50000, "--active-hours", 24, "--json"
    )
    assert result.code == 0, result.stderr
    (month,) = result.json()["months"]
    text = "\n".join(month["explain"])
    assert "compute-hours a day at the measured speed" in text
    found = re.search(r"needs \S+ x (m6i\.\w+) busy all 24 active hours, so (\d+)", text)
    assert found, text
    machine, count = found.group(1), int(found.group(2))
    assert count >= 1
    assert f"{count} x {machine} for 24 h a day" in text
    hour = CATALOG.section("duckdb")["machines"][machine]["hour"]["price"]
    storage = [line for line in month["explain"] if line.startswith("storage:")]
    assert storage  # the month adds the stored data on a disk
    compute = count * 24 * DAYS * hour
    assert month["dollars"] > compute and month["dollars"] < compute + 1  # + the tiny disk
    # A volume that keeps 3.5 of those machines busy all day (from the measured time a query
    # the month states) needs 4 of them.
    number, unit = re.search(r"this run's query mix: (\S+) (ms|s)\b", text).groups()
    seconds = float(number) / (1000 if unit == "ms" else 1)
    volume = round(3.5 * 86_400 / seconds)
    busier = whbench(
        "project", "--config", config, "--queries-per-day", volume, "--active-hours", 24, "--json"
    )
    assert busier.code == 0, busier.stderr
    (month,) = busier.json()["months"]
    text = "\n".join(month["explain"])
    assert re.search(r"needs 3\.\d+ x m6i\.\w+ busy all 24 active hours, so 4", text), text
    assert f"4 x {machine} for 24 h a day" in text
    assert "or one " in text  # the one larger machine, named and not priced
    assert month["dollars"] > 4 * 24 * DAYS * hour
