"""Usage -> dollars: each engine's billing rules, the basis of every figure, re-pricing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import stored_rows
import yaml

from harness.engines import REGISTRY, billing_for
from harness.errors import ConfigError
from harness.pricing import MIB, TIB, Cost, load_catalog
from harness.store.rows import StoredAttempt, StoredRun

CATALOG = load_catalog()


def attempt(**usage) -> StoredAttempt:
    """A successful attempt of one second, its usage as given (the rest not reported)."""
    return stored_rows.attempt(**{"client_seconds": 1.0, **usage})


def engine_run(engine: str, settings: dict | None = None, **fields) -> StoredRun:
    return stored_rows.run(engine=engine, engine_settings=settings or {}, **fields)


def cost(engine, run_settings=None, **usage) -> Cost:
    return billing_for(engine_run(engine, run_settings), CATALOG).marginal(attempt(**usage))


def bundled_prices() -> dict:
    """Every engine's own part of the price catalog, as one catalog (a copy to change)."""
    import copy

    from harness.engines import REGISTRY

    catalog = load_catalog()
    return copy.deepcopy({engine: catalog.section(engine) for engine in REGISTRY})


def test_every_price_in_the_bundled_catalog_has_unit_source_and_date():
    data = bundled_prices()

    def prices(value):
        if isinstance(value, dict) and "price" in value:
            yield value
        elif isinstance(value, dict):
            for inner in value.values():
                yield from prices(inner)

    found = list(prices(data))
    assert len(found) >= 10
    assert all(p["unit"] and p["source"].startswith("https://") and p["as_of"] for p in found)


def test_bigquery_bills_bytes_billed_per_tib():
    c = cost("bigquery", bytes_billed=TIB, bytes_scanned=TIB)
    assert c == Cost(6.25, "measured", "2026-11-25")


def test_bigquery_models_from_processed_bytes_with_mb_rounding_and_10_mb_minimum():
    tiny = cost("bigquery", bytes_scanned=1)
    assert tiny.basis == "modelled" and tiny.dollars == pytest.approx(10 * MIB / TIB * 6.25)
    odd = cost("bigquery", bytes_scanned=20 * MIB + 1)
    assert odd.dollars == pytest.approx(21 * MIB / TIB * 6.25)


def test_bigquery_cached_and_failed_queries_are_free_and_missing_usage_is_unknown():
    assert cost("bigquery", bytes_billed=TIB, cache_hit=True).dollars == 0
    assert cost("bigquery", status="error").dollars == 0
    assert cost("bigquery") == Cost(None, "unknown", "2026-11-25")


def test_duckdb_is_priced_as_the_machine_it_ran_on():
    # 2 threads, 6.2 GiB: m6i.large (tests/test_billing_duckdb.py has the worked examples)
    two = {"threads": 2, "memory_limit": "6.2 GiB"}
    assert cost("duckdb", two, client_seconds=3600) == Cost(0.096, "modelled", "2026-12-06")


@pytest.mark.parametrize("seconds", [0.0, 0.5, 10.0, 1e6])
def test_costs_are_never_negative_and_grow_with_usage(seconds):
    for engine, settings, usage in (
        ("duckdb", {"threads": 2, "memory_limit": "6.2 GiB"}, "client_seconds"),
        ("redshift", {}, "engine_seconds"),
        ("snowflake", {"warehouse_size": "L"}, "warehouse_seconds"),
        ("bigquery", {}, "bytes_scanned"),
    ):
        low = cost(engine, settings, **{usage: seconds}).dollars
        high = cost(engine, settings, **{usage: seconds * 2 + 1}).dollars
        assert 0 <= low <= high


def test_sums_keep_the_weakest_basis():
    measured, modelled = Cost(1.0, "measured"), Cost(2.0, "modelled")
    assert (measured + measured).basis == "measured"
    assert (measured + modelled) == Cost(3.0, "modelled")
    assert (measured + Cost(None, "unknown")).dollars is None


def test_a_malformed_price_catalog_names_the_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("duckdb:\n  machine_hour: {price: [1.0\n")
    with pytest.raises(
        ConfigError, match=r"p\.yaml: line 3, column 1: malformed YAML in the price"
    ):
        load_catalog(path)


