"""The BigQuery engine on the real google-cloud-bigquery client, against bqemulator (a local,
DuckDB-backed BigQuery the suite starts itself; declared with its gaps in standin.py here).
Every workload's answers are in the conformance suite (tests/engines/test_conformance.py), a
real project's in tests/test_real_accounts.py; this file holds what is BigQuery's own: job
statistics, dry runs, byte limits, loads from GCS."""

from __future__ import annotations

import os

import duckdb
from conftest import run_engines

from engines.bigquery.standin import emulator_settings
from harness.engines.bigquery import BigQueryEngine, BigQuerySettings


def on_emulator(port: int, **settings) -> BigQueryEngine:
    return BigQueryEngine(BigQuerySettings(**emulator_settings(port), **settings))


def test_job_statistics_are_recorded_and_unreported_ones_stay_unknown(
    whbench, both_engines, workdir
):
    run_engines(
        whbench, both_engines("bigquery", workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}})
    )
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    job_id, engine_seconds, billed, scanned, cache_hit = con.execute(
        "SELECT engine_query_id, engine_seconds, bytes_billed, bytes_scanned, cache_hit "
        "FROM attempts JOIN runs USING (run_id) WHERE engine = 'bigquery'"
    ).fetchone()
    assert job_id and engine_seconds is not None and engine_seconds >= 0
    assert cache_hit is False
    # The emulator reports no bytes billed (and 0 processed): both unknown, never 0.
    assert billed is None and scanned is None
    (notes,) = con.execute("SELECT notes FROM runs WHERE engine = 'bigquery'").fetchone()
    assert "reported no bytes billed" in notes


def test_dry_run_estimates_without_running(bqemulator_port):
    engine = on_emulator(bqemulator_port)
    engine.connect()
    try:
        engine.prepare_session("whb_estimate", "t", 60)
        assert engine.estimate("SELECT 1") is not None
    finally:
        engine.close()


def test_jobs_report_their_wait_and_run_on_the_emulator(bqemulator_port):
    """bqemulator fills a job's creation, start and end times, so the split is recorded."""
    engine = on_emulator(bqemulator_port)
    engine.connect()
    try:
        usage = engine.execute("SELECT 1", 60).usage
        assert usage.queued_seconds is not None and usage.queued_seconds >= 0
        assert usage.execution_seconds is not None and usage.execution_seconds >= 0
    finally:
        engine.close()


def test_estimate_uses_free_dry_runs(whbench, both_engines):
    config = both_engines("bigquery", workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}})
    run_engines(whbench, config)  # loads the data the dry run needs
    result = whbench("estimate", "--config", config, "-e", "bigquery", "--json")
    (item,) = result.json()["estimates"]
    assert item["from"] == ["a dry run"] and item["dollars"] > 0


def test_the_budget_becomes_bigquerys_own_byte_limit(bqemulator_port):
    import stored_rows

    from harness.engines import billing_for
    from harness.pricing import load_catalog

    def price_per_byte_billed(engine: str, catalog) -> float | None:
        run = stored_rows.run(engine=engine, engine_settings={})
        return billing_for(run, catalog).price_per_byte_billed()

    engine = on_emulator(bqemulator_port, maximum_bytes_billed=2**40)
    engine.connect()
    try:
        engine.prepare_session("whb_limit", "t", 60)
        per_byte = price_per_byte_billed("bigquery", load_catalog())
        engine.limit_spend(6.25 / 1024, per_byte)  # a GiB's worth of on-demand bytes
        assert engine._job_config().maximum_bytes_billed == 2**30
        engine.limit_spend(0.0, per_byte)  # never below BigQuery's own 10 MB floor
        assert engine._job_config().maximum_bytes_billed == 10 * 2**20
        assert price_per_byte_billed("duckdb", load_catalog()) is None
    finally:
        engine.close()


