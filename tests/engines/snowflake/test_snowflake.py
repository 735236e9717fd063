"""The Snowflake engine on the real snowflake-connector-python, against fakesnow (a local,
DuckDB-backed Snowflake that the suite starts itself; declared with its gaps in standin.py
here). Every workload's answers are in the conformance suite (tests/engines/test_conformance.py),
a real account's in tests/test_real_accounts.py; this file holds what is Snowflake's own: notes,
warehouse facts and billing, cold by suspending, S3 stages."""

from __future__ import annotations

import time

import duckdb
import pytest
from conftest import run_engines, run_from_s3

from engines.snowflake.standin import fakesnow_settings
from harness.engines.snowflake import SnowflakeEngine, SnowflakeSettings
from harness.errors import ConfigError, EngineError


def test_what_the_stand_in_refuses_is_recorded_not_hidden(whbench, both_engines, workdir):
    config = both_engines("snowflake", workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}})
    run_engines(whbench, config)
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    notes, settings = con.execute(
        "SELECT notes, engine_settings FROM runs WHERE engine = 'snowflake'"
    ).fetchone()
    assert "could not turn the result cache off" in notes
    assert "QUERY_HISTORY_BY_SESSION unavailable" in notes
    assert '"warehouse_size": "XSMALL"' in settings
    query_id, engine_seconds, scanned = con.execute(
        "SELECT engine_query_id, engine_seconds, bytes_scanned FROM attempts a "
        "JOIN runs USING (run_id) WHERE engine = 'snowflake'"
    ).fetchone()
    assert query_id  # the connector's sfqid
    assert engine_seconds is None and scanned is None  # not reported here: unknown, not 0
    loads = con.execute(
        "SELECT count(*) FROM loads JOIN runs USING (run_id) "
        "WHERE engine = 'snowflake' AND loads.status IN ('loaded', 'reused')"
    ).fetchone()[0]
    assert loads == 8


def unreachable_snowflake(password: str = "${WHB_TEST_SF_PASSWORD:-x}") -> dict:
    """Settings for a Snowflake that nothing answers (a free port), failing within seconds;
    `password` a reference, as every secret in a config is."""
    from conftest import free_port

    return {
        "host": "127.0.0.1",
        "port": free_port(),
        "protocol": "http",
        "account": "fake",
        "user": "fake",
        "password": password,
        "login_timeout_seconds": 5,
    }


def test_unreachable_account_is_a_one_line_error(whbench, make_config):
    config = make_config(engines={"snowflake": unreachable_snowflake("${WHB_TEST_SF_CANARY}")})
    canary = {"WHB_TEST_SF_CANARY": "secret-canary-value"}  # a secret comes from the environment
    result = whbench("run", "--config", config, "-q", "q06", "--quiet", env=canary)
    assert result.code == 1 and "Traceback" not in result.stderr
    assert "cannot connect to Snowflake" in result.stderr
    assert "secret-canary-value" not in result.stderr + result.stdout


def test_a_missing_driver_names_the_pip_command(monkeypatch):
    from harness.engines import require_driver

    monkeypatch.setattr(SnowflakeEngine, "driver_module", "no_such_module.connector")
    with pytest.raises(EngineError, match=r"pip install 'warehouse-bench\[snowflake\]'"):
        require_driver(SnowflakeEngine)


def test_engines_shows_the_sign_in_and_clean_drops_only_harness_schemas(whbench, both_engines):
    config = both_engines("snowflake", workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}})
    run_engines(whbench, config)
    engines = {e["engine"]: e for e in whbench("engines", "--config", config, "--json").json()}
    assert engines["snowflake"]["auth"] == "password"  # the method, never the secret
    listed = whbench("clean", "-e", "snowflake", "--config", config)
    assert "would drop snowflake whb_tpch_sf0_01" in listed.stdout
    assert whbench("clean", "-e", "snowflake", "--yes", "--config", config).code == 0
    again = whbench("clean", "-e", "snowflake", "--config", config)
    assert "nothing whbench created" in again.stdout


