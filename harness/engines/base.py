"""The engine interface every warehouse module implements, and the records it returns.

An engine module is small and alike in shape: a settings dataclass, capabilities as class
attributes, and the methods below. Nothing outside `harness/engines/` branches on an engine's
name; the rest of the harness reads the capabilities instead.
"""

from __future__ import annotations

import abc
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from harness import spool, units
from harness.engines.credentials import Credentials
from harness.engines.watchdog import WATCHDOG
from harness.errors import EngineError, UsageError, first_line
from harness.records import LoadOutcome, Usage

if TYPE_CHECKING:
    from harness.capabilities import Support
    from harness.history import HistoryEntry
    from harness.objectstore import Location
    from harness.pricing import Billing


@dataclass(frozen=True)
class QueryResult:
    """What `Engine.execute` returns: the rows, fetched in full, and what the engine reported.
    A large result's rows are spooled to a temporary file (harness.spool.Spooled, a read-only
    sequence of the same rows), so memory stays bounded however many there are."""

    rows: list[tuple] | spool.Spooled
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


class QueryTimeout(Exception):
    """Raised by `Engine.execute` when the query was stopped at its time limit."""


class QueryCancelled(Exception):
    """Raised by `Engine.execute` when `cancel()` stopped the query (the user pressed Ctrl-C)."""


@dataclass(frozen=True)
class Ran:
    """What an engine's driver call returns: every row (a list, or spooled when there are more
    than harness.spool.SPOOL_ROWS), the column names, and what the engine said about the
    query."""

    rows: list[tuple] | spool.Spooled
    columns: tuple[str, ...] = ()
    engine_query_id: str | None = None
    engine_seconds: float | None = None
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class SessionSetting:
    """One statement of session set-up, and what it is for in words ("turn the result cache
    off"). A refusal is a note, never an error; `result_cache` marks the one whose refusal
    leaves the result cache on."""

    sql: str
    purpose: str
    result_cache: bool = False


NAMESPACE_PREFIX = "whb_"

# The round-trip floor (Engine.measure_round_trip): a query with no table, run a few times
# through the same path as the workload's queries. Five tries give a minimum and a median that
# one slow packet cannot move, for a few milliseconds once per session.
ROUND_TRIP_SQL = "SELECT 1"
ROUND_TRIP_TRIES = 5


class EngineSettings(abc.ABC):
    """What every engine's settings dataclass is (`engines.<name>:` in the config, checked
    field by field against it): each says how the engine signs in. An engine is typed by its
    own (`SnowflakeEngine(CursorEngine[SnowflakeSettings])`), so `self.settings.warehouse` is
    checked where the engine is written."""

    @abc.abstractmethod
    def credentials(self) -> Credentials:
        """How the engine will sign in, first match wins (engines/credentials.py)."""


# The settings dataclass of one engine: Engine[SettingsT] is typed by it.
SettingsT = TypeVar("SettingsT", bound=EngineSettings)


def owned(namespace: str) -> str:
    """`namespace` if the harness made it (its name has the harness prefix); else refuse, so a
    drop can never reach anything of the user's."""
    if not namespace.startswith(NAMESPACE_PREFIX) or not namespace.replace("_", "").isalnum():
        raise EngineError(f"refusing to touch {namespace!r}: not a namespace whbench created")
    return namespace


