"""What a generator returns, and the part-by-part machinery the SQL generators share."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

# Called with (parts done, parts in all) as generation advances.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Generated:
    files: dict[str, list[str]]  # table -> data files, relative to the output folder
    truth: dict[str, Any] = field(default_factory=dict)  # what the generator put in


def in_parts(
    total: int,
    part_rows: int,
    write_part: Callable[[duckdb.DuckDBPyConnection, int, int, int], Any],
    progress: Progress | None = None,
    setup: str | None = None,
) -> list[Any]:
    """Call write_part(connection, part number, first row, end row) for each part of `total`
    rows, one part per core at a time, and return what each returned, in part order.

    Parts keep memory flat as the scale grows; running one per core uses the machine, since a
    single DuckDB `range()` source feeds only one thread. Each part has a connection of its own
    (temporary tables are per connection) to one in-memory database, where `setup` (SQL) has
    made what every part shares.
    """
    parts = max(1, -(-total // part_rows))
    database = duckdb.connect()
    database.execute("SET enable_progress_bar = false")
    database.execute("SET preserve_insertion_order = true")  # same seed, same bytes
    # One thread per part, parts side by side: faster than parts one after another with all
    # threads each, and half the memory.
    database.execute("SET threads = 1")
    if setup:
        database.execute(setup)

    def run(part: int) -> Any:
        con = database.cursor()
        try:
            first, end = part * part_rows, min(total, (part + 1) * part_rows)
            return write_part(con, part + 1, first, end)
        finally:
            con.close()

    results = []
    try:
        with ThreadPoolExecutor(max_workers=min(parts, os.cpu_count() or 1)) as pool:
            for result in pool.map(run, range(parts)):
                results.append(result)
                if progress:
                    progress(len(results), parts)
    finally:
        database.close()
    return results


def add_up(summaries: list[dict[str, Any]], key: str) -> dict[str, int]:
    """Sum the per-part counts under `key` ({name: count}) over all parts, sorted by name."""
    total: dict[str, int] = {}
    for summary in summaries:
        for name, count in summary[key].items():
            total[name] = total.get(name, 0) + count
    return dict(sorted(total.items()))


def copy_to(con: duckdb.DuckDBPyConnection, select: str, path: Path, fmt: str) -> None:
    """Write a query's result to a file (parquet or json, which is newline-delimited)."""
    target = str(path).replace("'", "''")
    con.execute(f"COPY ({select}) TO '{target}' (FORMAT {fmt})")
