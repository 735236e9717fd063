"""DuckDB: the local baseline. It runs in this process on this machine, so it has no bill of its
own; pricing treats it as a comparable cloud VM."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from harness import spool
from harness.engines.base import (
    NAMESPACE_PREFIX,
    Engine,
    EngineSettings,
    LoadOutcome,
    Ran,
    TableData,
    owned,
)
from harness.engines.credentials import Credentials, Local
from harness.engines.duckdb.billing import DuckDBBilling
from harness.errors import EngineError, first_line, lock_holder
from harness.settings import Range

# How whbench makes the tables, recorded with every run so that a comparison says it: DuckDB
# declares no sort or distribution keys, and whbench makes no index; DuckDB keeps min-max
# statistics (zonemaps) for every column of every row group on its own and prunes with them, so
# what tuning there is lies in the rows' order (https://duckdb.org/docs/current/guides/performance/indexing.html,
# read 2026-12-06), which is the data files' own.
TABLE_LAYOUT = (
    "nothing declared to tune (DuckDB has no sort keys; no index made): rows in the data files' "
    "order, pruned by the min-max statistics DuckDB keeps per row group on its own"
)


@dataclass
class DuckDBSettings(EngineSettings):
    # A file keeps loaded tables between runs; ":memory:" loads them again each time.
    database: str = "results/duckdb/bench.duckdb"
    threads: Annotated[int, Range(1, 4096)] | None = None  # None: DuckDB's default, one per core
    memory_limit: str | None = None  # e.g. "8GB"; None: DuckDB's default (80% of RAM)
    # Before each query's cold attempt, also drop the operating system's page cache (Linux,
    # needs root: it slows everything else on the machine for a moment). Off by default.
    drop_os_cache: bool = False

    def credentials(self) -> Credentials:
        return Local()


class DuckDBEngine(Engine[DuckDBSettings]):
    name = "duckdb"
    dialect = "duckdb"
    driver_module = "duckdb"
    driver_package = "duckdb"
    extra = None
    cost_basis = "machine-hours"
    billing = DuckDBBilling
    reports_engine_time = False
    reference = True
    on_this_machine = True
    # After a load, write the table to its blocks so they can be counted (a database file).
    checkpoint_after_load = True
    # Cold means no cache holds the data: DuckDB's buffer pool emptied (the database file
    # reopened) *and* the OS page cache dropped (drop_os_cache: true), as ClickBench does before
    # each cold query. With the page cache warm the first attempt reads the file from memory:
    # lukewarm, recorded as "buffer pool empty, page cache warm" (see make_cold).
    cold_method = (
        "database opened afresh (empty buffer pool) and the OS page cache dropped before each "
        "query's first attempt (drop_os_cache: true, needs root; a database file, not in-memory)"
    )
    settings_class = DuckDBSettings

    # DuckDB documents two Python result paths: the DB-API's tuples (fetchall, fetchmany) and
    # Arrow (to_arrow_table, to_arrow_reader); its native bulk form is Arrow.
    # https://duckdb.org/docs/2.0/clients/python/conversion and
    # https://duckdb.org/docs/2.0/guides/python/export_arrow (both read 2026-12-06).
    # Tuples are faster for a result kept as a list, Arrow for one spooled (see harness.spool).
    fetch_path = spool.fetch_path(
        "rows (DB-API fetchmany)",
        "Arrow record batches (to_arrow_reader) when every column converts faithfully, "
        "else rows (fetchmany)",
    )

    def __init__(self, settings: DuckDBSettings) -> None:
        super().__init__(settings)
        self.fetch_used: str | None = None  # the last query's path: "rows" or "arrow"
        self._con: Any = None
        self._namespace: str | None = None
        # No table data read or written since the database was opened: its buffer pool holds
        # none, so it is as cold as a reopened one (see make_cold).
        self._untouched = False

    def connect(self) -> None:
        import duckdb

        database = self.settings.database
        if database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(database)
        except duckdb.IOException as exc:
            raise EngineError(_explain_open_error(database, exc)) from exc
        self._untouched = True
        # The progress bar would write to the terminal on top of ours.
        self._con.execute("SET enable_progress_bar = false")
        if self.settings.threads is not None:
            self._con.execute(f"SET threads = {int(self.settings.threads)}")
        if self.settings.memory_limit is not None:
            self._con.execute("SET memory_limit = ?", [self.settings.memory_limit])

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def open_session(self) -> DuckDBEngine:
        """A cursor: a connection of its own to the same database instance (the only way to
        reach an in-memory database from a second session), sharing its buffer pool."""
        other = type(self)(self.settings)
        other._con = self._con.cursor()
        other._con.execute("SET enable_progress_bar = false")
        return other

    def version(self) -> str:
        return self._con.execute("SELECT version()").fetchone()[0]

    def describe(self) -> dict[str, Any]:
        threads, memory_limit = self._con.execute(
            "SELECT current_setting('threads'), current_setting('memory_limit')"
        ).fetchone()
        return {
            "database": self.settings.database,
            "threads": threads,
            "memory_limit": memory_limit,
            "tables": TABLE_LAYOUT,
            "fetch": self.fetch_path,
        }

    def use(self, namespace: str) -> None:
        # DuckDB has no result cache and no query labels, and enforces no time limit of its
        # own (the base class's timer interrupts it).
        self._namespace = namespace
        self._con.execute(f"USE {_quote(namespace)}")

    def make_cold(self) -> str | None:
        """Close the database and open it again: a new DuckDB instance starts with an empty
        buffer pool. Only with drop_os_cache, and the page cache dropped, does the query read its
        data from the disk: cold. Otherwise the file's pages are still in the OS page cache, so
        the attempt is lukewarm, and the method says so ("lukewarm: …", the runner's
        convention). An in-memory database lives in its buffer pool and cannot be emptied (None:
        lukewarm). A database opened for this run and only asked about its catalog and settings
        since (the run's first query) has an empty buffer pool already, and is not opened
        twice."""
        if self.settings.database == ":memory:" or self._namespace is None:
            return None
        if not self._untouched:
            self.close()
            self.connect()
            self.use(self._namespace)
        opened = "database opened afresh"
        if not self.settings.drop_os_cache:
            return f"lukewarm: {opened}: buffer pool empty, page cache warm (drop_os_cache off)"
        refused = _drop_os_cache()
        if refused is None:
            return f"{opened}, OS page cache dropped"
        if refused not in self.notes:
            self.notes.append(refused)
        return f"lukewarm: {opened}: buffer pool empty, page cache warm (could not drop it)"

    def existing_tables(self, namespace: str) -> set[str]:
        rows = self._con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ?", [namespace]
        ).fetchall()
        return {name for (name,) in rows}

    def load(self, namespace: str, data: TableData, statements: Sequence[str]) -> LoadOutcome:
        self._untouched = False
        con = self._con
        table = data.table
        started = time.perf_counter()
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(namespace)}")
        con.execute(f"USE {_quote(namespace)}")
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in statements:
                con.execute(statement)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        if self.checkpoint_after_load and self.settings.database != ":memory:":
            con.execute("CHECKPOINT")  # write the table to its blocks, so they can be counted
        seconds = time.perf_counter() - started
        (rows,) = con.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()
        return LoadOutcome(table, rows, seconds, self._stored_bytes(namespace, table))

    def _stored_bytes(self, namespace: str, table: str) -> int | None:
        """Blocks the table occupies x block size: DuckDB's own storage figure, to a block."""
        if self.settings.database == ":memory:":
            return None  # in-memory tables have no blocks to count
        (blocks,) = self._con.execute(
            "SELECT count(DISTINCT block_id) FROM pragma_storage_info(?) WHERE block_id >= 0",
            [f"{namespace}.{table}"],
        ).fetchone()
        (block_size,) = self._con.execute(
            "SELECT block_size FROM pragma_database_size() WHERE database_name = current_database()"
        ).fetchone()
        return blocks * block_size

    def run(self, sql: str, timeout_seconds: float, query_label: str | None) -> Ran:
        self._untouched = False
        cursor = self._con.execute(sql)
        columns = tuple(d[0] for d in cursor.description or ())
        self.fetch_used = "rows"
        rows = cursor.fetchmany(spool.SPOOL_ROWS)
        if len(rows) < spool.SPOOL_ROWS:  # the whole result, as fetchall() would give it
            return Ran(rows, columns)
        # A large result: the rest in batches, spooled, so memory stays bounded. As Arrow
        # record batches when every column converts to the value fetchall() gives (not
        # INTERVAL, HUGEINT, UUID, MAP …), else as rows.
        if all(_arrow_faithful(str(d[1])) for d in cursor.description):
            self.fetch_used = "arrow"
            rest = spool.arrow_reader(cursor)
        else:
            rest = spool.fetched_many(cursor)
        return Ran(spool.spooled(rows, rest), columns)

    def interrupt(self) -> None:
        if self._con is not None:
            self._con.interrupt()

    def namespaces(self) -> list[str]:
        rows = self._con.execute(
            "SELECT DISTINCT schema_name FROM duckdb_schemas() "
            "WHERE starts_with(schema_name, ?) ORDER BY 1",
            [NAMESPACE_PREFIX],
        ).fetchall()
        return [name for (name,) in rows]

    def drop(self, namespace: str) -> None:
        self._untouched = False
        self._con.execute("USE memory" if self.settings.database == ":memory:" else "USE main")
        self._con.execute(f"DROP SCHEMA IF EXISTS {_quote(owned(namespace))} CASCADE")


# DuckDB types whose Arrow form reads back (to_pylist) as the value fetchall() gives.
_ARROW_FAITHFUL = {
    "BOOLEAN",
    *("TINYINT", "SMALLINT", "INTEGER", "BIGINT"),
    *("UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"),
    *("FLOAT", "DOUBLE", "VARCHAR", "DATE", "TIME", "TIMESTAMP", "BLOB"),
    "TIMESTAMP WITH TIME ZONE",  # the same instant (in UTC rather than the session's zone)
}


def _arrow_faithful(type_name: str) -> bool:
    return type_name in _ARROW_FAITHFUL or type_name.startswith(("DECIMAL(", "ENUM("))


def _drop_os_cache() -> str | None:
    """Write back dirty pages, then ask Linux to drop its page cache: None when done, else why
    not (as a note)."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as control:
            control.write("1\n")
    except OSError as exc:
        return (
            f"could not drop the OS page cache ({exc.strerror}); first attempts read from it "
            "and are lukewarm"
        )
    return None


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _explain_open_error(database: str, exc: Exception) -> str:
    who = lock_holder(exc)
    if who is not None:
        return (
            f"DuckDB database {database} is locked by another process{who}; wait for it to "
            "finish, or set engines.duckdb.database to another file"
        )
    return f"cannot open DuckDB database {database}: {first_line(exc)}"
