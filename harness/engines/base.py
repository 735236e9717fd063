"""The engine interface every warehouse module implements, and the records it returns.

An engine module is small and alike in shape: a settings dataclass, capabilities as class
attributes, and the methods below. Nothing outside `harness/engines/` branches on an engine's
name; the rest of the harness reads the capabilities instead.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from harness.errors import EngineError
from harness.objectstore import Location, upload_missing
from harness.pricing import Billing


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

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class QueryResult:
    """What `Engine.execute` returns: the rows, fetched in full, and what the engine reported."""

    rows: list[tuple]
    client_seconds: float
    columns: tuple[str, ...] = ()  # the result's column names, as the engine gave them
    engine_seconds: float | None = None
    engine_query_id: str | None = None
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class TableData:
    """One table's generated files, and the data set they belong to ("tpch/sf100"), which names
    their folder in object storage."""

    data_set: str
    table: str
    files: tuple[Path, ...]

    def by_format(self) -> dict[str, list[Path]]:
        """The files by format ("parquet", "ndjson"), from their suffixes."""
        formats: dict[str, list[Path]] = {}
        for f in self.files:
            formats.setdefault(f.suffix.lstrip("."), []).append(f)
        return formats


@dataclass(frozen=True)
class LoadOutcome:
    table: str
    rows: int
    seconds: float
    bytes_stored: int | None = None


class QueryTimeout(Exception):
    """Raised by `Engine.execute` when the engine cancelled the query at its time limit."""


class QueryCancelled(Exception):
    """Raised by `Engine.execute` when `cancel()` stopped the query (the user pressed Ctrl-C)."""


NAMESPACE_PREFIX = "whb_"


def owned(namespace: str) -> str:
    """`namespace` if the harness made it (its name has the harness prefix); else refuse, so a
    drop can never reach anything of the user's."""
    if not namespace.startswith(NAMESPACE_PREFIX) or not namespace.replace("_", "").isalnum():
        raise EngineError(f"refusing to touch {namespace!r}: not a namespace whbench created")
    return namespace


