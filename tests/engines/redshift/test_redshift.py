"""The Redshift engine on the real redshift_connector, against PostgreSQL behind a protocol shim
(tests/engines/redshift/postgres.py), started by the suite. Redshift-only SQL cannot run on
PostgreSQL: the gaps are declared with the stand-in (standin.py here) and checked by the
conformance suite (tests/engines/test_conformance.py), which runs every workload here; this file
holds what is Redshift's own: statistics, retries, COPY from S3, cost facts."""

from __future__ import annotations

import time

import duckdb
import pytest
from conftest import run_engines, run_from_s3

from harness.engines.redshift import RedshiftEngine, RedshiftSettings


def test_what_the_stand_in_refuses_is_recorded(whbench, both_engines, workdir):
    config = both_engines("redshift", workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}})
    run_engines(whbench, config)
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    run_id, notes = con.execute(
        "SELECT run_id, notes FROM runs WHERE engine = 'redshift'"
    ).fetchone()
    assert "could not turn the result cache off" in notes
    assert "could not label queries" in notes
    assert "could not set the statement timeout" not in notes  # PostgreSQL has that one
    # Serverless's billed figures: looked up for the query window, missing, said so.
    assert "billed figures unavailable" in notes and "sys_serverless_usage" in notes
    engine_seconds, cache_hit = con.execute(
        "SELECT engine_seconds, cache_hit FROM attempts JOIN runs USING (run_id) "
        "WHERE engine = 'redshift'"
    ).fetchone()
    assert engine_seconds is None and cache_hit is None  # not reported: unknown, never 0
    con.close()
    # Asking again later: the stand-in still has no SYS_SERVERLESS_USAGE, so the bill stays
    # modelled (base 128 RPU for at least 60 s) and the reason is printed.
    refreshed = whbench("cost", "--refresh", run_id, "--config", config, "--json")
    assert refreshed.code == 0 and "sys_serverless_usage" in refreshed.stderr
    total = refreshed.json()["runs"][0]["total"]
    assert total["basis"] == "modelled"
    assert total["dollars"] >= 60 * 128 / 3600 * 0.375


def test_statement_timeout_is_a_timeout(whbench, both_engines, workdir):
    from test_cli_errors import broken_workload

    root = broken_workload(workdir, "q06", "select count(*) from lineitem a, lineitem b")
    config = both_engines(
        "redshift",
        workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}},
        workload_dirs=[str(root)],
        timeout_seconds=1,
    )
    result = whbench("run", "--config", config, "--json", "--quiet", "-e", "redshift")
    (run,) = result.json()
    assert run["queries"][0]["status"] == "timeout"


def test_unreachable_host_is_retried_then_one_line(whbench, make_config):
    from conftest import free_port

    config = make_config(
        engines={
            "redshift": {
                "host": "127.0.0.1",
                "port": free_port(),
                "user": "bench",
                "password": "${WHB_TEST_RS_CANARY}",  # a secret comes from the environment
                "ssl": False,
            }
        }
    )
    canary = {"WHB_TEST_RS_CANARY": "secret-canary-value"}
    result = whbench("run", "--config", config, "-q", "q06", "--quiet", env=canary)
    assert result.code == 1 and "Traceback" not in result.stderr
    assert "cannot reach Redshift after 3 attempts" in result.stderr
    assert "secret-canary-value" not in result.stderr + result.stdout


def test_wrong_database_is_not_retried(whbench, make_config, redshift_port):
    config = make_config(
        engines={
            "redshift": {
                "host": "127.0.0.1",
                "port": redshift_port,
                "database": "no_such_db",
                "user": "bench",
                "password": "${WHB_TEST_RS_PASSWORD:-x}",
                "ssl": False,
            }
        }
    )
    result = whbench("run", "--config", config, "-q", "q06", "--quiet")
    assert result.code == 1 and "Traceback" not in result.stderr
    assert 'cannot connect to Redshift (database "no_such_db" does not exist)' in result.stderr


def test_data_uri_uploads_to_s3_once_and_copy_is_what_the_stand_in_refuses(
    whbench, both_engines, s3_emulator, redshift_port
):
    config = both_engines("redshift", workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}})
    settings = {
        "data_uri": "s3://whb-test/bench",
        "iam_role_arn": "arn:aws:iam::123456789012:role/whbench-copy",
    }

    def attempt():
        return run_from_s3(whbench, config, "redshift", settings, s3_emulator, "bench")

    run, uploaded = attempt()
    # The files went to the table's own folder; PostgreSQL cannot COPY from S3.
    assert "bench/tpch/sf0_01/region/parquet/region.parquet" in uploaded
    assert run["status"] == "failed"
    assert "loading table region" in run["error"] and "IAM_ROLE" in run["error"]
    time.sleep(1.1)  # S3 times are to the second: a second upload would show
    _, again = attempt()
    assert again == uploaded


def test_a_configured_copy_role_replaces_the_default_and_a_malformed_one_is_refused():
    from harness.errors import ConfigError

    role = "arn:aws:iam::123456789012:role/whbench-copy"
    engine = RedshiftEngine(RedshiftSettings(iam_role_arn=role))
    copy = "COPY lineitem FROM 's3://b/p/' IAM_ROLE default FORMAT AS PARQUET"
    assert engine._with_role(copy) == copy.replace("default", f"'{role}'")
    with pytest.raises(ConfigError, match="not an IAM role ARN"):
        RedshiftEngine(RedshiftSettings(iam_role_arn="x' FORMAT AS CSV; DROP TABLE t; --"))


