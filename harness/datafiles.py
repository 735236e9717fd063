"""Your data's files (workload.yaml `data:`): found, read and checked, and fingerprinted.

Each table names a glob of Parquet, CSV or NDJSON files, relative to the workload folder, or a
gs:// or s3:// URI glob, whose objects are fetched once into a local cache (so they are read and
checked like local files, and every engine, the reference engine included, loads the same). Before
anything is loaded every file is read with DuckDB: a pattern matching nothing, a file that cannot
be read, or two files of one table with different columns is one clear error. The schema comes
from the files (portable types; nested values become JSON) unless `tables:` gives it.

A workload reads its tables from here (harness.workloads), and the generator that copies the
files for loading (harness.datagen.files) reads them the same way; this module knows neither,
so the arrows run from both down to it.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import WorkloadError, first_line
from harness.paths import NAME, cache_dir

if TYPE_CHECKING:
    import duckdb

# File suffix -> the DuckDB reader that reads it.
READERS = {
    ".parquet": "read_parquet",
    ".csv": "read_csv",
    ".tsv": "read_csv",
    ".ndjson": "read_json",
    ".jsonl": "read_json",
    ".json": "read_json",
}
REMOTE = ("gs://", "s3://")

# DuckDB's type names -> the portable types workload.yaml uses (docs/workloads.md, your own data).
_PORTABLE = {
    "BOOLEAN": "boolean",
    "TINYINT": "int",
    "SMALLINT": "int",
    "INTEGER": "int",
    "UTINYINT": "int",
    "USMALLINT": "int",
    "BIGINT": "bigint",
    "UINTEGER": "bigint",
    "UBIGINT": "decimal(20,0)",
    "HUGEINT": "decimal(38,0)",
    "FLOAT": "double",
    "DOUBLE": "double",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "VARCHAR": "varchar",
    "UUID": "varchar",
    "TIME": "varchar",
    "INTERVAL": "varchar",
    "JSON": "json",
}


def portable_type(duckdb_type: str) -> str:
    """A DuckDB column type as a portable one; nested values (STRUCT, LIST, MAP) become json."""
    upper = duckdb_type.upper()
    if upper.startswith("DECIMAL"):
        return upper.lower().replace(" ", "")
    if upper.startswith(("STRUCT", "MAP", "UNION")) or upper.endswith("]"):
        return "json"
    if upper in _PORTABLE:
        return _PORTABLE[upper]
    raise ValueError(f"type {duckdb_type} has no portable equivalent")


def is_remote(pattern: str) -> bool:
    return pattern.startswith(REMOTE)


def matching_files(folder: Path, table: str, pattern: str) -> list[Path]:
    """The files `pattern` (relative to the workload folder, or absolute, or a gs:// or s3://
    URI, whose objects are fetched into the object cache) matches, sorted."""
    if is_remote(pattern):
        from harness.objectstore import fetch_matching

        # Kept in whbench's cache: a second run lists the bucket but downloads nothing unchanged.
        files = fetch_matching(pattern, cache_dir() / "objects")
    else:
        path = Path(pattern).expanduser()
        full = path if path.is_absolute() else folder / path
        # Sorted as Paths sort (by their parts), on strings: for 10,000 files Path objects
        # cost most of the time an unchanged table's inspection takes.
        found = [p for p in glob.glob(str(full), recursive=True) if os.path.isfile(p)]
        files = [Path(p) for p in sorted(found, key=lambda p: p.split(os.sep))]
    if not files:
        raise WorkloadError(
            f"table {table}: no file matches {pattern} (in {folder}); export the table there "
            "or fix its line under `data:` in workload.yaml"
        )
    for file in files:
        if _suffix(file) not in READERS:
            raise WorkloadError(
                f"table {table}: {file.name} is not Parquet, CSV or NDJSON (by its suffix); "
                "narrow the pattern or convert the file"
            )
    return files


def _suffix(file: Path) -> str:
    """.csv for data.csv and data.csv.gz alike (DuckDB reads compressed files itself)."""
    suffixes = [s for s in file.suffixes if s not in (".gz", ".zst")]
    return suffixes[-1].lower() if suffixes else ""


def table_expression(files: list[Path]) -> str:
    """A DuckDB table expression reading `files` (all of one format)."""
    reader = READERS[_suffix(files[0])]
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    return f"{reader}([{listed}])"


def connect_duckdb() -> duckdb.DuckDBPyConnection:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")  # a TIMESTAMPTZ column becomes its UTC wall time
    return con


# What DuckDB makes of a file with no header and no rows: one column it invented.
_INVENTED = ([("column0", "VARCHAR")], [("json", "JSON")])


def file_columns(con: duckdb.DuckDBPyConnection, file: Path) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column of one file, or one line saying why it is unreadable
    (an empty CSV or NDJSON file among them: DuckDB would invent a column for it)."""
    source = table_expression([file])
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        columns = [(row[0], row[1]) for row in described]
        if columns in _INVENTED:
            name = columns[0][0]
            (values,) = con.execute(
                f'SELECT count(*) FROM {source} WHERE "{name}" IS NOT NULL'
            ).fetchone()
    except Exception as exc:
        raise WorkloadError(f"cannot read {file}: {first_line(exc)}; export it again") from None
    if columns in _INVENTED and not values:
        raise WorkloadError(
            f"{file} is empty: no header and no rows, so its columns are unknown; export it "
            "again with its header, or remove it"
        )
    return columns


