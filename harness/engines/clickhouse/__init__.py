"""ClickHouse, embedded: chDB (ClickHouse in this process, PyPI `chdb`) on a data folder of its
own. It runs on this machine, so it has no bill of its own; pricing treats it as the cloud VM that
could have run it, by DuckDB's rule (billing.py).

What chDB is and does, as its own documentation says it (read 2026-12-06):
https://clickhouse.com/docs/chdb and https://clickhouse.com/docs/chdb/install/python. What was
found by trying chDB 4.4.0 (ClickHouse 26.9) here, and is tested in
tests/engines/clickhouse/test_clickhouse.py: one process opens one data folder (a second folder
while the first is open is refused: "EmbeddedServer already initialized with path"); several
connections on that folder run queries at once from several threads; `KILL QUERY` from another
connection stops a query in flight, and `max_execution_time` is ClickHouse's own time limit;
`system.query_log` exists only when chDB is opened with a configuration file that has a
`<query_log>` section (this engine writes one into the data folder), and its query id is chDB's
own, so a query is found by the `log_comment` the engine sets for it.

Server mode: with `host` set, a ClickHouse server or ClickHouse Cloud through clickhouse-connect
(HTTP(S)), with `port`, `secure`, `user` and a `password: Secret`; `cloud_tier`, `replicas`,
`memory_gib_per_replica`, `idle_minutes` and `idling` describe a ClickHouse Cloud service for
pricing (they cannot be read from the server).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from harness import spool
from harness.engines.base import (
    NAMESPACE_PREFIX,
    Engine,
    EngineSettings,
    LoadOutcome,
    QueryResult,
    Ran,
    SessionSetting,
    TableData,
    owned,
)
from harness.engines.clickhouse import query_log
from harness.engines.clickhouse.billing import ClickHouseBilling
from harness.engines.clickhouse.results import readable_batches, table_rows
from harness.engines.clickhouse.server import local_file_insert
from harness.engines.credentials import Credentials, Local, NoCredentials, Password, Secret
from harness.errors import ConfigError, EngineError, first_line
from harness.records import Usage
from harness.settings import PORT, Range

if TYPE_CHECKING:
    from harness.history import HistoryEntry

# The configuration chDB is opened with (`?config-file=`): the query log, which an embedded
# ClickHouse keeps only when its configuration asks for it. ClickHouse's server settings page
# documents the section (https://clickhouse.com/docs/operations/server-configuration-parameters/settings#query_log,
# read 2026-12-06); `SYSTEM FLUSH LOGS` writes what is buffered before it is read.
CONFIG_FILE = "whbench-chdb.xml"
CONFIG = """<clickhouse>
  <query_log>
    <database>system</database>
    <table>query_log</table>
    <flush_interval_milliseconds>7500</flush_interval_milliseconds>
  </query_log>