def test_concurrency_scaling_is_measured_per_level_and_billed(whbench, make_config, stand_in):
    """A provisioned cluster under load: each level reads SVCS_CONCURRENCY_SCALING_USAGE for
    its window (on the stand-in, a table of that name holding one recorded period that spans
    the run: 660 s of usage over 11 minutes) and bills its share at the cluster's rate."""
    import redshift_connector

    settings = {**stand_in("redshift"), "node_type": "ra3.xlplus", "nodes": 2}
    config = make_config(
        runs=1,
        engines={"redshift": settings},
        workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}},
    )
    assert whbench("load", "--config", config, "-e", "redshift").code == 0
    con = redshift_connector.connect(**{**stand_in("redshift"), "password": "x"})
    con.autocommit = True
    cursor = con.cursor()
    cursor.execute(
        "CREATE TABLE whb_tpch_sf0_01.svcs_concurrency_scaling_usage (start_time TIMESTAMP, "
        "end_time TIMESTAMP, queries BIGINT, usage_in_seconds NUMERIC(27,0))"
    )
    cursor.execute(
        "INSERT INTO whb_tpch_sf0_01.svcs_concurrency_scaling_usage VALUES "
        "(now() AT TIME ZONE 'UTC' - INTERVAL '1 minute', "
        "now() AT TIME ZONE 'UTC' + INTERVAL '10 minutes', 7, 660)"
    )
    try:
        result = whbench("run", "--config", config, "--streams", "1,2", "--json", "--quiet")
        assert result.code == 0, result.stderr
        levels = result.json()[0]["load"]["levels"]
        for level in levels:
            used = level["scale_out"]["concurrency_scaling_seconds"]
            assert 0 < used < level["seconds"] + 1  # its share of the period, about 1 s a second
            assert any("concurrency scaling" in line for line in level["cost_explain"])
    finally:
        cursor.execute("DROP TABLE whb_tpch_sf0_01.svcs_concurrency_scaling_usage")
        con.close()


def test_serverless_usage_is_read_by_the_minute_and_not_visible_to_a_non_superuser(redshift_port):
    """SYS_SERVERLESS_USAGE on the stand-in: a view of 1-minute rows that, like Redshift's,
    shows rows only to superusers ("visible only to superusers",
    https://docs.aws.amazon.com/redshift/latest/dg/SYS_SERVERLESS_USAGE.html, read
    2026-12-06). A superuser's bill counts the last minute and the minimum after it; a user
    who is not one is told the bill is not visible to them, not that it is pending."""
    from datetime import UTC, datetime, timedelta

    import redshift_connector

    server = {"host": "127.0.0.1", "port": redshift_port, "database": "postgres", "ssl": False}
    admin = redshift_connector.connect(**server, user="bench", password="x")
    admin.autocommit = True
    cursor = admin.cursor()
    minute = datetime.now(UTC).replace(tzinfo=None, second=0, microsecond=0)
    cursor.execute("CREATE SCHEMA whb_usage_test")
    try:
        cursor.execute(
            "CREATE TABLE whb_usage_test.minutes (start_time TIMESTAMP, end_time TIMESTAMP, "
            "charged_seconds BIGINT)"
        )
        # The run's minutes (480 RPU-seconds each), the minute after its end (the rest of a
        # 60 s minimum: 240) and one long after (someone else's: not counted).
        for offset, charged in ((-2, 480), (-1, 480), (0, 480), (1, 240), (9, 999)):
            start = minute + timedelta(minutes=offset)
            cursor.execute(
                "INSERT INTO whb_usage_test.minutes VALUES (%s, %s, %s)",
                (start, start + timedelta(minutes=1), charged),
            )
        cursor.execute(
            "CREATE VIEW whb_usage_test.sys_serverless_usage AS SELECT * FROM "
            "whb_usage_test.minutes WHERE (SELECT usesuper FROM pg_user "
            "WHERE usename = current_user)"
        )
        cursor.execute("CREATE ROLE whb_analyst LOGIN")
        cursor.execute("GRANT USAGE ON SCHEMA whb_usage_test TO whb_analyst")
        cursor.execute("GRANT SELECT ON whb_usage_test.sys_serverless_usage TO whb_analyst")
        started = (minute - timedelta(minutes=1, seconds=50)).replace(tzinfo=UTC)
        ended = minute.replace(tzinfo=UTC)  # exactly on the minute

        def usage(user: str) -> dict:
            engine = RedshiftEngine(
                RedshiftSettings(
                    host="127.0.0.1",
                    port=redshift_port,
                    database="postgres",
                    user=user,
                    password="x",
                    ssl=False,
                )
            )
            engine.connect()
            try:
                engine.use("whb_usage_test")
                return engine.billed_usage(started, ended)
            finally:
                engine.close()

        # Minutes -2, -1, 0 (which `start_time < ended` dropped) and +1: 480 x 3 + 240.
        measured = usage("bench")
        assert measured["rpu_seconds"] == 480 * 3 + 240
        assert measured["complete"] and measured["pending"] is None
        hidden = usage("whb_analyst")
        assert hidden["rpu_seconds"] is None and not hidden["complete"]
        assert hidden["pending"] is None
        assert "'whb_analyst' is not a superuser" in hidden["not_visible"]
    finally:
        cursor.execute("DROP SCHEMA whb_usage_test CASCADE")
        cursor.execute("DROP ROLE IF EXISTS whb_analyst")
        admin.close()