def inspect_tables(folder: Path, data: dict[str, str]) -> dict[str, list[tuple[str, str]]]:
    """Every table's columns as (name, portable type), from its files: each file read, and
    every file of a table required to have the first one's columns and types. What each file
    holds is cached by its path, size and modification time (_Inspection), so a table of
    10,000 files is read once, not on every run."""
    inspection = _Inspection()
    try:
        tables = {}
        for table, pattern in data.items():
            files = matching_files(folder, table, pattern)
            formats = {READERS[_suffix(f)] for f in files}
            if len(formats) > 1:
                raise WorkloadError(
                    f"table {table}: {pattern} matches files of different formats; "
                    "give one format per table"
                )
            found = inspection.columns(table, folder, pattern, files)
            first = found[0]
            for other, columns in zip(files[1:], found[1:], strict=True):
                if columns != first:
                    raise WorkloadError(
                        f"table {table}: {other.name} has columns {_listed(columns)} where "
                        f"{files[0].name} has {_listed(first)}; export every file of a table "
                        "with one schema"
                    )
            tables[table] = [(_column_name(table, n), _portable(table, n, t)) for n, t in first]
        return tables
    finally:
        inspection.close()


# Inspections kept in whbench's cache folder: one file per workload folder and pattern, listing
# each file's path, size, modification time and columns. Named after the DuckDB version, whose
# reader decides the types, and this format.
_INSPECTED = "file-columns-v1"
_PROGRESS_FROM = 100  # files to read before a progress line is worth showing


