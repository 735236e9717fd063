"""The results store: an embedded DuckDB file with a versioned schema.

Every attempt is made durable the moment it finishes. It is appended to a journal beside the
store as one JSON line, handed to the OS at once (a crash of the process, even kill -9, loses at
most the attempt in flight) and fsynced when the query's attempts are done (a crash of the
machine loses at most the query in flight). The journal moves into the tables in one statement
when the run ends: a DuckDB commit per attempt would cost 1.5-2 ms each, more than many TPC-H
queries take at SF 1. Opening the store moves in what a crashed process left in the journal: a
line it cannot read (torn by the crash, or damaged) is skipped and counted, every other one is
recovered, and the journal is kept aside for a look. A quantity an engine did not report is
stored as NULL, never as 0.

The store refuses a file that is not one (someone's DuckDB database is left byte for byte as it
was), and its failures are told as what they mean to the user: a damaged file (nothing was
changed; move it aside), a full disk (what is safe; what to run next).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import duckdb

from harness.errors import HarnessError, StoreError, UsageError, first_line, lock_holder, scrub
from harness.paths import file_kind
from harness.records import LoadOutcome, Usage
from harness.store.rows import (
    LoadedTable,
    PassTime,
    RunListing,
    StoredAttempt,
    StoredLevel,
    StoredLoad,
    StoredResult,
    StoredRun,
    from_record,
)

if TYPE_CHECKING:  # the answers module is needed only by runs and reports, not every command
    from harness.answers import Difference, Stored

SCHEMA_VERSION = 12

ATTEMPT_DETAILS = """
CREATE OR REPLACE VIEW attempt_details AS
    SELECT r.engine, r.workload, r.data_type, r.scale, a.*, q.title, q.ordered, q.sql,
           -- why an attempt's time is left out of times and verdicts: it may be a cache read
           CASE WHEN a.cache_hit THEN 'result cache hit'
                WHEN a.phase IN ('hot', 'load') AND r.result_cache = 'not turned off'
                THEN 'result cache could not be turned off' END AS excluded
    FROM attempts a
    JOIN runs r USING (run_id)
    LEFT JOIN queries q USING (run_id, query_id);