def test_data_uri_uploads_to_gcs_once_and_bigquery_loads_from_there(
    whbench, both_engines, gcs_emulator, workdir
):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    config = both_engines(
        "bigquery",
        {"data_uri": "gs://whb-test/bench"},
        workloads={"tpch": {"scale": 0.01}, "events": {"scale": 25000, "options": {"days": 1}}},
    )

    def fresh_run():
        # Drop the loaded tables (other tests may have loaded them from local files).
        whbench("clean", "--config", config, "-e", "bigquery", "--yes", env=gcs_emulator)
        result = whbench("run", "--config", config, "--json", "--quiet", env=gcs_emulator)
        assert "Traceback" not in result.stderr
        return {(run["engine"], run["workload"]): run for run in result.json()}

    def objects():
        os.environ.update(gcs_emulator)
        client = storage.Client(project="whbench-test", credentials=AnonymousCredentials())
        return {b.name: b.generation for b in client.list_blobs("whb-test", prefix="bench/")}

    runs = fresh_run()
    for workload in ("tpch", "events"):  # Parquet, and NDJSON into JSON columns
        run = runs["bigquery", workload]
        assert run["status"] == "finished", run["error"]
        baseline = {q["query_id"]: q["checksum"] for q in runs["duckdb", workload]["queries"]}
        assert {q["query_id"]: q["checksum"] for q in run["queries"]} == baseline
    uploaded = objects()
    # One folder per data set, table and format, so another scale's files are never read.
    assert "bench/tpch/sf0_01/lineitem/parquet/lineitem.parquet" in uploaded
    assert sum(name.startswith("bench/tpch/sf0_01/") for name in uploaded) == 8
    assert any(name.startswith("bench/events/") and "/ndjson/" in name for name in uploaded)
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    statuses = con.execute(
        "SELECT DISTINCT l.status FROM loads l JOIN runs USING (run_id) WHERE engine = 'bigquery'"
    ).fetchall()
    con.close()
    assert statuses == [("loaded",)]

    runs = fresh_run()  # loads again from the bucket, and uploads nothing
    assert runs["bigquery", "tpch"]["status"] == "finished", runs["bigquery", "tpch"]["error"]
    assert objects() == uploaded  # same objects, same generations: nothing written again


def test_a_missing_bucket_is_one_clear_error_and_the_baseline_still_runs(
    whbench, both_engines, gcs_emulator
):
    config = both_engines(
        "bigquery",
        {"data_uri": "gs://no-such-bucket/bench"},
        workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}},
    )
    whbench("clean", "--config", config, "-e", "bigquery", "--yes", env=gcs_emulator)
    result = whbench("run", "--config", config, "--quiet", env=gcs_emulator)
    assert result.code == 1 and "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "bigquery" in line]
    assert "uploading to gs://no-such-bucket/bench/tpch/sf0_01/" in line
    assert "check that the bucket exists" in line
    assert "q06" in result.stdout  # DuckDB's run went on and finished


def test_physical_storage_uses_the_tables_physical_bytes(whbench, both_engines, workdir):
    """After its last query the run records its tables' logical and physical bytes (table
    metadata, free to read); `storage_model: physical` prices the physical ones. bqemulator
    reports no numTotalPhysicalBytes, so here physical storage is unknown, never 0: the physical
    arithmetic itself is worked in tests/test_billing_bigquery.py."""
    import json

    import yaml

    from harness.pricing import load_catalog

    config = both_engines("bigquery", workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}})
    run_engines(whbench, config)
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    run_id, after_run, notes = con.execute(
        "SELECT run_id, after_run, notes FROM runs WHERE engine = 'bigquery'"
    ).fetchone()
    con.close()
    storage = json.loads(after_run)["storage"]
    assert storage["tables"] == 8
    assert storage["physical_bytes"] is None  # not reported by the stand-in: unknown
    assert "reported no physical bytes (numTotalPhysicalBytes)" in notes
    section = load_catalog().section("bigquery") | {"storage_model": "physical"}
    physical = workdir / "physical.yaml"
    physical.write_text(yaml.safe_dump({"bigquery": section}))
    priced = whbench("cost", run_id, "--config", config, "--json", "--pricing", physical).json()
    storage_cost = priced["runs"][0]["storage_per_month"]
    assert storage_cost["dollars"] is None and storage_cost["basis"] == "unknown"
