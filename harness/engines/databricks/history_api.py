"""Each query's statistics from the Query History API (GET /api/2.0/sql/history/queries, through
databricks-sdk's WorkspaceClient.query_history.list with include_metrics), read before
system.query.history: the API answers for a statement as soon as it has run, where the system
table's records "typically" arrive "within one hour" (system_tables.py), which is after the
workload's one look-up. It is free: no SQL, no warehouse time.

The API "lists the history of queries through SQL warehouses, and serverless compute", filtered
by user, warehouse, status and time range, with --include-metrics "whether to include the query
metrics with each query" (https://docs.databricks.com/aws/en/dev-tools/cli/reference/query-history-commands,
read 2026-12-06). The metrics' meanings are databricks-sdk's (0.167.0, service/sql.py, the
API's own descriptions): total_time_ms "total execution time of the query from the client's
point of view", compilation_time_ms, execution_time_ms, read_bytes, rows_read_count,
result_from_cache; overloading_queue_start_timestamp (queued "while the warehouse was at max
load") and provisioning_queue_start_timestamp (queued "for a cluster to be provisioned"), each
"optional and will not appear if the query skipped" that queue; query_compilation_start_timestamp.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.records import Usage

PAGE = 100  # statements asked per request


def statistics(info: dict[str, Any]) -> tuple[float | None, Usage]:
    """One query's API record (QueryInfo.as_dict()) as (the engine's seconds, its usage). Queued
    time runs from the first queue the query entered to the start of its compilation; a query
    with metrics and neither queue timestamp skipped both queues (0 s, as reported)."""
    metrics = info.get("metrics") or {}
    total = metrics.get("total_time_ms", info.get("duration"))
    queued = None
    compiled = metrics.get("query_compilation_start_timestamp")
    if metrics and compiled is not None:
        entered = [
            metrics[key]
            for key in ("overloading_queue_start_timestamp", "provisioning_queue_start_timestamp")
            if metrics.get(key) is not None
        ]
        queued = max(0.0, (compiled - min(entered)) / 1000) if entered else 0.0
    usage = Usage(
        bytes_scanned=_int(metrics.get("read_bytes")),
        rows_read=_int(metrics.get("rows_read_count")),
        cache_hit=metrics.get("result_from_cache"),
        queued_seconds=queued,
        compile_seconds=_seconds(metrics.get("compilation_time_ms")),
        execution_seconds=_seconds(metrics.get("execution_time_ms")),
    )
    return _seconds(total), usage


def read(client: Any, statement_ids: Sequence[str]) -> dict[str, tuple[float | None, Usage]]:
    """The statistics of the statements the API knows, by statement id."""
    from databricks.sdk.service.sql import QueryFilter

    found: dict[str, tuple[float | None, Usage]] = {}
    ids = list(dict.fromkeys(statement_ids))
    for start in range(0, len(ids), PAGE):
        wanted = ids[start : start + PAGE]
        token = None
        while True:
            page = client.query_history.list(
                filter_by=QueryFilter(statement_ids=wanted),
                include_metrics=True,
                max_results=PAGE,
                page_token=token,
            )
            for info in page.res or ():
                record = info.as_dict()
                if record.get("query_id") in wanted:
                    found[record["query_id"]] = statistics(record)
            token = page.next_page_token
            if not (token and page.has_next_page):
                break
    return found


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _seconds(milliseconds: Any) -> float | None:
    return None if milliseconds is None else float(milliseconds) / 1000