def test_every_bundled_catalog_passes_the_strict_reader_and_its_keys_are_read():
    from pathlib import Path

    import harness.engines
    from harness.engines import REGISTRY
    from harness.pricing import _read_catalog

    engines = Path(harness.engines.__file__).parent
    for engine in REGISTRY:
        catalog = engines / engine / "pricing.yaml"
        section = _read_catalog(catalog, user=True)[engine]
        # Every key of a section is one its billing rules read: none is there for nothing.
        rules = (Path(catalog).parent / "billing.py").read_text()
        for key in section:
            assert f'"{key}"' in rules, (engine, key)
    # An unquoted comma in a flow mapping once cut this unit and made stray keys.
    unit = CATALOG.price("duckdb", "machines", "m6i.large", "hour").unit
    assert unit == "USD per hour (m6i.large, 2 vCPU, 8 GiB, Linux, on demand)"


def test_each_engines_prices_are_found_where_pricing_looks():
    # harness.pricing finds an engine's part of the catalog by path (it must not import the
    # registry, which imports the engines, which import it): harness/engines/<name>/.
    from harness.engines import REGISTRY
    from harness.pricing import _bundled_path

    for name, target in REGISTRY.items():
        assert target.partition(":")[0] == f"harness.engines.{name}", name
        assert _bundled_path(name) is not None, name
    assert _bundled_path("oracle") is None and _bundled_path("../engines") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "duckdb:\n  storage_gb_month:\n    {price: 0.08, unit: USD per GB (gp3, 2^30 B),"
            "\n     as_of: '2026-11-25', source: x}\n",
            r"line 3: unknown key '2\^30 B\)' in the price duckdb\.storage_gb_month; an unquoted",
        ),
        (
            "redshift:\n  minimum_second: 60\n",
            r"line 2: unknown key 'minimum_second' in redshift; did you mean 'minimum_seconds'\?",
        ),
        (
            "duckdb:\n  storage_gb_month: {price: 1, unit: u, source: s, as_of: d, per: hour}\n",
            r"line 2: unknown key 'per' in the price duckdb\.storage_gb_month",
        ),
        (
            "duckdb:\n  machine_hour: {price: 1, unit: u, source: s, as_of: d}\n"
            "  machine_hour: {price: 2, unit: u, source: s, as_of: d}\n",
            r"line 3, column 3: .*duplicate key 'machine_hour'",
        ),
        ("snowflake:\n  edition:\n", r"line 2: snowflake\.edition has no value"),
    ],
)
def test_unknown_and_duplicate_catalog_keys_name_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"p\.yaml: " + message):
        load_catalog(path)