class _Inspection:
    """Each file's columns, from the cache when its size and modification time are unchanged,
    else read with DuckDB (connected only then). Reading many files shows a progress line on
    stderr when it is a terminal."""

    def __init__(self) -> None:
        self.con: duckdb.DuckDBPyConnection | None = None

    def close(self) -> None:
        if self.con is not None:
            self.con.close()

    def columns(
        self, table: str, folder: Path, pattern: str, files: list[Path]
    ) -> list[list[tuple[str, str]]]:
        cache = self._cache_file(folder, pattern)
        known = self._load(cache)
        # A file changed within a clock tick of its last reading can keep its size and time:
        # only a file older than two seconds is remembered (as git treats a "racy" entry).
        settled = time.time_ns() - 2_000_000_000
        kept: dict[str, list[Any]] = {}
        found: list[list[tuple[str, str]]] = []
        progress = _ProgressLine(f"table {table}: reading", len(files))
        try:
            for position, file in enumerate(files, start=1):
                key = str(file)
                try:
                    stat = file.stat()
                except OSError as exc:
                    raise WorkloadError(f"cannot read {file}: {exc.strerror}") from None
                entry = known.get(key)
                if entry is None or entry[0] != stat.st_size or entry[1] != stat.st_mtime_ns:
                    if self.con is None:
                        self.con = connect_duckdb()
                    entry = [stat.st_size, stat.st_mtime_ns, file_columns(self.con, file)]
                    progress.show(position)
                columns = [(str(name), str(kind)) for name, kind in entry[2]]
                if stat.st_mtime_ns < settled:  # as JSON holds it, to compare with `known`
                    kept[key] = [entry[0], entry[1], [list(column) for column in columns]]
                found.append(columns)
        finally:
            progress.close()
        if kept != known:
            self._save(cache, kept)
        return found

    @staticmethod
    def _cache_file(folder: Path, pattern: str) -> Path:
        import importlib.util

        # The installed DuckDB, by its package file (asking for its version costs 50 ms): its
        # CSV sniffer decides the types, so another DuckDB reads every file again.
        spec = importlib.util.find_spec("duckdb")
        try:
            installed = os.stat(spec.origin) if spec and spec.origin else None
        except OSError:
            installed = None
        duckdb_id = f"{installed.st_size}-{installed.st_mtime_ns}" if installed else "?"
        key = f"{duckdb_id}\0{Path(folder).resolve()}\0{pattern}"
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return cache_dir() / _INSPECTED / f"{digest}.json"

    @staticmethod
    def _load(cache: Path) -> dict[str, list[Any]]:
        try:
            known = json.loads(cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet, or damaged: everything is read again
        if not isinstance(known, dict):
            return {}
        return {  # an entry of another shape is read again
            key: entry
            for key, entry in known.items()
            if isinstance(entry, list)
            and len(entry) == 3
            and isinstance(entry[2], list)
            and all(isinstance(column, list) and len(column) == 2 for column in entry[2])
        }

    @staticmethod
    def _save(cache: Path, entries: dict[str, list[Any]]) -> None:
        """Written whole, then renamed; a cache that cannot be written is only slower."""
        partial = cache.with_suffix(f".{os.getpid()}.partial")
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps(entries, separators=(",", ":")), encoding="utf-8")
            os.replace(partial, cache)
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink()


class _ProgressLine:
    """`table t: reading 1,234 of 10,000 files` on stderr, redrawn at most five times a second,
    and only on a terminal (a log or a pipe gets nothing)."""

    def __init__(self, what: str, total: int) -> None:
        self.what, self.total = what, total
        self.shown = False
        self.live = total >= _PROGRESS_FROM and sys.stderr.isatty()
        self.next_at = time.monotonic() + 0.5  # a quick inspection shows nothing

    def show(self, done: int) -> None:
        if self.live and (now := time.monotonic()) >= self.next_at:
            self.next_at = now + 0.2
            sys.stderr.write(f"\r{self.what} {done:,} of {self.total:,} files")
            sys.stderr.flush()
            self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _listed(columns: list[tuple[str, str]]) -> str:
    return "(" + ", ".join(f"{name} {kind}" for name, kind in columns) + ")"


def _column_name(table: str, name: str) -> str:
    """Column names fold to lower case, as unquoted names do in most of the engines' SQL."""
    folded = name.lower()
    if not NAME.fullmatch(folded):
        raise WorkloadError(
            f"table {table}: column {name!r} is not a plain name (letters, digits and _, "
            "starting with a letter); rename it in the export"
        )
    return folded


def _portable(table: str, column: str, duckdb_type: str) -> str:
    try:
        return portable_type(duckdb_type)
    except ValueError as exc:
        raise WorkloadError(
            f"table {table}: column {column}: {exc}; cast it in the export or leave it out"
        ) from None


def fingerprint(folder: Path, data: dict[str, str]) -> str:
    """Eight hex digits that change when any table's files do (name, size or time)."""
    digest = hashlib.sha256()
    for table, pattern in sorted(data.items()):
        digest.update(f"{table}={pattern}\n".encode())
        for file in matching_files(folder, table, pattern):
            stat = file.stat()
            digest.update(f"{file.name} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:8]
