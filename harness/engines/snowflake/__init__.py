"""Snowflake, through snowflake-connector-python.

Auth, first match wins: a named connection from connections.toml; key-pair (private key file,
passphrase from the environment); OAuth token; external browser (`authenticator:
externalbrowser`); password. Files are PUT to a temporary stage per table and format, then
loaded with COPY INTO; for large scales they go once to a bucket (`data_uri`, s3:// or gs://)
and COPY INTO reads them through an external stage. Per-query elapsed time and bytes scanned
come from one QUERY_HISTORY_BY_SESSION look-up per workload, never one per query: one statement
that reads the history of every session the run used (its own and, under `--streams`, each
stream's), each by its SESSION_ID.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from harness import spool
from harness.engines.base import (
    CursorEngine,
    EngineSettings,
    LoadOutcome,
    SessionSetting,
    TableData,
    Usage,
    present,
)
from harness.engines.credentials import (
    Authenticator,
    Credentials,
    KeyPair,
    NamedConnection,
    NoCredentials,
    OAuthToken,
    Password,
    Secret,
)
from harness.engines.snowflake.billing import SnowflakeBilling, metering_complete
from harness.errors import ConfigError, EngineError, first_line
from harness.settings import PORT, Range

if TYPE_CHECKING:
    from harness.history import HistoryEntry

_OBJECT_NAME = re.compile(r"[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*){0,2}")
# Errors Snowflake gives for a statement it stopped: cancelled (604) or over its timeout (630).
_STOPPED = {604, 630}
# Column types whose Arrow batches read back (to_pylist) as the connector's rows do. Not
# NUMBER with a scale (float64 in Arrow unless arrow_number_to_decimal, Decimal in rows), nor
# timestamps (nanoseconds), VARIANT, OBJECT, ARRAY.
_ARROW_FAITHFUL = {"FIXED", "REAL", "TEXT", "DATE", "BOOLEAN", "BINARY"}


def _arrow_faithful(description: Sequence[Any]) -> bool:
    from snowflake.connector.constants import FIELD_ID_TO_NAME

    return all(
        FIELD_ID_TO_NAME.get(column.type_code) in _ARROW_FAITHFUL
        and not (FIELD_ID_TO_NAME.get(column.type_code) == "FIXED" and column.scale)
        for column in description
    )


@dataclass
class SnowflakeSettings(EngineSettings):
    account: str | None = None
    user: str | None = None
    password: Secret | None = None  # last resort; prefer a key pair or a named connection
    connection_name: str | None = None  # a [connections.NAME] in connections.toml
    private_key_file: str | None = None
    private_key_passphrase: Secret | None = None
    token: Secret | None = None  # OAuth access token
    authenticator: str | None = None  # e.g. externalbrowser, oauth, SNOWFLAKE_JWT
    role: str | None = None
    warehouse: str | None = None
    # The warehouse's billing facts are asked of Snowflake (SHOW WAREHOUSES); these are used
    # when the role cannot see it.
    warehouse_size: str | None = None  # XS, S, M …
    warehouse_generation: str | None = None  # "1" or "2" (Gen2 bills more per hour)
    # None: Snowflake's default for new warehouses, 600.
    auto_suspend_seconds: Annotated[int, Range(0, 365 * 86400)] | None = None
    # Suspend the warehouse after the run if the run resumed it: that ends the billed idle tail.
    # The honest way to benchmark is a warehouse of its own, so nothing else shares the bill.
    suspend_after_run: bool = False
    # "suspend": suspend and resume the warehouse before each query's first attempt, which drops
    # its local disk cache, so that attempt is cold. Each resume is billed (60 s at least) and
    # the warehouse must be one of its own. Unset: first attempts are lukewarm.
    cold: str | None = None
    database: str = "WHBENCH"  # created if missing; each data set gets a schema in it
    # Large scales: files are uploaded once to data_uri (s3:// or gs://) and loaded from there,
    # through temporary stages on a storage integration, or through an external stage of yours
    # whose URL is data_uri (then data_uri may be left out if the files are already there).
    data_uri: str | None = None
    storage_integration: str | None = None
    external_stage: str | None = None  # e.g. MYDB.PUBLIC.BENCH_STAGE
    login_timeout_seconds: Annotated[int, Range(1, 86400)] = 60
    # Stop retrying a request the server keeps failing after this long (None: the connector's
    # default, which retries server errors for minutes).
    network_timeout_seconds: Annotated[int, Range(1, 86400)] | None = None
    # Only for a local stand-in (fakesnow): where to reach it.
    host: str | None = None
    port: Annotated[int, PORT] | None = None
    protocol: str | None = None

    def credentials(self) -> Credentials:
        """How to sign in, first match wins."""
        if self.connection_name:
            return NamedConnection(self.connection_name)
        if self.private_key_file:
            return KeyPair(self.private_key_file, self.private_key_passphrase)
        if self.token:
            return OAuthToken(self.token)
        if self.authenticator:
            return Authenticator(self.authenticator)
        return Password(self.password) if self.password else NoCredentials()


class SnowflakeEngine(CursorEngine[SnowflakeSettings]):
    name = "snowflake"
    dialect = "snowflake"
    export_hint = (
        "COPY INTO @my_stage/<table>/ FROM <table> FILE_FORMAT = (TYPE = PARQUET), then GET "
        "@my_stage/<table>/ file://exports/<table>/"
    )
    driver_module = "snowflake.connector"
    driver_package = "snowflake-connector-python"
    extra = "snowflake"
    cost_basis = "warehouse uptime in credits"
    billing = SnowflakeBilling
    reports_engine_time = True
    object_stores = ("s3", "gs")
    settings_class = SnowflakeSettings
    service_name = "Snowflake"
    # An account's URL is account_identifier.snowflakecomputing.com (privatelink. before the
    # domain for private connectivity): https://docs.snowflake.com/en/user-guide/admin-account-
    # identifier, https://docs.snowflake.com/en/user-guide/organizations-connect (2026-12-06).
    service_domains = ("snowflakecomputing.com",)
    # "The cache is dropped when the warehouse is suspended":
    # https://docs.snowflake.com/en/user-guide/performance-query-warehouse-cache (2026-11-26).
    # Result reuse has no column in the query history (the docs show it only in the query
    # profile, https://docs.snowflake.com/en/user-guide/querying-persisted-results, 2026-11-26),
    # so cache hits stay unknown; USE_CACHED_RESULT = FALSE is what keeps them out.
    cold_method = "warehouse suspended and resumed before each query's first attempt (opt-in)"
    timer_grace_seconds = None  # the connector cancels the statement at its timeout itself

    # The connector documents rows (fetchone/fetchmany/fetchall) and, for bulk, Arrow:
    # fetch_arrow_all() for one table, fetch_arrow_batches() for one table per result batch.
    # https://docs.snowflake.com/en/user-guide/python-connector-distributed-fetch (read
    # 2026-12-06). Batches, not fetch_arrow_all: a large result stays spooled,
    # never whole in memory. Rows are as fast for a result kept as a list (harness.spool).
    fetch_path = spool.fetch_path(
        "rows (fetchmany)",
        "Arrow (fetch_arrow_batches) when every column converts faithfully, else rows (fetchmany)",
    )

    def __init__(self, settings: SnowflakeSettings) -> None:
        super().__init__(settings)
        self.fetch_used: str | None = None  # the last query's path: "rows" or "arrow"
        # CURRENT_SESSION() of this connection (None: unknown, read as "the current session")
        # and of every stream session opened from it: the query history is read per session
        # (QUERY_HISTORY_BY_SESSION's SESSION_ID).
        self.session_ids: list[int | None] = []
        # These go into SQL as they are: names only, nothing that could end a statement.
        for key in ("database", "warehouse", "storage_integration", "external_stage"):
            name = getattr(settings, key)
            if name is not None and not _OBJECT_NAME.fullmatch(name):
                raise ConfigError(f"engines.snowflake.{key}: {name!r} is not a Snowflake name")
        if settings.cold not in (None, "suspend"):
            raise ConfigError(
                f"engines.snowflake.cold: {settings.cold!r} is not a way to make a query cold; "
                "use 'suspend' or leave it out"
            )
        if settings.cold and not settings.warehouse:
            raise ConfigError("engines.snowflake.cold: suspend needs engines.snowflake.warehouse")
        if settings.data_uri and not (settings.storage_integration or settings.external_stage):
            raise ConfigError(
                "engines.snowflake.data_uri needs storage_integration (whbench makes temporary "
                "stages with it) or external_stage (a stage of yours on that URL)"
            )

    def connect(self) -> None:
        import snowflake.connector

        s = self.settings
        options = present(
            account=s.account,
            user=s.user,
            role=s.role,
            warehouse=s.warehouse,
            host=s.host,
            port=s.port,
            protocol=s.protocol,
            network_timeout=s.network_timeout_seconds,
        )
        match s.credentials():
            case NamedConnection(name):
                options["connection_name"] = name
            case KeyPair() as key_pair:
                # Read here, bounded, not by the connector: a missing or wrong key file is one
                # line naming the setting (the connector's own read ends in a traceback).
                key = key_pair.private_key("engines.snowflake.private_key_file")
                options |= {"private_key": key, "authenticator": "SNOWFLAKE_JWT"}
            case OAuthToken(token):
                options |= {"token": token, "authenticator": "oauth"}
            case Authenticator(name):  # e.g. externalbrowser; some take a password too
                options |= present(authenticator=name, password=s.password)
            case Password(password):
                options["password"] = password
        try:
            self._con = snowflake.connector.connect(
                **options, login_timeout=s.login_timeout_seconds
            )
            cursor = self._con.cursor()
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS {s.database}")
            cursor.execute(f"USE DATABASE {s.database}")
            self.session_ids = [self._session_id()]
        except snowflake.connector.errors.Error as exc:
            raise EngineError(
                f"cannot connect to Snowflake ({first_line(exc)}); check engines.snowflake "
                "credentials and account"
            ) from None

    def _session_id(self) -> int | None:
        """This connection's session id, as CURRENT_SESSION() gives it (the connector's own
        `session_id` when the server cannot say); None when neither is a number."""
        try:
            value = self._scalar("SELECT CURRENT_SESSION()")
        except Exception:  # a stand-in without it: the connector knows its session too
            value = getattr(self._con, "session_id", None)
        return _int(value)

    def open_session(self) -> SnowflakeEngine:
        """A stream's own session: its queries are only in its own session's history, so its
        id is kept for the one history look-up after the run."""
        other = super().open_session()
        own = other.session_ids[0] if other.session_ids else None
        if own is not None:
            self.session_ids = [*self.session_ids, own]
        else:
            self._note(
                "a stream session's id is unknown (CURRENT_SESSION() failed), so its queries' "
                "engine times and warehouse seconds are not read from the query history"
            )
        return other

    def version(self) -> str:
        return str(self._scalar("SELECT CURRENT_VERSION()"))

    def describe(self) -> dict[str, Any]:
        return {
            "account": self.settings.account,
            "warehouse": self.settings.warehouse,
            "database": self.settings.database,
            "fetch": self.fetch_path,
            **self._warehouse_facts(),
        }

    def _warehouse_facts(self) -> dict[str, Any]:
        """What the bill depends on: size, generation, AUTO_SUSPEND, clusters, scaling policy and
        whether the warehouse was running, from SHOW WAREHOUSES when the role can see it (else
        the settings, and a note saying so)."""
        s = self.settings
        facts: dict[str, Any] = {
            "warehouse_size": s.warehouse_size,
            "warehouse_generation": s.warehouse_generation,
            "auto_suspend_seconds": s.auto_suspend_seconds,
            "suspend_after_run": s.suspend_after_run,
            "state_at_start": None,
            "warehouse_facts_from": "settings",
        }
        row = self._show_warehouse()
        if row is None:
            return facts
        generation = str(row.get("generation") or "")
        if not generation and row.get("resource_constraint"):
            generation = "2" if str(row["resource_constraint"]).endswith("GEN_2") else "1"
        facts |= {
            "warehouse_size": row.get("size") or s.warehouse_size,
            "warehouse_generation": generation or s.warehouse_generation,
            "auto_suspend_seconds": _int(row.get("auto_suspend"), s.auto_suspend_seconds),
            "min_clusters": _int(row.get("min_cluster_count")),
            "max_clusters": _int(row.get("max_cluster_count")),
            "scaling_policy": row.get("scaling_policy"),
            "state_at_start": row.get("state"),
            "warehouse_facts_from": "SHOW WAREHOUSES",
        }
        return facts

    # SHOW WAREHOUSES: started_clusters, "the number of clusters currently started" (a
    # multi-cluster warehouse starts more when queries queue).
    # https://docs.snowflake.com/en/sql-reference/sql/show-warehouses (read 2026-11-26)
    def scale_out_sample(self) -> dict[str, int] | None:
        row = self._show_warehouse()
        started = None if row is None else _int(row.get("started_clusters"))
        return None if started is None else {"clusters_started": started}

    def _show_warehouse(self) -> dict[str, Any] | None:
        name = self.settings.warehouse
        if not name:
            return None
        try:
            cursor = self._con.cursor()
            cursor.execute(f"SHOW WAREHOUSES LIKE '{name}'")
            columns = [c[0].lower() for c in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        except Exception as exc:  # the facts come from the settings, and the notes say why
            self._note(f"SHOW WAREHOUSES failed, warehouse facts from settings: {first_line(exc)}")
            return None
        # LIKE is case-insensitive; a stand-in may ignore it: keep only the warehouse asked for.
        found = [r for r in rows if str(r.get("name", "")).upper() == name.upper()]
        if not found:
            self._note(
                f"SHOW WAREHOUSES does not list {name}: warehouse facts come from the settings"
            )
            return None
        return found[0]

    def _note(self, note: str) -> None:
        """Once: SHOW WAREHOUSES is asked again and again under load."""
        if note not in self.notes:
            self.notes.append(note)

    def use(self, namespace: str) -> None:
        self.statement(f"USE SCHEMA {namespace}")

    def session_settings(self, tag: str, timeout_seconds: float) -> list[SessionSetting]:
        return [
            SessionSetting(
                "ALTER SESSION SET USE_CACHED_RESULT = FALSE",
                "turn the result cache off",
                result_cache=True,
            ),
            SessionSetting(f"ALTER SESSION SET QUERY_TAG = '{tag}'", "tag queries with the run id"),
            SessionSetting(
                "ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = "
                f"{max(1, round(timeout_seconds))}",
                "set the statement timeout",
            ),
        ]

    def source_uris(self, data: TableData) -> dict[str, list[str]]:
        # A stage (or stage folder) per table and format; COPY INTO reads every file in it.
        if external := self.settings.external_stage:
            folder = f"@{external}/{data.data_set}/{data.table}"
            return {fmt: [f"{folder}/{fmt}/"] for fmt in data.by_format()}
        return {fmt: [f"@{_stage(data, fmt)}"] for fmt in data.by_format()}

    def load(self, namespace: str, data: TableData, statements: Sequence[str]) -> LoadOutcome:
        table = data.table
        cursor = self._con.cursor()
        started = time.perf_counter()
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {namespace}")
        cursor.execute(f"USE SCHEMA {namespace}")
        if self.data_location is not None:
            self.upload(data)
        try:
            if not self.settings.external_stage:
                for fmt, files in data.by_format().items():
                    self._temporary_stage(cursor, data, fmt, files)
            for statement in statements:
                cursor.execute(statement)
        except Exception:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")  # all or nothing
            raise
        seconds = time.perf_counter() - started
        rows = self._scalar(f"SELECT count(*) FROM {table}")
        stored = self._scalar(
            "SELECT bytes FROM information_schema.tables "
            f"WHERE table_schema = '{namespace.upper()}' AND table_name = '{table.upper()}'"
        )
        return LoadOutcome(table, rows, seconds, stored)

    def _temporary_stage(
        self, cursor: Any, data: TableData, fmt: str, files: Sequence[Path]
    ) -> None:
        """A stage on the table's bucket folder when data_uri is set, else one the files are PUT
        into. Temporary: it goes with the session."""
        stage = _stage(data, fmt)
        if self.data_location is not None:
            url = self.remote_folders(data)[fmt].uri.replace("gs://", "gcs://", 1)  # its name
            cursor.execute(
                f"CREATE OR REPLACE TEMPORARY STAGE {stage} URL = '{url}' "
                f"STORAGE_INTEGRATION = {self.settings.storage_integration}"
            )
            return
        cursor.execute(f"CREATE OR REPLACE TEMPORARY STAGE {stage}")
        for f in files:
            path = str(f.resolve()).replace("'", "\\'")
            cursor.execute(f"PUT 'file://{path}' @{stage} OVERWRITE = TRUE AUTO_COMPRESS = FALSE")

    def _cursor_execute(self, cursor: Any, sql: str, timeout_seconds: float) -> None:
        cursor.execute(sql, timeout=max(1, round(timeout_seconds)))

    def _cursor_query_id(self, cursor: Any) -> str | None:
        return cursor.sfqid

    def _fetch(self, cursor: Any) -> list[tuple] | spool.Spooled:
        """A large result (the row count is known once the query ran) as the connector's Arrow
        batches, spooled, when every column reads back from Arrow as the connector's own rows
        would give it; else row by row, as the base class does. The choice is made before the
        first row is read: the Arrow batches always start at the first row."""
        self.fetch_used = "rows"
        total = cursor.rowcount
        if total is None or total < spool.SPOOL_ROWS or not _arrow_faithful(cursor.description):
            return super()._fetch(cursor)
        from snowflake.connector.errors import NotSupportedError, ProgrammingError

        try:
            batches = cursor.fetch_arrow_batches()
        except (NotSupportedError, ProgrammingError):  # a JSON result, or no Arrow support
            return super()._fetch(cursor)  # (raised before any row was read)
        self.fetch_used = "arrow"
        return spool.spooled([], batches)

    def is_timeout(self, exc: Exception) -> bool:
        return getattr(exc, "errno", None) in _STOPPED

    def interrupt(self) -> None:
        self._con.cursor().execute(f"SELECT SYSTEM$CANCEL_ALL_QUERIES({self._con.session_id})")

    def query_history(self, query_ids: Sequence[str]) -> dict[str, tuple[float | None, Usage]]:
        if not query_ids:
            return {}
        cursor = self._con.cursor()
        try:
            cursor.execute(history_by_session_sql(self.session_ids, query_ids))
        except Exception as exc:
            self.notes.append(
                "QUERY_HISTORY_BY_SESSION unavailable, so engine times and bytes scanned are "
                f"not recorded (client times are): {first_line(exc)}"
            )
            return {}
        history = {}
        for query_id, elapsed, execution, scanned, cloud, compiling, queued in cursor.fetchall():
            usage = Usage(
                bytes_scanned=scanned,
                warehouse_seconds=_seconds(execution),
                cloud_services_credits=cloud,
                queued_seconds=_seconds(queued),
                compile_seconds=_seconds(compiling),
                execution_seconds=_seconds(execution),
            )
            history[query_id] = (_seconds(elapsed), usage)
        return history

    # QUERY_HISTORY (Account Usage): QUERY_TEXT, QUERY_TYPE, EXECUTION_STATUS, START_TIME,
    # TOTAL_ELAPSED_TIME in milliseconds, BYTES_SCANNED; 365 days kept, up to 45 minutes late.
    # https://docs.snowflake.com/en/sql-reference/account-usage/query_history (read 2026-11-26)
    def history_sql(self, since: datetime) -> str:
        return (
            "SELECT query_text, query_type, execution_status, start_time, total_elapsed_time, "
            "bytes_scanned FROM snowflake.account_usage.query_history "
            f"WHERE start_time >= '{since:%Y-%m-%d %H:%M:%S}'::TIMESTAMP_LTZ "
            "AND query_type = 'SELECT' AND execution_status = 'SUCCESS'"
        )

    @staticmethod
    def history_entries(rows: list[dict[str, Any]]) -> list[HistoryEntry]:
        from harness.history import HistoryEntry

        return [
            HistoryEntry(
                text=row["query_text"],
                elapsed_seconds=_ms(row.get("total_elapsed_time")),
                bytes_scanned=row.get("bytes_scanned"),
                started_at=row.get("start_time"),
            )
            for row in rows
            if str(row.get("query_type", "")).upper() == "SELECT"
            and str(row.get("execution_status", "")).upper() == "SUCCESS"
            and row.get("query_text")
        ]

    def round_trip_refusal(self) -> str | None:
        # With `cold: suspend` the warehouse is suspended before each query's first attempt:
        # a SELECT 1 before the first query could resume a suspended warehouse only for the
        # first query's own suspend and resume to follow, one billed resume (60 s) more.
        if self.settings.cold == "suspend":
            return (
                "not measured with cold: suspend: SELECT 1 could resume the warehouse just "
                "before the first query suspends it, one billed resume more"
            )
        return super().round_trip_refusal()

    def make_cold(self) -> str | None:
        """With `cold: suspend`, suspend the warehouse and resume it (the resume is billed)."""
        if self.settings.cold != "suspend":
            return None
        warehouse = self.settings.warehouse
        cursor = self._con.cursor()
        try:
            cursor.execute(f"ALTER WAREHOUSE {warehouse} SUSPEND")
            cursor.execute(f"ALTER WAREHOUSE {warehouse} RESUME IF SUSPENDED")
        except Exception as exc:
            note = f"could not suspend and resume warehouse {warehouse}, so first attempts are "
            if not any(n.startswith(note) for n in self.notes):
                self.notes.append(f"{note}lukewarm: {first_line(exc)}")
            return None
        return "warehouse suspended and resumed"

    def end_of_run(self) -> dict[str, Any]:
        """With suspend_after_run, suspend the warehouse if the run resumed it (or if whether it
        was running is unknown), which ends its billed idle tail."""
        if not (self.settings.suspend_after_run and self.settings.warehouse):
            return {}
        cursor = self._con.cursor()
        try:
            cursor.execute(f"ALTER WAREHOUSE {self.settings.warehouse} SUSPEND")
        except Exception as exc:
            self.notes.append(
                f"could not suspend warehouse {self.settings.warehouse} after the run, so the "
                f"bill keeps its AUTO_SUSPEND tail: {first_line(exc)}"
            )
            return {}
        return {"suspended_at": datetime.now(UTC).isoformat()}

    def billed_usage(self, started: datetime, ended: datetime) -> dict[str, Any] | None:
        """Compute and cloud-services credits of the warehouse in the hours that hold the window,
        from WAREHOUSE_METERING_HISTORY (hourly; the table function lags less than
        ACCOUNT_USAGE's up to 3 hours)."""
        if not self.settings.warehouse:
            return None
        first_hour = started.replace(minute=0, second=0, microsecond=0)
        cursor = self._con.cursor()
        cursor.execute(
            "SELECT max(end_time), sum(credits_used_compute), "
            "sum(credits_used_cloud_services) FROM TABLE(INFORMATION_SCHEMA."
            "WAREHOUSE_METERING_HISTORY(DATE_RANGE_START => %s::TIMESTAMP_LTZ, "
            "DATE_RANGE_END => %s::TIMESTAMP_LTZ, WAREHOUSE_NAME => %s))",
            (
                first_hour.isoformat(),
                (ended + timedelta(hours=1)).isoformat(),
                self.settings.warehouse.upper(),
            ),
        )
        last, compute, services = cursor.fetchone()
        # `ended` is when the warehouse stops billing (the last query plus its AUTO_SUSPEND
        # tail), which may not have happened yet: the figure is complete only once the hour
        # holding it has closed and is in the history (billing.metering_complete).
        complete, pending = metering_complete(last, ended, datetime.now(UTC))
        return {
            "credits_compute": compute,
            "credits_cloud_services": services,
            "complete": complete,
            "metered_until": None if last is None else last.isoformat(),
            "pending": pending,
        }


# QUERY_HISTORY_BY_SESSION(SESSION_ID => …, RESULT_LIMIT => …): "returns queries within a
# specified session"; without SESSION_ID, the current session's only; RESULT_LIMIT at most
# 10,000 (https://docs.snowflake.com/en/sql-reference/functions/query_history, read
# 2026-12-06). The docs do not say whether a session that has ended can still be read this way;
# the stream sessions are closed by the time the run reads the history.
HISTORY_RESULT_LIMIT = 10000


def history_by_session_sql(session_ids: Sequence[int | None], query_ids: Sequence[str]) -> str:
    """One statement that reads the given queries from each session's history (a stream's
    queries are only in its own session's); None, or no session at all, is the current one."""
    columns = (
        "query_id, total_elapsed_time, execution_time, bytes_scanned, "
        "credits_used_cloud_services, compilation_time, queued_provisioning_time "
        "+ queued_repair_time + queued_overload_time"
    )
    listed = ", ".join("'" + str(q).replace("'", "''") + "'" for q in query_ids)
    sessions = [
        "" if i is None else f"SESSION_ID => {int(i)}, " for i in dict.fromkeys(session_ids)
    ] or [""]
    return " UNION ALL ".join(
        f"SELECT {columns} FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY_BY_SESSION("
        f"{session}RESULT_LIMIT => {HISTORY_RESULT_LIMIT})) WHERE query_id IN ({listed})"
        for session in sessions
    )


def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


def _stage(data: TableData, fmt: str) -> str:
    return f"whb_{data.table}_{fmt}"


def _ms(value: Any) -> float | None:
    return None if value is None else float(value) / 1000
