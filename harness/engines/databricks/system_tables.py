"""What whbench reads from Databricks' system tables, as SQL and as rows made records: the
statistics of each query (system.query.history), the warehouse's bill (system.billing.usage
priced by system.billing.list_prices) and the team's own query history for import-history.

Pure functions of their inputs, so they are tested on rows of the documented columns without a
workspace; the engine runs the SQL. Every figure the table does not give is None, never 0.

Columns, from the vendor's reference pages (read 2026-12-06):
- system.query.history: https://docs.databricks.com/aws/en/admin/system-tables/query-history
  statement_id, statement_text, statement_type, execution_status (FINISHED, FAILED, CANCELED),
  compute.warehouse_id, executed_by, start_time, total_duration_ms,
  waiting_for_compute_duration_ms, waiting_at_capacity_duration_ms, compilation_duration_ms,
  execution_duration_ms, read_bytes, read_rows, produced_rows, from_result_cache, query_tags.
  "Records are typically available within one hour", and by default only admins can read it.
- system.billing.usage: https://docs.databricks.com/aws/en/admin/system-tables/billing
  usage_quantity in usage_unit ('DBU'), sku_name, cloud, usage_start_time, usage_end_time,
  usage_metadata.warehouse_id. "Records are typically available within 12 hours".
- system.billing.list_prices: https://docs.databricks.com/aws/en/admin/system-tables/pricing
  pricing.default (the list price per usage_unit), price_start_time, price_end_time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from harness.records import Usage

if TYPE_CHECKING:
    from harness.history import HistoryEntry

# The query tag whbench sets on its sessions (SET QUERY_TAGS), so its own queries can be told
# apart from the team's in system.query.history.
WHBENCH_TAG = "whbench_run"

# How long after a query the query history is "typically" complete (the reference page above):
# before that, a missing row is pending, not absent.
QUERY_HISTORY_LAG_SECONDS = 3600
BILLING_LAG_SECONDS = 12 * 3600

_STATEMENT_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
_WAREHOUSE_ID = re.compile(r"[0-9A-Za-z]{1,64}")


def _timestamp(moment: datetime) -> str:
    """A timestamp literal with its zone (Z), so it is the same instant whatever the session's
    zone: without a zoneId a literal "defaults to the session time zone"
    (https://docs.databricks.com/aws/en/sql/language-manual/data-types/timestamp-type, read
    2026-12-06). A naive `moment` is UTC, as whbench keeps time."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"TIMESTAMP '{moment:%Y-%m-%d %H:%M:%S.%f}Z'"


def _quoted(values: Sequence[str], pattern: re.Pattern[str]) -> str:
    """Ids as SQL string literals; anything that is not an id is left out (they go into SQL)."""
    return ", ".join(f"'{v}'" for v in dict.fromkeys(values) if pattern.fullmatch(v))


# -- one query's statistics ------------------------------------------------------------------
def query_history_sql(statement_ids: Sequence[str]) -> str | None:
    """The statistics of the given statements, one row each; None when no id is one."""
    wanted = _quoted(statement_ids, _STATEMENT_ID)
    if not wanted:
        return None
    return (
        "SELECT statement_id, total_duration_ms, waiting_for_compute_duration_ms, "
        "waiting_at_capacity_duration_ms, compilation_duration_ms, execution_duration_ms, "
        "read_bytes, read_rows, from_result_cache "
        f"FROM system.query.history WHERE statement_id IN ({wanted})"
    )


def statistics(row: dict[str, Any]) -> tuple[float | None, Usage]:
    """One query.history row as (the engine's elapsed seconds, its usage). Queued time is both
    waits: for compute to start (a stopped or scaling warehouse) and at capacity (a full one).
    A result cache hit is recorded as such: the session turns the cache off, so a hit is a
    finding, never hidden."""
    waits = [row.get("waiting_for_compute_duration_ms"), row.get("waiting_at_capacity_duration_ms")]
    known = [w for w in waits if w is not None]
    usage = Usage(
        bytes_scanned=_int(row.get("read_bytes")),
        rows_read=_int(row.get("read_rows")),
        cache_hit=None if row.get("from_result_cache") is None else bool(row["from_result_cache"]),
        queued_seconds=_seconds(sum(known)) if known else None,
        compile_seconds=_seconds(row.get("compilation_duration_ms")),
        execution_seconds=_seconds(row.get("execution_duration_ms")),
    )
    return _seconds(row.get("total_duration_ms")), usage


