from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pytest

from harness.engines.base import Usage
from harness.errors import StoreError, UsageError
from harness.kept_answers import keep
from harness.store import SCHEMA_VERSION, Attempt, Store, open_store


def start(store: Store, run_id: str, **more) -> None:
    store.start_run(
        run_id=run_id,
        engine="duckdb",
        workload="tpch",
        scale=0.01,
        engine_settings={},
        config={},
        **more,
    )


def test_unreported_usage_is_null_not_zero(tmp_path):
    with open_store(tmp_path / "r.duckdb") as store:
        start(store, "run-1")
        store.record_attempt(
            "run-1",
            Attempt(
                "q01",
                1,
                "cold",
                "ok",
                datetime.now(UTC),
                client_seconds=0.5,
                usage=Usage(bytes_scanned=0),
            ),
        )
        (row,) = store.attempts("run-1")
    assert row.bytes_scanned == 0  # reported as zero stays zero
    assert row.bytes_billed is None and row.slot_ms is None and row.engine_seconds is None


def test_a_run_left_running_is_marked_interrupted_when_next_opened(tmp_path):
    path = tmp_path / "r.duckdb"
    with open_store(path) as store:
        start(store, "run-1")
        store.record_attempt("run-1", Attempt("q01", 1, "cold", "ok", datetime.now(UTC), 0.1))
    with open_store(path) as store:  # as if the writer had been killed
        assert store.run("run-1").status == "interrupted"
        assert len(store.attempts("run-1")) == 1


def test_run_ids_resolve_by_unambiguous_prefix(tmp_path):
    with open_store(tmp_path / "r.duckdb") as store:
        start(store, "20261125-a")
        start(store, "20261125-b")
        assert store.resolve_run("20261125-a") == "20261125-a"
        with pytest.raises(UsageError, match="ambiguous"):
            store.resolve_run("20261125")
        with pytest.raises(UsageError, match="no run"):
            store.resolve_run("x")


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "r.duckdb"
    open_store(path).__enter__().close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(StoreError, match="newer whbench"):
        Store(path)


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(StoreError, match="not a whbench results store"):
        Store(path, read_only=True)


def test_a_store_of_an_older_schema_is_upgraded_and_keeps_its_runs(tmp_path):
    path = tmp_path / "r.duckdb"
    with open_store(path) as store:
        start(store, "run-1")
    # Take it back to schema 1, as an earlier whbench wrote it.
    con = duckdb.connect(str(path))
    con.execute("DROP VIEW attempt_details")
    con.execute("DROP TABLE invocations")
    con.execute("DROP TABLE kept_rows")
    con.execute("DROP TABLE levels")
    con.execute("ALTER TABLE runs DROP COLUMN load")
    con.execute("ALTER TABLE runs DROP COLUMN endpoint")
    for column in ("stream", "level", "harness_queue_seconds"):
        con.execute(f"ALTER TABLE attempts DROP COLUMN {column}")
    con.execute("DROP TABLE results")
    con.execute("ALTER TABLE runs DROP COLUMN result_cache")
    con.execute("ALTER TABLE attempts DROP COLUMN answer")
    con.execute("ALTER TABLE attempts DROP COLUMN cold_method")
    con.execute("CREATE VIEW attempt_details AS SELECT * FROM attempts")
    for column in ("rows_read", "peak_memory_bytes"):
        con.execute(f"ALTER TABLE attempts DROP COLUMN {column}")
    con.execute("ALTER TABLE runs DROP COLUMN workload_options")
    con.execute("ALTER TABLE runs DROP COLUMN notes")
    con.execute("ALTER TABLE runs DROP COLUMN run_usage")
    con.execute("ALTER TABLE runs DROP COLUMN after_run")
    for column in (
        "cloud_services_credits",
        "queued_seconds",
        "compile_seconds",
        "execution_seconds",
        "ended_at",
    ):
        con.execute(f"ALTER TABLE attempts DROP COLUMN {column}")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    with open_store(path, read_only=True) as store:  # even a reader upgrades it first
        assert store.run("run-1").workload_options is None
        assert store.run("run-1").endpoint is None  # where it ran was not recorded then
    with open_store(path) as store:
        start(store, "run-2", endpoint={"kind": "local", "address": "127.0.0.1:5439"})
        assert {r.run_id for r in store.list_runs()} == {"run-1", "run-2"}
        assert store.run("run-2").endpoint == {"kind": "local", "address": "127.0.0.1:5439"}
        (version,) = store.con.execute("SELECT value FROM meta").fetchone()
    assert int(version) == SCHEMA_VERSION


