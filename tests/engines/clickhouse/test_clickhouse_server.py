"""ClickHouse's server mode (clickhouse-connect over HTTP) on its stand-in: the real
clickhouse-connect against chDB behind tests/engines/clickhouse/http_shim.py, a process of its
own (the `clickhouse_server` fixture in standin.py). The registry has one stand-in per engine
name and the conformance suite runs on the embedded one, so the suite's checks run here again
through the server path: the same test functions (imported, with this module's `engine`), and
the answers of tpch, events and text by `whbench run` beside DuckDB, value by value. What the
shim cannot prove about a real server or ClickHouse Cloud: standin.SERVER_GAPS."""

from __future__ import annotations

import pytest

from engines.clickhouse.standin import server_settings
from engines.test_conformance import (  # noqa: F401 (collected here, on the server path)
    WORKLOADS,
    load_region,
    outcomes,
    stored_where,
    test_a_query_returns_rows_columns_and_a_time,
    test_a_table_loads_whole_or_not_at_all,
    test_cancel_stops_the_query_in_flight,
    test_clean_lists_and_drops_only_what_whbench_created,
    test_session_settings_turn_the_result_cache_off_or_say_why_not,
    test_sessions_of_their_own_run_queries_at_once,
    test_the_time_limit_stops_a_query,
)
from harness.config import parse_config
from harness.engines.clickhouse import ClickHouseEngine, ClickHouseSettings
from harness.errors import EngineError

pytest.importorskip("clickhouse_connect")
pytest.importorskip("chdb")

SERVER_WORKLOADS = ("tpch", "events", "text")


@pytest.fixture
def engine(clickhouse_server):
    settings = parse_config({"engines": {"clickhouse": server_settings(clickhouse_server)}})
    engine = ClickHouseEngine(settings.engines["clickhouse"])
    engine.connect()
    yield engine
    engine.close()


@pytest.mark.parametrize(
    ("workload", "query"),
    [(w, q.id) for w in SERVER_WORKLOADS for q in WORKLOADS[w].queries],
)
def test_every_answer_through_the_server_equals_duckdbs(
    workload,
    query,
    outcomes,  # noqa: F811 (the fixture imported above)
    clickhouse_server,
):
    problem = outcomes("clickhouse", workload, lambda name: server_settings(clickhouse_server))
    assert problem[query] is None, problem[query]


def test_a_run_through_the_server_records_the_shims_local_address(
    outcomes,  # noqa: F811 (the fixture imported above)
    clickhouse_server,
):
    """From the tpch run the answers above are checked on: not embedded, but the shim."""
    shim = server_settings(clickhouse_server)
    root, _, runs = outcomes.run("clickhouse", "tpch", lambda name: shim)
    stored = stored_where(root, runs)
    assert stored["clickhouse"] == {"kind": "local", "address": f"127.0.0.1:{clickhouse_server}"}
    assert stored["duckdb"] == {"kind": "embedded", "address": None}


def test_the_server_path_is_recorded_and_its_statistics_read_from_the_query_log(engine, data_dir):
    described = engine.describe()
    assert described["mode"] == "server" and described["host"] == "127.0.0.1"
    assert engine.where() == {"kind": "local", "address": f"127.0.0.1:{engine.settings.port}"}
    assert "query_arrow_stream" in described["fetch"]
    engine.drop("whb_server")
    loaded = load_region(engine, data_dir, "whb_server")  # insert_arrow from the Parquet file
    assert loaded.rows == 5 and loaded.bytes_stored
    engine.prepare_session("whb_server", "server-test", 30)
    assert not engine.notes and engine.result_cache == "off"
    settings = engine._rows(
        "SELECT getSetting('use_query_cache'), getSetting('join_use_nulls'), "
        "getSetting('max_execution_time'), getSetting('session_timezone'), currentDatabase()"
    )
    assert settings == [(False, True, 30.0, "UTC", "whb_server")]
    result = engine.execute("SELECT count(*), sum(r_regionkey) FROM region", 60)
    assert result.rows == [(5, 10)]
    found = engine.query_history([result.engine_query_id])
    seconds, usage = found[result.engine_query_id]
    assert seconds is not None and usage.bytes_scanned and usage.execution_seconds is not None
    assert usage.rows_read == 5  # region's five rows
    assert usage.peak_memory_bytes is not None and usage.peak_memory_bytes > 0
    engine.drop("whb_server")


def test_a_server_the_engine_cannot_reach_is_one_line(clickhouse_server):
    from standins import free_port

    engine = ClickHouseEngine(ClickHouseSettings(host="127.0.0.1", port=free_port(), secure=False))
    with pytest.raises(EngineError, match=r"cannot reach ClickHouse at 127\.0\.0\.1") as caught:
        engine.connect()
    assert "\n" not in str(caught.value)


def test_an_unreachable_server_in_a_run_is_one_line_and_no_driver_log(tmp_path, data_dir):
    import subprocess

    import yaml
    from conftest import WHBENCH
    from standins import free_port

    config = tmp_path / "config.yaml"
    engines = {"clickhouse": {"host": "127.0.0.1", "port": free_port(), "secure": False}}
    config.write_text(
        yaml.safe_dump(
            {
                "runs": 1,
                "data_dir": str(data_dir),
                "engines": engines,
                "workloads": {"tpch": {"scale": 0.01}},
            }
        )
    )
    done = subprocess.run(
        [*WHBENCH, "run", "--config", str(config)], cwd=tmp_path, capture_output=True, text=True
    )
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode != 0 and len(errors) == 1 and "cannot reach ClickHouse" in errors[0]
    assert "Traceback" not in done.stderr and "Unexpected Http Driver" not in done.stderr
