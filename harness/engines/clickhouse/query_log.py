"""What ClickHouse's query log says, in both modes: each attempt's statistics by its label, and
the team's own finished queries for `whbench workload import-history`. The SQL and the reading
of its rows live here; the engine sends the SQL (after `SYSTEM FLUSH LOGS`).

system.query_log, https://clickhouse.com/docs/operations/system-tables/query_log (read
2026-12-06): `query_duration_ms`, `read_bytes`, `read_rows` ("Total number of rows read from all
tables and table functions participated in query"), `memory_usage` ("Memory consumption by the
query"), `query`, `query_start_time_microseconds`, `type` and `query_kind`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from harness.records import Usage

if TYPE_CHECKING:
    from harness.history import HistoryEntry


def statistics_sql(labels: Sequence[str]) -> str:
    """Each finished SELECT of `labels`, by its query id (a server is sent the label as the
    id) or its log_comment (chDB keeps ids of its own): the label, then its figures."""
    wanted = ", ".join(f"'{label}'" for label in labels)
    return (
        f"SELECT if(query_id IN ({wanted}), query_id, log_comment), query_duration_ms, "
        "read_bytes, read_rows, memory_usage FROM system.query_log WHERE type = "
        f"'QueryFinish' AND query_kind = 'Select' AND (query_id IN ({wanted}) OR "
        f"log_comment IN ({wanted}))"
    )


def statistics(rows: list[tuple]) -> dict[str, tuple[float | None, Usage]]:
    """Label -> (the engine's seconds, its Usage), from the rows statistics_sql returns."""
    found = {}
    for label, duration_ms, read_bytes, read_rows, memory in rows:
        found[label] = (
            duration_ms / 1000,
            Usage(
                bytes_scanned=int(read_bytes),
                execution_seconds=duration_ms / 1000,
                rows_read=int(read_rows),
                peak_memory_bytes=peak_memory(memory),
            ),
        )
    return found


def peak_memory(memory_usage: Any) -> int | None:
    """The log's memory_usage is the query's peak: ClickHouse writes its memory tracker's
    peak_memory_usage there, or 0 when that tracked none (src/Interpreters/executeQuery.cpp,
    `elem.memory_usage = info.peak_memory_usage > 0 ? … : 0`, read 2026-12-06; the docs say only
    "Memory consumption by the query"). Every query holds some memory, so 0 means not tracked:
    None, not a claim that it used none."""
    return int(memory_usage) if memory_usage else None


def history_sql(since: datetime) -> str:
    """The finished SELECTs a client sent since `since` (embedded: on this data folder only)."""
    if since.tzinfo is not None:
        since = since.astimezone(UTC)
    start = f"toDateTime64('{since:%Y-%m-%d %H:%M:%S}', 6, 'UTC')"
    return (
        "SELECT query, query_duration_ms, read_bytes, query_start_time_microseconds "
        "AS started_at, toString(type) AS type, toString(query_kind) AS query_kind "
        "FROM system.query_log "
        "WHERE type = 'QueryFinish' AND query_kind = 'Select' AND is_initial_query "
        f"AND query_start_time_microseconds >= {start} "
        "ORDER BY query_start_time_microseconds"
    )


def history_entries(rows: list[dict[str, Any]]) -> list[HistoryEntry]:
    from harness.history import HistoryEntry

    entries = []
    for row in rows:
        if row.get("type") != "QueryFinish" or row.get("query_kind") != "Select":
            continue
        duration, read = row.get("query_duration_ms"), row.get("read_bytes")
        entries.append(
            HistoryEntry(
                text=str(row["query"]).strip(),
                elapsed_seconds=None if duration is None else float(duration) / 1000,
                bytes_scanned=None if read is None else int(read),
                started_at=row.get("started_at"),
            )
        )
    return entries
