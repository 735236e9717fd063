"""Databricks SQL, through databricks-sql-connector (Thrift over HTTP to a SQL warehouse).

Sign-in, first match wins: a Databricks CLI profile (~/.databrickscfg); OAuth machine-to-machine
(a service principal's client id and secret, exchanged for short-lived tokens by databricks-sdk);
a personal access token (from ${VAR} or ${file:…} only). Results come as Arrow. Per-query times,
queueing and bytes read come from the Query History API once per workload (history_api.py),
else from system.query.history, and the warehouse's DBUs from system.billing.usage, where the
user may read them (system_tables.py).
Data is loaded with COPY INTO from a bucket folder (`data_uri`) or from a volume whbench creates
of its own and fills through the Files API (volumes.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from harness import spool
from harness.engines.base import (
    NAMESPACE_PREFIX,
    CursorEngine,
    EngineSettings,
    LoadOutcome,
    Ran,
    SessionSetting,
    TableData,
    Usage,
    owned,
)
from harness.engines.credentials import (
    AccessToken,
    Credentials,
    NoCredentials,
    OAuthClient,
    Profile,
    Secret,
)
from harness.engines.databricks import history_api, system_tables
from harness.engines.databricks.billing import CLOUDS, SIZES, TYPES, DatabricksBilling
from harness.engines.databricks.results import arrow, batches
from harness.engines.databricks.signin import quiet_logs, sdk_config
from harness.engines.databricks.volumes import Volume
from harness.errors import ConfigError, EngineError, first_line
from harness.settings import PORT, Range

if TYPE_CHECKING:
    from harness.history import HistoryEntry

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A SQL warehouse's HTTP path, as its Connection details give it ("endpoints" is the old word).
_WAREHOUSE_PATH = re.compile(r"/?sql/1\.0/(?:warehouses|endpoints)/([0-9A-Za-z]+)/?")


@dataclass
class DatabricksSettings(EngineSettings):
    server_hostname: str | None = None  # the workspace host, e.g. dbc-1234.cloud.databricks.com
    http_path: str | None = None  # the SQL warehouse's, /sql/1.0/warehouses/<id>
    port: Annotated[int, PORT] = 443
    tls: bool = True  # False only for a local stand-in (plain HTTP)
    access_token: Secret | None = None  # a personal access token, from ${VAR} or ${file:…}
    client_id: str | None = None  # OAuth machine-to-machine: a service principal …
    client_secret: Secret | None = None  # … and its secret
    profile: str | None = None  # a profile in ~/.databrickscfg
    catalog: str | None = None  # None: the workspace default, current_catalog()
    # s3:// or gs:// folder the warehouse reads; None: a volume whbench creates
    data_uri: str | None = None
    # Billing facts the warehouse cannot report about itself (billing.py prices them).
    cloud: str = "aws"
    warehouse_type: str = "serverless"
    warehouse_size: str = "Small"
    max_clusters: Annotated[int, Range(1, 40)] = 1
    auto_stop_minutes: Annotated[float, Range(0, 7 * 24 * 60)] = 10
    dbu_price: Annotated[float, Range(0, 1000)] | None = None  # your contract's $/DBU
    vm_dollars_per_hour: Annotated[float, Range(0, 100000)] | None = None  # pro/classic VMs
    # How long the connector retries a request the workspace refuses or does not answer (a
    # stopped warehouse answers "starting" for minutes): its own default, 900 s.
    retry_seconds: Annotated[float, Range(1, 86400)] = 900

    def credentials(self) -> Credentials:
        """How to sign in, first match wins: keyless ways before a token."""
        if self.profile:
            return Profile(self.profile, "~/.databrickscfg")
        if self.client_id and self.client_secret:
            return OAuthClient(self.client_id, self.client_secret)
        if self.access_token:
            return AccessToken(self.access_token)
        return NoCredentials()

    def url(self) -> str:
        """The workspace's base URL, for databricks-sdk (OAuth, profiles, the Files API)."""
        scheme = "https" if self.tls else "http"
        default = 443 if self.tls else 80
        port = "" if self.port == default else f":{self.port}"
        return f"{scheme}://{self.server_hostname}{port}"