def _attempt_with(usage: Usage, query_id: str = "q01") -> Attempt:
    return Attempt(query_id, 1, "cold", "ok", datetime.now(UTC), 0.5, usage=usage)


def test_rows_read_and_peak_memory_are_kept_exported_and_none_when_not_reported(tmp_path):
    path = tmp_path / "r.duckdb"
    with open_store(path) as store:
        start(store, "run-1")
        store.record_attempt("run-1", _attempt_with(Usage(rows_read=0, peak_memory_bytes=4096)))
        store.record_attempt("run-1", _attempt_with(Usage(bytes_scanned=10), "q02"))
        reported, unreported = store.attempts("run-1")
        store.export("run-1", "json", tmp_path / "attempts.json")
    assert (reported.rows_read, reported.peak_memory_bytes) == (0, 4096)  # 0 read stays 0
    assert (unreported.rows_read, unreported.peak_memory_bytes) == (None, None)
    exported = json.loads((tmp_path / "attempts.json").read_text())
    assert [(a["rows_read"], a["peak_memory_bytes"]) for a in exported] == [
        (0, 4096),
        (None, None),
    ]


def test_a_schema_12_store_opens_its_attempts_without_rows_read_or_memory(tmp_path):
    path = tmp_path / "r.duckdb"
    with open_store(path) as store:
        start(store, "run-1")
        store.record_attempt("run-1", _attempt_with(Usage(bytes_scanned=7)))
    # Back to schema 12, as whbench wrote it before these two columns.
    con = duckdb.connect(str(path))
    con.execute("DROP VIEW attempt_details")
    for column in ("rows_read", "peak_memory_bytes"):
        con.execute(f"ALTER TABLE attempts DROP COLUMN {column}")
    con.execute("CREATE VIEW attempt_details AS SELECT a.*, NULL AS excluded FROM attempts a")
    con.execute("UPDATE meta SET value = '12' WHERE key = 'schema_version'")
    con.close()
    # A journal line an older whbench left, without the new columns, is recovered too.
    old_line = {
        "run_id": "run-1",
        "query_id": "q02",
        "attempt": 1,
        "phase": "hot",
        "status": "ok",
        "started_at": datetime.now(UTC).isoformat(),
        "bytes_scanned": 3,
    }
    path.with_name(path.name + ".journal").write_text(json.dumps(old_line) + "\n")
    with open_store(path, read_only=True) as store:  # a reader upgrades it first
        first, second = store.attempts("run-1")
        (version,) = store.con.execute("SELECT value FROM meta").fetchone()
    assert int(version) == SCHEMA_VERSION
    assert (first.bytes_scanned, first.rows_read, first.peak_memory_bytes) == (7, None, None)
    assert (second.bytes_scanned, second.rows_read) == (3, None)
    assert first.title is None and first.excluded is None  # the view is whole again
    with open_store(path) as store:  # and takes the new figures from then on
        store.record_attempt("run-1", _attempt_with(Usage(rows_read=5), "q03"))
        assert store.attempts("run-1")[-1].rows_read == 5


