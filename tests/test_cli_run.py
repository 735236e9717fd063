"""End to end through the real CLI on DuckDB at SF 0.01: run, store, results, export, report."""

from __future__ import annotations

import csv
import json

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import assert_one_line_error
from test_cli_errors import broken_workload

from harness.engines import dialects


@pytest.fixture
def finished_run(whbench, make_config):
    config = make_config()
    result = whbench("run", "--config", config, "--json", "--quiet")
    assert result.code == 0, result.stderr
    (summary,) = result.json()
    return config, summary


def test_run_records_every_attempt_with_cold_then_hot(finished_run, workdir):
    _, summary = finished_run
    assert summary["status"] == "finished" and len(summary["queries"]) == 22
    assert all(q["status"] == "ok" and q["checksum"] for q in summary["queries"])
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    phases = con.execute(
        "SELECT attempt, phase, count(*) FROM attempts GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert phases == [(1, "lukewarm", 22), (2, "hot", 22)]  # page cache not dropped
    # DuckDB reports no engine time and no usage: stored as unknown (NULL), never 0.
    unknown = con.execute(
        """SELECT count(*) FROM attempts WHERE client_seconds > 0 AND engine_seconds IS NULL
           AND bytes_scanned IS NULL AND bytes_billed IS NULL AND cache_hit IS NULL"""
    ).fetchone()[0]
    assert unknown == 44
    status, version, settings = con.execute(
        "SELECT status, engine_version, engine_settings FROM runs"
    ).fetchone()
    assert status == "finished" and version.startswith("v")
    assert json.loads(settings)["threads"]
    loads = con.execute("SELECT table_name, status, rows, bytes_stored FROM loads").fetchall()
    assert loads[[r[0] for r in loads].index("lineitem")][:3] == ("lineitem", "loaded", 60175)
    assert all(r[3] and r[3] > 0 for r in loads)
    # The same answers on every attempt of a query.
    assert (
        con.execute(
            """SELECT count(*) FROM (SELECT query_id FROM attempts
               GROUP BY 1 HAVING count(DISTINCT checksum) > 1)"""
        ).fetchone()[0]
        == 0
    )


def test_second_run_reuses_data_and_loaded_tables(finished_run, whbench, workdir):
    config, first = finished_run
    result = whbench("run", "--config", config, "--json", "--quiet", "-q", "q06")
    assert result.code == 0, result.stderr
    (second,) = result.json()
    assert second["queries"][0]["checksum"] == first["queries"][5]["checksum"]
    shown = whbench("results", "show", second["run_id"], "--config", config, "--json").json()
    assert {ld["status"] for ld in shown["loads"]} == {"reused"}


def test_results_list_show_and_export(finished_run, whbench, workdir):
    config, summary = finished_run
    run_id = summary["run_id"]
    listed = whbench("results", "list", "--config", config, "--json").json()
    assert [r["run_id"] for r in listed] == [run_id] and listed[0]["attempts"] == 44
    shown = whbench("results", "show", run_id[:20], "--config", config, "--json").json()
    assert shown["run"]["run_id"] == run_id and len(shown["attempts"]) == 44
    assert "select" in shown["attempts"][0]["sql"]
    for fmt in ("json", "csv", "parquet"):
        out = workdir / f"export.{fmt}"
        result = whbench(
            "results", "export", run_id, "--format", fmt, "-o", out, "--config", config
        )
        assert result.code == 0, result.stderr
        if fmt == "json":
            rows = json.loads(out.read_text())
        elif fmt == "csv":
            rows = list(csv.DictReader(out.open()))
        else:
            rows = pq.read_table(out).to_pylist()
        assert len(rows) == 44 and {r["engine"] for r in rows} == {"duckdb"}


def test_report_shows_every_query(finished_run, whbench, workdir):
    config, _ = finished_run
    result = whbench("report", "--config", config)
    assert result.code == 0, result.stderr
    html = (workdir / "results" / "report.html").read_text()
    for n in range(1, 23):
        assert f"<b>q{n:02d}</b>" in html
    assert "http://" not in html and "https://" not in html


def test_run_ends_with_the_verdicts_and_the_report_it_wrote(whbench, make_config, workdir):
    """`whbench run` writes the report of the latest runs and ends with the first screen's
    verdicts and its path; a failed query does not stop the report, and a report that cannot be
    written is one line on stderr that leaves the run's exit status as it was."""
    config = make_config()
    done = whbench("run", "--config", config, "--quiet", "-q", "q06")
    assert done.code == 0, done.stderr
    *_, verdict, alone, where = done.stdout.splitlines()
    assert verdict.startswith("Structured (tpch at scale 0.01): duckdb alone — one pass ")
    assert alone.startswith("Only duckdb ran, so there is nothing to compare")
    assert where == "report: results/report.html"
    assert "<html" in (workdir / "results" / "report.html").read_text()

    broken = make_config(
        "broken.yaml", workload_dirs=[str(broken_workload(workdir, "q06", "select nope"))]
    )
    (workdir / "results" / "report.html").unlink()
    (workdir / "results" / "report.html").mkdir()  # in the report's way
    failed = whbench("run", "--config", broken, "--quiet", "-q", "q06")
    assert failed.code == 1 and "q06: error" in failed.stderr
    refused = [line for line in failed.stderr.splitlines() if "report" in line]
    assert len(refused) == 1 and refused[0].startswith("report not written: ")
    assert "Traceback" not in failed.stderr and "report:" not in failed.stdout

    quiet = whbench("run", "--config", config, "--quiet", "-q", "q06", "--no-report")
    assert quiet.code == 0 and "report" not in quiet.stdout + quiet.stderr

    summary = whbench("report", "--config", config, "--format", "md", "-o", "-")
    assert summary.code == 0 and summary.stdout.startswith("## Which warehouse for which data")
    assert "| data type | measure | duckdb |" in summary.stdout
    written = whbench("report", "--config", config, "--format", "md")
    assert written.stdout.strip() == "results/report.md"
    assert (workdir / "results" / "report.md").read_text() == summary.stdout


def test_a_run_with_nothing_stored_says_only_why(whbench, make_config, workdir):
    """Every engine failed before its first query: the run's one-line error, and nothing about
    a report there would be nothing to put in."""
    (workdir / "blocker").write_text("a file where the database's folder should be")
    config = make_config(engines={"duckdb": {"database": "blocker/bench.duckdb"}})
    failed = whbench("run", "--config", config, "--quiet", "-q", "q06")
    assert_one_line_error(failed, "duckdb tpch", code=1)
    assert "report" not in failed.stdout + failed.stderr


def test_render_prints_the_sql_the_engine_receives(whbench):
    result = whbench("render", "tpch", "q01", "--engine", "duckdb")
    assert result.code == 0 and "INTERVAL '-90' DAY" in result.stdout
    result = whbench("render", "tpch", "q01", "--dialect", "bigquery")
    assert "DATE_ADD(DATE '1998-12-01', INTERVAL -90 DAY)" in result.stdout


def test_validate_and_engines(whbench):
    result = whbench("validate", "--json")
    assert result.code == 0 and result.stderr == "", result.stderr  # sqlglot's log stays quiet
    (tpch,) = [w for w in result.json()["workloads"] if w["workload"] == "tpch"]
    per_dialect = 22 + 2 * 8  # queries, and a CREATE and a load per table
    # + a DROP before each CREATE in the dialects whose CREATE cannot replace (Redshift, Databricks)
    statements = len(dialects()) * per_dialect + 2 * 8
    assert tpch["problems"] == [] and tpch["statements"] == statements
    engines = whbench("engines", "--json").json()
    by_name = {e["engine"]: e for e in engines}
    assert {"configured": True, "auth": "none (runs in this process)"}.items() <= by_name[
        "duckdb"
    ].items()
    assert by_name["duckdb"]["driver_version"] == duckdb.__version__
    assert by_name["snowflake"]["install"] == "pip install 'warehouse-bench[snowflake]'"
    assert by_name["snowflake"]["configured"] is False


def test_every_command_has_help_with_an_example(whbench):
    for command in (
        ["generate"],
        ["load"],
        ["run"],
        ["render"],
        ["validate"],
        ["engines"],
        ["clean"],
        ["cost"],
        ["estimate"],
        ["results", "list"],
        ["results", "show"],
        ["results", "export"],
        ["report"],
        ["compare"],
    ):
        result = whbench(*command, "--help")
        assert result.code == 0 and "Example" in result.stdout, command


def test_generate_caches_and_load_then_run_reuses_tables(whbench, make_config, workdir):
    config = make_config(data_dir="data")
    first = whbench("generate", "--config", config)
    assert first.code == 0 and "tpch sf0_01" in first.stdout and "cached" not in first.stdout
    assert (workdir / "data" / "tpch" / "sf0_01" / "manifest.json").exists()
    again = whbench("generate", "--config", config)
    assert again.code == 0 and "(cached)" in again.stdout
    loaded = whbench("load", "--config", config)
    assert loaded.code == 0, loaded.stderr
    (run,) = whbench("run", "--config", config, "--json", "--quiet", "-q", "q01").json()
    shown = whbench("results", "show", run["run_id"], "--config", config, "--json").json()
    assert {ld["status"] for ld in shown["loads"]} == {"reused"}
    assert len(shown["attempts"]) == 2


def test_clean_lists_then_drops_only_what_whbench_created(finished_run, whbench, workdir):
    config, _ = finished_run
    database = workdir / "results" / "bench.duckdb"
    con = duckdb.connect(str(database))
    con.execute("CREATE SCHEMA analytics")  # the user's own: never listed, never dropped
    con.close()
    listed = whbench("clean", "-e", "duckdb", "--config", config)
    assert listed.code == 0 and "would drop duckdb whb_tpch_sf0_01" in listed.stdout
    assert "analytics" not in listed.stdout
    dropped = whbench("clean", "-e", "duckdb", "--yes", "--config", config)
    assert "dropped duckdb whb_tpch_sf0_01" in dropped.stdout
    con = duckdb.connect(str(database), read_only=True)
    schemas = {s for (s,) in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    con.close()
    assert "analytics" in schemas and "whb_tpch_sf0_01" not in schemas
    again = whbench("clean", "-e", "duckdb", "--config", config)
    assert "nothing whbench created" in again.stdout