def warehouse_id(http_path: str | None) -> str | None:
    """The SQL warehouse's id from its HTTP path (/sql/1.0/warehouses/<id>); None for another
    path (a cluster's, or a stand-in's), where the bill cannot be read by warehouse."""
    match = _WAREHOUSE_PATH.fullmatch(http_path or "")
    return match.group(1) if match else None


class DatabricksEngine(CursorEngine[DatabricksSettings]):
    name = "databricks"
    dialect = "databricks"
    driver_module = "databricks.sql"
    driver_package = "databricks-sql-connector"
    extra = "databricks"
    cost_basis = "SQL warehouse uptime in DBUs (plus the cloud VMs for pro and classic)"
    billing = DatabricksBilling
    reports_engine_time = True
    # No dry run: EXPLAIN gives a plan, not the bytes a query will read or a price, and a
    # warehouse bills uptime, not bytes; estimates come from stored runs (commands/estimate.py).
    supports_dry_run = False
    # Where whbench can upload for a `data_uri` (harness/objectstore.py): S3 and GCS. A warehouse
    # on Azure reads abfss://, which whbench cannot upload to yet: use the volume there.
    object_stores = ("s3", "gs")
    settings_class = DatabricksSettings
    service_name = "Databricks SQL"
    # Workspace instance names: "cust-success.cloud.databricks.com" (AWS),
    # https://docs.databricks.com/aws/en/workspace/workspace-details; "adb-<workspace-id>.
    # <random-number>.azuredatabricks.net" (Azure) and ".databricks.azure.cn" (Azure China),
    # https://learn.microsoft.com/en-gb/azure/databricks/workspace/per-workspace-urls and
    # https://docs.azure.cn/en-us/databricks/workspace/workspace-details; "<workspace-id>.<n>.
    # gcp.databricks.com" (Google Cloud), https://docs.databricks.com/gcp/ja/workspace/
    # workspace-details (all read 2026-12-06).
    service_domains = (
        "cloud.databricks.com",
        "azuredatabricks.net",
        "gcp.databricks.com",
        "databricks.azure.cn",
    )
    # INSERT OVERWRITE DIRECTORY '/Volumes/…' USING parquet SELECT … (Databricks SQL;
    # https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-syntax-dml-insert-overwrite-directory,
    # read 2026-12-06), then the folder downloaded from the volume.
    export_hint = (
        "INSERT OVERWRITE DIRECTORY '/Volumes/<catalog>/<schema>/<volume>/<table>/' USING "
        "parquet SELECT * FROM <table>, then download that folder (databricks fs cp -r "
        "dbfs:/Volumes/… exports/<table>/)"
    )
    # None: first attempts are lukewarm. A SQL warehouse keeps a disk cache of the Parquet
    # files its nodes read ("Optimize performance with caching on Databricks",
    # https://docs.databricks.com/aws/en/optimizations/disk-cache, read 2026-12-06), and no SQL
    # statement empties it: CLEAR CACHE "removes the entries and associated data from the
    # in-memory and/or on-disk cache for all cached tables and views in Apache Spark cache"
    # only, i.e. what CACHE TABLE put there, and applies to Databricks Runtime, not Databricks
    # SQL (https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-syntax-aux-cache-clear-cache,
    # read 2026-12-06). Stopping the warehouse would drop it, but that is the user's warehouse
    # and a restart is billed; whbench does not do it.
    cold_method = None
    # STATEMENT_TIMEOUT stops a statement on a warehouse; the harness interrupts (cancel) two
    # seconds later itself, for a server that ignores the setting (the Spark stand-in does).
    timer_grace_seconds = 2.0

    # The connector "uses Arrow as the data-exchange format, and supports APIs (e.g.
    # fetchmany_arrow) to directly fetch Arrow tables"
    # (https://pypi.org/project/databricks-sql-connector/, read 2026-12-06); its rows
    # (fetchmany/fetchall) are made from those tables through pandas (4.9.0's
    # result_set.py, _convert_arrow_table). Arrow read into rows here: the same values without
    # pandas; and fetchmany_arrow keeps a large result bounded where fetchall_arrow would hold
    # it whole.
    fetch_path = spool.fetch_path(
        "Arrow (fetchmany_arrow) read into rows",
        "Arrow batches (fetchmany_arrow), spooled",
    )

    def __init__(self, settings: DatabricksSettings) -> None:
        super().__init__(settings)
        for key, allowed in (
            ("cloud", CLOUDS),
            ("warehouse_type", TYPES),  # what the billing rules know how to price
            ("warehouse_size", SIZES),
        ):
            if getattr(settings, key) not in allowed:
                raise ConfigError(
                    f"engines.databricks.{key}: {getattr(settings, key)!r} is not one of "
                    + ", ".join(allowed)
                )
        if settings.catalog is not None and not _NAME.fullmatch(settings.catalog):
            raise ConfigError(
                f"engines.databricks.catalog: {settings.catalog!r} is not a catalog name"
            )
        if bool(settings.client_id) != bool(settings.client_secret):
            raise ConfigError(
                "engines.databricks: OAuth machine-to-machine needs both client_id and "
                "client_secret (the service principal's); give both or neither"
            )
        self.fetch_used: str | None = None  # the last query's path: "rows" or "arrow"
        self.catalog: str | None = settings.catalog  # current_catalog() once connected
        self._cursor: Any = None  # the cursor of the query in flight, for cancel()
        self._volume: Volume | None = None

    # -- connecting ---------------------------------------------------------------------------
    def connect(self) -> None:
        from databricks import sql

        quiet_logs()
        s = self.settings
        if not s.http_path or not (s.server_hostname or s.profile):
            raise ConfigError(
                "engines.databricks: server_hostname and http_path are needed (the SQL "
                "warehouse's Connection details page gives both)"
            )
        options: dict[str, Any] = {
            "server_hostname": s.server_hostname or self._sdk_config().hostname,
            "http_path": s.http_path,
            "_port": s.port,
            # The connector reports its own use to the workspace from a background thread;
            # off, so the only traffic is the benchmark's.
            "enable_telemetry": False,
            "user_agent_entry": "whbench",
            "_retry_stop_after_attempts_duration": s.retry_seconds,
        }
        if not s.tls:  # a local stand-in: the connector builds https:// URLs otherwise
            options["_connection_uri"] = f"{s.url()}/{s.http_path.lstrip('/')}"
        match s.credentials():
            case AccessToken(token):
                options["access_token"] = token
            case OAuthClient() | Profile():
                config = self._sdk_config()
                options["credentials_provider"] = lambda: config.authenticate
            case _:
                raise ConfigError(
                    "engines.databricks: no way to sign in; set profile (a Databricks CLI "
                    "profile), client_id and client_secret (a service principal), or "
                    "access_token from ${VAR} or ${file:PATH}"
                )
        try:
            self._con = sql.connect(**options)
            if s.catalog:  # connect(catalog=…) is refused by some servers; USE is not
                self.statement(f"USE CATALOG {s.catalog}")
            self.catalog = s.catalog or str(self._scalar("SELECT current_catalog()"))
        except Exception as exc:
            self.close()
            raise EngineError(
                f"cannot connect to Databricks ({first_line(exc)}); check engines.databricks "
                "server_hostname, http_path, the sign-in and that the warehouse is reachable"
            ) from None

    def endpoint(self) -> str | None:
        # The connector's session keeps the host and port it talks to.
        from harness.engines.where import address

        session = self._con.session
        return address(str(session.host), session.port)

    def statement(self, sql: str) -> None:
        # Closed at once: an operation left open holds its result on the server until the
        # session ends.
        cursor = self._con.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    def _scalar(self, sql: str) -> Any:
        rows = self._dict_rows(sql)
        return next(iter(rows[0].values())) if rows else None

    def _sdk_config(self) -> Any:
        """databricks-sdk's configuration for this workspace and sign-in (signin.py)."""
        s = self.settings
        return sdk_config(s.credentials(), s.url() if s.server_hostname else None)

    def close(self) -> None:
        try:
            super().close()
        except Exception:  # an already broken connection: nothing left to close
            self._con = None

    def version(self) -> str:
        # current_version().dbsql_version: "the current version of Databricks SQL"
        # (https://docs.databricks.com/aws/en/sql/language-manual/functions/current_version,
        # read 2026-12-06); a server without it (Spark) says its version().
        try:
            found = self._scalar("SELECT current_version().dbsql_version")
        except Exception:
            found = None
        return str(found or self._scalar("SELECT version()"))

    def describe(self) -> dict[str, Any]:
        s = self.settings
        return {
            "server_hostname": s.server_hostname,
            "warehouse_id": warehouse_id(s.http_path),
            "catalog": self.catalog,
            "cloud": s.cloud,
            "warehouse_type": s.warehouse_type,
            "warehouse_size": s.warehouse_size,
            "max_clusters": s.max_clusters,
            "auto_stop_minutes": s.auto_stop_minutes,
            "dbu_price": s.dbu_price,
            "vm_dollars_per_hour": s.vm_dollars_per_hour,
            "load_from": "data_uri" if self.data_location else "volume (Files API)",
            "fetch": self.fetch_path,
        }

    # -- the session --------------------------------------------------------------------------
    def use(self, namespace: str) -> None:
        self.statement(f"USE SCHEMA {owned(namespace)}")

    def session_settings(self, tag: str, timeout_seconds: float) -> list[SessionSetting]:
        label = re.sub(r"[^\w.-]", "_", tag)
        return [
            # "The system default for this setting is TRUE"
            # (https://docs.databricks.com/aws/en/sql/language-manual/parameters/use_cached_result,
            # read 2026-12-06).
            SessionSetting(
                "SET use_cached_result = false", "turn the result cache off", result_cache=True
            ),
            # Session query tags reach system.query.history's query_tags (Public Preview;
            # https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-syntax-aux-conf-mgmt-set-query-tags,
            # read 2026-12-06): import-history leaves whbench's own queries out by it.
            SessionSetting(
                f"SET QUERY_TAGS['{system_tables.WHBENCH_TAG}'] = '{label}'",
                "tag queries with the run id",
            ),
            # Zoned timestamps (date_trunc's) in UTC, Databricks' system default, whatever zone
            # an admin set for the workspace: answers compare with the other engines' UTC
            # (https://docs.databricks.com/aws/en/sql/language-manual/sql-ref-syntax-aux-conf-mgmt-set-timezone,
            # read 2026-12-06).
            SessionSetting("SET TIME ZONE 'UTC'", "read timestamps in UTC"),
            # Seconds, 0 to 172800, counted from the start of execution
            # (https://docs.databricks.com/aws/en/sql/language-manual/parameters/statement_timeout,
            # read 2026-12-06).
            SessionSetting(
                f"SET STATEMENT_TIMEOUT = {min(172800, max(1, round(timeout_seconds)))}",
                "set the statement timeout",
            ),
        ]

    # -- queries ------------------------------------------------------------------------------
    def run(self, sql: str, timeout_seconds: float, query_label: str | None) -> Ran:
        cursor = self._cursor = self._con.cursor()
        try:
            cursor.execute(sql)
            columns = tuple(str(d[0]) for d in cursor.description or ())
            rows = self._fetch(cursor) if cursor.description else []
            # cursor.query_id: the statement's operation handle as a UUID. The pages read do
            # not say it is system.query.history's statement_id (both are the statement's
            # UUID); the real-account test proves the pairing, the stand-in cannot.
            return Ran(rows, columns, engine_query_id=cursor.query_id)
        finally:
            self._cursor = None
            cursor.close()

    def _fetch(self, cursor: Any) -> list[tuple] | spool.Spooled:
        """Up to SPOOL_ROWS rows as a list; past that the rest as Arrow batches, spooled."""
        self.fetch_used = "rows"
        first = arrow(cursor.fetchmany_arrow(spool.SPOOL_ROWS))
        rows = spool.python_rows(first)
        if len(rows) < spool.SPOOL_ROWS:
            return rows
        self.fetch_used = "arrow"
        return spool.spooled(rows, batches(cursor))

    def is_timeout(self, exc: Exception) -> bool:
        # The docs name no error for a statement stopped by STATEMENT_TIMEOUT (read
        # 2026-12-06); warehouses have been seen to say "Statement has timed out". The harness's
        # own timer (timer_grace_seconds) catches the rest.
        text = str(exc).lower()
        return "timed out" in text

    def interrupt(self) -> None:
        """Cancel the statement in flight (the connector's Cursor.cancel, from another thread)."""
        cursor = self._cursor
        if cursor is not None:
            cursor.cancel()

    # -- statistics ---------------------------------------------------------------------------
    def query_history(self, query_ids: Sequence[str]) -> dict[str, tuple[float | None, Usage]]:
        """Each query's statistics: from the Query History API first (at once, and free;
        history_api.py), then from system.query.history for any it did not give (its records
        arrive within about an hour; system_tables.py). What neither has stays None."""
        ids = list(dict.fromkeys(i for i in query_ids if i))
        if not ids:
            return {}
        found = self._from_history_api(ids)
        missing = [i for i in ids if i not in found]
        if missing:
            found |= self._from_system_table(missing)
        if len(found) < len(ids):
            self._note(
                f"{len(ids) - len(found)} of {len(ids)} queries have no engine statistics yet "
                "(neither the Query History API nor system.query.history had them)"
            )
        return found

    def _from_history_api(self, ids: list[str]) -> dict[str, tuple[float | None, Usage]]:
        try:
            from databricks.sdk import WorkspaceClient

            return history_api.read(WorkspaceClient(config=self._sdk_config()), ids)
        except Exception as exc:  # not served (a stand-in), or no right to read it
            self._note(f"the Query History API did not answer: {first_line(exc)}")
            return {}

    def _from_system_table(self, ids: list[str]) -> dict[str, tuple[float | None, Usage]]:
        sql = system_tables.query_history_sql(ids)
        if sql is None:
            return {}
        try:
            rows = self._dict_rows(sql)
        except Exception as exc:
            self._note(
                "system.query.history is not readable, so engine times, queueing and bytes "
                f"read are not recorded (client times are): {first_line(exc)}"
            )
            return {}
        return {str(row["statement_id"]): system_tables.statistics(row) for row in rows}

    def billed_usage(self, started: datetime, ended: datetime) -> dict[str, Any] | None:
        """The warehouse's DBUs in the window from system.billing.usage (and their list price),
        where the user may read it; None, with a note saying why, where not."""
        warehouse = warehouse_id(self.settings.http_path)
        if warehouse is None:
            self._note(
                "the warehouse's bill is not read: http_path names no SQL warehouse "
                "(/sql/1.0/warehouses/<id>)"
            )
            return None
        try:
            rows = self._dict_rows(system_tables.billed_usage_sql(warehouse, started, ended))
        except Exception as exc:
            self._note(f"system.billing.usage is not readable: {first_line(exc)}")
            return None
        return system_tables.billed_usage(rows[0] if rows else None, ended, datetime.now(UTC))

    def end_of_run(self) -> dict[str, Any]:
        """Nothing is stopped: the warehouse is the user's, and it stops itself after
        auto_stop_minutes idle (billed). The facts the bill rests on, recorded."""
        return {
            "warehouse_id": warehouse_id(self.settings.http_path),
            "auto_stop_minutes": self.settings.auto_stop_minutes,
            "ended_at": datetime.now(UTC).isoformat(),
        }

    # -- the team's own query history (`whbench workload import-history`) ---------------------
    def history_sql(self, since: datetime) -> str:
        return system_tables.history_sql(since)

    @staticmethod
    def history_entries(rows: list[dict[str, Any]]) -> list[HistoryEntry]:
        return system_tables.history_entries(rows)

    def read_history(self, since: datetime, timeout_seconds: float) -> list[HistoryEntry]:
        try:
            return super().read_history(since, timeout_seconds)
        except Exception as exc:
            # The table is readable by admins only by default, and its schema must be enabled
            # (system_tables.py, the query history reference page).
            raise EngineError(
                f"cannot read system.query.history ({first_line(exc)}); an account admin must "
                "enable the system schema `query` and grant you SELECT on it"
            ) from None

    # -- data ---------------------------------------------------------------------------------
    def existing_tables(self, namespace: str) -> set[str]:
        if owned(namespace) not in self.namespaces():
            return set()
        # SHOW TABLES: database, tableName, isTemporary
        tables = self._dict_rows(f"SHOW TABLES IN {namespace}")
        return {str(row["tablename"]).lower() for row in tables}

    def namespaces(self) -> list[str]:
        # SHOW SCHEMAS: one column, the schema's name
        names = [str(next(iter(row.values()))).lower() for row in self._dict_rows("SHOW SCHEMAS")]
        return sorted(name for name in names if name.startswith(NAMESPACE_PREFIX))

    def drop(self, namespace: str) -> None:
        # CASCADE: the schema's tables (and, for whb_files, the volume and its files) with it.
        self.statement(f"DROP SCHEMA IF EXISTS {owned(namespace)} CASCADE")

    def source_uris(self, data: TableData) -> dict[str, list[str]]:
        """One folder per table and format: COPY INTO reads every file in it."""
        if self.data_location is not None:
            return {fmt: [folder.uri] for fmt, folder in self.remote_folders(data).items()}
        return {
            fmt: [self._files().folder(data.data_set, data.table, fmt)] for fmt in data.by_format()
        }

    def _files(self) -> Volume:
        """whbench's volume in the catalog (volumes.py), made on the first load."""
        if self.catalog is None:
            raise EngineError("databricks: connect before naming the files to load")
        if self._volume is None:
            self._volume = Volume(self.catalog, self._sdk_config)
        return self._volume

    def load(self, namespace: str, data: TableData, statements: Sequence[str]) -> LoadOutcome:
        table = data.table
        started = time.perf_counter()
        self.statement(f"CREATE SCHEMA IF NOT EXISTS {owned(namespace)}")
        self.statement(f"USE SCHEMA {namespace}")
        if self.data_location is not None:
            self.upload(data)
        else:
            volume = self._files()
            self.statement(f"CREATE SCHEMA IF NOT EXISTS {volume.schema}")
            self.statement(f"CREATE VOLUME IF NOT EXISTS {volume.name}")
            volume.upload(data)
        try:
            for statement in statements:
                self.statement(statement)
        except Exception:
            self.statement(f"DROP TABLE IF EXISTS {table}")  # all or nothing
            raise
        seconds = time.perf_counter() - started
        rows = int(self._scalar(f"SELECT count(*) FROM {table}"))
        return LoadOutcome(table, rows, seconds, self._stored_bytes(table))

    def _stored_bytes(self, table: str) -> int | None:
        """sizeInBytes from DESCRIBE DETAIL (a Delta table's files, "the size of the latest
        snapshot of the table in bytes": https://docs.databricks.com/aws/en/delta/table-details,
        read 2026-12-06); None where the server has no such statement."""
        try:
            detail = self._dict_rows(f"DESCRIBE DETAIL {table}")
        except Exception:
            return None
        size = detail[0].get("sizeinbytes") if detail else None
        return None if size is None else int(size)

    # -- helpers ------------------------------------------------------------------------------
    def _dict_rows(self, sql: str) -> list[dict[str, Any]]:
        """Rows as dicts, columns in lower case (the system tables' documented names)."""
        cursor = self._con.cursor()
        try:
            cursor.execute(sql)
            columns = [str(d[0]).lower() for d in cursor.description or ()]
            table = arrow(cursor.fetchall_arrow())
            return [dict(zip(columns, row, strict=True)) for row in spool.python_rows(table)]
        finally:
            cursor.close()

    def _note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)