def test_one_engine_failing_does_not_stop_the_others(whbench, make_config):
    config = make_config(
        runs=1,
        engines={"snowflake": unreachable_snowflake(), "duckdb": {"database": ":memory:"}},
        workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}},
    )
    result = whbench("run", "--config", config, "--json", "--quiet")
    assert result.code == 1
    runs = {run["engine"]: run for run in result.json()}
    assert runs["snowflake"]["status"] == "failed"
    assert runs["duckdb"]["status"] == "finished" and runs["duckdb"]["queries"][0]["checksum"]


def test_results_show_prints_the_notes(whbench, both_engines):
    config = both_engines("snowflake", workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}})
    _, runs = run_engines(whbench, config)
    shown = whbench("results", "show", runs["snowflake"]["run_id"], "--config", config)
    assert "note: could not turn the result cache off" in shown.stdout


def test_data_uri_uploads_to_s3_once_and_fakesnow_cannot_read_the_bucket(
    whbench, both_engines, s3_emulator
):
    config = both_engines("snowflake", workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}})
    settings = {
        "data_uri": "s3://whb-test/snow",
        "storage_integration": "whb_s3",
        "network_timeout_seconds": 3,  # fakesnow answers what it cannot do with HTTP 500s
    }

    def attempt():
        return run_from_s3(whbench, config, "snowflake", settings, s3_emulator, "snow")

    run, uploaded = attempt()
    assert "snow/tpch/sf0_01/region/parquet/region.parquet" in uploaded
    # fakesnow reads a stage's files through DuckDB, which cannot reach S3 without its httpfs
    # extension (not installable offline): the load fails there, and says so.
    assert run["status"] == "failed"
    assert "loading table region" in run["error"] and "HTTP 500" in run["error"]
    time.sleep(1.1)  # S3 times are to the second: a second upload would show
    _, again = attempt()
    assert again == uploaded


def test_run_bill_is_the_warehouse_uptime_with_its_idle_tail(whbench, make_config, fakesnow_port):
    """The run bill of an XS warehouse the run resumed: from the first query's start to the last
    one's end, plus AUTO_SUSPEND (600 s) of idle, at 1 credit/hour and $2/credit. fakesnow
    refuses ALTER WAREHOUSE, so suspend_after_run is recorded as not done and the tail stays
    (the suspended case is a worked example in test_pricing.py)."""
    for suspend in (False, True):
        snowflake = {
            **fakesnow_settings(fakesnow_port),
            "warehouse": "bench_wh",
            "auto_suspend_seconds": 600,
            "suspend_after_run": suspend,
        }
        config = make_config(
            runs=1,
            engines={"snowflake": snowflake},
            workloads={"tpch": {"scale": 0.01, "queries": ["q01", "q06"]}},
        )
        (run,) = whbench("run", "--config", config, "--json", "--quiet").json()
        priced = whbench("cost", run["run_id"], "--config", config, "--json").json()["runs"][0]
        con = duckdb.connect(str(config.parent / "results" / "results.duckdb"), read_only=True)
        first, last, notes = con.execute(
            "SELECT min(a.started_at), max(a.ended_at), any_value(r.notes) FROM attempts a "
            "JOIN runs r USING (run_id) WHERE run_id = ?",
            [run["run_id"]],
        ).fetchone()
        con.close()
        expected = ((last - first).total_seconds() + 600) / 3600 * 1 * 2.0
        assert priced["total"]["dollars"] == pytest.approx(expected, rel=0.02)
        assert priced["total"]["basis"] == "modelled"
        assert {"marginal", "load", "storage_per_month", "explain"} <= set(priced)
        assert priced["marginal"]["dollars"] < priced["total"]["dollars"]
        assert "does not list bench_wh" in notes  # the facts came from the settings
        assert ("could not suspend warehouse" in notes) == suspend


