"""Embedded ClickHouse (chDB) on its own: types as loaded and read back, the time limit,
cancelling, what is recorded with a run, the query log, cold and clean-up. The real chDB, no
mocks."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime
from decimal import Decimal

import pytest

from harness.engines import engine_class
from harness.engines.base import QueryCancelled, QueryTimeout, TableData
from harness.engines.clickhouse import (
    SERVER_FETCH_PATH,
    TABLE_LAYOUT,
    ClickHouseEngine,
    ClickHouseSettings,
)
from harness.errors import EngineError
from harness.workloads import Column, Renderer, Table, get_workload

pytest.importorskip("chdb")


@pytest.fixture
def engine(tmp_path):
    engine = ClickHouseEngine(ClickHouseSettings(path=str(tmp_path / "chdb"), max_threads=2))
    engine.connect()
    yield engine
    engine.close()


def write_parquet(path, rows: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(rows), path)


def test_registered_with_its_extra_and_driver():
    cls = engine_class("clickhouse")
    assert cls is ClickHouseEngine and cls.dialect == "clickhouse"
    assert (cls.extra, cls.driver_module) == ("clickhouse", "chdb")


def test_server_settings_are_described_without_a_connection():
    # The settings contract the billing reads (engine_settings): server mode names its host and
    # the ClickHouse Cloud service's shape, None where not set; a password never appears.
    from harness.engines.credentials import Password

    settings = ClickHouseSettings(
        host="abc.eu-west-1.aws.clickhouse.cloud",
        password="s3cret",
        cloud_tier="scale",
        replicas=2,
        memory_gib_per_replica=8.0,
        idle_minutes=15,
    )
    assert settings.server_port == 8443 and isinstance(settings.credentials(), Password)
    assert ClickHouseSettings(host="h", secure=False).server_port == 8123
    assert ClickHouseEngine(settings).describe() == {
        "mode": "server",
        "host": "abc.eu-west-1.aws.clickhouse.cloud",
        "secure": True,
        "cloud_tier": "scale",
        "replicas": 2,
        "memory_gib_per_replica": 8.0,
        "idle_minutes": 15,
        "idling": True,
        "tables": TABLE_LAYOUT,
        "fetch": SERVER_FETCH_PATH,
    }
    assert TABLE_LAYOUT.startswith("untuned: ") and "ORDER BY tuple()" in TABLE_LAYOUT
    described = ClickHouseEngine(ClickHouseSettings(host="h")).describe()
    assert described["cloud_tier"] is None and described["replicas"] is None
    # A service whose automatic idling is turned off, as a config says it.
    from harness.config import parse_config

    section = {"host": "h", "cloud_tier": "scale", "idling": False}
    never = parse_config({"engines": {"clickhouse": section}}).engines["clickhouse"]
    described = ClickHouseEngine(never).describe()
    assert described["idling"] is False and described["idle_minutes"] is None


def test_a_cloud_tier_that_is_not_one_is_refused():
    from harness.errors import ConfigError

    with pytest.raises(ConfigError, match="basic, scale, enterprise"):
        ClickHouseEngine(ClickHouseSettings(host="h", cloud_tier="premium"))


def test_loaded_types_read_back_as_duckdb_reads_them(engine, tmp_path):
    # Decimals stay Decimal, dates date, timestamps naive datetimes (to the microsecond); a
    # column with a NULL in its file becomes Nullable and reads back None, never 0 or ''.
    import pyarrow as pa

    file = tmp_path / "t.parquet"
    write_parquet(
        file,
        {
            "k": pa.array([1, 2], pa.int64()),
            "price": pa.array([Decimal("12.34"), Decimal("-0.01")], pa.decimal128(15, 2)),
            "day": pa.array([date(1992, 1, 2), date(1998, 12, 1)]),
            "at": pa.array([datetime(2026, 1, 5, 7, 8, 9, 123456), datetime(2026, 1, 5)]),
            "note": pa.array(["a", None]),
            "props": pa.array(['{"a": {"b": 1.5}}', '{"a": {}}']),
        },
    )
    table = Table(
        "t",
        tuple(
            Column(n, t)
            for n, t in [
                ("k", "bigint"),
                ("price", "decimal(15,2)"),
                ("day", "date"),
                ("at", "timestamp"),
                ("note", "varchar"),
                ("props", "json"),
            ]
        ),
    )
    renderer = Renderer(get_workload("events"), "clickhouse", 25000)
    data = TableData("x/y", "t", (file,))
    statements = renderer.table_statements(table, engine.source_uris(data))
    assert "ENGINE = MergeTree ORDER BY tuple()" in statements[0]
    loaded = engine.load("whb_types", data, statements)
    assert (loaded.table, loaded.rows) == ("t", 2) and loaded.bytes_stored > 0
    engine.use("whb_types")
    types = dict(engine._rows("SELECT name, type FROM system.columns WHERE table = 't'"))
    assert types["note"] == "Nullable(String)" and types["k"] == "Int64"  # NULLs only where held
    result = engine.execute(
        "SELECT k, price, price * 2, day, at, note, "
        "JSONExtract(props, 'a', 'b', 'Nullable(Float64)') FROM t ORDER BY k",
        60,
    )
    assert result.rows == [
        (1, Decimal("12.34"), Decimal("24.68"), date(1992, 1, 2),
         datetime(2026, 1, 5, 7, 8, 9, 123456), "a", 1.5),
        (2, Decimal("-0.01"), Decimal("-0.02"), date(1998, 12, 1),
         datetime(2026, 1, 5), None, None),
    ]  # fmt: skip
    engine.drop("whb_types")
    assert "whb_types" not in engine.namespaces()


def test_a_failed_load_leaves_no_table(engine, tmp_path):
    table = Table("t", (Column("k", "bigint"),))
    renderer = Renderer(get_workload("events"), "clickhouse", 25000)
    data = TableData("x/y", "t", (tmp_path / "missing.parquet",))
    with pytest.raises(Exception):  # noqa: B017 (chDB's own error)
        engine.load("whb_fail", data, renderer.table_statements(table, engine.source_uris(data)))
    assert engine.existing_tables("whb_fail") == set()
    engine.drop("whb_fail")


def test_clickhouse_s_own_time_limit_stops_a_query(engine):
    engine.statement("CREATE DATABASE IF NOT EXISTS whb_limit")
    engine.prepare_session("whb_limit", "test", 1)
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        engine.execute("SELECT count() FROM numbers(100000000000)", 1)
    assert time.monotonic() - started < 5  # max_execution_time, before the harness's timer
    assert engine.execute("SELECT 1", 60).rows == [(1,)]
    engine.drop("whb_limit")


def test_cancel_kills_the_query_in_flight(engine):
    threading.Timer(1.0, engine.cancel).start()
    started = time.monotonic()
    with pytest.raises(QueryCancelled):
        engine.execute("SELECT count() FROM numbers(100000000000)", 600)
    assert time.monotonic() - started < 10
    assert engine.execute("SELECT 1", 60).rows == [(1,)]


def test_settings_are_recorded_and_standard_sql_semantics_set(engine):
    described = engine.describe()
    assert described["mode"] == "embedded"
    assert described["threads"] == 2 and described["path"].endswith("chdb")
    assert described["memory_limit"].endswith(" B") and int(described["memory_limit"][:-2]) > 0
    assert described["tables"] == TABLE_LAYOUT  # the run records that its tables are untuned
    assert engine.version().startswith("26.")
    engine.statement("CREATE DATABASE IF NOT EXISTS whb_settings")
    engine.prepare_session("whb_settings", "test", 60)
    assert engine.result_cache == "off" and not engine.notes
    settings = engine._rows(
        "SELECT getSetting('use_query_cache'), getSetting('join_use_nulls'), "
        "getSetting('aggregate_functions_null_for_empty'), getSetting('max_execution_time')"
    )
    assert settings == [(False, True, True, 60.0)] or settings[0][:3] == (False, True, True)
    # Standard answers where ClickHouse's own differ: a sum of no rows is NULL, an outer join
    # fills NULL, `count(x) AS x` counts the column.
    assert engine.execute("SELECT sum(number) FROM numbers(0)", 60).rows == [(None,)]
    rows = engine.execute(
        "SELECT a.number, b.number FROM numbers(2) a LEFT JOIN "
        "(SELECT number FROM numbers(1)) b ON a.number = b.number ORDER BY 1",
        60,
    ).rows
    assert rows == [(0, 0), (1, None)]
    assert engine.execute(
        "SELECT count(x) AS x FROM (SELECT if(number = 0, NULL, number) AS x FROM numbers(3))",
        60,
    ).rows == [(2,)]
    engine.drop("whb_settings")


def test_statistics_come_from_the_query_log_by_label(engine):
    first = engine.execute("SELECT sum(number) FROM numbers(1000000)", 60)
    second = engine.execute("SELECT 1", 60)
    assert first.engine_query_id != second.engine_query_id
    found = engine.query_history([first.engine_query_id, second.engine_query_id])
    seconds, usage = found[first.engine_query_id]
    assert seconds is not None and seconds >= 0
    assert usage.bytes_scanned == 8_000_000  # a million UInt64 read
    assert usage.rows_read == 1_000_000
    assert usage.peak_memory_bytes is not None and usage.peak_memory_bytes > 0
    assert usage.bytes_billed is None and usage.slot_ms is None  # not reported: unknown
    assert engine.query_history(["not-ours"]) == {}


def test_a_query_log_memory_of_zero_is_unknown():
    from harness.engines.clickhouse.query_log import peak_memory

    # ClickHouse writes 0 where its memory tracker saw no peak: unknown, never "used none".
    assert (peak_memory(0), peak_memory(None), peak_memory(4096)) == (None, None, 4096)


def test_cold_drops_clickhouse_s_caches_and_says_lukewarm(engine):
    method = engine.make_cold()
    assert method.startswith("lukewarm: ") and "OS page cache warm" in method
    assert "mark" in method and "uncompressed" in method
    assert ClickHouseEngine.cold_method and "lukewarm" in ClickHouseEngine.cold_method


def test_one_process_opens_one_data_folder(engine, tmp_path):
    other = ClickHouseEngine(ClickHouseSettings(path=str(tmp_path / "other")))
    with pytest.raises(EngineError, match="already has another chDB data folder open"):
        other.connect()


@pytest.mark.parametrize("namespace", ["default", "system", "whb_x; DROP DATABASE system", ""])
def test_drop_refuses_what_the_harness_did_not_create(engine, namespace):
    with pytest.raises(EngineError, match="not a namespace whbench created"):
        engine.drop(namespace)


def test_import_history_reads_finished_selects_from_the_query_log(engine):
    from datetime import UTC, timedelta

    since = datetime.now(UTC) - timedelta(minutes=5)
    engine.execute("SELECT sum(number) AS s FROM numbers(1000)", 60)
    entries = engine.read_history(since, 60)
    mine = [e for e in entries if e.text == "SELECT sum(number) AS s FROM numbers(1000)"]
    assert len(mine) == 1
    assert mine[0].bytes_scanned == 8000 and mine[0].elapsed_seconds is not None
    assert mine[0].started_at is not None
    # Recorded rows of the documented columns: only finished SELECTs become entries.
    rows = [
        {"query": " SELECT 1 ", "query_duration_ms": 1500, "read_bytes": 10,
         "started_at": None, "type": "QueryFinish", "query_kind": "Select"},
        {"query": "INSERT …", "query_duration_ms": 1, "read_bytes": 1,
         "started_at": None, "type": "QueryFinish", "query_kind": "Insert"},
    ]  # fmt: skip
    (entry,) = ClickHouseEngine.history_entries(rows)
    assert (entry.text, entry.elapsed_seconds, entry.bytes_scanned) == ("SELECT 1", 1.5, 10)


def test_datetime_and_enum_columns_read_as_values_not_their_numbers(engine):
    # Arrow carries a ClickHouse DateTime as UInt32 seconds and an Enum as its number; the
    # engine reads them as the time and the name. A UInt32 stays a number.
    rows = engine.execute(
        "SELECT toDateTime('2026-01-05 07:00:00') AS t, toStartOfHour(toDateTime64("
        "'2026-01-05 07:08:09.5', 6)) AS h, CAST('b' AS Enum8('a' = 1, 'b' = 2)) AS e, "
        "toNullable(CAST(NULL, 'Nullable(Enum16(\\'x\\' = 300))')) AS n, toUInt32(5) AS u",
        60,
    ).rows
    assert rows == [(datetime(2026, 1, 5, 7), datetime(2026, 1, 5, 7), "b", None, 5)]
