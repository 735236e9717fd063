"""A warehouse's own query history as a workload (`whbench workload import-history`).

Each engine reads its history in its vendor's documented columns and turns a row into a
`HistoryEntry` (engines/<name>: `history_sql`, `history_entry`). Here, pure logic: keep the
SELECTs, group them by their sqlglot fingerprint (the statement re-written in one canonical form,
literals kept, so `WHERE day = '2025-01-01'` and `... '2025-01-02'` stay two queries), rank the
groups by the time they took in all (runs x median elapsed) and write the top ones as a workload
folder in the engine's dialect, with each query's original statistics beside it.

Query texts hold the team's literals: they go into the user's own folder and nowhere else (never
into logs or error messages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from harness.errors import UsageError
from harness.stats import median


@dataclass(frozen=True)
class HistoryEntry:
    """One finished query from an engine's history."""

    text: str
    elapsed_seconds: float | None
    bytes_scanned: int | None
    started_at: datetime | None


@dataclass
class HistoryQuery:
    """One distinct query (by fingerprint) and how it ran on the team's warehouse."""

    fingerprint: str
    text: str  # the first text seen, with tables unqualified (see _runnable)
    tables: list[str]
    elapsed: list[float] = field(default_factory=list)
    bytes_scanned: list[int] = field(default_factory=list)
    runs: int = 0
    last_run: datetime | None = None

    @property
    def median_seconds(self) -> float | None:
        return median(self.elapsed) if self.elapsed else None

    @property
    def total_seconds(self) -> float:
        return sum(self.elapsed)

    def statistics(self) -> dict[str, Any]:
        """What is kept beside the query: on the team's warehouse, how often and how long."""
        return {
            "runs": self.runs,
            "median_seconds": _rounded(self.median_seconds),
            "total_seconds": _rounded(self.total_seconds),
            "median_bytes": int(median(self.bytes_scanned))
            if self.bytes_scanned
            else None,  # not reported: unknown, not 0
            "last_run": self.last_run.isoformat() if self.last_run else None,
            "tables": self.tables,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def parse_since(text: str) -> timedelta:
    """'7d', '12h', '30m' -> a time span."""
    match = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", text or "")
    if not match or int(match.group(1)) == 0:
        raise UsageError(f"--since {text!r}: give a span such as 7d, 24h or 90m")
    unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def group_queries(entries: list[HistoryEntry], dialect: str) -> list[HistoryQuery]:
    """SELECT statements grouped by fingerprint; what does not parse as a single SELECT in
    `dialect` (DDL, DML, scripts, system commands) is left out."""
    import sqlglot
    from sqlglot import exp

    groups: dict[str, HistoryQuery] = {}
    for entry in entries:
        try:
            trees = [t for t in sqlglot.parse(entry.text, read=dialect) if t is not None]
        except sqlglot.errors.SqlglotError:
            continue
        if len(trees) != 1 or not isinstance(trees[0], exp.Query):
            continue
        tree = trees[0]
        if _reads_system_tables(tree):
            continue
        fingerprint = tree.sql(dialect=dialect, normalize=True, comments=False)
        query = groups.get(fingerprint)
        if query is None:
            ctes = _ctes(tree)
            tables = sorted({_table_name(t) for t in tree.find_all(exp.Table)} - ctes - {""})
            runnable = _runnable(tree, dialect)
            query = groups[fingerprint] = HistoryQuery(fingerprint, runnable, tables)
        query.runs += 1
        if entry.elapsed_seconds is not None:
            query.elapsed.append(entry.elapsed_seconds)
        if entry.bytes_scanned is not None:
            query.bytes_scanned.append(entry.bytes_scanned)
        if entry.started_at and (query.last_run is None or entry.started_at > query.last_run):
            query.last_run = entry.started_at
    return list(groups.values())


_SYSTEM = ("information_schema", "account_usage", "pg_catalog")


def _reads_system_tables(tree: Any) -> bool:
    """Queries of the warehouse's own catalog (monitoring, this import) are not the team's."""
    from sqlglot import exp

    for table in tree.find_all(exp.Table):
        parts = [p.lower() for p in (table.catalog, table.db, table.name) if p]
        if any(p in _SYSTEM or p.startswith(("sys_", "stl_", "svl_", "stv_")) for p in parts):
            return True
    return False


def _runnable(tree: Any, dialect: str) -> str:
    """The query as it runs on the benchmark's copy, where every table sits in one schema:
    table names without their database and schema (`sales.orders` reads `orders`)."""
    from sqlglot import exp

    tree = tree.copy()
    for table in tree.find_all(exp.Table):
        table.set("db", None)
        table.set("catalog", None)
    return tree.sql(dialect=dialect, pretty=True)


def _table_name(table: Any) -> str:
    return ".".join(p for p in (table.catalog, table.db, table.name) if p)


def _ctes(tree: Any) -> set[str]:
    from sqlglot import exp

    return {cte.alias for cte in tree.find_all(exp.CTE)}


def rank(queries: list[HistoryQuery], top: int, min_runs: int) -> list[HistoryQuery]:
    """The `top` queries that ran at least `min_runs` times, by time taken in all (how often x
    how long), then by runs; ties by text, so the same history gives the same workload."""
    kept = [q for q in queries if q.runs >= min_runs]
    kept.sort(key=lambda q: (-q.total_seconds, -q.runs, q.fingerprint))
    return kept[:top]


def write_workload(
    folder: Path,
    name: str,
    engine: str,
    dialect: str,
    chosen: list[HistoryQuery],
    since: str,
    export_hint: str = "export each table to Parquet, CSV or NDJSON files",
) -> Path:
    """The workload folder: queries/h01.sql … in the engine's dialect, history.yaml with each
    query's statistics on the team's warehouse, and workload.yaml whose `data:` block the user
    completes with the exported tables."""
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder} already exists and is not empty; choose another name")
    (folder / "queries").mkdir(parents=True, exist_ok=True)
    width = max(2, len(str(len(chosen))))
    statistics_by_id = {}
    tables: set[str] = set()
    for number, query in enumerate(chosen, start=1):
        query_id = f"h{number:0{width}d}"
        (folder / "queries" / f"{query_id}.sql").write_text(query.text.rstrip().rstrip(";") + "\n")
        statistics_by_id[query_id] = {"engine": engine, **query.statistics()}
        tables.update(query.tables)
    (folder / "history.yaml").write_text(
        f"# On {engine}, the last {since}: how often each query ran and how long it took.\n"
        + yaml.safe_dump(statistics_by_id, sort_keys=True)
    )
    data = {_plain(table): f"exports/{_plain(table)}/*.parquet" for table in sorted(tables)}
    spec = {
        "name": name,
        "title": f"{name}: the top queries from {engine}'s history",
        "data_type": "structured",
        "dialect": dialect,
        "data": data,
    }
    export_note = "".join(
        f"#   {table}  ->  exports/{_plain(table)}/ (Parquet, CSV or NDJSON)\n"
        for table in sorted(tables)
    )
    (folder / "workload.yaml").write_text(
        "# Written by `whbench workload import-history`. Before running it, export each table\n"
        "# the queries read (a sample is fine) into the folder its `data:` line names. On\n"
        f"# {engine}: {export_hint}\n"
        + export_note
        + "# Queries that name a schema (sales.orders) read the table of that name here.\n"
        + yaml.safe_dump(spec, sort_keys=False)
    )
    return folder


def _plain(table: str) -> str:
    """A table's name as a workload table: its last part, lower case."""
    return re.sub(r"[^a-z0-9_]", "_", table.rsplit(".", 1)[-1].lower()) or "t"
