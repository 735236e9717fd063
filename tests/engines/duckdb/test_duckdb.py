"""The DuckDB engine on its own: load, namespaces, time limits, versions."""

from __future__ import annotations

import pytest

from harness import kept_answers, spool
from harness.checksum import result_checksum
from harness.datagen import ensure_data
from harness.engines import all_engines, engine_class
from harness.engines.duckdb import DuckDBEngine, DuckDBSettings
from harness.errors import ConfigError, EngineError
from harness.kept_answers import keep
from harness.workloads import Renderer, get_workload

TPCH = get_workload("tpch")
# What make_cold says with drop_os_cache off: DuckDB's buffer pool is empty, the OS page cache
# is not, so the first attempt is lukewarm (the runner records the text after "lukewarm: ").
WARM = "lukewarm: database opened afresh: buffer pool empty, page cache warm (drop_os_cache off)"


@pytest.fixture
def engine(tmp_path):
    engine = DuckDBEngine(DuckDBSettings(database=str(tmp_path / "e.duckdb"), threads=1))
    engine.connect()
    yield engine
    engine.close()


def load_region_and_nation(engine, data_dir, namespace):
    data = ensure_data(data_dir, TPCH, 0.01)
    renderer = Renderer(TPCH, engine.dialect, 0.01)
    outcomes = []
    for table in TPCH.tables:
        if table.name in ("region", "nation"):
            files = data.table_data(table.name)
            statements = renderer.table_statements(table, engine.source_uris(files))
            outcomes.append(engine.load(namespace, files, statements))
    return outcomes


def test_execute_fetches_rows_and_times_them(engine):
    result = engine.execute("SELECT range AS n FROM range(1000)", timeout_seconds=10)
    assert len(result.rows) == 1000 and result.client_seconds > 0
    assert result.engine_seconds is None  # DuckDB reports no engine time of its own
    assert result.usage.bytes_scanned is None


def test_version_and_settings_are_recorded(engine):
    assert engine.version().startswith("v")
    described = engine.describe()
    assert described["threads"] == 1 and described["database"].endswith("e.duckdb")
    assert "no sort keys" in described["tables"]  # recorded: nothing was tuned


def test_registry_knows_its_engines():
    assert engine_class("duckdb") is DuckDBEngine
    assert all(cls.name == name for name, cls in all_engines().items())
    with pytest.raises(ConfigError, match="unknown engine 'nope'"):
        engine_class("nope")


@pytest.mark.parametrize("namespace", ["main", "analytics", "whb_x; DROP SCHEMA main", ""])
def test_drop_refuses_what_the_harness_did_not_create(engine, namespace):
    with pytest.raises(EngineError, match="not a namespace whbench created"):
        engine.drop(namespace)


def cached_table_bytes(engine) -> int:
    """What DuckDB's buffer pool holds of table data."""
    rows = engine._con.execute(
        "SELECT memory_usage_bytes FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"
    ).fetchall()
    return sum(bytes_ for (bytes_,) in rows)


def test_a_cold_attempt_starts_on_an_empty_buffer_pool(engine, data_dir):
    # A table of a few megabytes: reading it fills the buffer pool well beyond its empty state.
    engine._con.execute("CREATE SCHEMA whb_cold")
    engine._con.execute(
        "CREATE TABLE whb_cold.t AS SELECT range AS k, random() AS v FROM range(2000000)"
    )
    engine._con.execute("CHECKPOINT")
    engine.prepare_session("whb_cold", "test", 60)
    empty = 1024 * 1024
    engine.execute("SELECT sum(v) FROM t", 60)
    assert cached_table_bytes(engine) > 4 * empty  # warm: the table is in memory
    before = engine._con
    # The buffer pool is emptied; the page cache is not (drop_os_cache is off): lukewarm.
    assert engine.make_cold() == WARM
    assert engine._con is not before
    assert cached_table_bytes(engine) < empty  # nothing of it is in DuckDB's memory
    # The session is set up again: queries still find their tables unqualified.
    assert engine.execute("SELECT count(*) FROM t", 60).rows == [(2000000,)]


def test_a_database_opened_for_the_run_and_not_yet_read_is_cold_without_a_second_open(engine):
    engine._con.execute("CREATE SCHEMA whb_cold")
    engine._con.execute("CREATE TABLE whb_cold.t AS SELECT random() AS v FROM range(2000000)")
    engine.close()
    engine.connect()  # a run opens the database, checks its tables, sets up the session
    assert engine.existing_tables("whb_cold") == {"t"}
    engine.prepare_session("whb_cold", "test", 60)
    opened = engine._con
    assert engine.make_cold() == WARM
    assert engine._con is opened
    as_opened = cached_table_bytes(engine)  # the table's metadata, nothing of its data
    assert engine.execute("SELECT sum(v) > 0 FROM t", 60).rows == [(True,)]
    assert cached_table_bytes(engine) > 4 * as_opened
    assert engine.make_cold() == WARM  # read since: opened again
    assert engine._con is not opened
    assert cached_table_bytes(engine) == as_opened  # as cold as the first query's database


def test_an_in_memory_database_cannot_be_cold_and_says_so_by_being_lukewarm():
    engine = DuckDBEngine(DuckDBSettings(database=":memory:"))
    engine.connect()
    engine.prepare_session("main", "test", 60)
    assert engine.make_cold() is None
    engine.close()