class Engine(abc.ABC):
    """One warehouse. Capabilities are data; the methods are the whole surface the runner uses."""

    name: ClassVar[str]
    dialect: ClassVar[str]  # the macro prefix and sqlglot dialect the templates render for
    driver_module: ClassVar[str]  # importable module of the client library
    driver_package: ClassVar[str]  # its distribution on PyPI, for the version
    extra: ClassVar[str | None] = None  # pip extra that installs the driver
    cost_basis: ClassVar[str]  # what the engine bills, in words ("warehouse uptime in credits")
    billing: ClassVar[type[Billing]]  # its billing rules (engines/<name>/billing.py)
    reports_engine_time: ClassVar[bool] = False
    supports_dry_run: ClassVar[bool] = False
    baseline: ClassVar[bool] = False  # the local reference the others' answers are checked against
    # How a query's first attempt is made cold, in words, where the engine can do it (else the
    # first attempt is "lukewarm": caches are off, but data may sit in memory or on local disk
    # from earlier queries). `make_cold` does it.
    cold_method: ClassVar[str | None] = None
    # Object stores the warehouse loads from itself (a `data_uri` setting), by URI scheme.
    object_stores: ClassVar[tuple[str, ...]] = ()
    settings_class: ClassVar[type]

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        # What the engine could not do as asked (a setting refused, a statistic unavailable):
        # recorded with the run and shown, never hidden.
        self.notes: list[str] = []
        self.data_location: Location | None = None  # where `data_uri` puts the files
        # The session's result cache after prepare_session: "off", "not turned off" (the engine
        # refused; hot attempts may be cache reads and are left out of times), or "none".
        self.result_cache = "none"
        if uri := getattr(settings, "data_uri", None):
            where = f"engines.{self.name}.data_uri"
            self.data_location = Location.parse(uri, self.object_stores, where)

    # -- lifecycle -----------------------------------------------------------------------------
    @abc.abstractmethod
    def connect(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def version(self) -> str:
        """The server or library version, recorded with every run."""

    def auth_method(self) -> str:
        """How the engine will sign in, in words, from the settings alone (never a secret)."""
        return "none"

    def describe(self) -> dict[str, Any]:
        """Settings that shape the numbers (threads, warehouse size …), recorded with every run."""
        return {}

    @abc.abstractmethod
    def prepare_session(self, namespace: str, tag: str, timeout_seconds: float) -> None:
        """Use `namespace`, turn result caches off (and set `result_cache`), label queries with
        `tag`, set a time limit."""

    def make_cold(self) -> str | None:
        """Empty the caches a query could profit from, before its first attempt: how it was
        done, in words, or None when it was not (the attempt is then lukewarm)."""
        return None

    # -- data ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def existing_tables(self, namespace: str) -> set[str]:
        """Tables already loaded in `namespace` (so `run` loads only what is missing)."""

    @abc.abstractmethod
    def load(self, namespace: str, data: TableData, statements: Sequence[str]) -> LoadOutcome:
        """Run the rendered schema and load statements for one table as one unit.

        Engines that must stage the files first (upload to a bucket or stage) do so here. A
        table is either fully loaded or absent afterwards.
        """

    def source_uris(self, data: TableData) -> dict[str, list[str]]:
        """How the load templates name a table's files, by format ("parquet", "ndjson"): local
        paths here; gs:// or s3:// URIs, or a stage, for engines that load from elsewhere."""
        return {fmt: [str(f.resolve()) for f in files] for fmt, files in data.by_format().items()}

    def remote_folders(self, data: TableData) -> dict[str, Location]:
        """Where each format's files go under `data_uri`: one folder per table and format."""
        assert self.data_location is not None
        return {
            fmt: self.data_location.folder(data.data_set, data.table, fmt)
            for fmt in data.by_format()
        }

    def upload(self, data: TableData) -> None:
        """Put the table's files under `data_uri`, skipping any already there."""
        for fmt, folder in self.remote_folders(data).items():
            upload_missing(data.by_format()[fmt], folder, **self.storage_options())

    def storage_options(self) -> dict[str, Any]:
        """How to reach `data_uri` with the engine's own account: S3 profile and region, or the
        GCS project and credentials. Empty: the provider's default chain."""
        return {}

    @abc.abstractmethod
    def execute(
        self, sql: str, timeout_seconds: float, query_label: str | None = None
    ) -> QueryResult:
        """Run one query, fetch every row, and time the round trip. `query_label` names the
        query for engines that can label each query on its own at no cost.

        Raises QueryTimeout when the query hit its time limit and QueryCancelled when cancel()
        stopped it; any other engine error propagates.
        """

    @abc.abstractmethod
    def cancel(self) -> None:
        """Stop the query in flight. Called from another thread, so it must be thread-safe."""

    def query_history(self, query_ids: Sequence[str]) -> dict[str, tuple[float | None, Usage]]:
        """Engine-reported (elapsed seconds, usage) of queries this session ran, by query id.

        Called once per workload with every query id, so engines whose statistics live in a
        history view pay for one look-up, not one per query. Missing ids: nothing reported.
        """
        return {}

    def end_of_run(self) -> dict[str, Any]:
        """Called after the run's last query: anything the engine does then that changes the
        bill (Snowflake: suspend the warehouse it resumed), as facts for the billing rules."""
        return {}

    def billed_usage(self, started: datetime, ended: datetime) -> dict[str, Any] | None:
        """What the vendor billed in a window, from its own billing figures, where it publishes
        them (Snowflake metering history, Redshift SYS_SERVERLESS_USAGE): a dict of figures
        with `complete` (the vendor's figures cover the whole window yet) and, when not,
        `pending` (why). None: the engine publishes nothing beyond its job statistics."""
        return None

    def limit_spend(self, dollars: float, price_per_byte: float | None) -> None:
        """Let the next query spend at most `dollars`, where the engine can enforce that itself
        (BigQuery: maximum_bytes_billed). Most engines cannot; the budget guard still stops
        them between queries."""
        return None

    def estimate(self, sql: str) -> Usage | None:
        """A free pre-run usage estimate, where the engine offers one."""
        return None

    @abc.abstractmethod
    def namespaces(self) -> list[str]:
        """The namespaces (schemas, datasets) the harness created: those with its prefix."""

    @abc.abstractmethod
    def drop(self, namespace: str) -> None:
        """Remove `namespace` and what the harness created in it, and nothing else."""


class CursorEngine(Engine):
    """An engine reached through a DB-API connection (Snowflake, Redshift): the catalogue
    look-ups that read the same on both live here once."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self._con: Any = None

    def namespaces(self) -> list[str]:
        cursor = self._con.cursor()
        cursor.execute("SELECT schema_name FROM information_schema.schemata ORDER BY 1")
        # Snowflake keeps unquoted names in upper case; the harness names them in lower case.
        names = [name.lower() for (name,) in cursor.fetchall()]
        return [name for name in names if name.startswith(NAMESPACE_PREFIX)]

    def drop(self, namespace: str) -> None:
        self._con.cursor().execute(f"DROP SCHEMA IF EXISTS {owned(namespace)} CASCADE")

    def _scalar(self, sql: str) -> Any:
        cursor = self._con.cursor()
        cursor.execute(sql)
        row = cursor.fetchone()
        return row[0] if row else None
