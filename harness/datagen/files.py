"""Your data as a generator: a workload's tables copied from files you exported
(workload.yaml `data:`), not generated.

"Generating" such a workload writes each table once as one Parquet file in portable types (and
an NDJSON copy where it has JSON columns, which BigQuery and Redshift load into JSON and SUPER),
so every engine loads it the way it loads the bundled workloads. The copy is cached like
generated data, under a name that changes when the files do. Finding, reading and checking the
files is harness.datafiles.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness.datafiles import connect_duckdb, file_columns, matching_files, table_expression
from harness.datagen.base import Generated, Progress
from harness.errors import WorkloadError, first_line

if TYPE_CHECKING:
    import duckdb

    from harness.workloads import Table, Workload

# The DuckDB type each portable type is written as in the cached copy.
_DUCKDB_TYPE = {
    "int": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "varchar": "VARCHAR",
    "text": "VARCHAR",
    "boolean": "BOOLEAN",
    "json": "JSON",
}


def generate(
    workload: Workload,
    scale: float,
    options: dict[str, int],
    out_dir: Path,
    progress: Progress | None = None,
) -> Generated:
    """Each table's files copied once into `out_dir` in portable types; the truth records the
    rows and bytes of your data, which stand for its size where a generator has a scale."""
    con = connect_duckdb()
    files: dict[str, list[str]] = {}
    size: dict[str, dict[str, int]] = {}
    try:
        for number, table in enumerate(workload.tables, start=1):
            sources = matching_files(workload.path, table.name, workload.data[table.name])
            rows = _copy(con, table, sources, out_dir)
            files[table.name] = [f"{table.name}.parquet"]
            if any(column.type == "json" for column in table.columns):
                files[table.name].append(f"{table.name}.ndjson")
            size[table.name] = {"rows": rows, "bytes": sum(f.stat().st_size for f in sources)}
            if progress:
                progress(number, len(workload.tables))
    finally:
        con.close()
    return Generated(files, {"your_data": size})


def _copy(con: duckdb.DuckDBPyConnection, table: Table, sources: list[Path], out_dir: Path) -> int:
    """Write one table's Parquet copy (and NDJSON copy, for JSON columns); its row count."""
    # Every declared column is in the files: Workload.file_columns checked that when planning.
    present = {name.lower(): (name, kind) for name, kind in file_columns(con, sources[0])}
    casts = []
    for column in table.columns:
        name, source_type = present[column.name]
        quoted = '"' + name.replace('"', '""') + '"'
        if column.type == "json" and source_type not in ("VARCHAR", "JSON"):
            value = f"to_json({quoted})"  # a nested value (STRUCT, LIST, MAP) as JSON
        else:  # text declared json is parsed, so a value that is not JSON fails here
            value = f"CAST({quoted} AS {_DUCKDB_TYPE.get(column.type, column.type.upper())})"
        casts.append(f'{value} AS "{column.name}"')
    select = f"SELECT {', '.join(casts)} FROM {table_expression(sources)}"
    try:
        con.execute(f"CREATE TEMP TABLE copied AS {select}")
        # The Parquet copy holds JSON as text (each engine parses it when loading); the NDJSON
        # copy holds it nested.
        parquet = str(out_dir / f"{table.name}.parquet").replace("'", "''")
        con.execute(f"COPY copied TO '{parquet}' (FORMAT parquet)")
        if any(column.type == "json" for column in table.columns):
            ndjson = str(out_dir / f"{table.name}.ndjson").replace("'", "''")
            con.execute(f"COPY copied TO '{ndjson}' (FORMAT json)")
        (rows,) = con.execute("SELECT count(*) FROM copied").fetchone()
    except WorkloadError:
        raise
    except Exception as exc:
        raise WorkloadError(
            f"table {table.name}: cannot read its files as the declared types: "
            f"{first_line(exc)}; fix `tables:` or the export"
        ) from None
    finally:
        con.execute("DROP TABLE IF EXISTS copied")
    return int(rows)
