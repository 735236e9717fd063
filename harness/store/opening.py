"""The store's file: opened (created, or upgraded to the newest schema, or refused when it is
not a store), recovered after a crash (the journal replayed, a run left running marked
interrupted), and closed with everything journaled moved into the tables. `Store` adds what
runs write (writes.py) and what readers get back (reads.py) on top of this.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from pathlib import Path
from typing import Any

import duckdb

from harness.errors import StoreError, UsageError
from harness.store.failures import Connection, NotAStore, damaged, explained_open_errors
from harness.store.journal import Journal
from harness.store.schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION


class StoreFile:
    """An open results store: `con` its DuckDB connection, `journal` the journal beside it."""

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise UsageError(
                f"no results store at {self.path}; run `whbench run` first or pass --results-dir"
            )
        if not read_only:
            with explained_open_errors(self.path):
                self.path.parent.mkdir(parents=True, exist_ok=True)
        self.journal = Journal(self.path)
        self._pending: list[dict[str, Any]] = []  # journaled attempts, not yet in the tables
        self._pending_results: list[dict[str, Any]] = []  # and journaled results
        self.con = self._connect(read_only)
        try:
            # A reader got the file, so no writer holds it: a journal left beside it is a
            # crashed run's, and an older schema needs upgrading. Both need a moment of write
            # access.
            if self._check_schema(read_only) or (read_only and self.journal.path.exists()):
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

    @property
    def journal_path(self) -> Path:
        return self.journal.path

    def _connect(self, read_only: bool) -> Connection:
        with explained_open_errors(self.path):
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
        return Connection(con, self.path, self.journal.path)

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
                damaged(self.path, f"its schema version is {str(row[0])[:40]!r}, not a number")
            ) from None
        if version < 1:
            raise StoreError(damaged(self.path, f"its schema version is {version}"))
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
            self.journal.let_go()
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
        self.journal.discard()

    def _recover(self) -> None:
        """Finish what a process that died mid-run left: its journaled attempts go into the
        tables and its run is marked interrupted. Only one process can hold the file for
        writing, so anything still running when it is opened was cut short."""
        if self.journal.path.exists():
            self.journal.replay(self._insert_attempts, self._insert_results)
        self.con.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")

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