def test_equal_answers_are_kept_once_and_a_schema_9_store_moves_its_kept_rows(tmp_path):
    path = tmp_path / "r.duckdb"
    answer = keep([("x", 1), ("y", 2)], False, 2, ("a", "b"))
    with open_store(path) as store:
        for run_id in ("run-1", "run-2"):
            start(store, run_id)
            store.record_result(run_id, "q01", 1, answer, "correct", None)
        store.record_result("run-2", "q02", 1, keep([("z", 3)], False, 2), "unchecked", None)
    con = duckdb.connect(str(path))
    assert con.execute("SELECT count(*) FROM kept_rows").fetchone()[0] == 2  # not 3
    # Back to schema 9, where each result held its rows inline.
    con.execute("ALTER TABLE results ADD COLUMN rows JSON")
    con.execute(
        "UPDATE results SET rows = (SELECT k.rows FROM kept_rows k WHERE k.digest = rows_digest)"
    )
    con.execute("ALTER TABLE results DROP COLUMN rows_digest")
    con.execute("DROP TABLE kept_rows")
    con.execute("UPDATE meta SET value = '9' WHERE key = 'schema_version'")
    con.close()
    with open_store(path, read_only=True) as store:
        assert store.results("run-1")["q01"].rows == store.results("run-2")["q01"].rows
        assert store.results("run-2")["q01"].rows == [("x", 1), ("y", 2)]
        assert store.results("run-2")["q02"].rows == [("z", 3)]
        assert store.results("run-2", with_rows=False)["q02"].rows is None
        (kept,) = store.con.execute("SELECT count(*) FROM kept_rows").fetchone()
        assert kept == 2  # each distinct answer once


def test_attempts_journaled_by_a_killed_writer_are_kept_once_and_a_torn_line_is_dropped(tmp_path):
    path = tmp_path / "r.duckdb"
    store = Store(path)
    start(store, "run-1")
    for number in (1, 2, 3):
        store.record_attempt("run-1", Attempt("q01", number, "hot", "ok", datetime.now(UTC), 0.1))
    store.flush()  # attempts 1-3 reach the tables, and the journal is emptied
    store.record_result("run-1", "q02", 1, keep([("x", 1)], False, 2, ("a", "b")), "correct", None)
    store.record_attempt("run-1", Attempt("q02", 1, "cold", "ok", datetime.now(UTC), 0.2))
    journal = store.journal_path.read_text()
    # As if the process died after moving q01 into the tables but before emptying the journal,
    # and in the middle of writing one more line.
    store.con.close()  # no flush: what is still pending exists only in the journal
    assert len(journal.splitlines()) == 2  # only q02 (its result and attempt) was pending
    store.journal_path.write_text(
        journal + journal + '{"run_id": "run-1", "query_id": "q03", "att'  # q02 twice
    )
    with open_store(path, read_only=True) as reader:  # a reader moves it in too
        rows = [(a.query_id, a.attempt) for a in reader.attempts("run-1")]
        assert reader.run("run-1").status == "interrupted"
        (kept,) = reader.results("run-1").values()  # once, though journaled twice
    assert (kept.query_id, kept.rows, kept.answer) == ("q02", [("x", 1)], "correct")
    assert rows == [("q01", 1), ("q01", 2), ("q01", 3), ("q02", 1)]
    assert not store.journal_path.exists()


def test_every_journal_line_the_store_writes_reads_back_as_a_row(tmp_path):
    """The replay's checks know every column an attempt or a result is journaled with."""
    from harness.store import journal_row

    store = Store(tmp_path / "r.duckdb")
    start(store, "run-1")
    store.record_result("run-1", "q01", 1, keep([("x", 1.5)], False, 2, ("a", "b")), "wrong", None)
    attempt = Attempt(
        "q01",
        1,
        "cold",
        "ok",
        datetime.now(UTC),
        0.5,
        0.4,
        1,
        "abc",
        "engine-1",
        Usage(bytes_scanned=10, cache_hit=False, warehouse_seconds=1.0, rows_read=3),
        ended_at=datetime.now(UTC),
        answer="wrong",
        cold_method="reopened",
        stream=1,
        level=2,
        harness_queue_seconds=0.0,
    )
    store.record_attempt("run-1", attempt)
    result_line, attempt_line = store.journal_path.read_text().splitlines()
    store.close()
    kind, row = journal_row(json.loads(result_line))
    assert kind == "result" and set(row) == set(json.loads(result_line)["result"])
    kind, row = journal_row(json.loads(attempt_line))
    assert kind == "attempt" and set(row) == set(json.loads(attempt_line))
    assert row["started_at"] == attempt.started_at and row["cache_hit"] is False


