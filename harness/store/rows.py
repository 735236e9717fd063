"""What the results store gives back: one dataclass per kind of stored row, its fields named
as the store's columns, JSON columns decoded. Readers (billing, report, console, load figures)
read fields, so a renamed column breaks at the dataclass, in one place, not at run time in a
string lookup somewhere else.

A quantity an engine did not report is None, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.kept_answers import Difference, Stored


@dataclass(frozen=True, slots=True)
class StoredRun:
    """One run: an engine, a workload at a scale, its settings and what happened around it."""

    run_id: str
    invocation_id: str | None
    status: str  # running, finished, failed, interrupted
    started_at: datetime
    ended_at: datetime | None
    harness_version: str | None
    git_commit: str | None
    host: str | None
    engine: str
    engine_version: str | None
    engine_settings: dict[str, Any] | None
    workload: str
    data_type: str | None
    scale: float
    workload_options: dict[str, Any] | None
    namespace: str | None
    runs_per_query: int | None
    timeout_seconds: float | None
    checksum_decimals: int | None
    # as written, secrets removed (a run stored by an older whbench may still hold a
    # ${VAR:-default}'s default: show it through harness.config.redact)
    config: dict[str, Any] | None
    error: str | None
    notes: list[str] | None
    run_usage: dict[str, Any] | None
    after_run: dict[str, Any] | None
    result_cache: str | None  # off, not turned off, none
    load: dict[str, Any] | None  # under load: levels, iterations or duration, arrival rate
    round_trip_seconds: dict[str, Any] | None  # {min, median, n, sql}; None: not measured
    # Where it ran: {"kind", "address"} (harness.engines.where: where_text, where_kind); None for
    # a run stored before whbench recorded it ("not recorded", never guessed).
    endpoint: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StoredAttempt:
    """One attempt of one query, with its run's engine, workload and scale and its query's
    title and SQL (the store's attempt_details view)."""

    engine: str
    workload: str
    data_type: str | None
    scale: float
    run_id: str
    query_id: str
    attempt: int
    phase: str  # cold, lukewarm, hot, load
    status: str  # ok, error, timeout, skipped, unsupported
    started_at: datetime
    client_seconds: float | None
    engine_seconds: float | None
    rows: int | None
    checksum: str | None
    engine_query_id: str | None
    bytes_scanned: int | None
    bytes_billed: int | None
    slot_ms: int | None
    warehouse_seconds: float | None
    rpu_seconds: float | None
    cache_hit: bool | None
    error: str | None
    cloud_services_credits: float | None
    queued_seconds: float | None
    compile_seconds: float | None
    execution_seconds: float | None
    ended_at: datetime | None
    answer: str | None  # correct, wrong, unchecked
    cold_method: str | None
    stream: int | None
    level: int | None
    harness_queue_seconds: float | None
    rows_read: int | None  # None: the engine did not report it
    peak_memory_bytes: int | None
    recall: float | None  # an approximate query's recall@k; None for every other query
    title: str | None
    ordered: bool | None
    sql: str | None
    excluded: str | None  # why its time is left out of times and verdicts, or None

    @property
    def sent(self) -> bool:
        """Whether the query reached the engine: one that could not be translated for it
        (skipped) or needs a feature it lacks (unsupported) never did, and cost nothing."""
        return self.status not in ("skipped", "unsupported")


@dataclass(frozen=True, slots=True)
class StoredLevel:
    """Under load: one concurrency level of a run."""

    run_id: str
    level: int
    status: str  # finished, interrupted
    started_at: datetime
    ended_at: datetime
    scale_out: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class StoredLoad:
    """One table loaded (or reused, or failed) by a run."""

    run_id: str
    table_name: str
    status: str  # loaded, reused, error
    rows: int | None
    bytes_stored: int | None
    seconds: float | None
    error: str | None


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A query's result in a run, once: its first answer, its kept rows (None when not read)."""

    run_id: str
    query_id: str
    attempt: int
    columns: list[str]
    total_rows: int | None
    rest_fingerprint: str | None
    answer: str | None
    difference: Difference | None
    rows: Stored | None = None


@dataclass(frozen=True, slots=True)
class RunListing:
    """A line of `whbench results list`."""

    run_id: str
    started_at: datetime
    status: str
    engine: str
    workload: str
    scale: float
    attempts: int
    failed: int


@dataclass(frozen=True, slots=True)
class LoadedTable:
    """A table's real load (not a reuse) with its run's engine, workload, scale and namespace:
    the report's "loads" section."""

    engine: str
    workload: str
    scale: float
    namespace: str | None
    table_name: str
    rows: int | None
    bytes_stored: int | None
    seconds: float | None
    started_at: datetime  # the run's


@dataclass(frozen=True, slots=True)
class PassTime:
    """One stored run's pass over its workload: the sum over queries of each query's median
    successful time (the report's trend chart)."""

    engine: str
    run_id: str
    started_at: datetime
    seconds: float
    queries: int  # how many queries had a successful time: a partial pass has fewer


def from_record(cls: type, record: dict[str, Any]) -> Any:
    """A dataclass from a row fetched by column name; a column the dataclass does not know is a
    bug in the store, so it fails here."""
    return cls(**record)
