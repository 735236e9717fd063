"""What an engine reports and the store keeps: a query's usage, a table's load. Apart from
the engine interface, so that reading the store imports no engine code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Usage:
    """What one query consumed, in the engine's own billing units, and how the engine says its
    time was spent (queued, compiling, executing).

    A figure the engine did not report is None, never 0: 0 would claim the query was free.
    """

    bytes_scanned: int | None = None
    bytes_billed: int | None = None
    slot_ms: int | None = None
    warehouse_seconds: float | None = None
    rpu_seconds: float | None = None
    cache_hit: bool | None = None
    cloud_services_credits: float | None = None
    queued_seconds: float | None = None  # waiting for a warehouse or a queue slot
    compile_seconds: float | None = None
    execution_seconds: float | None = None
    rows_read: int | None = None  # rows the engine read to answer (ClickHouse's read_rows)
    peak_memory_bytes: int | None = None  # the most memory the query held at once

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))  # flat: asdict's deep copy costs 30 µs an attempt under load


@dataclass(frozen=True)
class LoadOutcome:
    """One table loaded: its rows, the seconds it took, and the bytes the engine stores for it
    (None when the engine does not say)."""

    table: str
    rows: int
    seconds: float
    bytes_stored: int | None = None