def test_cold_suspend_and_the_refused_cache_are_recorded_per_attempt(
    whbench, make_config, fakesnow_port
):
    """fakesnow refuses ALTER WAREHOUSE and USE_CACHED_RESULT: with `cold: suspend` the first
    attempt is recorded lukewarm, not cold, with the reason in the notes; and the hot attempt,
    which may have been a cache read, is flagged and left out."""
    snowflake = {**fakesnow_settings(fakesnow_port), "warehouse": "bench_wh", "cold": "suspend"}
    config = make_config(
        runs=2,
        engines={"snowflake": snowflake},
        workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}},
    )
    (run,) = whbench("run", "--config", config, "--json", "--quiet").json()
    assert run["queries"][0]["first_run"] == "lukewarm"
    con = duckdb.connect(str(config.parent / "results" / "results.duckdb"), read_only=True)
    attempts = con.execute(
        "SELECT phase, cold_method, excluded FROM attempt_details WHERE run_id = ? "
        "ORDER BY attempt",
        [run["run_id"]],
    ).fetchall()
    notes, cache = con.execute(
        "SELECT notes, result_cache FROM runs WHERE run_id = ?", [run["run_id"]]
    ).fetchone()
    con.close()
    assert attempts == [
        ("lukewarm", None, None),
        ("hot", None, "result cache could not be turned off"),
    ]
    assert cache == "not turned off"
    assert (
        "could not suspend and resume warehouse bench_wh, so first attempts are lukewarm" in notes
    )


def test_cold_needs_a_known_way_and_a_warehouse():
    with pytest.raises(ConfigError, match="not a way to make a query cold"):
        SnowflakeEngine(SnowflakeSettings(cold="flush"))
    with pytest.raises(ConfigError, match=r"cold: suspend needs engines\.snowflake\.warehouse"):
        SnowflakeEngine(SnowflakeSettings(cold="suspend"))


def test_each_stream_session_is_read_by_its_own_id(fakesnow_port):
    """Under --streams each stream runs in a session of its own, and its queries are only in
    that session's QUERY_HISTORY_BY_SESSION: the engine keeps every session's id for the one
    look-up after the run. fakesnow has no CURRENT_SESSION() and its connector reports no
    session id, so against it the ids are unknown and a note says what that costs; what a real
    account returns for another session's SESSION_ID is not provable here
    (tests/test_real_accounts.py proves it on one)."""
    engine = SnowflakeEngine(SnowflakeSettings(**_plain(fakesnow_settings(fakesnow_port))))
    engine.connect()
    try:
        assert engine.session_ids == [None]  # unknown: read as the current session
        stream = engine.open_session()
        stream.close()
        assert engine.session_ids == [None]
        assert any("stream session's id is unknown" in n for n in engine.notes)
    finally:
        engine.close()

    class Numbered(SnowflakeEngine):
        """The same engine, real connections to fakesnow, with the ids a real server gives."""

        issued = iter(range(1001, 2000))

        def _session_id(self) -> int | None:
            return next(self.issued)

    engine = Numbered(SnowflakeSettings(**_plain(fakesnow_settings(fakesnow_port))))
    engine.connect()
    try:
        streams = [engine.open_session() for _ in range(3)]
        for stream in streams:
            stream.close()
        assert engine.session_ids == [1001, 1002, 1003, 1004]
        assert not any("unknown" in n for n in engine.notes)
        # The look-up fakesnow cannot run is recorded as unavailable, never as zero time.
        assert engine.query_history(["01a"]) == {}
        assert any("QUERY_HISTORY_BY_SESSION unavailable" in n for n in engine.notes)
    finally:
        engine.close()


def _plain(settings: dict) -> dict:
    """fakesnow_settings with its ${…} password reference resolved to the default it names."""
    return {**settings, "password": "x"}