def test_a_price_without_its_source_is_refused(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("duckdb: {storage_gb_month: {price: 1.0, unit: USD per hour}}\n")
    with pytest.raises(ConfigError, match="needs price, unit, source and as_of"):
        load_catalog(path).price("duckdb", "storage_gb_month")


def test_cost_command_reprices_a_stored_run(whbench, make_config, workdir):
    config = make_config()
    (run,) = whbench("run", "--config", config, "--json", "--quiet", "-q", "q06").json()
    listed = whbench("cost", run["run_id"], "--config", config, "--json").json()
    default = listed["runs"][0]["total"]
    assert default["basis"] == "modelled" and default["dollars"] > 0
    assert listed["engines"]["duckdb"]["dollars"] == default["dollars"]
    cheaper = workdir / "cheap.yaml"
    catalog = bundled_prices()
    for machine in catalog["duckdb"]["machines"].values():
        machine["hour"]["price"] /= 2
    # A catalog file with only the engine it changes: the others keep the bundled prices.
    cheaper.write_text(yaml.safe_dump({"duckdb": catalog["duckdb"]}))
    again = whbench("cost", run["run_id"], "--config", config, "--json", "--pricing", cheaper)
    repriced = again.json()["runs"][0]["total"]
    assert repriced["dollars"] == pytest.approx(default["dollars"] / 2)


def test_budget_guard_skips_what_would_cross_the_limit_and_exits_non_zero(
    whbench, make_config, workdir
):
    config = make_config(runs=1)
    assert whbench("run", "--config", config, "--quiet").code == 0  # history to estimate from
    result = whbench("run", "--config", config, "--json", "--quiet", "--max-cost", "1e-12")
    assert result.code == 1 and "Traceback" not in result.stderr
    (run,) = result.json()
    assert {q["status"] for q in run["queries"]} == {"skipped"}
    assert (
        "budget:" in run["queries"][0]["error"] and "earlier attempts" in run["queries"][0]["error"]
    )
    generous = whbench("run", "--config", config, "--json", "--quiet", "--max-cost", "100")
    assert generous.code == 0
    assert {q["status"] for q in generous.json()[0]["queries"]} == {"ok"}


def test_budget_counts_what_was_spent(whbench, make_config):
    from harness.budget import Budget
    from harness.engines.base import Usage
    from harness.store import Attempt

    budget = Budget(1.0, CATALOG, store=None)
    budget.start("bigquery", {}, "tpch", 1.0)
    billed = Attempt("q01", 1, "cold", "ok", None, 1.0, usage=Usage(bytes_billed=TIB // 10))
    budget.add(billed, estimate=0.0)
    assert budget.spent == pytest.approx(0.625)
    assert budget.allows(0.3) and not budget.allows(0.4)
    failed = Attempt("q02", 1, "cold", "error", None, error="x")  # free on BigQuery
    budget.add(failed, estimate=0.1)
    assert budget.spent == pytest.approx(0.625)


def test_estimate_rests_on_stored_runs_or_says_it_cannot(whbench, make_config):
    config = make_config(runs=1)
    blind = whbench("estimate", "--config", config, "--json").json()["estimates"][0]
    assert blind["dollars"] is None and blind["from"] == [
        "nothing to go on (no dry run, no earlier runs)"
    ]
    assert whbench("run", "--config", config, "--quiet").code == 0
    informed = whbench("estimate", "--config", config, "--json", "--runs", "3").json()
    (item,) = informed["estimates"]
    assert item["dollars"] > 0 and item["runs"] == 3 and item["queries"] == 22
    assert item["from"] == ["1 earlier attempts"]
    assert informed["engines"] == {"duckdb": item["dollars"]}
    assert informed["workloads"] == {"tpch": item["dollars"]}


def test_estimate_asks_each_engine_what_a_run_would_record_or_says_it_could_not(
    whbench, make_config, stand_in, workdir
):
    # Reached: the engine describes itself as a run records it (warehouse size and all), so the
    # estimate rests on the engine's minimum charge rather than on nothing.
    reached = make_config(runs=1, engines={"snowflake": stand_in("snowflake")})
    (item,) = whbench("estimate", "--config", reached, "--json", "-q", "q06").json()["estimates"]
    assert item["dollars"] is not None and item["from"] == [
        "the engine's minimum charge (no earlier runs)"
    ]
    # Not reached (a credentials file that holds no credentials; one that is not there is
    # refused with the config): estimated from the settings, and it says so.
    empty = workdir / "not-credentials.json"
    empty.write_text("{}")
    unreachable = make_config(
        runs=1, engines={"bigquery": {"credentials_file": str(empty), "project": "p"}}
    )
    (item,) = whbench("estimate", "--config", unreachable, "--json", "-q", "q06").json()[
        "estimates"
    ]
    assert item["notes"][0].startswith("not connected (cannot set up BigQuery")


def test_price_performance_of_one_pass():

    run = engine_run("duckdb", {"threads": 2, "memory_limit": "6.2 GiB"})
    attempts = [attempt(query_id="q01", client_seconds=s) for s in (3600.0, 1800.0, 1800.0)]
    attempts += [attempt(query_id="q02", client_seconds=3600.0)]
    value = billing_for(run, CATALOG).price_performance(attempts)
    assert value.queries == 2 and value.seconds == 1800.0 + 3600.0
    assert value.cost.dollars == pytest.approx(0.096 * 1.5)
    assert value.queries_per_dollar == pytest.approx(2 / (0.096 * 1.5))
    assert value.time_x_cost == pytest.approx(5400.0 * 0.096 * 1.5)
    failed = billing_for(run, CATALOG).price_performance(
        [attempt(query_id="q01", status="error", client_seconds=None)]
    )
    assert failed.seconds is None and failed.cost.dollars is None  # no pass: unknown, not $0


def test_report_renders_with_another_catalog(whbench, make_config, workdir):
    config = make_config(runs=1)
    assert whbench("run", "--config", config, "--quiet", "-q", "q06").code == 0
    catalog = bundled_prices()
    for machine in catalog["duckdb"]["machines"].values():
        machine["hour"]["as_of"] = "2031-01-01"
    other = workdir / "other.yaml"
    other.write_text(yaml.safe_dump(catalog))
    assert whbench("report", "--config", config, "-o", "a.html").code == 0
    assert whbench("report", "--config", config, "-o", "b.html", "--pricing", other).code == 0
    assert "2026-11-25" in (workdir / "a.html").read_text()
    assert "2031-01-01" in (workdir / "b.html").read_text()
    assert "Choose by data type" in (workdir / "b.html").read_text()


def test_bigquery_models_a_10_mb_minimum_per_table_referenced():
    two_tables = cost(
        "bigquery",
        bytes_scanned=1,
        sql="select * from lineitem join orders on l_orderkey = o_orderkey",
    )
    assert two_tables.dollars == pytest.approx(20 * MIB / TIB * 6.25)
    with_cte = cost(
        "bigquery",
        bytes_scanned=1,
        sql="with r as (select * from lineitem) select * from r, r as r2",
    )
    assert with_cte.dollars == pytest.approx(10 * MIB / TIB * 6.25)


def test_edge_cases_by_hand():

    # 0 bytes billed, as reported: BigQuery billed nothing (a cached or metadata-only query).
    assert cost("bigquery", bytes_billed=0) == Cost(0.0, "measured", "2026-11-25")
    # 0 bytes processed, modelled: still the 10 MB minimum.
    assert cost("bigquery", bytes_scanned=0).dollars == pytest.approx(10 * MIB / TIB * 6.25)
    # A Snowflake run whose warehouse size is unknown: unknown, never $0.
    run = engine_run("snowflake")
    blind = billing_for(run, CATALOG).price_run([timed("q01", 0, 1)])
    assert blind.total.dollars is None and blind.total.basis == "unknown"


@pytest.mark.parametrize(
    ("catalog", "message"),
    [
        (
            {
                "duckdb": {
                    "storage_gb_month": {"price": -1, "unit": "USD", "source": "s", "as_of": "d"}
                }
            },
            r"duckdb.storage_gb_month: price -1 must be zero or more",
        ),
        ({"oracle": {}}, r"unknown engine 'oracle'"),
        (
            {"snowflake": {"edition": "platinum", "credit": {}, "credits_per_hour": {"XS": 1}}},
            r"snowflake.credit.platinum: missing price",
        ),
    ],
)
def test_bad_price_catalogs_are_one_line_errors(tmp_path, catalog, message):

    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(catalog))
    with pytest.raises(ConfigError, match=message):
        loaded = load_catalog(path)
        engine = next(iter(catalog))
        billing_for(engine_run(engine, {"warehouse_size": "XS"}), loaded).price_run(
            [attempt(query_id="q01")]
        )


def test_a_budget_must_be_positive(whbench, make_config):
    result = whbench("run", "--config", make_config(max_cost=-5))
    assert result.code == 2 and "max_cost: must be a positive number" in result.stderr
    result = whbench("run", "--config", make_config(), "--max-cost", "0")
    assert result.code == 2 and "must be a positive number" in result.stderr


# -- worked examples, each computed by hand from the vendor's published rules -------------------
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def timed(query_id: str, start: float, end: float, **usage) -> StoredAttempt:
    """An attempt that ran from T0 + start to T0 + end seconds."""
    return attempt(
        query_id=query_id,
        started_at=T0 + timedelta(seconds=start),
        ended_at=T0 + timedelta(seconds=end),
        client_seconds=end - start,
        **usage,
    )


def snowflake_run(**settings) -> StoredRun:
    return engine_run("snowflake", {"warehouse_size": "X-Small", **settings})


# Snowflake, https://docs.snowflake.com/en/user-guide/cost-understanding-compute (read
# 2026-11-26): billed per second from resume to suspend, idle included, at least 60 s per resume;
# credits per hour by size, https://docs.snowflake.com/en/user-guide/warehouses-overview.
SNOWFLAKE_QUERIES = [timed("q01", 0, 10), timed("q02", 10, 30)]


def test_worked_snowflake_xs_one_resume_and_the_600_s_tail():
    # Queries from 0 s to 30 s, then idle until AUTO_SUSPEND (600 s) suspends it: 630 s of an
    # XS warehouse (1 credit/hour) at $2/credit = 630 / 3600 x 2 = $0.35.
    bill = billing_for(snowflake_run(auto_suspend_seconds=600), CATALOG).price_run(
        SNOWFLAKE_QUERIES
    )
    # as_of: the credit prices were re-checked on 2026-12-06 (snowflake/pricing.yaml).
    assert bill.total == Cost(pytest.approx(0.35), "modelled", "2026-12-06")
    # The marginal cost is the queries' own 30 s: 30 / 3600 x 2 = $0.01667.
    assert bill.marginal.dollars == pytest.approx(30 / 3600 * 2)


def test_worked_snowflake_suspended_after_the_run_bills_the_60_s_minimum():
    # suspend_after_run: whbench suspended it at 31 s; 31 s < the 60 s minimum per resume, so
    # 60 s are billed: 60 / 3600 x 1 credit x $2 = $0.0333.
    suspended = {"suspended_at": (T0 + timedelta(seconds=31)).isoformat()}
    run = replace(
        snowflake_run(auto_suspend_seconds=600, suspend_after_run=True), after_run=suspended
    )
    assert billing_for(run, CATALOG).price_run(SNOWFLAKE_QUERIES).total.dollars == pytest.approx(
        60 / 3600 * 2
    )


def test_worked_snowflake_cold_suspend_bills_a_resume_per_cold_attempt():
    # `cold: suspend`: whbench suspends and resumes the warehouse before each query's first
    # attempt ("the cache is dropped when the warehouse is suspended",
    # https://docs.snowflake.com/en/user-guide/performance-query-warehouse-cache, 2026-11-26).
    # q01 cold 0-10 s, hot 10-20 s; q02 cold 20-25 s. The first resume runs 0-20 s, billed the
    # 60 s minimum; the second from 20 s to the 600 s tail after 25 s: 605 s. 665 s at 1
    # credit/hour, $2/credit = $0.3694. Without the suspend it would be 625 s.
    run = snowflake_run(auto_suspend_seconds=600)
    queries = [
        timed("q01", 0, 10, phase="cold"),
        timed("q01", 10, 20, phase="hot"),
        timed("q02", 20, 25, phase="cold"),
    ]
    bill = billing_for(run, CATALOG).price_run(queries)
    assert bill.total.dollars == pytest.approx(665 / 3600 * 2)
    assert any("1 suspended for cold attempts" in line for line in bill.explain)
    lukewarm = [replace(q, phase="lukewarm" if q.phase == "cold" else "hot") for q in queries]
    assert billing_for(run, CATALOG).price_run(lukewarm).total.dollars == pytest.approx(
        625 / 3600 * 2
    )


def test_worked_snowflake_a_second_resume_after_a_pause_longer_than_auto_suspend():
    # AUTO_SUSPEND 60: q01 (0-1 s) keeps it up to 61 s; q02 starts at 3600 s, a second resume,
    # up to 3661 s. Billed 61 + 61 = 122 s at 1 credit/hour, $2/credit.
    run = snowflake_run(auto_suspend_seconds=60)
    queries = [timed("q01", 0, 1), timed("q02", 3600, 3601)]
    assert billing_for(run, CATALOG).price_run(queries).total.dollars == pytest.approx(
        122 / 3600 * 2
    )


def test_worked_snowflake_two_cluster_burst():
    # https://docs.snowflake.com/en/user-guide/warehouses-multicluster (read 2026-11-26): a
    # further cluster starts when queries queue (more than MAX_CONCURRENCY_LEVEL, 8 by default,
    # run at once) and stops after 2-3 one-minute checks of low load; every cluster bills.
    # Twelve queries at once for 100 s on an XS with max 2 clusters: cluster 1 runs 100 s + 600 s
    # tail = 700 s; cluster 2 runs the 100 s burst + 120 s of checks = 220 s. 920 s x 1 credit
    # /hour x $2 = $0.5111.
    run = snowflake_run(auto_suspend_seconds=600, min_clusters=1, max_clusters=2)
    burst = [timed(f"q{n:02}", 0, 100) for n in range(12)]
    # $3/credit, not $2: a multi-cluster warehouse needs Enterprise edition or higher
    # (warehouses-multicluster, read 2026-12-06; tests/test_billing_snowflake.py).
    assert billing_for(run, CATALOG).price_run(burst).total.dollars == pytest.approx(920 / 3600 * 3)
    # Eight at once fit one cluster: 700 s only.
    fits = [timed(f"q{n:02}", 0, 100) for n in range(8)]
    assert billing_for(run, CATALOG).price_run(fits).total.dollars == pytest.approx(700 / 3600 * 3)


def test_worked_snowflake_gen2_bills_its_own_rate():
    # https://docs.snowflake.com/en/user-guide/warehouses-gen2 and the Service Consumption Table
    # (read 2026-11-26): a Gen2 XS on AWS burns 1.35 credits/hour. The 630 s run above:
    # 630 / 3600 x 1.35 x $2 = $0.4725.
    run = snowflake_run(auto_suspend_seconds=600, warehouse_generation="2")
    assert billing_for(run, CATALOG).price_run(SNOWFLAKE_QUERIES).total.dollars == pytest.approx(
        0.4725
    )


def test_worked_snowflake_already_running_warehouse_has_no_resume_minimum():
    run = snowflake_run(auto_suspend_seconds=0, state_at_start="STARTED")
    bill = billing_for(run, CATALOG).price_run([timed("q01", 0, 10)])
    assert bill.total.dollars == pytest.approx(10 / 3600 * 2)
    assert any("already running" in line for line in bill.explain)


def test_worked_snowflake_cloud_services_beyond_ten_percent_are_modelled():
    # An hour of XS = 1 credit; 0.6 cloud-services credits, of which 10% of 1 = 0.1 is free:
    # 0.5 billed at $2. Snowflake applies this per account per day, so it is modelled.
    run = snowflake_run(auto_suspend_seconds=0)
    hour = [timed("q01", 0, 3600, cloud_services_credits=0.6)]
    bill = billing_for(run, CATALOG).price_run(hour)
    # as_of: the credit prices were re-checked on 2026-12-06 (snowflake/pricing.yaml).
    assert bill.total == Cost(pytest.approx(2.0 + 0.5 * 2.0), "modelled", "2026-12-06")


def test_measured_snowflake_metering_wins_only_when_complete():
    run = snowflake_run(auto_suspend_seconds=600)
    run = replace(run, run_usage={"credits_compute": 0.2, "complete": False, "pending": "not yet"})
    pending = billing_for(run, CATALOG).price_run(SNOWFLAKE_QUERIES)
    assert pending.total.basis == "modelled" and any("pending" in e for e in pending.explain)
    run = replace(run, run_usage={"credits_compute": 0.2, "complete": True, "fetched_at": "x"})
    # as_of: the credit prices were re-checked on 2026-12-06 (snowflake/pricing.yaml).
    assert billing_for(run, CATALOG).price_run(SNOWFLAKE_QUERIES).total == Cost(
        0.4, "measured", "2026-12-06"
    )


def editions(**overrides):
    data = bundled_prices()
    data["bigquery"] |= {"model": "editions", **overrides}
    from harness.pricing import Catalog

    return Catalog(data, "editions")


def test_worked_bigquery_editions_half_a_slot_second_bills_50_slots_for_60_s():
    # https://cloud.google.com/bigquery/docs/slots-autoscaling-intro (read 2026-11-26): the
    # autoscaler scales in steps of 50 slots, holds them at least 60 s, and bills the slots it
    # scaled to. A job of 500 slot-ms over 0.5 s: 50 slots x 60 s = 3000 slot-seconds
    # = 0.8333 slot-hours x $0.04 (Standard) = $0.0333, where its own slot-ms are $0.0000056.
    run = engine_run("bigquery")
    bill = billing_for(run, editions()).price_run([timed("q01", 0, 0.5, slot_ms=500)])
    assert bill.total.dollars == pytest.approx(3000 / 3600 * 0.04)
    assert bill.marginal.dollars == pytest.approx(0.5 / 3600 * 0.04)


def test_worked_bigquery_editions_bill_failed_jobs_too():
    # Same page: the charge applies to jobs that fail as well. A failed 2 s job reported no
    # slot-ms: the smallest scale-up, 50 slots for 60 s, is billed = $0.0333.
    run = engine_run("bigquery")
    failed = timed("q01", 0, 2, status="error")
    bill = billing_for(run, editions()).price_run([failed])
    assert bill.total.dollars == pytest.approx(3000 / 3600 * 0.04)
    assert any("one 50-slot step assumed" in line for line in bill.explain)


def test_worked_redshift_serverless_30_s_bills_the_60_s_minimum():
    # https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-billing.html (read
    # 2026-11-26): per second with a 60 s minimum. 30 s of queries at base 8 RPU: 60 s x 8 RPU
    # = 480 RPU-seconds = 0.1333 RPU-hours x $0.375 = $0.05.
    run = engine_run("redshift", {"base_rpu": 8})
    queries = [timed("q01", 0, 10), timed("q02", 10, 30)]
    assert billing_for(run, CATALOG).price_run(queries).total.dollars == pytest.approx(0.05)
    run = replace(run, run_usage={"rpu_seconds": 7200.0, "complete": True})  # 2 RPU-hours
    # as_of: the RPU-hour price re-checked 2026-12-06 (was 2026-11-25)
    assert billing_for(run, CATALOG).price_run(queries).total == Cost(
        0.75, "measured", "2026-12-06"
    )


def test_worked_redshift_provisioned_two_ra3_xlplus_nodes():
    # https://aws.amazon.com/redshift/pricing/ (read 2026-11-26): every node-hour the cluster
    # exists. A 30-minute query window on 2 x ra3.xlplus at $1.086: 0.5 x 2 x 1.086 = $1.086.
    run = engine_run("redshift", {"node_type": "ra3.xlplus", "nodes": 2})
    queries = [timed("q01", 0, 60), timed("q02", 1700, 1800)]
    assert billing_for(run, CATALOG).price_run(queries).total.dollars == pytest.approx(1.086)
    # dc2.large is priced; a node count left out is an error naming the setting.
    dc2 = engine_run("redshift", {"node_type": "dc2.large", "nodes": 1})
    assert billing_for(dc2, CATALOG).price_run(queries).total.dollars == pytest.approx(0.5 * 0.25)
    with pytest.raises(ConfigError, match=r"engines\.redshift\.nodes"):
        billing_for(replace(run, engine_settings={"node_type": "ra3.xlplus"}), CATALOG).price_run(
            queries
        )


def test_worked_redshift_concurrency_scaling_under_load():
    # https://aws.amazon.com/redshift/pricing/ (gathered 2026-11-25): a concurrency-scaling
    # cluster bills per second at the on-demand rate beyond the free daily credit. 120 s of it
    # beside 2 x ra3.xlplus: 120 / 3600 x 2 x $1.086 = $0.0724, an upper bound (the free credit
    # left is not visible from SQL). Serverless has no separate charge; nothing reported, none.
    from harness.engines.redshift import concurrency_scaling

    run = engine_run("redshift", {"node_type": "ra3.xlplus", "nodes": 2})
    rules = billing_for(run, CATALOG)
    scaled = rules.scale_out_bill({"concurrency_scaling_seconds": 120.0})
    assert scaled.cost.dollars == pytest.approx(120 / 3600 * 2 * 1.086)
    assert "at most" in scaled.explain[0]
    assert rules.scale_out_bill(None) is None
    serverless = engine_run("redshift", {"base_rpu": 8})
    assert (
        billing_for(serverless, CATALOG).scale_out_bill({"concurrency_scaling_seconds": 9}) is None
    )
    # SVCS_CONCURRENCY_SCALING_USAGE periods against a level from 10:05 to 10:20: a period of
    # 600 s of usage from 10:00 to 10:10 counts half; one from 10:15 to 10:16 (60 s) whole.
    at = datetime(2026, 11, 26, 10, 0)
    periods = [
        (at, at + timedelta(minutes=10), 40, 600),
        (at + timedelta(minutes=15), at + timedelta(minutes=16), 3, 60),
    ]
    used = concurrency_scaling(periods, at + timedelta(minutes=5), at + timedelta(minutes=20))
    assert used["concurrency_scaling_seconds"] == pytest.approx(300 + 60)
    assert used["concurrency_scaling_periods"] == 2


@pytest.mark.parametrize(
    ("engine", "dollars"),
    [
        # 10^12 bytes = 931.32 GiB x $0.02 logical active (cloud.google.com/bigquery/pricing)
        ("bigquery", 1e12 / 2**30 * 0.02),
        # $40 per TB-month on demand, the default storage_contract; $23 is the capacity price
        # (snowflake/pricing.yaml, read 2026-12-06; tests/test_billing_snowflake.py)
        ("snowflake", 40.0),
        # 931.32 GB (AWS's GB is 2^30) x $0.024 managed storage (aws.amazon.com/redshift/pricing)
        ("redshift", 1e12 / 2**30 * 0.024),
        # 931.32 GB x $0.08 EBS gp3 (aws.amazon.com/ebs/pricing)
        ("duckdb", 1e12 / 2**30 * 0.08),
    ],
)
def test_worked_storage_for_one_terabyte(engine, dollars):

    rules = billing_for(engine_run(engine), CATALOG)
    assert rules.storage_per_month(1e12).cost.dollars == pytest.approx(dollars)


def test_worked_monthly_projection_1000_queries_a_day_over_8_hours():
    from harness.settings import Pattern

    pattern = Pattern(queries_per_day=1000, active_hours=8, data_gb=0)
    days = 730 / 24
    two_seconds = [timed("q01", 0, 2, bytes_billed=2**30)]
    # Snowflake XS, AUTO_SUSPEND 600: queries every 28.8 s keep it up all 8 h plus one 602 s
    # tail a day: (28800 + 602) / 3600 h x 1 credit x $2 x 30.42 days = $496.83.
    run = snowflake_run(auto_suspend_seconds=600)
    month = billing_for(run, CATALOG).project_month(two_seconds, pattern, None)
    assert month.cost.dollars == pytest.approx((28800 + 602) / 3600 * 2 * days)
    # BigQuery on demand: 1 GiB billed a query = 1/1024 TiB x $6.25 x 1000 x 30.42 = $185.66.
    bq = billing_for(engine_run("bigquery"), CATALOG).project_month(two_seconds, pattern, None)
    assert bq.cost.dollars == pytest.approx(6.25 / 1024 * 1000 * days)
    # Redshift Serverless, base 8 RPU: queries 28.8 s apart, closer than the 60 s minimum, are
    # one active period a day: 999 x 28.8 + 2 = 28,773.2 s x 8 RPU x $0.375/3600 x 30.42 (the
    # lower bound; was 2000 busy s, one minimum a day; see tests/test_billing_redshift.py).
    rs = engine_run("redshift", {"base_rpu": 8})
    serverless = billing_for(rs, CATALOG).project_month(two_seconds, pattern, None)
    assert serverless.cost.dollars == pytest.approx((999 * 28.8 + 2) * 8 / 3600 * 0.375 * days)
    # A provisioned 2-node ra3.xlplus cluster bills all 730 hours whatever the pattern.
    nodes = engine_run("redshift", {"node_type": "ra3.xlplus", "nodes": 2})
    assert billing_for(nodes, CATALOG).project_month(two_seconds, pattern, None).cost.dollars == (
        pytest.approx(730 * 2 * 1.086)
    )
    assert any("1000 queries a day" in line for line in month.explain)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.37, "$0.37"),
        (0.0021, "$0.0021"),
        (0.00002, "$0.000020"),
        (0.0000004, "< $0.000001"),
        (1234.5, "$1,234.50"),
        (0, "$0"),
        (None, "unknown"),
    ],
)
def test_money_as_people_read_it(value, text):
    from harness.units import dollars, dollars_per_query

    assert dollars(value) == text
    assert dollars_per_query(0.0000021) == "$0.0000021 ($0.0021 per 1,000)"


def test_a_number_never_reads_in_scientific_notation():
    """units.number is what "%g" shows, minus its exponents (issue 29): "1e+07 queries a day"
    reads "10,000,000 queries a day", "1e-06" reads "0.000001"."""
    import re

    from harness.units import number

    scientific = re.compile(r"\d(\.\d+)?[eE][+-]\d+")
    for exponent in range(-9, 13):
        for mantissa in (1, 1.5, 2.345678, 9.9999999):
            for value in (mantissa * 10.0**exponent, -mantissa * 10.0**exponent):
                for digits in (2, 4, 6):
                    assert not scientific.search(number(value, digits)), (value, digits)
    assert [number(v) for v in (0.7, 600, 86400, 0, 1.5, 1 / 3)] == [
        "0.7",
        "600",
        "86,400",
        "0",
        "1.5",
        "0.333333",
    ]
    assert number(1e7) == "10,000,000"
    assert number(1e-6) == "0.000001"
    assert number(0.00012345678, 4) == "0.0001235"
    assert number(1234567.8) == "1,234,570"  # six figures, as %g rounds
    assert number(9999.99) == "9999.99"  # separators from 10,000: four digits read whole
    assert number(0.05, 2) == "0.05"


@pytest.mark.parametrize("engine", list(REGISTRY))
@pytest.mark.parametrize("status", ["skipped", "unsupported"])
def test_a_query_never_sent_costs_nothing_on_every_engine(engine, status):
    """A query that could not be translated, or needs a feature the engine lacks, never reached
    it: free, whatever its (empty) timings say — never unknown, which would make the run's bill
    unknown where it is summed."""
    never_sent = stored_rows.attempt(engine=engine, status=status, client_seconds=0.0, error="why")
    cost = billing_for(stored_rows.run(engine=engine), CATALOG).marginal(never_sent)
    assert cost.dollars == 0