</clickhouse>
"""

# The caches that hold a table's data or what was learnt from reading it, each emptied with
# `SYSTEM DROP … CACHE` before a query's first attempt. ClickHouse's cache page
# (https://clickhouse.com/docs/operations/caches, read 2026-12-06) lists them (mark,
# uncompressed, userspace page, query and query condition caches, among others) beside the
# operating system's page cache, which ClickHouse only uses; newer pages spell the statement
# SYSTEM CLEAR … CACHE, and chDB 4.4.0 accepts both. Each of these ran here.
# A server (ClickHouse Cloud) may read its tables from object storage through a file system
# cache, which the cache page lists too ("Filesystem cache over S3, Azure, Local and other disks",
# https://clickhouse.com/docs/operations/caches, read 2026-12-06): dropped too in server mode.
SERVER_CACHES = ("FILESYSTEM",)
SERVER_FETCH_PATH = spool.fetch_path(
    "Arrow record batches (clickhouse-connect query_arrow_stream), read as rows",
    "Arrow record batches (clickhouse-connect query_arrow_stream), spooled",
)
SERVER_COLD_METHOD = (
    "ClickHouse's mark, uncompressed, primary index, page, query, query condition and file "
    "system caches dropped (SYSTEM DROP … CACHE) before each query's first attempt, where the "
    "user has the right (else a note); the server's OS page cache is not dropped, so that "
    "attempt is lukewarm"
)
CLOUD_TIERS = ("basic", "scale", "enterprise")
# How whbench makes the tables (workloads/_shared/clickhouse/schema.sql.j2), recorded with every
# run so that a comparison says it: "Choosing an effective primary key in ClickHouse is crucial
# for query performance and storage efficiency" (the ordering key, the table's ORDER BY:
# https://clickhouse.com/docs/best-practices/choosing-a-primary-key, read 2026-12-06), and none
# is chosen here, so the figures are ClickHouse's untuned ones.
TABLE_LAYOUT = (
    "untuned: MergeTree without a sorting key (ORDER BY tuple()), no partitions, skip indexes "
    "or projections; ClickHouse's default settings but for the session's own"
)
DROPPED_CACHES = ("MARK", "UNCOMPRESSED", "PRIMARY INDEX", "PAGE", "QUERY", "QUERY CONDITION")


@dataclass
class ClickHouseSettings(EngineSettings):
    # Embedded (chDB): a data folder, which keeps loaded tables between runs. One process can
    # open one folder at a time.
    path: str = "results/clickhouse/chdb"
    # ClickHouse's own settings (https://clickhouse.com/docs/operations/settings/settings,
    # read 2026-12-06). None: ClickHouse's default (max_threads: the number of cores;
    # max_memory_usage: no limit per query, the server's limit only).
    max_threads: Annotated[int, Range(1, 4096)] | None = None
    max_memory_usage: Annotated[int, Range(1)] | None = None  # bytes
    # Server: None is embedded chDB; a host is a ClickHouse server or ClickHouse Cloud through
    # clickhouse-connect (HTTP(S)). port None: 8443 when secure, else 8123, clickhouse-connect's
    # own defaults (https://clickhouse.com/docs/integrations/language-clients/python/driver-api,
    # read 2026-12-06).
    host: str | None = None
    port: Annotated[int, PORT] | None = None
    secure: bool = True
    user: str = "default"
    password: Secret | None = None  # from ${VAR} or ${file:…} only
    # A ClickHouse Cloud service, for pricing (the server cannot say): its tier ("basic",
    # "scale", "enterprise"; None: not ClickHouse Cloud), replicas, memory per replica and the
    # idle timeout after which it scales to zero (None: not known). `idling: false` is the
    # console's automatic idling turned off: the service never scales to zero, so it has no
    # idle timeout and is billed every hour (billing.py).
    cloud_tier: str | None = None
    replicas: Annotated[int, Range(1, 1000)] | None = None
    memory_gib_per_replica: Annotated[float, Range(0, 4096, low_open=True)] | None = None
    idle_minutes: Annotated[float, Range(0, 7 * 24 * 60)] | None = None
    idling: bool = True

    def credentials(self) -> Credentials:
        if self.host is None:
            return Local()
        return Password(self.password) if self.password is not None else NoCredentials()

    @property
    def server_port(self) -> int:
        if self.port is not None:
            return int(self.port)
        return 8443 if self.secure else 8123


class ClickHouseEngine(Engine[ClickHouseSettings]):
    name = "clickhouse"
    dialect = "clickhouse"
    driver_module = "chdb"
    driver_package = "chdb"
    extra = "clickhouse"
    cost_basis = "machine-hours"
    billing = ClickHouseBilling
    reports_engine_time = True
    on_this_machine = True
    # Cold would mean no cache holds the data. ClickHouse's own caches can be dropped (make_cold);
    # the OS page cache is not, so the first attempt is lukewarm, and says so.
    cold_method = (
        "ClickHouse's mark, uncompressed, primary index, page, query and query condition caches "
        "dropped (SYSTEM DROP … CACHE) before each query's first attempt; the OS page cache is not "
        "dropped, so that attempt is lukewarm"
    )
    # ClickHouse's own limit (max_execution_time) stops a query; the harness's timer interrupts
    # it (KILL QUERY) only if that did not, a little later.
    timer_grace_seconds = 5.0
    settings_class = ClickHouseSettings
    service_name = "ClickHouse Cloud"
    # A service's host is HOSTNAME.clickhouse.cloud (port 8443):
    # https://clickhouse.com/docs/knowledgebase/python-clickhouse-connect-example; a service in
    # the customer's own cloud account (BYOC) is at ….aws.clickhouse-byoc.com:
    # https://clickhouse.com/docs/cloud/reference/byoc/connect (both read 2026-12-06).
    service_domains = ("clickhouse.cloud", "clickhouse-byoc.com")
    # chDB's Python results: the whole result as an Arrow table (query(…, "ArrowTable")) or a
    # stream of Arrow record batches (send_query(…, "Arrow").record_batch()),
    # https://clickhouse.com/docs/chdb/install/python (read 2026-12-06). Every result here is
    # read as the stream, so a large one is spooled batch by batch.
    fetch_path = spool.fetch_path(
        "Arrow record batches (send_query … record_batch), read as rows",
        "Arrow record batches (send_query … record_batch), spooled",
    )

    def __init__(self, settings: ClickHouseSettings) -> None:
        super().__init__(settings)
        if settings.cloud_tier is not None and settings.cloud_tier not in CLOUD_TIERS:
            raise ConfigError(
                f"engines.clickhouse.cloud_tier: {settings.cloud_tier!r} is not a ClickHouse "
                f"Cloud tier; give one of {', '.join(CLOUD_TIERS)}"
            )
        if not settings.idling and settings.idle_minutes is not None:
            raise ConfigError(
                "engines.clickhouse.idle_minutes: a service with idling: false never idles, so "
                "it has no idle timeout; remove idle_minutes, or set idling: true"
            )
        if settings.host is not None:
            self.fetch_path = SERVER_FETCH_PATH
            self.cold_method = SERVER_COLD_METHOD
        self._con: Any = None
        self._namespace: str | None = None
        self._described: dict[tuple[str | None, str], list[str]] = {}  # see _read_as
        # Each query is labelled with `log_comment` (the query log's key and KILL QUERY's):
        # this session's token and a counter.
        self._token = uuid.uuid4().hex[:12]
        self._count = 0
        self._interrupting = threading.Lock()
        self.fetch_used: str | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def _connection_string(self) -> str:
        folder = Path(self.settings.path).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / CONFIG_FILE
        if not config.exists() or config.read_text() != CONFIG:
            config.write_text(CONFIG)
        return f"{folder}?config-file={config}"

    def _open(self) -> Any:
        if self.settings.host is not None:
            from harness.engines.clickhouse.server import ServerConnection

            return ServerConnection(self.settings)
        import chdb

        # A folder closed a moment ago may still be shutting down (another thread's last
        # connection): a few short waits before another folder is refused.
        text = ""
        for wait in (0.05, 0.1, 0.2, 0.4, 0.8, None):
            try:
                return chdb.connect(self._connection_string())
            except Exception as exc:
                text = first_line(exc)
            if "already initialized with path" not in text or wait is None:
                break
            time.sleep(wait)
        if "already initialized with path" in text:
            raise EngineError(
                f"chDB cannot open {self.settings.path}: this process already has another "
                "chDB data folder open (one per process)"
            )
        raise EngineError(f"cannot open chDB data folder {self.settings.path}: {text}")

    def connect(self) -> None:
        self._con = self._open()
        self._set("session_timezone", "UTC")  # timestamps read as loaded, as DuckDB reads them
        if self.settings.max_threads is not None:
            self._set("max_threads", int(self.settings.max_threads))
        if self.settings.max_memory_usage is not None:
            self._set("max_memory_usage", int(self.settings.max_memory_usage))
        self._label_next()

    def close(self) -> None:
        # After any KILL QUERY in flight (another thread's) has closed its connection: chDB
        # shuts its embedded server down with the last connection, so that one must be this.
        with self._interrupting:
            if self._con is not None:
                self._con.close()
                self._con = None

    def _set(self, name: str, value: Any) -> None:
        literal = f"'{value}'" if isinstance(value, str) else str(value)
        self._con.query(f"SET {name} = {literal}")

    def _scalar(self, sql: str) -> Any:
        table = self._con.query(sql, "ArrowTable")
        return table.column(0)[0].as_py() if table.num_rows else None

    def _rows(self, sql: str) -> list[tuple]:
        return table_rows(self._con.query(sql, "ArrowTable"))

    def endpoint(self) -> str | None:
        # Embedded chDB talks to no address; a server's client keeps the URL it sends to.
        from harness.engines.where import url_address

        if self.settings.host is None:
            return None
        return url_address(self._con.client.url)

    def version(self) -> str:
        return str(self._scalar("SELECT version()"))

    def describe(self) -> dict[str, Any]:
        s = self.settings
        if s.host is not None:
            return {
                "mode": "server",
                "host": s.host,
                "secure": s.secure,
                "cloud_tier": s.cloud_tier,
                "replicas": s.replicas,
                "memory_gib_per_replica": s.memory_gib_per_replica,
                "idle_minutes": s.idle_minutes,
                "idling": s.idling,
                "tables": TABLE_LAYOUT,
                "fetch": self.fetch_path,
            }
        threads, memory, server_memory = self._rows(
            "SELECT getSetting('max_threads'), getSetting('max_memory_usage'), "
            "(SELECT value FROM system.server_settings WHERE name = 'max_server_memory_usage')"
        )[0]
        limit = int(memory) or int(server_memory)  # 0: no per-query limit, the server's
        return {
            "mode": "embedded",
            "path": self.settings.path,
            "threads": int(threads),
            # Bytes, as DuckDB's billing rule reads a memory size ("… B").
            "memory_limit": f"{limit} B" if limit else None,
            "tables": TABLE_LAYOUT,
            "fetch": self.fetch_path,
        }

    def statement(self, sql: str) -> None:
        self._con.query(sql)

    # -- the session --------------------------------------------------------------------------
    def use(self, namespace: str) -> None:
        self._namespace = namespace
        self._con.query(f"USE {_quote(namespace)}")

    def session_settings(self, tag: str, timeout_seconds: float) -> list[SessionSetting]:
        # https://clickhouse.com/docs/operations/settings/settings (read 2026-12-06):
        # use_query_cache (the query cache, off by default, turned off here all the same),
        # max_execution_time (seconds) with timeout_overflow_mode 'throw'; and three that give
        # standard SQL's answers where ClickHouse's own differ: join_use_nulls (an outer join
        # fills missing columns with NULL, not the type's default value),
        # aggregate_functions_null_for_empty (sum, avg … of no rows are NULL, not 0) and
        # prefer_column_name_to_alias (`count(x) AS x` counts the column x, not the alias).
        return [
            SessionSetting("SET use_query_cache = 0", "turn the query cache off", True),
            SessionSetting(
                f"SET max_execution_time = {_sql_number(timeout_seconds)}", "set a time limit"
            ),
            SessionSetting("SET timeout_overflow_mode = 'throw'", "fail a query at its limit"),
            SessionSetting("SET join_use_nulls = 1", "fill outer joins with NULL"),
            SessionSetting(
                "SET aggregate_functions_null_for_empty = 1", "make aggregates of no rows NULL"
            ),
            SessionSetting(
                "SET prefer_column_name_to_alias = 1", "resolve column names before aliases"
            ),
        ]

    def make_cold(self) -> str | None:
        """Drop ClickHouse's own caches; the OS page cache keeps the files' pages, so the
        attempt is lukewarm and says so. A server's user may lack the right (SYSTEM DROP CACHE,
        https://clickhouse.com/docs/sql-reference/statements/system, read 2026-12-06): each
        cache it may not drop is a note."""
        dropped = []
        server = self.settings.host is not None
        for cache in DROPPED_CACHES + (SERVER_CACHES if server else ()):
            try:
                self._con.query(f"SYSTEM DROP {cache} CACHE")
            except Exception as exc:  # a cache this build lacks: a note, never an error
                note = f"could not drop ClickHouse's {cache.lower()} cache: {first_line(exc)}"
                if note not in self.notes:
                    self.notes.append(note)
            else:
                dropped.append(cache.lower())
        return f"lukewarm: {', '.join(dropped)} caches dropped; OS page cache warm"

    # -- queries ------------------------------------------------------------------------------
    def _label_next(self) -> None:
        self._count += 1
        self._set("log_comment", self._label())

    def _label(self) -> str:
        return f"whb-{self._token}-{self._count}"

    def run(self, sql: str, timeout_seconds: float, query_label: str | None) -> Ran:
        if self.settings.host is not None:  # the query's id on the server: the same label
            sent = self._con.send_query(sql, "Arrow", query_id=self._label())
        else:
            sent = self._con.send_query(sql, "Arrow")
        reader = sent.record_batch(rows_per_batch=spool.BATCH_ROWS)
        columns = tuple(reader.schema.names)
        batches = readable_batches(reader, self._read_as(sql, reader.schema))
        rows: list[tuple] = []
        self.fetch_used = "rows"
        for batch in batches:
            room = spool.SPOOL_ROWS - len(rows)
            if batch.num_rows < room:
                rows.extend(spool.python_rows(batch))
                continue
            # A large result: SPOOL_ROWS rows as a list, the rest spooled as record batches.
            rows.extend(spool.python_rows(batch.slice(0, room)))
            self.fetch_used = "arrow"
            rest = itertools.chain([batch.slice(room)], batches)
            return Ran(spool.spooled(rows, rest), columns, engine_query_id=self._label())
        return Ran(rows, columns, engine_query_id=self._label())

    def _read_as(self, sql: str, schema: Any) -> list[str] | None:
        """ClickHouse's types of the result's columns, where Arrow alone cannot say what a
        column is: ClickHouse writes a DateTime as UInt32 seconds and an Enum as its Int8 or
        Int16 number (https://clickhouse.com/docs/interfaces/formats/Arrow, data types
        matching, read 2026-12-06). Asked (DESCRIBE) on a second connection while the stream
        is open, and only for such results; None for the others."""
        import pyarrow as pa

        if not any(f.type in (pa.uint32(), pa.int8(), pa.int16()) for f in schema):
            return None
        # A query's types do not change between its attempts: asked once, not on every
        # attempt's timed fetch.
        key = (self._namespace, sql)
        if key not in self._described:
            side = self._open()
            try:
                if self._namespace:
                    side.query(f"USE {_quote(self._namespace)}")
                described = table_rows(side.query(f"DESCRIBE ({sql})", "ArrowTable"))
            finally:
                side.close()
            self._described[key] = [str(row[1]) for row in described]
        return self._described[key]

    def execute(
        self, sql: str, timeout_seconds: float, query_label: str | None = None
    ) -> QueryResult:
        try:
            return super().execute(sql, timeout_seconds, query_label)
        finally:  # the next query's label, set after the clock stopped
            if self._con is not None:
                with contextlib.suppress(Exception):  # the connection is gone: no next query
                    self._label_next()

    def is_timeout(self, exc: Exception) -> bool:
        return "TIMEOUT_EXCEEDED" in str(exc)

    def interrupt(self) -> None:
        """KILL QUERY from a connection of its own, on this session's label
        (https://clickhouse.com/docs/sql-reference/statements/kill, read 2026-12-06): by the
        query id a server was sent, or the log_comment chDB (which keeps its own ids) was."""
        with self._interrupting:
            if self._con is None:
                return
            label = self._label()
            side = self._open()
            try:
                side.query(
                    f"KILL QUERY WHERE query_id = '{label}' "
                    f"OR Settings['log_comment'] = '{label}' SYNC"
                )
            finally:
                side.close()

    def query_history(self, query_ids: Sequence[str]) -> dict[str, tuple[float | None, Usage]]:
        """Each finished query's duration, bytes and rows read and peak memory, from
        system.query_log (query_log.py), by the label this session gave it."""
        ids = [i for i in query_ids if i and i.startswith("whb-")]
        if not ids:
            return {}
        self._flush_logs()
        return query_log.statistics(self._rows(query_log.statistics_sql(ids)))

    def _flush_logs(self) -> None:
        """What is buffered, into system.query_log before it is read. A server's user may lack
        the right (SYSTEM FLUSH LOGS, https://clickhouse.com/docs/sql-reference/statements/system,
        read 2026-12-06): then a note, and a query not yet flushed has no figures (None)."""
        try:
            self._con.query("SYSTEM FLUSH LOGS")
        except Exception as exc:
            note = f"could not flush ClickHouse's query log: {first_line(exc)}"
            if note not in self.notes:
                self.notes.append(note)

    # -- the team's own query history (`whbench workload import-history`) ---------------------
    def history_sql(self, since: datetime) -> str:
        return query_log.history_sql(since)

    history_entries = staticmethod(query_log.history_entries)

    def read_history(self, since: datetime, timeout_seconds: float) -> list[HistoryEntry]:
        self._flush_logs()
        return super().read_history(since, timeout_seconds)

    # -- data ---------------------------------------------------------------------------------
    def existing_tables(self, namespace: str) -> set[str]:
        rows = self._rows(f"SELECT name FROM system.tables WHERE database = {_literal(namespace)}")
        return {name for (name,) in rows}

    def load(self, namespace: str, data: TableData, statements: Sequence[str]) -> LoadOutcome:
        con = self._con
        table = data.table
        started = time.perf_counter()
        con.query(f"CREATE DATABASE IF NOT EXISTS {_quote(namespace)}")
        con.query(f"USE {_quote(namespace)}")
        try:
            for i, statement in enumerate(statements):
                upload = local_file_insert(statement) if self.settings.host else None
                if upload is not None:  # a server cannot read this machine's files
                    con.insert_parquet(*upload)
                else:
                    con.query(statement)
                if i == 0:  # the table is made: columns that hold NULLs become Nullable
                    self._allow_nulls(table, data)
        except Exception:
            con.query(f"DROP TABLE IF EXISTS {_quote(table)}")
            raise
        seconds = time.perf_counter() - started
        rows = int(self._scalar(f"SELECT count() FROM {_quote(table)}"))
        stored = self._scalar(
            "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND "
            f"database = {_literal(namespace)} AND table = {_literal(table)}"
        )
        return LoadOutcome(table, rows, seconds, int(stored) if stored is not None else None)

    def _allow_nulls(self, table: str, data: TableData) -> None:
        """ClickHouse columns hold no NULL unless Nullable, and Nullable costs speed
        (https://clickhouse.com/docs/sql-reference/data-types/nullable, read 2026-12-06: "Using
        Nullable almost always negatively affects performance"), so the schema declares none and
        a column becomes Nullable only where the table's Parquet files hold a NULL (their
        statistics, or a column without them). Without Parquet files every column may be NULL."""
        nulls = _columns_with_nulls(data)
        types = dict(
            self._rows(
                "SELECT name, type FROM system.columns WHERE database = currentDatabase() "
                f"AND table = {_literal(table)}"
            )
        )
        for name, kind in types.items():
            if (nulls is None or name in nulls) and not kind.startswith("Nullable("):
                self._con.query(
                    f"ALTER TABLE {_quote(table)} MODIFY COLUMN {_quote(name)} Nullable({kind})"
                )

    def namespaces(self) -> list[str]:
        rows = self._rows(
            f"SELECT name FROM system.databases WHERE startsWith(name, '{NAMESPACE_PREFIX}') "
            "ORDER BY name"
        )
        return [name for (name,) in rows]

    def drop(self, namespace: str) -> None:
        name = owned(namespace)
        self._con.query("USE default")
        self._con.query(f"DROP DATABASE IF EXISTS {_quote(name)} SYNC")


def _columns_with_nulls(data: TableData) -> set[str] | None:
    """Columns a NULL is in, from the Parquet files' statistics; None when unknown."""
    files = data.by_format().get("parquet")
    if not files:
        return None
    import pyarrow.parquet as pq

    found: set[str] = set()
    for file in files:
        meta = pq.ParquetFile(file).metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                column = group.column(c)
                stats = column.statistics
                if stats is None or not stats.has_null_count or stats.null_count:
                    found.add(column.path_in_schema.split(".")[0])
    return found


def _quote(identifier: str) -> str:
    return "`" + identifier.replace("\\", "\\\\").replace("`", "\\`") + "`"


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _sql_number(value: float) -> str:
    """A number in a SET statement: a plain decimal, never "1e+03" (nor "1,000", as a person
    reads it): 600 -> "600", 0.5 -> "0.5"."""
    return f"{float(value):f}".rstrip("0").rstrip(".")