"""

INVOCATIONS = """
CREATE TABLE IF NOT EXISTS invocations (  -- each `whbench run`: its plan, for --resume
    invocation_id VARCHAR,
    started_at TIMESTAMPTZ,
    plan JSON                      -- runs, timeout_seconds, tasks (engine, workload, scale, …)
);
"""

# What takes a store from version N-1 to N. SCHEMA below is always the newest shape.
MIGRATIONS: dict[int, list[str]] = {
    2: ["ALTER TABLE runs ADD COLUMN workload_options JSON"],
    3: ["ALTER TABLE runs ADD COLUMN notes JSON"],
    4: ["ALTER TABLE attempts ADD COLUMN cloud_services_credits DOUBLE"],
    5: [
        *(
            f"ALTER TABLE attempts ADD COLUMN {column} DOUBLE"
            for column in ("queued_seconds", "compile_seconds", "execution_seconds")
        ),
        "ALTER TABLE runs ADD COLUMN run_usage JSON",
    ],
    6: [
        "ALTER TABLE attempts ADD COLUMN ended_at TIMESTAMPTZ",
        "ALTER TABLE runs ADD COLUMN after_run JSON",
    ],
    7: [
        "ALTER TABLE attempts ADD COLUMN answer VARCHAR",
        "ALTER TABLE attempts ADD COLUMN cold_method VARCHAR",
        "ALTER TABLE runs ADD COLUMN result_cache VARCHAR",
        "CREATE TABLE results (run_id VARCHAR, query_id VARCHAR, attempt INTEGER, "
        "columns JSON, total_rows BIGINT, rest_fingerprint VARCHAR, rows JSON, "
        "answer VARCHAR, difference JSON)",
        "DROP VIEW attempt_details",
        ATTEMPT_DETAILS,
    ],
    8: [
        "ALTER TABLE attempts ADD COLUMN stream INTEGER",
        "ALTER TABLE attempts ADD COLUMN level INTEGER",
        "ALTER TABLE attempts ADD COLUMN harness_queue_seconds DOUBLE",
        "ALTER TABLE runs ADD COLUMN load JSON",
        "CREATE TABLE levels (run_id VARCHAR, level INTEGER, status VARCHAR, "
        "started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ)",
        "DROP VIEW attempt_details",
        ATTEMPT_DETAILS,
    ],
    9: ["ALTER TABLE levels ADD COLUMN scale_out JSON"],
    10: [
        "CREATE TABLE kept_rows (digest VARCHAR, rows JSON)",
        "INSERT INTO kept_rows SELECT DISTINCT sha256(rows::VARCHAR), rows FROM results "
        "WHERE rows IS NOT NULL",
        "ALTER TABLE results ADD COLUMN rows_digest VARCHAR",
        "UPDATE results SET rows_digest = sha256(rows::VARCHAR)",
        "ALTER TABLE results DROP COLUMN rows",
    ],
    11: [INVOCATIONS],
    # IF NOT EXISTS: a store taken back to an older version by hand (the tests) may keep it.
    12: ["ALTER TABLE runs ADD COLUMN IF NOT EXISTS round_trip_seconds JSON"],
}

SCHEMA = (
    """
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    invocation_id VARCHAR,         -- runs started by the same `whbench run`
    status VARCHAR,                -- running, finished, failed, interrupted
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    harness_version VARCHAR,
    git_commit VARCHAR,
    host VARCHAR,
    engine VARCHAR,
    engine_version VARCHAR,
    engine_settings JSON,          -- threads, warehouse size … as the engine reported them
    workload VARCHAR,
    data_type VARCHAR,
    scale DOUBLE,
    workload_options JSON,         -- generator parameters, e.g. {"gap_minutes": 5}
    namespace VARCHAR,
    runs_per_query INTEGER,
    timeout_seconds DOUBLE,
    checksum_decimals INTEGER,
    config JSON,                   -- as written, secrets removed
    error VARCHAR,
    notes JSON,                    -- what the engine could not do as asked
    run_usage JSON,                -- the vendor's billed figures for the run's window, fetched
    after_run JSON,                -- what the engine did after the last query (a suspend …)
    result_cache VARCHAR,          -- off, not turned off (the engine refused), none (has none)
    load JSON,                     -- under load: levels, iterations or duration, arrival rate
    round_trip_seconds JSON        -- the session's floor: SELECT 1 x n, {min, median, n, sql};
                                   -- NULL where it was not measured (never 0)
);
CREATE TABLE loads (
    run_id VARCHAR,
    table_name VARCHAR,
    status VARCHAR,                -- loaded, reused, error
    rows BIGINT,
    bytes_stored BIGINT,
    seconds DOUBLE,
    error VARCHAR
);
CREATE TABLE queries (
    run_id VARCHAR,
    query_id VARCHAR,
    title VARCHAR,
    ordered BOOLEAN,               -- row order is part of the answer
    sql VARCHAR                    -- exactly what the engine received
);
CREATE TABLE attempts (
    run_id VARCHAR,
    query_id VARCHAR,
    attempt INTEGER,               -- 1 is the first run of the query
    phase VARCHAR,                 -- cold, lukewarm (first, caches not emptied), hot
    status VARCHAR,                -- ok, error, timeout, skipped
    started_at TIMESTAMPTZ,
    client_seconds DOUBLE,         -- full round trip including fetching every row
    engine_seconds DOUBLE,         -- the engine's own elapsed time, where it reports one
    rows BIGINT,
    checksum VARCHAR,
    engine_query_id VARCHAR,
    bytes_scanned BIGINT,
    bytes_billed BIGINT,
    slot_ms BIGINT,
    warehouse_seconds DOUBLE,
    rpu_seconds DOUBLE,
    cache_hit BOOLEAN,
    error VARCHAR,
    cloud_services_credits DOUBLE, -- Snowflake: billed only beyond 10% of warehouse credits
    queued_seconds DOUBLE,         -- the engine's own breakdown of its time, where it gives one
    compile_seconds DOUBLE,
    execution_seconds DOUBLE,
    ended_at TIMESTAMPTZ,          -- with started_at: when the attempt held the engine
    answer VARCHAR,                -- correct, wrong, unchecked (no known answer)
    cold_method VARCHAR,           -- how a cold attempt was made cold
    stream INTEGER,                -- under load: the stream (its own session) that ran it
    level INTEGER,                 -- under load: how many streams ran at once
    harness_queue_seconds DOUBLE   -- open loop: waited in the harness's queue before it started
);
CREATE TABLE levels (              -- under load: each concurrency level, measured whole or not
    run_id VARCHAR,
    level INTEGER,
    status VARCHAR,                -- finished, interrupted
    started_at TIMESTAMPTZ,        -- when its streams were released, all at once
    ended_at TIMESTAMPTZ,          -- when the last one finished
    scale_out JSON                 -- compute the engine added in the level, as it reports it
);
CREATE TABLE results (             -- each query's result, once per run: its first answer
    run_id VARCHAR,
    query_id VARCHAR,
    attempt INTEGER,
    columns JSON,                  -- names, as the engine gave them (lower case)
    total_rows BIGINT,
    rest_fingerprint VARCHAR,      -- of the rows beyond the kept ones, when capped
    rows_digest VARCHAR,           -- its kept rows: kept_rows.digest
    answer VARCHAR,                -- against the known answer: correct, wrong, unchecked
    difference JSON                -- when wrong: the rule that failed and the rows that differ
);
-- The first rows of each distinct answer (harness.answers.KEPT_ROWS), types tagged, stored
-- once however many runs gave it: a run that repeats its answers adds nothing here. (Appending
-- to a table makes DuckDB's checkpoint rewrite that table's last row group, so with the rows
-- inline every run paid for rewriting every earlier run's answers.)
CREATE TABLE kept_rows (
    digest VARCHAR,                -- sha256 of the rows as JSON text
    rows JSON
);
"""
    + INVOCATIONS
    + ATTEMPT_DETAILS
)

RUN_JSON_COLUMNS = (
    "load",
    "engine_settings",
    "workload_options",
    "config",
    "notes",
    "run_usage",
    "after_run",
    "round_trip_seconds",
)

EXPORT_FORMATS = {
    "json": "FORMAT json, ARRAY true",
    "csv": "FORMAT csv, HEADER true",
    "parquet": "FORMAT parquet",
}


@dataclass(frozen=True)
class Attempt:
    """One attempt of one query, as the store keeps it: ok, timeout or error."""

    query_id: str
    attempt: int
    phase: str
    status: str
    started_at: datetime
    client_seconds: float | None = None
    engine_seconds: float | None = None
    rows: int | None = None
    checksum: str | None = None
    engine_query_id: str | None = None
    usage: Usage = field(default_factory=Usage)
    error: str | None = None
    ended_at: datetime | None = None
    answer: str | None = None  # correct, wrong, unchecked; None when there was no answer
    cold_method: str | None = None
    stream: int | None = None  # under load
    level: int | None = None
    harness_queue_seconds: float | None = None  # open loop


class Store:
    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise UsageError(
                f"no results store at {self.path}; run `whbench run` first or pass --results-dir"
            )
        if not read_only:
            with _explained_open_errors(self.path):
                self.path.parent.mkdir(parents=True, exist_ok=True)
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self._journal: IO[str] | None = None
        self._pending: list[dict[str, Any]] = []  # journaled attempts, not yet in the tables
        self._pending_results: list[dict[str, Any]] = []  # and journaled results
        self.con = self._connect(read_only)
        try:
            # A reader got the file, so no writer holds it: a journal left beside it is a
            # crashed run's, and an older schema needs upgrading. Both need a moment of write
            # access.
            if self._check_schema(read_only) or (read_only and self.journal_path.exists()):
                self.con.close()
                self.con = self._connect(read_only=False)
                self._check_schema(read_only=False)
                self._recover()
                self.con.close()
                self.con = self._connect(read_only=True)
            if not read_only:
                self._recover()
        except BaseException:
            self.con.close()  # a refused or damaged file is left as it was, and not held
            raise

    def _connect(self, read_only: bool) -> _Connection:
        with _explained_open_errors(self.path):
            con = duckdb.connect(
                str(self.path),
                read_only=read_only,
                config={
                    # One thread: the store's writes are tiny, and its own worker threads
                    # would compete for cores with the engine measured in the same process.
                    "threads": 1,
                    # A SQLite file given as the store would otherwise make DuckDB download
                    # its SQLite extension and create whbench's tables inside that file.
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
                },
            )
        return _Connection(con, self.path, self.journal_path)

    def _check_schema(self, read_only: bool) -> bool:
        """Create or upgrade the schema; True when a read-only store needs an upgrade first."""
        try:  # straight to the version: listing the tables first costs 5 ms every command
            row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except duckdb.BinderException:  # a meta table of someone else's shape
            raise NotAStore(self.path) from None
        except duckdb.CatalogException:  # no meta table: a new file, or not a store
            # Only here, never on the way to an existing store's version: is anything in it?
            if self._holds_anything():
                raise NotAStore(self.path, " (a DuckDB database with tables of its own)") from None
            if read_only:
                raise NotAStore(self.path) from None
            self.con.execute("BEGIN")
            self.con.execute(SCHEMA)
            self.con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
            self.con.execute("COMMIT")
            return False
        if row is None:
            raise NotAStore(self.path)
        try:
            version = int(row[0])
        except (TypeError, ValueError):
            raise StoreError(
                _damaged(self.path, f"its schema version is {str(row[0])[:40]!r}, not a number")
            ) from None
        if version < 1:
            raise StoreError(_damaged(self.path, f"its schema version is {version}"))
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer whbench (schema {version}); upgrade whbench"
            )
        if version == SCHEMA_VERSION:
            return False
        if read_only:
            return True
        self.con.execute("BEGIN")
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                self.con.execute(statement)
        self.con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [SCHEMA_VERSION])
        self.con.execute("COMMIT")
        return False

    def _holds_anything(self) -> bool:
        """Whether the file holds a table, view or sequence of its own: someone's database."""
        (count,) = self.con.execute(
            "SELECT (SELECT count(*) FROM duckdb_tables() WHERE NOT internal)"
            " + (SELECT count(*) FROM duckdb_views() WHERE NOT internal)"
            " + (SELECT count(*) FROM duckdb_sequences())"
        ).fetchone()
        return count > 0

    def close(self, quietly: bool = False) -> None:
        """Move what is journaled into the tables and close. `quietly` (the command failed
        already): a failure to move it is not told, and the journal keeps it for the next
        opening."""
        try:
            self.flush()
        except Exception:
            if not quietly:
                raise
        finally:
            if self._journal is not None:
                with suppress(OSError):
                    self._journal.close()
                self._journal = None
            if quietly:  # the failure already told is the one to tell
                with suppress(Exception):
                    self.con.close()
            else:
                self.con.close()

    def flush(self) -> None:
        """Move the journaled attempts and results into the tables and drop the journal."""
        if self._pending:
            self._insert_attempts(self._pending)
            self._pending = []
        if self._pending_results:
            self._insert_results(self._pending_results)
            self._pending_results = []
        if self._journal is not None:
            self._journal.close()
            self._journal = None
            self.journal_path.unlink(missing_ok=True)

    def _recover(self) -> None:
        """Finish what a process that died mid-run left: its journaled attempts go into the
        tables and its run is marked interrupted. Only one process can hold the file for
        writing, so anything still running when it is opened was cut short."""
        if self.journal_path.exists():
            self._replay_journal()
        self.con.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")

    def _replay_journal(self) -> None:
        """Every line of the journal that reads as an attempt or a result goes into the
        tables; one that does not (the line being written when the process died, or a line
        damaged since) is skipped, counted and said, and the journal is then kept aside
        rather than deleted, so nothing is thrown away unseen."""
        attempts: dict[tuple[str, str, int], tuple[int, dict[str, Any]]] = {}
        results: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        damaged: list[int] = []
        lines = 0
        torn = False
        try:
            journal = open(self.journal_path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise StoreError(
                f"cannot read the journal {self.journal_path}: {exc.strerror}; it holds attempts "
                "not yet in the store: make it readable and run the command again"
            ) from None
        with journal:
            for number, raw in enumerate(journal, 1):
                if not raw.strip():
                    continue  # nothing was written there, so nothing is lost
                lines += 1
                try:
                    kind, row = journal_row(json.loads(raw))
                except (ValueError, TypeError, OverflowError, RecursionError):
                    damaged.append(number)
                    torn = not raw.endswith(b"\n")  # only the last line can lack one
                    continue
                if kind == "result":  # a query's first answer is the one kept
                    results.setdefault((row["run_id"], row["query_id"]), (number, row))
                else:  # an attempt journaled twice (a crash mid-flush) is one attempt
                    attempts[row["run_id"], row["query_id"], row["attempt"]] = (number, row)
        damaged += self._insert_recovered(self._insert_attempts, list(attempts.values()))
        damaged += self._insert_recovered(self._insert_results, list(results.values()))
        if not damaged:
            self.journal_path.unlink()
            return
        _warn(self._kept_aside(sorted(damaged), lines, torn))

    @staticmethod
    def _insert_recovered(
        insert: Callable[[list[dict[str, Any]]], None], rows: list[tuple[int, dict[str, Any]]]
    ) -> list[int]:
        """Insert (line number, row) pairs; the line numbers of rows the store refused. All at
        once first; if a value slipped past the checks, row by row (each insert skips what is
        stored already), so one bad row costs only itself."""
        try:
            insert([row for _, row in rows])
            return []
        except duckdb.Error:
            refused = []
            for number, row in rows:
                try:
                    insert([row])
                except duckdb.Error:
                    refused.append(number)
            return refused

    def _kept_aside(self, damaged: list[int], lines: int, torn: bool) -> str:
        """Move the journal aside after a replay that left lines out; what to tell the user."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        copy = self.journal_path.with_name(f"{self.journal_path.name}.damaged-{stamp}")
        for n in range(2, 100):
            if not copy.exists():
                break
            copy = self.journal_path.with_name(f"{self.journal_path.name}.damaged-{stamp}-{n}")
        listed = ", ".join(map(str, damaged[:5])) + (", …" if len(damaged) > 5 else "")
        count = len(damaged)
        told = (
            f"{count} line{'s' if count > 1 else ''} of the journal of results store {self.path} "
            f"could not be read (line{'s' if count > 1 else ''} {listed} of {lines}"
            + (", the last cut off as it was written when whbench stopped" if torn else "")
            + f") and {'are' if count > 1 else 'is'} left out; the other {lines - count} "
            "were recovered"
        )
        try:
            self.journal_path.rename(copy)
        except OSError as exc:
            return f"{told}; the journal stays at {self.journal_path} ({exc.strerror})"
        return f"{told}; the journal is kept as {copy}"

    def _insert_new(self, table: str, keys: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
        """Insert rows whose `keys` are not in `table` yet, 500 to a statement: a crash between
        the insert and removing the journal must not store them twice."""
        if not rows:
            return
        names = list(rows[0])  # every row of one batch comes from one record_…: same keys
        columns = ", ".join(names)
        row_marks = "(" + ", ".join("?" * len(names)) + ")"
        present = " AND ".join(f"t.{key} = v.{key}" for key in keys)
        if len(rows) > 2000:
            # A run under load: binding every value as a parameter costs about 0.15 ms a row,
            # an Arrow table of the columns a few microseconds (pyarrow loads only for this).
            import pyarrow

            batch = pyarrow.table({name: [row[name] for row in rows] for name in names})
            self.con.register("pending_rows", batch)
            try:
                self.con.execute(
                    f"INSERT INTO {table} ({columns}) SELECT {columns} FROM pending_rows v "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {present})"
                )
            finally:
                self.con.unregister("pending_rows")
            return
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            self.con.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM "
                f"(VALUES {', '.join([row_marks] * len(chunk))}) AS v({columns}) "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {present})",
                [row[name] for row in chunk for name in names],
            )

    def _insert_attempts(self, rows: list[dict[str, Any]]) -> None:
        self._insert_new("attempts", ("run_id", "query_id", "attempt"), rows)

    def _insert_results(self, rows: list[dict[str, Any]]) -> None:
        """Results with their kept rows moved to kept_rows, each distinct answer once."""
        results, kept = [], {}
        for row in rows:
            row = dict(row)
            text = row.pop("rows")
            row["rows_digest"] = digest = hashlib.sha256(text.encode()).hexdigest()
            kept[digest] = text
            results.append(row)
        self._insert_new(
            "kept_rows", ("digest",), [{"digest": d, "rows": t} for d, t in kept.items()]
        )
        self._insert_new("results", ("run_id", "query_id"), results)

    # -- writing --------------------------------------------------------------------------------
    def start_run(self, **run: Any) -> None:
        run = {**run, "status": "running", "started_at": _now()}
        for key in ("engine_settings", "workload_options", "config", "load"):
            value = run.get(key)
            # scrub: an engine's settings may hold a value from a ${…} reference (a path, a host)
            run[key] = None if value is None else scrub(json.dumps(value, default=str))
        columns = ", ".join(run)
        self.con.execute(
            f"INSERT INTO runs ({columns}) VALUES ({', '.join('?' * len(run))})", list(run.values())
        )

    def reopen_run(self, run_id: str) -> None:
        """Mark an interrupted or failed run running again, for `whbench run --resume`."""
        self.con.execute(
            "UPDATE runs SET status = 'running', ended_at = NULL, error = NULL WHERE run_id = ?",
            [run_id],
        )

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        self.flush()
        self.con.execute(
            "UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE run_id = ?",
            [status, _now(), error, run_id],
        )

    def record_run_usage(self, run_id: str, usage: dict[str, Any]) -> None:
        """The vendor's billed figures for the run's window, with when they were fetched."""
        usage = {**usage, "fetched_at": _now().isoformat()}
        self.con.execute(
            "UPDATE runs SET run_usage = ? WHERE run_id = ?", [json.dumps(usage), run_id]
        )

    def record_after_run(self, run_id: str, facts: dict[str, Any]) -> None:
        self.con.execute(
            "UPDATE runs SET after_run = ? WHERE run_id = ?", [json.dumps(facts), run_id]
        )

    def record_level(
        self,
        run_id: str,
        level: int,
        status: str,
        started_at: datetime,
        ended_at: datetime,
        scale_out: dict[str, Any] | None = None,
    ) -> None:
        self.flush()  # its attempts first: a finished level has all of them in the tables
        self.con.execute(
            "INSERT INTO levels VALUES (?, ?, ?, ?, ?, ?)",
            [run_id, level, status, started_at, ended_at, scale_out and json.dumps(scale_out)],
        )

    def levels(self, run_id: str) -> list[StoredLevel]:
        levels = self.rows(
            "SELECT * FROM levels WHERE run_id = ? ORDER BY started_at, level", [run_id]
        )
        for level in levels:
            level["scale_out"] = json.loads(level["scale_out"]) if level["scale_out"] else None
        return [from_record(StoredLevel, level) for level in levels]

    def discard_level(self, run_id: str, level: int) -> int:
        """Remove what an interrupted level left, before it runs again whole: the number of
        attempts removed."""
        self.flush()
        (removed,) = self.con.execute(
            "SELECT count(*) FROM attempts WHERE run_id = ? AND level = ?", [run_id, level]
        ).fetchone()
        self.con.execute("DELETE FROM attempts WHERE run_id = ? AND level = ?", [run_id, level])
        self.con.execute("DELETE FROM levels WHERE run_id = ? AND level = ?", [run_id, level])
        return removed

    def record_result_cache(self, run_id: str, state: str) -> None:
        self.con.execute("UPDATE runs SET result_cache = ? WHERE run_id = ?", [state, run_id])

    def record_round_trip(self, run_id: str, floor: dict[str, Any] | None) -> None:
        """The session's round-trip floor (Engine.measure_round_trip), or NULL when it could
        not be measured: written once per session, before the first query, so straight to the
        table (no journal: nothing is lost that the next session would not measure again)."""
        self.con.execute(
            "UPDATE runs SET round_trip_seconds = ? WHERE run_id = ?",
            [None if floor is None else json.dumps(floor), run_id],
        )

    def record_result(
        self,
        run_id: str,
        query_id: str,
        attempt: int,
        stored: Stored,
        answer: str,
        difference: Difference | None,
    ) -> None:
        """A query's result, once per run (a resumed run keeps the one it has). Journaled like
        an attempt but not synced on its own: record it before its attempt, whose sync covers
        both. It reaches the table with the attempts, saving a commit per query."""
        from harness.answers import difference_json, to_json

        row = {
            "run_id": run_id,
            "query_id": query_id,
            "attempt": attempt,
            "columns": json.dumps(stored.columns),
            "total_rows": stored.total_rows,
            "rest_fingerprint": stored.rest_fingerprint,
            "rows": to_json(stored),
            "answer": answer,
            "difference": difference_json(difference),
        }
        self._journal_line({"result": row}, sync=False)
        self._pending_results.append(row)

    def results(self, run_id: str, with_rows: bool = True) -> dict[str, StoredResult]:
        """Query id -> its stored result, rows decoded (or left out: decoding a 10,000-row
        answer is the slow part)."""
        from harness.answers import difference_from_json, from_json

        found = {}
        sql = "SELECT r.* EXCLUDE (rows_digest) FROM results r WHERE run_id = ?"
        if with_rows:
            sql = (
                "SELECT r.* EXCLUDE (rows_digest), k.rows FROM results r "
                "LEFT JOIN kept_rows k ON k.digest = r.rows_digest WHERE run_id = ?"
            )
        for row in self.rows(sql, [run_id]):
            if with_rows:
                row["rows"] = from_json(row["rows"])
            row["columns"] = json.loads(row["columns"])
            row["difference"] = (
                difference_from_json(row["difference"]) if row["difference"] else None
            )
            found[row["query_id"]] = from_record(StoredResult, row)
        return found

    def record_notes(self, run_id: str, notes: list[str]) -> None:
        """What the engine could not do as asked, kept with the run."""
        self.con.execute("UPDATE runs SET notes = ? WHERE run_id = ?", [json.dumps(notes), run_id])

    def record_load(
        self,
        run_id: str,
        table: str,
        status: str,
        outcome: LoadOutcome | None = None,
        error: str | None = None,
    ) -> None:
        self.con.execute(
            "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                table,
                status,
                outcome and outcome.rows,
                outcome and outcome.bytes_stored,
                outcome and outcome.seconds,
                error,
            ],
        )

    def record_queries(self, run_id: str, queries: list[tuple[str, str, bool, str]]) -> None:
        """(query id, title, ordered, sql) of every query of a run, in one statement."""
        if queries:
            values = ", ".join(["(?, ?, ?, ?, ?)"] * len(queries))
            params = [value for query in queries for value in (run_id, *query)]
            self.con.execute(f"INSERT INTO queries VALUES {values}", params)

    def record_history(
        self, run_id: str, engine_query_id: str, seconds: float | None, usage: Usage
    ) -> None:
        """Add what the engine reported about a query after the fact (its history view)."""
        self.flush()
        columns = {"engine_seconds": seconds, **usage.as_dict()}
        assignments = ", ".join(f"{column} = ?" for column in columns)
        self.con.execute(
            f"UPDATE attempts SET {assignments} WHERE run_id = ? AND engine_query_id = ?",
            [*columns.values(), run_id, engine_query_id],
        )

    def record_attempt(self, run_id: str, a: Attempt, sync: bool = True) -> None:
        """Journal an attempt; `sync=False` leaves the fsync to the next one that asks for it
        (a query's attempts, or a batch of attempts under load, are synced once)."""
        row = {
            "run_id": run_id,
            "query_id": a.query_id,
            "attempt": a.attempt,
            "phase": a.phase,
            "status": a.status,
            "started_at": a.started_at,
            "client_seconds": a.client_seconds,
            "engine_seconds": a.engine_seconds,
            "rows": a.rows,
            "checksum": a.checksum,
            "engine_query_id": a.engine_query_id,
            **a.usage.as_dict(),
            "error": a.error,
            "ended_at": a.ended_at,
            "answer": a.answer,
            "cold_method": a.cold_method,
            "stream": a.stream,
            "level": a.level,
            "harness_queue_seconds": a.harness_queue_seconds,
        }
        self._journal_line(row, sync=sync)
        self._pending.append(row)

    def _journal_line(self, row: dict[str, Any], sync: bool) -> None:
        line = json.dumps(row, default=datetime.isoformat) + "\n"
        try:
            if self._journal is None:
                self._journal = open(self.journal_path, "a", encoding="utf-8")  # noqa: SIM115
            self._journal.write(line)
            self._journal.flush()  # with the OS: survives a crash of this process, even kill -9
            if sync:  # on the disk: survives a crash of the OS too
                os.fsync(self._journal.fileno())
        except OSError as exc:
            # What the journal held before this line stays there (the next opening recovers
            # it, and counts this line if part of it was written). The file is let go: its
            # buffer holds a line the disk refused.
            if self._journal is not None:
                with suppress(OSError, ValueError):
                    self._journal.close()
                self._journal = None
            raise _write_failure(self.path, exc, self.journal_path) from None

    # -- reading --------------------------------------------------------------------------------
    def rows(self, sql: str, params: list | None = None) -> list[dict[str, Any]]:
        self.flush()
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def list_runs(self) -> list[RunListing]:
        rows = self.rows(
            """SELECT r.run_id, r.started_at, r.status, r.engine, r.workload, r.scale,
                      count(a.attempt) AS attempts,
                      count(*) FILTER (WHERE a.status <> 'ok' AND a.attempt IS NOT NULL) AS failed
               FROM runs r LEFT JOIN attempts a USING (run_id)
               GROUP BY ALL ORDER BY r.started_at, r.run_id"""
        )
        return [from_record(RunListing, row) for row in rows]

    def resolve_run(self, run: str) -> str:
        """A run id from a full id or an unambiguous prefix."""
        matches = [
            r
            for (r,) in self.con.execute(
                "SELECT run_id FROM runs WHERE starts_with(run_id, ?) ORDER BY run_id", [run]
            ).fetchall()
        ]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise UsageError(f"no run {run!r} in {self.path}; see `whbench results list`")
        raise UsageError(f"run {run!r} is ambiguous ({', '.join(matches[:4])} …); give more of it")

    def run(self, run_id: str) -> StoredRun:
        return self.runs([run_id])[0]

    def runs(self, run_ids: list[str]) -> list[StoredRun]:
        """Runs by id, in engine order, their JSON columns decoded."""
        marks = ", ".join("?" * len(run_ids))
        runs = self.rows(f"SELECT * FROM runs WHERE run_id IN ({marks}) ORDER BY engine", run_ids)
        for run in runs:
            for column in RUN_JSON_COLUMNS:
                run[column] = json.loads(run[column]) if run[column] is not None else None
        if any(run["config"] for run in runs):
            # A run stored by an older whbench may hold a ${VAR:-default}'s default as written.
            from harness.config import redact

            for run in runs:
                run["config"] = redact(run["config"])
        return [from_record(StoredRun, run) for run in runs]

    def attempts(self, run_id: str) -> list[StoredAttempt]:
        rows = self.rows(
            "SELECT * FROM attempt_details WHERE run_id = ? ORDER BY query_id, attempt", [run_id]
        )
        return [from_record(StoredAttempt, row) for row in rows]

    def attempts_of(self, run_ids: list[str]) -> list[StoredAttempt]:
        """The attempts of several runs, in attempt order (first attempts first)."""
        if not run_ids:
            return []
        marks = ", ".join("?" * len(run_ids))
        rows = self.rows(
            f"SELECT * FROM attempt_details WHERE run_id IN ({marks}) ORDER BY attempt", run_ids
        )
        return [from_record(StoredAttempt, row) for row in rows]

    def successful_attempts(
        self, engine: str, workload: str, scale: float, query_id: str
    ) -> list[StoredAttempt]:
        """Every successful attempt of a query in the stored runs of an engine, workload and
        scale (the budget guard's history)."""
        rows = self.rows(
            """SELECT * FROM attempt_details
               WHERE engine = ? AND workload = ? AND scale = ? AND query_id = ?
                 AND status = 'ok'""",
            [engine, workload, scale, query_id],
        )
        return [from_record(StoredAttempt, row) for row in rows]

    def engine_query_ids(self, run_id: str) -> list[str]:
        """The engine's own ids of a run's attempts (those it gave one), to look up its query
        history once for the whole run."""
        return [
            row["engine_query_id"]
            for row in self.rows(
                "SELECT engine_query_id FROM attempts WHERE run_id = ? "
                "AND engine_query_id IS NOT NULL",
                [run_id],
            )
        ]

    def attempt_numbers(self, run_id: str) -> dict[str, int]:
        """Query id -> the highest attempt number a run has of it (a resumed run under load
        numbers its next attempts from there)."""
        return {
            row["query_id"]: row["n"]
            for row in self.rows(
                "SELECT query_id, max(attempt) AS n FROM attempts WHERE run_id = ? GROUP BY 1",
                [run_id],
            )
        }

    def latest_run_ids(self) -> list[str]:
        """The newest run of each engine, workload and scale that recorded any attempt, and
        apart from it the newest run under load (`--streams`) of each."""
        return [
            row["run_id"]
            for row in self.rows(
                """SELECT arg_max(run_id, started_at) AS run_id FROM runs
                   WHERE run_id IN (SELECT run_id FROM attempts)
                   GROUP BY engine, workload, scale, coalesce(load, 'null') = 'null' ORDER BY 1"""
            )
        ]

    def latest_loads(self) -> list[LoadedTable]:
        """Every real load (status 'loaded') with its run's engine, workload, scale and
        namespace, oldest run first: the last one of a table is its latest."""
        rows = self.rows(
            """SELECT r.engine, r.workload, r.scale, r.namespace, l.table_name, l.rows,
                      l.bytes_stored, l.seconds, r.started_at
               FROM loads l JOIN runs r USING (run_id) WHERE l.status = 'loaded'
               ORDER BY r.started_at"""
        )
        return [from_record(LoadedTable, row) for row in rows]

    def pass_times(self, workload: str, scale: float) -> list[PassTime]:
        """Every stored run of a workload and scale, oldest first: the sum over its queries of
        each query's median successful time, and how many queries that covers. Computed here,
        since a long history holds many attempts: DuckDB's median is stats.median (the mean
        of the two middle values for an even count)."""
        rows = self.rows(
            """WITH per_query AS (
                   SELECT r.run_id, r.engine, r.started_at, a.query_id,
                          median(a.client_seconds) AS seconds
                   FROM attempt_details a JOIN runs r USING (run_id)
                   WHERE r.workload = ? AND r.scale = ? AND a.status = 'ok'
                     AND a.excluded IS NULL
                   GROUP BY ALL)
               SELECT engine, run_id, started_at, sum(seconds) AS seconds, count(*) AS queries
               FROM per_query GROUP BY ALL ORDER BY started_at""",
            [workload, scale],
        )
        return [from_record(PassTime, row) for row in rows]

    def query_sql(self, run_id: str) -> dict[str, str]:
        """Query id -> exactly the SQL the engine received in a run."""
        return {
            row["query_id"]: row["sql"]
            for row in self.rows("SELECT query_id, sql FROM queries WHERE run_id = ?", [run_id])
        }

    def query_ids(self, run_id: str) -> list[str]:
        return [
            r["query_id"]
            for r in self.rows(
                "SELECT query_id FROM queries WHERE run_id = ? ORDER BY query_id", [run_id]
            )
        ]

    def attempted(self, run_id: str) -> set[tuple[str, int]]:
        """(query id, attempt) of every attempt a run has."""
        rows = self.rows("SELECT query_id, attempt FROM attempts WHERE run_id = ?", [run_id])
        return {(r["query_id"], r["attempt"]) for r in rows}

    def loads(self, run_id: str) -> list[StoredLoad]:
        rows = self.rows("SELECT * FROM loads WHERE run_id = ? ORDER BY table_name", [run_id])
        return [from_record(StoredLoad, row) for row in rows]

    def export(self, run_id: str, fmt: str, destination: Path) -> None:
        """The run's attempts as a file (`destination` a regular file, or - for stdout)."""
        options = EXPORT_FORMATS[fmt]
        query = (
            f"SELECT * FROM attempt_details WHERE run_id = '{_literal(run_id)}' "
            "ORDER BY query_id, attempt"
        )
        with output_file(destination, "export") as partial:
            # the raw connection: a full disk here is the export's, not the store's
            self.con.raw.execute(f"COPY ({query}) TO '{_literal(str(partial))}' ({options})")

    # -- what a `whbench run` planned, for --resume -------------------------------------------
    def record_invocation(self, invocation_id: str, plan: dict[str, Any]) -> None:
        self.con.execute(
            "INSERT INTO invocations VALUES (?, ?, ?)",
            [invocation_id, _now(), json.dumps(plan, default=str)],
        )

    def invocation(self, invocation_id: str | None) -> dict[str, Any] | None:
        """The plan of a `whbench run` (None for one made before plans were kept)."""
        if invocation_id is None:
            return None
        row = self.con.execute(
            "SELECT plan FROM invocations WHERE invocation_id = ?", [invocation_id]
        ).fetchone()
        return json.loads(row[0]) if row else None

    def runs_of_invocation(self, invocation_id: str) -> list[StoredRun]:
        """Every run a `whbench run` (and its resumptions) started, oldest first."""
        ids = [
            r["run_id"]
            for r in self.rows(
                "SELECT run_id FROM runs WHERE invocation_id = ? ORDER BY started_at, run_id",
                [invocation_id],
            )
        ]
        found = {run["run_id"]: run for run in self.runs(ids)} if ids else {}
        return [found[run_id] for run_id in ids]


@contextmanager
def _explained_open_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except (OSError, duckdb.Error) as exc:
        raise _open_failure(path, exc) from None


@contextmanager
def open_store(path: Path, read_only: bool = False) -> Iterator[Store]:
    store = Store(path, read_only=read_only)
    try:
        yield store
    except BaseException:
        # The command failed already (a full disk, Ctrl-C …): what is journaled moves into the
        # tables if it can, else the journal keeps it; either way that failure is the one told.
        store.close(quietly=True)
        raise
    store.close()


def _now() -> datetime:
    return datetime.now(UTC)


def _literal(text: str) -> str:
    return text.replace("'", "''")


def _warn(text: str) -> None:
    """One line on stderr: stdout stays clean for what the command prints (and --json)."""
    print(f"warning: {text}", file=sys.stderr, flush=True)


# -- failures, told as what they mean -----------------------------------------------------------
# What an OS or DuckDB says when a write does not fit: the disk is full, a quota is reached, or
# the file size limit (RLIMIT_FSIZE) is.
_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_FULL_WORDS = ("No space left on device", "File too large", "Disk quota exceeded")
# What DuckDB says of a file that is cut short or whose blocks are not what it wrote.
_DAMAGED_WORDS = (
    "Corrupt database file",
    "not a valid DuckDB database file",
    "Could not read enough bytes",
    "checksum",
)


class NotAStore(StoreError):
    """A file that is not a whbench results store (someone's DuckDB database, a SQLite file):
    left as it was. Bad input, so exit 2."""

    exit_code = 2

    def __init__(self, path: Path, what: str = "") -> None:
        super().__init__(
            f"{path} is not a whbench results store{what}; it was left as it was: choose "
            "another store with --results-dir (or store: in the config)"
        )


class StoreFull(StoreError):
    """A write to the store or its journal that the disk refused. Every attempt finished before
    it is kept (in the tables, or in the journal the next opening moves in); `resume_command`,
    when a run was under way, is how to finish it once there is space."""

    def __init__(self, path: Path, reason: str, journal: Path) -> None:
        super().__init__(path, reason, journal)
        self.path, self.reason, self.journal = path, reason, journal
        self.resume_command: str | None = None

    def __str__(self) -> str:
        then = (
            f"then: {self.resume_command}"
            if self.resume_command
            else "then run the same command again"
        )
        return (
            f"the disk holding results store {self.path} is full ({self.reason}); every attempt "
            f"that finished before is kept ({self.journal} holds those not yet in the store): "
            f"free space on that disk, {then}"
        )


def _damaged(path: Path, detail: str) -> str:
    return (
        f"results store {path} is damaged ({detail}); whbench changed nothing in it: move it "
        f"aside (mv {path} {path}.damaged) to start a new store there, or choose another store "
        "with --results-dir"
    )


def _full_reason(text: str) -> str | None:
    return next((words for words in _FULL_WORDS if words in text), None)


def _write_failure(path: Path, exc: OSError, journal: Path) -> StoreError:
    """An OS error writing the journal, as the user needs it."""
    if exc.errno in _FULL_ERRNOS:
        return StoreFull(path, exc.strerror or first_line(exc), journal)
    return StoreError(
        f"cannot write the journal {journal} of results store {path}: "
        f"{exc.strerror or first_line(exc)}; every attempt that finished before is kept in it: "
        "make its folder writable, then run the command again"
    )


def _open_failure(path: Path, exc: Exception) -> StoreError:
    text = first_line(exc)
    who = lock_holder(exc)
    if who is not None:
        return StoreError(
            f"results store {path} is in use by another process{who}; wait for it to finish "
            "or choose another store with --results-dir"
        )
    journal = path.with_name(path.name + ".journal")
    if isinstance(exc, OSError):
        if exc.errno in _FULL_ERRNOS:
            return StoreFull(path, exc.strerror or text, journal)
        text = exc.strerror or text
        if isinstance(exc, (FileExistsError, NotADirectoryError)):  # a file on the way
            blocker = next((p for p in path.parents if p.is_file()), None)
            text = f"{blocker} is a file, not a folder" if blocker else text
    elif reason := _full_reason(str(exc)):
        return StoreFull(path, reason, journal)
    elif any(words in str(exc) for words in _DAMAGED_WORDS):
        return StoreError(_damaged(path, text.removeprefix("IO Error: ")))
    elif "extension" in str(exc).lower() and path.exists():
        # DuckDB recognised another database's file (SQLite …) and wanted an extension
        return NotAStore(path, " (it is another kind of database file)")
    return StoreError(
        f"cannot open results store {path}: {text}; choose a writable folder with --results-dir"
    )


class _Connection:
    """The store's DuckDB connection, whose failures are told as what they mean to the user:
    a full disk (what is safe, what to run next) or a damaged file. Any other error (whbench's
    own SQL, a missing table) passes through as DuckDB raised it, so that the schema check can
    still tell a new file by its CatalogException."""

    __slots__ = ("_full", "_journal", "_path", "raw")

    def __init__(self, raw: duckdb.DuckDBPyConnection, path: Path, journal: Path) -> None:
        self.raw = raw
        self._path, self._journal = path, journal
        self._full: str | None = None  # once the disk refused a write: what it said

    def execute(self, sql: str, params: Any = None) -> _Connection:
        try:
            if params is None:
                self.raw.execute(sql)
            else:
                self.raw.execute(sql, params)
        except duckdb.Error as exc:
            raise self._explained(exc) from None
        return self

    def fetchone(self) -> tuple | None:
        try:
            return self.raw.fetchone()
        except duckdb.Error as exc:
            raise self._explained(exc) from None

    def fetchall(self) -> list[tuple]:
        try:
            return self.raw.fetchall()
        except duckdb.Error as exc:
            raise self._explained(exc) from None

    @property
    def description(self) -> Any:
        return self.raw.description

    def close(self) -> None:
        try:
            self.raw.close()
        except duckdb.Error:
            if self._full is None:
                raise  # after a full disk, its last checkpoint failing is no news

    def __getattr__(self, name: str) -> Any:  # register, unregister …: DuckDB's own
        return getattr(self.raw, name)

    def _explained(self, exc: duckdb.Error) -> Exception:
        text = str(exc)
        if reason := _full_reason(text):
            self._full = reason
            return StoreFull(self._path, reason, self._journal)
        if self._full is not None and "invalidated" in text:  # DuckDB gave up after that
            return StoreFull(self._path, self._full, self._journal)
        if any(words in text for words in _DAMAGED_WORDS):
            return StoreError(_damaged(self._path, first_line(exc).removeprefix("IO Error: ")))
        return exc


# -- journal lines ------------------------------------------------------------------------------
# A journal line is read back only after a crash, and anything may have happened to it (torn,
# overwritten, edited): it counts as an attempt or a result only if it has exactly the columns
# one has, each of the type its column takes. Every other line is damaged, however it parses.
def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    value.encode("utf-8")  # a lone surrogate ("\ud800" in the JSON) is no text DuckDB takes
    if "\0" in value:
        raise ValueError("NUL in text")
    return value


def _whole(bits: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if type(value) is not int or not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise ValueError(f"not a {bits}-bit whole number")
        return value

    return check


def _number(value: Any) -> float:
    if type(value) not in (int, float):  # not a bool, though bool is an int
        raise TypeError("not a number")
    return float(value)  # an int too large for a double: OverflowError


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise TypeError("not true or false")
    return value


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(_text(value))


def _json_text(value: Any) -> str:
    json.loads(_text(value))
    return value


_INT, _BIGINT = _whole(32), _whole(64)
# column -> its check; the required columns first (a row needs them, not None)
_ATTEMPT_COLUMNS: dict[str, Callable[[Any], Any]] = {
    "run_id": _text,
    "query_id": _text,
    "attempt": _INT,
    "phase": _text,
    "status": _text,
    "started_at": _moment,
    "client_seconds": _number,
    "engine_seconds": _number,
    "rows": _BIGINT,
    "checksum": _text,
    "engine_query_id": _text,
    "bytes_scanned": _BIGINT,
    "bytes_billed": _BIGINT,
    "slot_ms": _BIGINT,
    "warehouse_seconds": _number,
    "rpu_seconds": _number,
    "cache_hit": _flag,
    "cloud_services_credits": _number,
    "queued_seconds": _number,
    "compile_seconds": _number,
    "execution_seconds": _number,
    "error": _text,
    "ended_at": _moment,
    "answer": _text,
    "cold_method": _text,
    "stream": _INT,
    "level": _INT,
    "harness_queue_seconds": _number,
}
_ATTEMPT_REQUIRED = ("run_id", "query_id", "attempt", "phase", "status", "started_at")
_RESULT_COLUMNS: dict[str, Callable[[Any], Any]] = {
    "run_id": _text,
    "query_id": _text,
    "attempt": _INT,
    "columns": _json_text,
    "total_rows": _BIGINT,
    "rest_fingerprint": _text,
    "rows": _json_text,
    "answer": _text,
    "difference": _json_text,
}
_RESULT_REQUIRED = ("run_id", "query_id", "attempt", "columns", "rows")


def journal_row(line: Any) -> tuple[str, dict[str, Any]]:
    """("attempt" | "result", the row as the tables take it) from a parsed journal line;
    ValueError or TypeError (or OverflowError) when it is not one. A column missing from an
    older whbench's line is None; an unknown one makes the line damaged."""
    if not isinstance(line, dict):
        raise TypeError("not an object")
    kind, columns, required = "attempt", _ATTEMPT_COLUMNS, _ATTEMPT_REQUIRED
    if "result" in line:
        if len(line) != 1:
            raise ValueError("a result line holds only the result")
        line = line["result"]
        if not isinstance(line, dict):
            raise TypeError("not an object")
        kind, columns, required = "result", _RESULT_COLUMNS, _RESULT_REQUIRED
    if unknown := set(line) - set(columns):
        raise ValueError(f"unknown columns {sorted(unknown)[:3]}")
    row = {}
    for name, check in columns.items():  # in one order: a batch inserts by the first row's
        value = line.get(name)
        if value is None:
            if name in required:
                raise ValueError(f"{name} is missing")
            row[name] = None
        else:
            row[name] = check(value)
    if kind == "result":
        row["rows"] = line["rows"]  # as written: its digest names the kept rows
    return kind, row


# -- files written for the user (-o) ------------------------------------------------------------


@contextmanager
def output_file(target: Path, what: str) -> Iterator[Path]:
    """A new file to write `what` into, moved over `target` once written whole (readers never
    see half of it), or with `target` "-" copied to stdout. Refused as bad input (one line,
    exit 2): a target that exists and is not a regular file, since the move would replace a
    device node or a symbolic link (and writing to a fixed partial name could follow one); a
    path under a file; a folder that cannot be made or written. A full disk is exit 1."""
    to_stdout = str(target) == "-"
    folder = None if to_stdout else target.parent
    try:
        if folder is not None:
            _check_output_path(target, what)
            folder.mkdir(parents=True, exist_ok=True)
        # a name nobody has (O_EXCL): never a file, or a link, that was there before
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=folder)
        os.close(handle)
    except OSError as exc:
        raise _output_error(target, what, exc.errno, exc.strerror or first_line(exc)) from None
    partial = Path(name)
    try:
        yield partial
        if to_stdout:
            sys.stdout.flush()
            with partial.open("rb") as written:
                while chunk := written.read(1 << 20):
                    sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        else:
            partial.chmod(_mode_for(target))
            partial.replace(target)
    except OSError as exc:
        raise _output_error(target, what, exc.errno, exc.strerror or first_line(exc)) from None
    except duckdb.Error as exc:  # DuckDB writes some files itself (COPY … TO)
        reason = _full_reason(str(exc))
        raise _output_error(
            target, what, errno.ENOSPC if reason else None, reason or first_line(exc)
        ) from None
    finally:
        partial.unlink(missing_ok=True)


def _check_output_path(target: Path, what: str) -> None:
    try:
        found = os.lstat(target)
    except FileNotFoundError:
        found = None
    except NotADirectoryError:
        found = None  # a file on the way: named below
    except OSError as exc:
        raise _output_error(target, what, exc.errno, exc.strerror or first_line(exc)) from None
    if found is not None:
        if stat.S_ISREG(found.st_mode):
            return
        raise UsageError(
            f"cannot write {what} to {target}: it is {file_kind(found.st_mode)}, and whbench "
            "writes only regular files; choose another file with -o (or - for standard output)"
        )
    for folder in target.parents:  # the nearest that exists must be a folder
        if os.path.lexists(folder):
            if not folder.is_dir():
                raise UsageError(
                    f"cannot write {what} to {target}: {folder} is a file, not a folder; "
                    "choose another path with -o"
                )
            return


def _output_error(target: Path, what: str, number: int | None, reason: str) -> HarnessError:
    if number in _FULL_ERRNOS:
        return HarnessError(
            f"cannot write {what} {target}: {reason}; free space on that disk or choose another "
            "file with -o"
        )
    return UsageError(
        f"cannot write {what} {target}: {reason}; choose a file in a folder you can write "
        "with -o (or - for standard output)"
    )


def _mode_for(target: Path) -> int:
    """The permissions a file written anew gets (a replaced file keeps its own): mkstemp makes
    it private, but a report is written to be shared."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask
