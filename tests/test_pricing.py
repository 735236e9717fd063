"""Usage -> dollars: each engine's billing rules, the basis of every figure, re-pricing."""

from __future__ import annotations

import pytest
import yaml

from harness.errors import ConfigError
from harness.paths import bundled
from harness.pricing import MIB, TIB, Cost, load_catalog, price_run

CATALOG = load_catalog()


def attempt(**usage):
    return {
        "status": "ok",
        "client_seconds": 1.0,
        "engine_seconds": None,
        "bytes_scanned": None,
        "bytes_billed": None,
        "slot_ms": None,
        "warehouse_seconds": None,
        "rpu_seconds": None,
        "cache_hit": None,
    } | usage


def cost(engine, run_settings=None, **usage) -> Cost:
    from harness.pricing import attempt_cost

    return attempt_cost(
        attempt(**usage), {"engine": engine, "engine_settings": run_settings or {}}, CATALOG
    )


def test_every_price_in_the_bundled_catalog_has_unit_source_and_date():
    data = yaml.safe_load((bundled("configs") / "pricing.yaml").read_text())

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


def test_snowflake_credits_by_warehouse_size_and_seconds():
    c = cost("snowflake", {"warehouse_size": "X-Small"}, warehouse_seconds=3600)
    assert c == Cost(2.0, "modelled", "2026-11-25")  # 1 credit/hour at $2, for an hour
    assert cost("snowflake", {"warehouse_size": "MEDIUM"}, client_seconds=900).dollars == 2.0
    assert cost("snowflake", {}).basis == "unknown"  # size not known: no made-up price


def test_redshift_measured_rpu_seconds_else_modelled_base_rpu():
    assert cost("redshift", rpu_seconds=3600) == Cost(0.375, "measured", "2026-11-25")
    modelled = cost("redshift", {"base_rpu": 8}, engine_seconds=3600)
    assert modelled == Cost(8 * 0.375, "modelled", "2026-11-25")
    nodes = cost("redshift", {"node_type": "ra3.4xlarge", "nodes": 2}, client_seconds=1800)
    assert nodes.dollars == pytest.approx(3.26)


def test_duckdb_is_priced_as_the_machine_it_ran_on():
    assert cost("duckdb", client_seconds=3600) == Cost(0.096, "modelled", "2026-11-25")