def test_dropping_the_os_cache_is_opt_in_and_a_refusal_is_a_note(tmp_path):
    engine = DuckDBEngine(DuckDBSettings(database=str(tmp_path / "e.duckdb"), drop_os_cache=True))
    engine.connect()
    engine._con.execute("CREATE SCHEMA whb_x")
    engine.prepare_session("whb_x", "test", 60)
    method = engine.make_cold()
    engine.close()
    # Root on a host may drop it (cold); in a container the kernel refuses: lukewarm, with what
    # was done and a note of why.
    assert method == "database opened afresh, OS page cache dropped" or (
        method
        == "lukewarm: database opened afresh: buffer pool empty, page cache warm "
        "(could not drop it)"
        and engine.notes
        and engine.notes[0].startswith("could not drop the OS page cache")
    )


# Ties, out of order; NULLs; text of several bytes a character; decimals, doubles, negative
# numbers and dates: every kind of column the fingerprint and the kept answer treat apart.
LARGE = """SELECT (range * 7919) % 5003 AS k,
    CASE WHEN range % 11 = 0 THEN NULL ELSE 'té' || (range % 97) || '€' END AS word,
    (range / 7)::DECIMAL(15, 2) AS amount, range / 3 AS ratio, -range AS negative,
    DATE '2020-01-01' + (range % 400)::INT AS day
FROM range(12000)"""
# INTERVAL reads back from Arrow as another type: this result is spooled as rows instead.
LARGE_NOT_ARROW = "SELECT range % 13 AS k, INTERVAL (range % 100) MINUTE AS gap FROM range(12000)"


@pytest.mark.parametrize("sql", [LARGE, LARGE_NOT_ARROW], ids=["arrow", "rows"])
def test_a_large_result_in_many_batches_has_the_one_shot_fingerprint_and_kept_answer(
    engine, monkeypatch, sql
):
    """Past SPOOL_ROWS a result is fetched in batches and spooled to disk; its row count,
    rows, fingerprint (ordered or not, at any decimals) and kept answer are those of the same
    result fetched whole, as every result was before."""
    monkeypatch.setattr(spool, "SPOOL_ROWS", 1000)
    monkeypatch.setattr(spool, "BATCH_ROWS", 700)
    monkeypatch.setattr(kept_answers, "KEPT_ROWS", 500)
    result = engine.execute(sql, 60)
    whole = engine._con.execute(sql).fetchall()  # the one-shot path
    assert isinstance(result.rows, spool.Spooled)
    assert len(list(result.rows.batches())) > 10
    assert len(result.rows) == len(whole) == 12000 and result.rows == whole
    assert result.rows[:3] == whole[:3] and result.rows[7777] == whole[7777]
    assert result.rows[-1] == whole[-1]
    for ordered in (True, False):
        for decimals in (0, 2):
            assert result_checksum(result.rows, ordered, decimals) == result_checksum(
                whole, ordered, decimals
            )
        kept = keep(result.rows, ordered, 2, result.columns)
        assert kept == keep(whole, ordered, 2, result.columns)
        assert kept.total_rows == 12000 and kept.rest_fingerprint is not None
    again = engine.execute(sql, 60)  # a hot attempt: equal, so its judge skips the work
    assert again.rows == result.rows and (again.rows != result.rows) is False  # Judge.of asks !=


def test_a_result_below_the_spool_threshold_is_a_plain_list(engine, monkeypatch):
    monkeypatch.setattr(spool, "SPOOL_ROWS", 1000)
    assert type(engine.execute("SELECT range FROM range(999)", 60).rows) is list
    assert engine.execute("SELECT range FROM range(0)", 60).rows == []


def _first_attempts(workdir) -> list[tuple]:
    import duckdb

    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    try:
        return con.execute(
            "SELECT DISTINCT phase, cold_method FROM attempts WHERE attempt = 1"
        ).fetchall()
    finally:
        con.close()


def test_a_run_without_a_dropped_page_cache_never_labels_a_first_attempt_cold(
    whbench, make_config, workdir
):
    # drop_os_cache off (the default): every first attempt is lukewarm, with what it was.
    config = make_config(runs=2)
    result = whbench("run", "--config", config, "--json", "--quiet", "-q", "q01", "-q", "q06")
    assert result.code == 0, result.stderr
    (run,) = result.json()
    assert {q["first_run"] for q in run["queries"]} == {"lukewarm"}
    assert _first_attempts(workdir) == [
        (
            "lukewarm",
            "database opened afresh: buffer pool empty, page cache warm (drop_os_cache off)",
        )
    ]


def test_a_run_that_drops_the_page_cache_is_cold_only_where_it_was_dropped(
    whbench, make_config, workdir
):
    # drop_os_cache on: cold where the kernel let the page cache be dropped (root on a host);
    # where it refused (a container), lukewarm, with a note. Never cold with the cache warm.
    config = make_config(
        runs=2,
        engines={"duckdb": {"database": "results/bench.duckdb", "drop_os_cache": True}},
    )
    result = whbench("run", "--config", config, "--json", "--quiet", "-q", "q06")
    assert result.code == 0, result.stderr
    found = _first_attempts(workdir)
    assert found in (
        [("cold", "database opened afresh, OS page cache dropped")],
        [
            (
                "lukewarm",
                "database opened afresh: buffer pool empty, page cache warm (could not drop it)",
            )
        ],
    )