def test_a_damaged_journal_line_is_skipped_counted_and_the_journal_kept(tmp_path, capsys):
    path = tmp_path / "r.duckdb"
    store = Store(path)
    start(store, "run-1")
    for number in range(1, 6):
        store.record_attempt("run-1", Attempt("q01", number, "hot", "ok", datetime.now(UTC), 0.1))
    lines = store.journal_path.read_text().splitlines()
    store.con.close()  # killed: nothing moved into the tables
    lines[1] = lines[1].replace('"attempt": 2', '"attempt": true')  # JSON, but no attempt
    lines[3] = "\x00" * 30
    store.journal_path.write_text("\n".join(lines) + "\n")
    with open_store(path, read_only=True) as reader:
        assert [a.attempt for a in reader.attempts("run-1")] == [1, 3, 5]
    (warning,) = capsys.readouterr().err.splitlines()
    assert "2 lines of the journal" in warning and "(lines 2, 4 of 5)" in warning
    (copy,) = tmp_path.glob("r.duckdb.journal.damaged-*")
    assert str(copy) in warning and copy.read_text().splitlines() == lines
    assert not store.journal_path.exists()
    with open_store(path) as again:  # nothing more to say the next time
        assert len(again.attempts("run-1")) == 3
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "setup",
    [
        "CREATE TABLE customers (id INTEGER)",
        "CREATE VIEW v AS SELECT 1",
        "CREATE TABLE meta (k VARCHAR, v VARCHAR)",  # someone's meta, of another shape
        "CREATE TABLE meta (key VARCHAR, value VARCHAR)",  # a meta with no schema version
    ],
)
def test_a_duckdb_database_that_is_not_a_store_is_refused_and_left_as_it_was(tmp_path, setup):
    path = tmp_path / "theirs.duckdb"
    con = duckdb.connect(str(path))
    con.execute(setup)
    con.close()
    before = path.read_bytes()
    for read_only in (False, True):
        with pytest.raises(StoreError, match="not a whbench results store") as refused:
            Store(path, read_only=read_only)
        assert refused.value.exit_code == 2
    assert path.read_bytes() == before


def test_the_read_api_answers_what_readers_used_to_ask_in_sql(tmp_path):
    """Each named read returns typed rows; the SQL stays in harness/store/."""
    from harness.records import LoadOutcome
    from harness.store import LoadedTable, PassTime, StoredAttempt

    at = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    with open_store(tmp_path / "r.duckdb") as store:
        for run_id in ("run-1", "run-2"):
            start(store, run_id)
            store.record_queries(
                run_id, [("q01", "One", False, "SELECT 1"), ("q02", "Two", False, "")]
            )
            for query, seconds in (("q01", 1.0), ("q01", 3.0), ("q02", 2.0)):
                number = 1 + sum(a[0] == query for a in store.attempted(run_id))
                store.record_attempt(
                    run_id,
                    Attempt(query, number, "hot", "ok", at, seconds, engine_query_id=f"e{number}"),
                )
            store.record_attempt(run_id, Attempt("q02", 2, "hot", "error", at, error="x"))
            store.record_load(run_id, "lineitem", "loaded", LoadOutcome("lineitem", 6, 0.5, 99))
            store.record_load(run_id, "orders", "reused")
            store.finish_run(run_id, "finished")
        assert store.engine_query_ids("run-1") == ["e1", "e2", "e1"]
        assert store.attempt_numbers("run-1") == {"q01": 2, "q02": 2}
        assert store.latest_run_ids() == ["run-2"]  # the newest of the engine, workload, scale
        both = store.attempts_of(["run-1", "run-2"])
        assert len(both) == 8 and all(isinstance(a, StoredAttempt) for a in both)
        assert [a.attempt for a in both] == sorted(a.attempt for a in both)
        assert store.attempts_of([]) == []
        earlier = store.successful_attempts("duckdb", "tpch", 0.01, "q02")
        assert [(a.run_id, a.status) for a in earlier] == [("run-1", "ok"), ("run-2", "ok")]
        (loaded, _) = store.latest_loads()
        assert loaded == LoadedTable(
            "duckdb", "tpch", 0.01, None, "lineitem", 6, 99, 0.5, loaded.started_at
        )
        passes = store.pass_times("tpch", 0.01)
        assert [type(p) for p in passes] == [PassTime, PassTime]
        assert (passes[0].seconds, passes[0].queries) == (2.0 + 2.0, 2)  # medians 2 s and 2 s
        assert store.query_sql("run-1") == {"q01": "SELECT 1", "q02": ""}