@pytest.mark.parametrize("seconds", [0.0, 0.5, 10.0, 1e6])
def test_costs_are_never_negative_and_grow_with_usage(seconds):
    for engine, settings, usage in (
        ("duckdb", {}, "client_seconds"),
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


def test_a_price_without_its_source_is_refused(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("duckdb: {machine_hour: {price: 1.0, unit: USD per hour}}\n")
    with pytest.raises(ConfigError, match="needs price, unit, source and as_of"):
        load_catalog(path).price("duckdb", "machine_hour")


def test_cost_command_reprices_a_stored_run(whbench, make_config, workdir):
    config = make_config()
    (run,) = whbench("run", "--config", config, "--json", "--quiet", "-q", "q06").json()
    listed = whbench("cost", run["run_id"], "--config", config, "--json").json()
    default = listed["runs"][0]["total"]
    assert default["basis"] == "modelled" and default["dollars"] > 0
    assert listed["engines"]["duckdb"]["dollars"] == default["dollars"]
    cheaper = workdir / "cheap.yaml"
    catalog = yaml.safe_load((bundled("configs") / "pricing.yaml").read_text())
    catalog["duckdb"]["machine_hour"]["price"] = 0.048
    cheaper.write_text(yaml.safe_dump(catalog))
    again = whbench("cost", run["run_id"], "--config", config, "--json", "--pricing", cheaper)
    repriced = again.json()["runs"][0]["total"]
    assert repriced["dollars"] == pytest.approx(default["dollars"] / 2)


def test_a_run_costs_at_least_the_engines_minimum_charge():
    from harness.pricing import price_run

    run = {"engine": "snowflake", "engine_settings": {"warehouse_size": "XS"}}
    short = price_run(run, [attempt(query_id="q01", warehouse_seconds=1.0)], CATALOG)
    assert short.queries["q01"].dollars == pytest.approx(2.0 / 3600)
    assert short.total == Cost(2.0 * 60 / 3600, "modelled", "2026-11-25")  # the 60 s resume
    long = price_run(run, [attempt(query_id="q01", warehouse_seconds=600.0)], CATALOG)
    assert long.total.dollars == pytest.approx(2.0 * 600 / 3600)
    duckdb_run = price_run(
        {"engine": "duckdb", "engine_settings": {}},
        [attempt(query_id="q01", client_seconds=1.0)],
        CATALOG,
    )
    assert duckdb_run.total.dollars == pytest.approx(0.096 / 3600)  # no minimum


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


def test_price_performance_of_one_pass():
    from harness.pricing import price_performance

    run = {"engine": "duckdb", "engine_settings": {}}
    attempts = [attempt(query_id="q01", client_seconds=s) for s in (3600.0, 1800.0, 1800.0)]
    attempts += [attempt(query_id="q02", client_seconds=3600.0)]
    value = price_performance(run, attempts, CATALOG)
    assert value.queries == 2 and value.seconds == 1800.0 + 3600.0
    assert value.cost.dollars == pytest.approx(0.096 * 1.5)
    assert value.queries_per_dollar == pytest.approx(2 / (0.096 * 1.5))
    assert value.time_x_cost == pytest.approx(5400.0 * 0.096 * 1.5)
    failed = price_performance(
        run, [attempt(query_id="q01", status="error", client_seconds=None)], CATALOG
    )
    assert failed.seconds is None and failed.cost.dollars is None  # no pass: unknown, not $0


def test_report_renders_with_another_catalog(whbench, make_config, workdir):
    config = make_config(runs=1)
    assert whbench("run", "--config", config, "--quiet", "-q", "q06").code == 0
    catalog = yaml.safe_load((bundled("configs") / "pricing.yaml").read_text())
    catalog["duckdb"]["machine_hour"]["as_of"] = "2031-01-01"
    other = workdir / "other.yaml"
    other.write_text(yaml.safe_dump(catalog))
    assert whbench("report", "--config", config, "-o", "a.html").code == 0
    assert whbench("report", "--config", config, "-o", "b.html", "--pricing", other).code == 0
    assert "2026-11-25" in (workdir / "a.html").read_text()
    assert "2031-01-01" in (workdir / "b.html").read_text()
    assert "Choose by data type" in (workdir / "b.html").read_text()


def test_snowflake_cloud_services_are_billed_only_beyond_ten_percent():
    from harness.pricing import price_run

    run = {"engine": "snowflake", "engine_settings": {"warehouse_size": "XS"}}
    # One hour on XS = 1 credit; 0.1 cloud-services credits are within the free 10%.
    within = [attempt(query_id="q01", warehouse_seconds=3600.0, cloud_services_credits=0.1)]
    assert price_run(run, within, CATALOG).total.dollars == pytest.approx(2.0)
    beyond = [attempt(query_id="q01", warehouse_seconds=3600.0, cloud_services_credits=0.6)]
    assert price_run(run, beyond, CATALOG).total.dollars == pytest.approx(2.0 + 0.5 * 2.0)


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
    from harness.pricing import price_run

    # 0 bytes billed, as reported: BigQuery billed nothing (a cached or metadata-only query).
    assert cost("bigquery", bytes_billed=0) == Cost(0.0, "measured", "2026-11-25")
    # 0 bytes processed, modelled: still the 10 MB minimum.
    assert cost("bigquery", bytes_scanned=0).dollars == pytest.approx(10 * MIB / TIB * 6.25)
    # Exactly 60 s on Snowflake XS: the resume minimum and the usage agree.
    run = {"engine": "snowflake", "engine_settings": {"warehouse_size": "XS"}}
    exact = price_run(run, [attempt(query_id="q01", warehouse_seconds=60.0)], CATALOG)
    assert exact.total.dollars == pytest.approx(2.0 / 60)
    # A run with no usage figures at all: unknown, never $0.
    blind = price_run(run | {"engine_settings": {}}, [attempt(query_id="q01")], CATALOG)
    assert blind.total.dollars is None and blind.total.basis == "unknown"


@pytest.mark.parametrize(
    ("catalog", "message"),
    [
        (
            {"duckdb": {"machine_hour": {"price": -1, "unit": "USD", "source": "s", "as_of": "d"}}},
            r"duckdb.machine_hour: price -1 must be zero or more",
        ),
        ({"oracle": {}}, r"unknown engine 'oracle'"),
        (
            {"snowflake": {"edition": "platinum", "credit": {}, "credits_per_hour": {"XS": 1}}},
            r"snowflake.credit.platinum: missing price",
        ),
    ],
)
def test_bad_price_catalogs_are_one_line_errors(tmp_path, catalog, message):
    from harness.pricing import price_run

    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(catalog))
    with pytest.raises(ConfigError, match=message):
        loaded = load_catalog(path)
        engine = next(iter(catalog))
        price_run(
            {"engine": engine, "engine_settings": {"warehouse_size": "XS"}},
            [attempt(query_id="q01")],
            loaded,
        )


def test_a_budget_must_be_positive(whbench, make_config):
    result = whbench("run", "--config", make_config(max_cost=-5))
    assert result.code == 2 and "max_cost: must be a positive number of dollars" in result.stderr
    result = whbench("run", "--config", make_config(), "--max-cost", "0")
    assert result.code == 2 and "must be a positive number" in result.stderr


def test_two_resumes_in_one_run_bill_two_minimums():
    from datetime import UTC, datetime, timedelta

    from harness.pricing import price_run

    run = {"engine": "snowflake", "engine_settings": {"warehouse_size": "XS"}}
    start = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    together = [
        attempt(query_id="q01", started_at=start, client_seconds=1.0),
        attempt(query_id="q02", started_at=start + timedelta(seconds=5), client_seconds=1.0),
    ]
    apart = [
        together[0],
        attempt(query_id="q02", started_at=start + timedelta(hours=1), client_seconds=1.0),
    ]
    one_minute = 2.0 * 60 / 3600  # XS: 1 credit an hour at $2
    assert price_run(run, together, CATALOG).total.dollars == pytest.approx(one_minute)
    assert price_run(run, apart, CATALOG).total.dollars == pytest.approx(2 * one_minute)


def test_a_window_charge_redshift_reported_wins_over_the_per_query_model():
    catalog = load_catalog()
    run = {"engine": "redshift", "engine_settings": {"base_rpu": 8}, "run_usage": None}
    attempts = [{**attempt(), "query_id": "q01", "engine_seconds": 10.0}]
    modelled = price_run(run, attempts, catalog).total
    assert modelled.basis == "modelled"
    measured = price_run({**run, "run_usage": {"rpu_seconds": 7200.0}}, attempts, catalog).total
    assert measured == Cost(0.75, "measured", "2026-11-25")  # 2 RPU-hours at $0.375