# -- the warehouse's bill --------------------------------------------------------------------
def billed_usage_sql(warehouse_id: str, started: datetime, ended: datetime) -> str:
    """DBUs of one warehouse in the usage records that overlap [started, ended], priced at the
    list price in force when each was used (the join the pricing page's examples make)."""
    if not _WAREHOUSE_ID.fullmatch(warehouse_id):
        raise ValueError(f"{warehouse_id!r} is not a SQL warehouse id")
    return (
        "SELECT sum(u.usage_quantity) AS dbus, "
        "sum(u.usage_quantity * p.pricing.default) AS list_dollars, "
        "count(p.pricing.default) AS priced, count(*) AS records, "
        "collect_set(u.sku_name) AS skus, max(u.usage_end_time) AS usage_until "
        "FROM system.billing.usage u LEFT JOIN system.billing.list_prices p "
        "ON u.sku_name = p.sku_name AND u.cloud = p.cloud AND u.usage_unit = p.usage_unit "
        "AND u.usage_start_time >= p.price_start_time "
        "AND (p.price_end_time IS NULL OR u.usage_start_time < p.price_end_time) "
        f"WHERE u.usage_metadata.warehouse_id = '{warehouse_id}' AND u.usage_unit = 'DBU' "
        f"AND u.usage_end_time > {_timestamp(started)} "
        f"AND u.usage_start_time < {_timestamp(ended)}"
    )


def billed_usage(row: dict[str, Any] | None, ended: datetime, now: datetime) -> dict[str, Any]:
    """The usage row as the figures DatabricksBilling reads. Complete once the records reach the
    window's end; until then (records lag up to 12 hours) pending, with why."""
    row = row or {}
    dbus = row.get("dbus")
    until = _utc(row.get("usage_until"))
    records, priced = _int(row.get("records")) or 0, _int(row.get("priced")) or 0
    complete = until is not None and until >= _utc(ended)
    pending = None
    if not complete:
        pending = (
            "system.billing.usage has no record of the warehouse in the window yet"
            if until is None
            else f"system.billing.usage reaches {until:%Y-%m-%d %H:%M} UTC only"
        ) + " (records typically arrive within 12 hours); run `whbench cost --refresh` later"
    return {
        "dbus": None if dbus is None else float(dbus),
        # Priced only when every record found its list price; else unknown, not a part.
        "list_dollars": (
            float(row["list_dollars"])
            if row.get("list_dollars") is not None and records and priced == records
            else None
        ),
        "skus": sorted(str(s) for s in row.get("skus") or ()),
        "usage_until": None if until is None else until.isoformat(),
        "complete": complete,
        "pending": pending,
        "fetched_at": _utc(now).isoformat(),
    }


# -- the team's history (import-history) ------------------------------------------------------
def history_sql(since: datetime) -> str:
    """Finished SELECTs since `since`, with their tags so whbench's own can be left out."""
    return (
        "SELECT statement_text, statement_type, execution_status, start_time, "
        "total_duration_ms, execution_duration_ms, read_bytes, executed_by, query_tags "
        "FROM system.query.history "
        f"WHERE start_time >= {_timestamp(since)} AND statement_type = 'SELECT' "
        "AND execution_status = 'FINISHED' ORDER BY start_time"
    )


# A query of the system catalog (monitoring, whbench's own statistics and this import) is not
# the team's workload.
_SYSTEM_CATALOG = re.compile(r"\bsystem\s*\.\s*(query|billing|compute|access|information_schema)\b")


def history_entries(rows: list[dict[str, Any]]) -> list[HistoryEntry]:
    from harness.history import HistoryEntry

    entries = []
    for row in rows:
        text = str(row.get("statement_text") or "").strip()
        if not text or str(row.get("statement_type", "")).upper() != "SELECT":
            continue
        if str(row.get("execution_status", "")).upper() != "FINISHED":
            continue
        if WHBENCH_TAG in str(row.get("query_tags") or "") or _SYSTEM_CATALOG.search(text.lower()):
            continue  # whbench's own benchmark queries, or the system catalog
        elapsed = row.get("total_duration_ms")
        if elapsed is None:
            elapsed = row.get("execution_duration_ms")
        entries.append(
            HistoryEntry(
                text=text,
                elapsed_seconds=_seconds(elapsed),
                bytes_scanned=_int(row.get("read_bytes")),
                started_at=row.get("start_time"),
            )
        )
    return entries


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _seconds(milliseconds: Any) -> float | None:
    return None if milliseconds is None else float(milliseconds) / 1000


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
