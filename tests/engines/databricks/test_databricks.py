"""The Databricks SQL engine: what is its own. Settings and sign-in, the SQL warehouse's id,
the system tables' rows made records (query statistics, the bill, import-history), the one-line
errors; and, through the real databricks-sql-connector against the stand-in (a Spark Thrift
Server behind the Databricks proxy: `databricks_server` in standin.py), connecting, fetching,
loading through a volume and what the stand-in cannot read, recorded as notes. Every workload's
answers are in the conformance suite (tests/engines/test_conformance.py)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest
from conftest import assert_one_line_error, run_from_s3

from engines.databricks.standin import standin_settings
from harness.config import parse_config
from harness.engines.credentials import AccessToken, NoCredentials, OAuthClient, Profile, Secret
from harness.engines.databricks import (
    DatabricksEngine,
    DatabricksSettings,
    history_api,
    system_tables,
    warehouse_id,
)
from harness.errors import ConfigError, EngineError

CANARY = "secret-canary-dapi0123"


# -- settings and sign-in ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "value"),
    [("warehouse_size", "Huge"), ("warehouse_type", "dedicated"), ("cloud", "oci")],
)
def test_a_billing_fact_outside_the_priced_ones_is_refused_by_name(key, value):
    with pytest.raises(ConfigError, match=rf"engines\.databricks\.{key}: '{value}' is not one of"):
        DatabricksEngine(DatabricksSettings(**{key: value}))


def test_a_catalog_that_is_not_a_name_is_refused():
    with pytest.raises(ConfigError, match=r"engines\.databricks\.catalog"):
        DatabricksEngine(DatabricksSettings(catalog="main; DROP SCHEMA x"))


def test_a_service_principal_needs_its_id_and_its_secret():
    with pytest.raises(ConfigError, match="both client_id and client_secret"):
        DatabricksEngine(DatabricksSettings(client_id="sp-1234"))


def test_sign_in_prefers_keyless_ways_and_never_shows_a_secret():
    token, secret = Secret(CANARY), Secret(CANARY + "-sp")
    every = DatabricksSettings(
        profile="bench", client_id="sp", client_secret=secret, access_token=token
    )
    assert every.credentials() == Profile("bench", "~/.databrickscfg")
    no_profile = DatabricksSettings(client_id="sp", client_secret=secret, access_token=token)
    assert isinstance(no_profile.credentials(), OAuthClient)
    assert DatabricksSettings(access_token=token).credentials() == AccessToken(token)
    assert DatabricksSettings().credentials() == NoCredentials()
    for settings in (every, no_profile, DatabricksSettings(access_token=token)):
        described = settings.credentials().describe()
        assert CANARY not in described and CANARY not in repr(settings.credentials())


def test_the_config_masks_the_token_and_the_client_secret():
    config = parse_config(
        {"engines": {"databricks": {"access_token": CANARY, "client_secret": CANARY}}}
    )
    assert CANARY not in str(config.redacted())


def test_connecting_without_a_way_to_sign_in_is_one_line():
    engine = DatabricksEngine(
        DatabricksSettings(server_hostname="dbc-1.cloud.databricks.com", http_path="/sql/1.0/x")
    )
    with pytest.raises(ConfigError, match="no way to sign in; set profile"):
        engine.connect()


def test_connecting_without_the_warehouse_path_names_the_settings():
    with pytest.raises(ConfigError, match="server_hostname and http_path are needed"):
        DatabricksEngine(DatabricksSettings(access_token=Secret("x"))).connect()


def test_an_unreachable_workspace_is_one_line_without_the_token(free_port_settings):
    engine = DatabricksEngine(DatabricksSettings(**free_port_settings))
    with pytest.raises(EngineError) as raised:
        engine.connect()
    message = str(raised.value)
    assert message.startswith("cannot connect to Databricks (") and "\n" not in message
    assert CANARY not in message


@pytest.fixture
def free_port_settings():
    """Settings for a workspace nothing answers (a free port), given up on after a second."""
    from standins import free_port

    return {
        "server_hostname": "127.0.0.1",
        "port": free_port(),
        "http_path": "cliservice",
        "tls": False,
        "access_token": Secret(CANARY),
        "retry_seconds": 1,
    }


def test_an_unreachable_workspace_stops_whbench_run_with_one_line(
    whbench, make_config, free_port_settings
):
    settings = {**free_port_settings, "access_token": "${WHB_TEST_DATABRICKS_CANARY}"}
    config = make_config(engines={"databricks": settings})
    result = whbench(
        "run",
        "--config",
        config,
        "-e",
        "databricks",
        "-q",
        "q06",
        "--quiet",
        env={"WHB_TEST_DATABRICKS_CANARY": CANARY},
    )
    assert_one_line_error(result, "cannot connect to Databricks", code=1)
    assert CANARY not in result.stdout + result.stderr


def test_the_warehouse_id_comes_from_the_http_path():
    assert warehouse_id("/sql/1.0/warehouses/1a2b3c4d5e6f7a8b") == "1a2b3c4d5e6f7a8b"
    assert warehouse_id("sql/1.0/endpoints/abc123/") == "abc123"
    # A cluster's path, or the stand-in's: no warehouse, so no bill read by warehouse.
    assert warehouse_id("sql/protocolv1/o/123/0123-456789-abcdefgh") is None
    assert warehouse_id("cliservice") is None and warehouse_id(None) is None


def test_a_missing_driver_names_the_pip_command(monkeypatch):
    from harness.engines import require_driver

    monkeypatch.setattr(DatabricksEngine, "driver_module", "no_such_module.sql")
    with pytest.raises(EngineError, match=r"pip install 'warehouse-bench\[databricks\]'"):
        require_driver(DatabricksEngine)


def test_whbench_engines_lists_databricks_with_its_pip_extra_and_sign_in(whbench, make_config):
    secret = "${WHB_TEST_DATABRICKS_CANARY}"
    config = make_config(engines={"databricks": {"client_id": "sp", "client_secret": secret}})
    env = {"WHB_TEST_DATABRICKS_CANARY": CANARY}
    result = whbench("engines", "--config", config, "--json", env=env)
    assert result.code == 0, result.stderr
    (listed,) = [e for e in result.json() if e["engine"] == "databricks"]
    assert listed["install"] == "pip install 'warehouse-bench[databricks]'"
    assert listed["auth"] == "OAuth machine-to-machine (service principal)"
    assert CANARY not in result.stdout


def test_session_settings_are_data_with_the_timeout_in_documented_bounds():
    engine = DatabricksEngine(DatabricksSettings())
    settings = {s.sql: s for s in engine.session_settings("run-1'x", 1e9)}
    assert settings["SET use_cached_result = false"].result_cache
    assert "SET STATEMENT_TIMEOUT = 172800" in settings  # the documented maximum, 2 days
    assert "SET QUERY_TAGS['whbench_run'] = 'run-1_x'" in settings  # no quote reaches SQL
    (short,) = [s for s in engine.session_settings("t", 0.2) if "TIMEOUT" in s.sql]
    assert short.sql == "SET STATEMENT_TIMEOUT = 1"


# -- the system tables' rows made records ----------------------------------------------------
def test_query_statistics_keep_unreported_figures_unknown():
    seconds, usage = system_tables.statistics(
        {
            "statement_id": "01ef-aa",
            "total_duration_ms": 2500,
            "waiting_for_compute_duration_ms": 1200,
            "waiting_at_capacity_duration_ms": None,
            "compilation_duration_ms": 300,
            "execution_duration_ms": 900,
            "read_bytes": 4096,
            "read_rows": 10,
            "from_result_cache": False,
        }
    )
    assert seconds == 2.5
    assert usage.queued_seconds == 1.2  # the wait that was reported
    assert (usage.compile_seconds, usage.execution_seconds) == (0.3, 0.9)
    assert (usage.bytes_scanned, usage.rows_read, usage.cache_hit) == (4096, 10, False)
    _, empty = system_tables.statistics({"statement_id": "x"})
    assert empty.queued_seconds is None and empty.bytes_scanned is None  # never 0
    assert empty.cache_hit is None and empty.execution_seconds is None


def test_the_query_history_apis_metrics_become_the_same_records():
    """A QueryInfo.as_dict() of the Query History API, as databricks-sdk 0.167.0 shapes it."""
    record = {
        "query_id": "01ef-bb",
        "duration": 2600,
        "metrics": {
            "total_time_ms": 2500,
            "compilation_time_ms": 300,
            "execution_time_ms": 900,
            "read_bytes": 4096,
            "rows_read_count": 10,
            "result_from_cache": False,
            "provisioning_queue_start_timestamp": 1_000_000,
            "overloading_queue_start_timestamp": 1_000_400,
            "query_compilation_start_timestamp": 1_001_200,
        },
    }
    seconds, usage = history_api.statistics(record)
    assert seconds == 2.5 and usage.queued_seconds == 1.2  # from the first queue entered
    assert (usage.compile_seconds, usage.execution_seconds) == (0.3, 0.9)
    assert (usage.bytes_scanned, usage.rows_read, usage.cache_hit) == (4096, 10, False)
    # No queue timestamp: the query skipped both queues, which the API reports by leaving
    # them out; queued is then 0, as reported. No metrics at all: unknown, not 0.
    metrics = {k: v for k, v in record["metrics"].items() if "queue" not in k}
    assert history_api.statistics({**record, "metrics": metrics})[1].queued_seconds == 0.0
    bare_seconds, bare = history_api.statistics({"query_id": "x", "duration": 700})
    assert bare_seconds == 0.7 and bare.queued_seconds is None and bare.bytes_scanned is None


def test_only_statement_ids_reach_the_history_sql():
    sql = system_tables.query_history_sql(["01ef-aa", "x'); DROP TABLE t; --", "01ef-aa"])
    assert sql is not None and "IN ('01ef-aa')" in sql and "DROP" not in sql
    assert system_tables.query_history_sql(["' OR 1=1"]) is None
    with pytest.raises(ValueError, match="not a SQL warehouse id"):
        system_tables.billed_usage_sql("abc' OR '1", datetime.now(UTC), datetime.now(UTC))


def test_the_bill_is_pending_until_the_usage_records_reach_the_window_end():
    ended = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
    now = ended + timedelta(hours=1)
    row = {
        "dbus": 12.5,
        "list_dollars": 8.75,
        "priced": 2,
        "records": 2,
        "skus": ["PREMIUM_SERVERLESS_SQL_COMPUTE_US_EAST"],
        "usage_until": datetime(2026, 12, 6, 10, 0),  # naive UTC, as the table gives it
    }
    early = system_tables.billed_usage(row, ended, now)
    assert not early["complete"] and "reaches 2026-12-06 10:00 UTC only" in early["pending"]
    assert early["dbus"] == 12.5 and early["list_dollars"] == 8.75
    later = system_tables.billed_usage({**row, "usage_until": ended}, ended, now)
    assert later["complete"] and later["pending"] is None
    # One record without a list price: the dollars are unknown, never a part of them.
    unpriced = system_tables.billed_usage({**row, "priced": 1}, ended, now)
    assert unpriced["list_dollars"] is None and unpriced["dbus"] == 12.5
    nothing = system_tables.billed_usage(None, ended, now)
    assert nothing["dbus"] is None and not nothing["complete"]
    assert "no record of the warehouse" in nothing["pending"]


def test_import_history_keeps_the_teams_finished_selects_only():
    started = datetime(2026, 12, 1, 9, 0)
    rows = [
        {
            "statement_text": "SELECT region, sum(amount) FROM sales.orders GROUP BY 1",
            "statement_type": "SELECT",
            "execution_status": "FINISHED",
            "total_duration_ms": 1500,
            "read_bytes": 2048,
            "start_time": started,
            "query_tags": None,
        },
        # whbench's own benchmark query, by its session tag
        {
            "statement_text": "SELECT 1 FROM lineitem",
            "statement_type": "SELECT",
            "execution_status": "FINISHED",
            "query_tags": "{'whbench_run': 'abc'}",
        },
        {  # the system catalog: monitoring, and whbench's own statistics
            "statement_text": "SELECT * FROM system.query.history",
            "statement_type": "SELECT",
            "execution_status": "FINISHED",
        },
        {"statement_text": "SELECT 2", "statement_type": "SELECT", "execution_status": "FAILED"},
        {"statement_text": "INSERT INTO t VALUES (1)", "statement_type": "INSERT"},
    ]
    (entry,) = DatabricksEngine.history_entries(rows)
    assert entry.text.startswith("SELECT region") and entry.elapsed_seconds == 1.5
    assert entry.bytes_scanned == 2048 and entry.started_at == started
    sql = DatabricksEngine(DatabricksSettings()).history_sql(datetime(2026, 12, 1, tzinfo=UTC))
    assert "FROM system.query.history" in sql and "TIMESTAMP '2026-12-01 00:00:00.000000Z'" in sql
    assert "statement_type = 'SELECT'" in sql and "execution_status = 'FINISHED'" in sql


# -- through the real connector, on the stand-in ------------------------------------------------
@pytest.fixture
def engine(databricks_server):
    settings = parse_config({"engines": {"databricks": standin_settings(databricks_server)}})
    engine = DatabricksEngine(settings.engines["databricks"])
    engine.connect()
    yield engine
    engine.close()


def test_a_query_comes_back_with_its_columns_statement_id_and_no_invented_figures(engine):
    result = engine.execute("SELECT 1 AS one, 'x' AS letter, DATE '2026-12-06' AS day", 60)
    assert result.columns == ("one", "letter", "day")
    assert list(result.rows) == [(1, "x", date(2026, 12, 6))]
    assert result.engine_query_id  # the connector's cursor.query_id
    assert result.engine_seconds is None and result.usage.bytes_scanned is None
    # The stand-in serves no Query History API and has no system catalog: the statistics stay
    # unknown, and the notes say why.
    assert engine.query_history([result.engine_query_id]) == {}
    assert any("the Query History API did not answer" in n for n in engine.notes)
    assert any("system.query.history is not readable" in n for n in engine.notes)
    assert any("1 of 1 queries have no engine statistics yet" in n for n in engine.notes)
    assert engine.billed_usage(datetime.now(UTC), datetime.now(UTC)) is None
    assert any("http_path names no SQL warehouse" in n for n in engine.notes)


def test_a_cli_profile_signs_in_through_databricks_sdk(databricks_server, tmp_path, monkeypatch):
    """A ~/.databrickscfg profile: databricks-sdk reads it and hands the connector a header
    factory (credentials_provider), the keyless path's plumbing, on the real connector."""
    profiles = tmp_path / "databrickscfg"
    profiles.write_text(
        f"[bench]\nhost = http://127.0.0.1:{databricks_server}\ntoken = {CANARY}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(profiles))
    settings = {k: v for k, v in standin_settings(databricks_server).items() if k != "access_token"}
    engine = DatabricksEngine(DatabricksSettings(**settings, profile="bench"))
    assert engine.auth_method() == "profile 'bench' (~/.databrickscfg)"
    engine.connect()
    try:
        assert engine.execute("SELECT 41 + 1 AS answer", 60).rows == [(42,)]
    finally:
        engine.close()
    missing = DatabricksEngine(DatabricksSettings(**settings, profile="nobody"))
    with pytest.raises(EngineError, match=r"^cannot sign in to Databricks \("):
        missing.connect()


def test_a_service_principal_without_an_oauth_endpoint_is_one_line(databricks_server):
    """OAuth machine-to-machine needs the workspace's OIDC endpoints, which the stand-in does
    not serve: the sign-in fails in one line, without the secret."""
    settings = {k: v for k, v in standin_settings(databricks_server).items() if k != "access_token"}
    engine = DatabricksEngine(
        DatabricksSettings(**settings, client_id="sp-1", client_secret=Secret(CANARY))
    )
    with pytest.raises(EngineError) as raised:
        engine.connect()
    message = str(raised.value)
    assert message.startswith("cannot ") and "\n" not in message and CANARY not in message


def test_import_history_where_the_history_is_unreadable_says_what_to_ask_for(engine):
    with pytest.raises(EngineError) as raised:
        engine.read_history(datetime.now(UTC) - timedelta(days=1), 60)
    message = str(raised.value)
    assert message.startswith("cannot read system.query.history (") and "\n" not in message
    assert "grant you SELECT" in message


def test_loading_through_the_volume_uploads_once_and_counts_rows(engine, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from harness.engines.base import TableData

    folder = tmp_path / "t"
    folder.mkdir()
    pq.write_table(pa.table({"n": [1, 2, 3], "s": ["a", "b", None]}), folder / "part-0.parquet")
    data = TableData("unit/sf1", "t", (folder / "part-0.parquet",))
    namespace = "whb_unit_volume"
    engine.drop(namespace)
    try:
        assert engine.existing_tables(namespace) == set()
        (uri,) = engine.source_uris(data)["parquet"]
        assert uri == f"/Volumes/{engine.catalog}/whb_files/data/unit/sf1/t/parquet/"
        statements = [
            "CREATE TABLE t (n BIGINT, s STRING)",
            f"COPY INTO t FROM '{uri}' FILEFORMAT = PARQUET",
        ]
        outcome = engine.load(namespace, data, statements)
        assert (outcome.table, outcome.rows) == ("t", 3)
        assert outcome.bytes_stored is None or outcome.bytes_stored > 0  # never a made-up 0
        assert engine.existing_tables(namespace) == {"t"}
        assert namespace in engine.namespaces()
        # The file is in the volume at its size: a second load does not send it again.
        volume = engine._files()
        files = volume._files()
        remote = uri + "part-0.parquet"
        size = (folder / "part-0.parquet").stat().st_size
        assert files.get_metadata(remote).content_length == size
        sent = []
        original = files.upload
        files.upload = lambda *args, **kwargs: sent.append(args[0]) or original(*args, **kwargs)
        engine.statement("DROP TABLE t")
        assert engine.load(namespace, data, statements).rows == 3
        assert sent == []
    finally:
        engine.drop(namespace)
        engine.drop("whb_files")
    assert not {namespace, "whb_files"} & set(engine.namespaces())


def test_a_failed_copy_leaves_no_table_and_says_why(engine, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from harness.engines.base import TableData

    pq.write_table(pa.table({"n": [1]}), tmp_path / "part-0.parquet")
    data = TableData("unit/sf1", "broken", (tmp_path / "part-0.parquet",))
    namespace = "whb_unit_broken"
    engine.drop(namespace)
    try:
        engine.existing_tables(namespace)
        statements = ["CREATE TABLE broken (n BIGINT)", "COPY INTO broken FROM 'nowhere'"]
        with pytest.raises(Exception):  # noqa: B017 (the server's own error, whatever it is)
            engine.load(namespace, data, statements)
        assert engine.existing_tables(namespace) == set()
    finally:
        engine.drop(namespace)


def test_a_run_on_the_stand_in_records_what_it_cannot_report_and_clean_drops_it(
    whbench, both_engines, workdir
):
    config = both_engines("databricks", workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}})
    result = whbench("run", "--config", config, "--json", "--quiet")
    assert result.stderr == ""  # nothing from the connector's or the SDK's logs
    runs = {run["engine"]: run for run in result.json()}
    assert runs["databricks"]["status"] == "finished"
    (mine,), (baseline,) = runs["databricks"]["queries"], runs["duckdb"]["queries"]
    assert mine["checksum"] == baseline["checksum"]
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    notes, settings = con.execute(
        "SELECT notes, engine_settings FROM runs WHERE engine = 'databricks'"
    ).fetchone()
    con_rows = con.execute(
        "SELECT engine_query_id, engine_seconds, bytes_scanned, queued_seconds FROM attempts "
        "JOIN runs USING (run_id) WHERE engine = 'databricks'"
    ).fetchall()
    loads = con.execute(
        "SELECT count(*) FROM loads JOIN runs USING (run_id) "
        "WHERE engine = 'databricks' AND loads.status = 'loaded'"
    ).fetchone()[0]
    con.close()
    assert "system.query.history is not readable" in notes  # Spark has no system catalog
    assert '"warehouse_type": "serverless"' in settings and '"warehouse_id": null' in settings
    assert loads == 8
    for query_id, engine_seconds, scanned, queued in con_rows:
        assert query_id  # the connector's statement id
        assert engine_seconds is None and scanned is None and queued is None  # unknown, not 0
    estimate = whbench("estimate", "--config", config, "-e", "databricks", "--json")
    assert estimate.code == 0 and "Traceback" not in estimate.stderr
    listed = whbench("clean", "-e", "databricks", "--config", config)
    assert "whb_tpch_sf0_01" in listed.stdout and "whb_files" in listed.stdout
    assert whbench("clean", "-e", "databricks", "--yes", "--config", config).code == 0
    again = whbench("clean", "-e", "databricks", "--config", config)
    assert "nothing whbench created" in again.stdout


def test_data_uri_uploads_to_s3_once_and_spark_cannot_read_the_bucket(
    whbench, both_engines, s3_emulator
):
    config = both_engines("databricks", workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}})
    settings = {"data_uri": "s3://whb-test/dbx"}

    def attempt():
        return run_from_s3(whbench, config, "databricks", settings, s3_emulator, "dbx")

    run, uploaded = attempt()
    assert any(key.endswith("/region/parquet/region.parquet") for key in uploaded), uploaded
    # COPY INTO reads the bucket folder itself; the stand-in has no object storage (its proxy
    # reads volumes only), so the load fails there, naming the table and the folder.
    assert run["status"] == "failed" and "loading table region" in run["error"], run
    assert "s3://whb-test/dbx/tpch/sf0_01/region/parquet/" in run["error"]  # the folder it read
    time.sleep(1.1)  # S3 times are to the second: a second upload would show
    _, again = attempt()
    assert again == uploaded