class Engine(abc.ABC, Generic[SettingsT]):
    """One warehouse. Capabilities are data; the methods are the whole surface the runner uses.
    An engine is typed by its settings dataclass: `DuckDBEngine(Engine[DuckDBSettings])`.

    What an engine must write: `connect`, `close`, `version`, `use` (point the session at a
    namespace), `run` (the driver call for one query), `interrupt` (stop it, from another
    thread), `existing_tables`, `load`, `namespaces` and `drop`. Timing, the time limit,
    cancellation and session set-up live here, once.
    """

    name: ClassVar[str]
    dialect: ClassVar[str]  # the macro prefix and sqlglot dialect the templates render for
    driver_module: ClassVar[str]  # importable module of the client library
    driver_package: ClassVar[str]  # its distribution on PyPI, for the version
    extra: ClassVar[str | None] = None  # pip extra that installs the driver
    cost_basis: ClassVar[str]  # what the engine bills, in words ("warehouse uptime in credits")
    billing: ClassVar[type[Billing]]  # its billing rules (engines/<name>/billing.py)
    reports_engine_time: ClassVar[bool] = False
    supports_dry_run: ClassVar[bool] = False
    # The reference engine: the others' answers are checked against its answers (the report's
    # "baseline"); a capability, so no code names the engine.
    reference: ClassVar[bool] = False
    # How a query's first attempt is made cold, in words, where the engine can do it (else the
    # first attempt is "lukewarm": caches are off, but data may sit in memory or on local disk
    # from earlier queries). `make_cold` does it.
    cold_method: ClassVar[str | None] = None
    # Object stores the warehouse loads from itself (a `data_uri` setting), by URI scheme.
    object_stores: ClassVar[tuple[str, ...]] = ()
    # How to export a table to files, for a workload of the team's own data (import-history)
    export_hint: ClassVar[str] = "export each table to Parquet, CSV or NDJSON files"
    # Seconds past the time limit at which the harness interrupts a query itself; None when the
    # engine's own time limit (a session setting or a client timeout) is the only one.
    timer_grace_seconds: ClassVar[float | None] = 0.0
    # Runs on this machine, inside whbench's process (DuckDB, chDB), not as a service: its
    # times and costs say how it does on this hardware, not how a cloud service would.
    on_this_machine: ClassVar[bool] = False
    # The vendor's own service in words ("Snowflake") and the DNS domains its endpoints are in,
    # each cited from the vendor's documentation where the engine declares it: an address in
    # one of them is the service; any other is a stand-in or another server (where.py).
    service_name: ClassVar[str] = ""
    service_domains: ClassVar[tuple[str, ...]] = ()
    settings_class: ClassVar[type[EngineSettings]]  # SettingsT, which a ClassVar cannot name

    def __init__(self, settings: SettingsT) -> None:
        self.settings: SettingsT = settings
        # What the engine could not do as asked (a setting refused, a statistic unavailable):
        # recorded with the run and shown, never hidden.
        self.notes: list[str] = []
        self.data_location: Location | None = None  # where `data_uri` puts the files
        # The session's result cache after prepare_session: "off", "not turned off" (the engine
        # refused; hot attempts may be cache reads and are left out of times), or "none".
        self.result_cache = "none"
        self._cancelled = threading.Event()
        if uri := getattr(settings, "data_uri", None):
            from harness.objectstore import Location

            where = f"engines.{self.name}.data_uri"
            self.data_location = Location.parse(uri, self.object_stores, where)

    @classmethod
    def features(cls) -> dict[str, Support]:
        """What the engine does per feature (native, emulated, unsupported), as its package's
        features.yaml declares it, or its base class's (harness/capabilities.py)."""
        from harness.capabilities import declared

        return declared(cls)

    @classmethod
    def namespace_prefix(cls, settings: SettingsT) -> str:
        """What goes between the harness's `whb_` and a data set's name in this engine's
        namespaces (BigQuery's `dataset_prefix`, for people sharing a project)."""
        return ""

    # -- lifecycle -----------------------------------------------------------------------------
    @abc.abstractmethod
    def connect(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    def open_session(self) -> Engine[SettingsT]:
        """Another session on the same database, for one stream of a run under load: by
        default a new connection with the same settings. Close it when done."""
        other = type(self)(self.settings)
        other.connect()
        return other

    @abc.abstractmethod
    def version(self) -> str:
        """The server or library version, recorded with every run."""

    def auth_method(self) -> str:
        """How the engine will sign in, in words, from the settings' credentials type alone
        (never a secret): engines/credentials.py."""
        return self.settings.credentials().describe()

    def describe(self) -> dict[str, Any]:
        """Settings that shape the numbers (threads, warehouse size …), recorded with every run."""
        return {}

    def endpoint(self) -> str | None:
        """The "host:port" the connected client talks to, read from the client where it keeps
        it (else from the settings it connected with); None: no address, the engine runs in
        whbench's process."""
        return None

    def where(self) -> dict[str, Any]:
        """Where this session's queries run, recorded with every run: {"kind", "address"}
        (harness/engines/where.py)."""
        from harness.engines.where import located

        try:
            found = self.endpoint()
        except Exception as exc:  # a client that keeps no address: unknown, not a failed run
            self.notes.append(f"where it ran is unknown: {self.error_text(exc)}")
            return {"kind": "unknown", "address": None}
        return located(found, self.service_domains)

    def error_text(self, exc: BaseException) -> str:
        """An engine error in one line, for notes and messages."""
        return first_line(exc)

    # -- the session ---------------------------------------------------------------------------
    def prepare_session(self, namespace: str, tag: str, timeout_seconds: float) -> None:
        """Use `namespace`, then the engine's session settings (result cache off, queries
        labelled with `tag`, a time limit): each refusal is a note, and a refused result-cache
        setting leaves `result_cache` "not turned off"."""
        self.use(namespace)
        for setting in self.session_settings(tag, timeout_seconds):
            try:
                self.statement(setting.sql)
            except Exception as exc:  # shown in the run's notes, never hidden
                self.notes.append(f"could not {setting.purpose}: {self.error_text(exc)}")
                if setting.result_cache:
                    self.result_cache = "not turned off"
            else:
                if setting.result_cache:
                    self.result_cache = "off"

    def round_trip_refusal(self) -> str | None:
        """Why this session's round-trip floor must not be measured, in words, or None to
        measure it. The floor must bill nothing beyond a trivial query. `SELECT 1` reads no
        table: on Snowflake it runs on the warehouse the session's first query resumes anyway,
        milliseconds later, so inside the same billed minute (with `cold: suspend` that query's
        suspend and resume follows it: where SELECT 1 itself resumed a suspended warehouse,
        that is one resume more); on Redshift Serverless it falls in the same billed minute as
        the first query; on DuckDB it is local. An engine that prices each query by what
        it reads (it offers a pre-run estimate of that, `supports_dry_run`) may bill a minimum
        even for a query that reads nothing. BigQuery on-demand bills a 10 MB minimum per table
        referenced (https://cloud.google.com/bigquery/pricing, on-demand compute pricing), but
        the summaries of that page read for this (2026-12-06; the page itself was not at hand)
        give a 10 MB minimum per query as well, so a free `SELECT 1` could not be confirmed:
        its floor is not measured, and recorded as None, never 0. An engine whose own module
        can confirm a free trivial query (BigQuery under capacity pricing) overrides this."""
        if self.supports_dry_run:
            return (
                "each query is priced by the bytes it processes, with a per-query minimum "
                "that a query reading no table may still be billed; not measured, so as to "
                "bill nothing"
            )
        return None

    def measure_round_trip(
        self, timeout_seconds: float, tries: int = ROUND_TRIP_TRIES
    ) -> dict[str, Any] | None:
        """The session's round-trip floor: `SELECT 1` run `tries` times through `execute`, the
        path and fetch every query takes (after `prepare_session`, so with the result cache
        off as for every query), before the first query. Client time includes the round trip
        from wherever whbench runs; this is what it costs when the query does nothing, so a
        margin between engines smaller than it may be the network, not the warehouse.

        {"min", "median", "n", "sql"} in seconds, or None (with a note saying why) when it
        could not be measured: unknown, never 0. Ctrl-C (QueryCancelled) propagates."""
        if refusal := self.round_trip_refusal():
            self.notes.append(f"round-trip floor not measured: {refusal}")
            return None
        times: list[float] = []
        try:
            for _ in range(tries):
                result = self.execute(ROUND_TRIP_SQL, timeout_seconds, "round_trip")
                times.append(result.client_seconds)
        except QueryCancelled:
            raise
        except Exception as exc:  # a refusal is a note: the run goes on without a floor
            self.notes.append(f"round-trip floor not measured: {self.error_text(exc)}")
            return None
        return {
            "min": min(times),
            "median": statistics.median(times),
            "n": len(times),
            "sql": ROUND_TRIP_SQL,
        }

    @abc.abstractmethod
    def use(self, namespace: str) -> None:
        """Point the session at `namespace`, so queries name tables unqualified."""

    def session_settings(self, tag: str, timeout_seconds: float) -> list[SessionSetting]:
        """The statements that set the session up, as data."""
        return []

    def statement(self, sql: str) -> None:
        """Run one statement whose result is not wanted (session settings)."""
        raise NotImplementedError(f"{self.name} has no session statements")

    def make_cold(self) -> str | None:
        """Empty the caches a query could profit from, before its first attempt: how it was
        done, in words, or None when it was not (the attempt is then lukewarm). A method that
        emptied only some caches starts with "lukewarm: " and says which (DuckDB without a
        dropped page cache): the attempt is lukewarm and the rest is kept as its cold_method."""
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
        from harness.objectstore import upload_missing

        for fmt, folder in self.remote_folders(data).items():
            upload_missing(data.by_format()[fmt], folder, **self.storage_options())

    def storage_options(self) -> dict[str, Any]:
        """How to reach `data_uri` with the engine's own account: S3 profile and region, or the
        GCS project and credentials. Empty: the provider's default chain."""
        return {}

    # -- queries -------------------------------------------------------------------------------
    def execute(
        self, sql: str, timeout_seconds: float, query_label: str | None = None
    ) -> QueryResult:
        """Run one query, fetch every row, and time the round trip. `query_label` names the
        query for engines that can label each query on its own at no cost.

        Raises QueryTimeout when the query hit its time limit and QueryCancelled when cancel()
        stopped it; any other engine error propagates.
        """
        self._cancelled.clear()
        alarm = None
        if self.timer_grace_seconds is not None:
            limit = timeout_seconds + self.timer_grace_seconds
            alarm = WATCHDOG.arm(time.monotonic() + limit, self._interrupt_quietly)
        try:
            started = time.perf_counter()
            ran = self.run(sql, timeout_seconds, query_label)
            elapsed = time.perf_counter() - started
        except Exception as exc:
            timed_out = alarm is not None and alarm.fired
            if self._cancelled.is_set() and not timed_out:
                raise QueryCancelled("cancelled") from exc
            if timed_out or self.is_timeout(exc):
                raise QueryTimeout(f"cancelled after {units.seconds(timeout_seconds)}") from exc
            raise
        finally:
            if alarm is not None:
                alarm.disarm()
        return QueryResult(
            rows=ran.rows,
            client_seconds=elapsed,
            columns=ran.columns,
            engine_seconds=ran.engine_seconds,
            engine_query_id=ran.engine_query_id or self.last_query_id(),
            usage=ran.usage,
        )

    @abc.abstractmethod
    def run(self, sql: str, timeout_seconds: float, query_label: str | None) -> Ran:
        """The driver call: run `sql` and fetch every row (this is what is timed)."""

    def is_timeout(self, exc: Exception) -> bool:
        """Whether `exc` is the engine's own error for a query over its time limit."""
        return False

    def last_query_id(self) -> str | None:
        """The engine's id of the query just run, when finding it takes a round trip (looked up
        after the clock stops)."""
        return None

    def cancel(self) -> None:
        """Stop the query in flight (Ctrl-C). Called from another thread."""
        self._cancelled.set()
        self._interrupt_quietly()

    def _interrupt_quietly(self) -> None:
        try:
            self.interrupt()
        except Exception as exc:  # called from another thread: note it, never raise
            self.notes.append(f"could not cancel the running query: {self.error_text(exc)}")

    @abc.abstractmethod
    def interrupt(self) -> None:
        """Ask the engine to stop the query in flight. Called from another thread."""

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

    def scale_out(self, started: datetime, ended: datetime) -> dict[str, Any] | None:
        """Compute the engine added beyond its base for the window (under load, per level), as
        the engine reports it; None where it reports none (unknown, not zero)."""
        return None

    def scale_out_sample(self) -> dict[str, int] | None:
        """What the engine shows of its scale-out right now (polled during a level, the peak
        kept); None where it shows nothing."""
        return None

    def limit_spend(self, dollars: float, price_per_byte: float | None) -> None:
        """Let the next query spend at most `dollars`, where the engine can enforce that itself
        (BigQuery: maximum_bytes_billed). Most engines cannot; the budget guard still stops
        them between queries."""
        return None

    def estimate(self, sql: str) -> Usage | None:
        """A free pre-run usage estimate, where the engine offers one."""
        return None

    # -- the team's own query history (`whbench workload import-history`) ----------------------
    def history_sql(self, since: datetime) -> str:
        """One query reading the finished SELECTs since `since` from the engine's history, in
        the vendor's documented columns."""
        raise UsageError(
            f"{self.name} keeps no query history whbench can read; import from "
            "snowflake, bigquery or redshift"
        )

    @staticmethod
    def history_entries(rows: list[dict[str, Any]]) -> list[HistoryEntry]:
        """The rows `history_sql` returns (columns in lower case) as entries: pure, so it is
        tested on recorded rows of the vendor's documented columns."""
        return []

    def read_history(self, since: datetime, timeout_seconds: float) -> list[HistoryEntry]:
        ran = self.run(self.history_sql(since), timeout_seconds, None)
        columns = [column.lower() for column in ran.columns]
        return self.history_entries([dict(zip(columns, row, strict=True)) for row in ran.rows])

    @abc.abstractmethod
    def namespaces(self) -> list[str]:
        """The namespaces (schemas, datasets) the harness created: those with its prefix."""

    @abc.abstractmethod
    def drop(self, namespace: str) -> None:
        """Remove `namespace` and what the harness created in it, and nothing else."""


def present(**options: Any) -> dict[str, Any]:
    """Keyword options without the ones left unset: what a driver's connect() is given."""
    return {key: value for key, value in options.items() if value is not None}


class CursorEngine(Engine[SettingsT]):
    """An engine reached through a DB-API connection (Snowflake, Redshift): running a query,
    a statement, the catalogue look-ups and closing read the same on both, and live here."""

    def __init__(self, settings: SettingsT) -> None:
        super().__init__(settings)
        self._con: Any = None

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def statement(self, sql: str) -> None:
        self._con.cursor().execute(sql)

    def run(self, sql: str, timeout_seconds: float, query_label: str | None) -> Ran:
        cursor = self._con.cursor()
        self._cursor_execute(cursor, sql, timeout_seconds)
        return Ran(
            rows=self._fetch(cursor) if cursor.description else [],
            columns=tuple(str(d[0]) for d in cursor.description or ()),
            engine_query_id=self._cursor_query_id(cursor),
        )

    def _fetch(self, cursor: Any) -> list[tuple] | spool.Spooled:
        """Every row of the query just run: a list while they are few (SPOOL_ROWS), the rest
        of a large result fetched in batches and spooled, so memory stays bounded."""
        rows = [tuple(r) for r in cursor.fetchmany(spool.SPOOL_ROWS)]
        if len(rows) < spool.SPOOL_ROWS:
            return rows
        return spool.spooled(rows, spool.fetched_many(cursor))

    def endpoint(self) -> str | None:
        # The connection's own host and port, where the driver keeps them (Snowflake's: the
        # account's URL it built, or the host given); an engine whose driver does not overrides.
        from harness.engines.where import address

        return address(str(self._con.host), self._con.port)

    def _cursor_execute(self, cursor: Any, sql: str, timeout_seconds: float) -> None:
        cursor.execute(sql)

    def _cursor_query_id(self, cursor: Any) -> str | None:
        return None

    def existing_tables(self, namespace: str) -> set[str]:
        cursor = self._con.cursor()
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE lower(table_schema) = %s",
            (namespace.lower(),),
        )
        return {name.lower() for (name,) in cursor.fetchall()}

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
