"""Amazon Redshift, provisioned or Serverless, through redshift_connector.

Auth: IAM (temporary credentials from an AWS profile or role, for a cluster identifier or a
Serverless workgroup) first, a password last. With `data_uri` (s3://) data goes to S3 with boto3
and is loaded with COPY using an IAM role; without it, a small-data path inserts the rows over
the connection instead (fine for tests and small scales, slow for anything big). Per-query
elapsed, queue and execution times and result-cache hits come from one SYS_QUERY_HISTORY
look-up per workload.
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
    owned,
    present,
)
from harness.engines.credentials import IAM, Credentials, NoCredentials, Password, Secret
from harness.engines.redshift.billing import RedshiftBilling
from harness.errors import ConfigError, EngineError, first_line
from harness.settings import PORT, Range

if TYPE_CHECKING:
    from harness.history import HistoryEntry

_ROLE_ARN = re.compile(r"arn:aws[\w-]*:iam::\d{12}:role/[\w+=,.@/-]+")
INSERT_BATCH_ROWS = 1000  # rows per INSERT statement on the small-data path
CONNECT_ATTEMPTS = 3  # network failures are retried after 1 s and 2 s


@dataclass
class RedshiftSettings(EngineSettings):
    host: str | None = None  # provisioned endpoint or Serverless workgroup endpoint
    port: Annotated[int, PORT] = 5439
    database: str = "dev"
    user: str | None = None
    password: Secret | None = None  # last resort; prefer IAM
    iam: bool = False  # temporary credentials from the AWS profile or role
    profile: str | None = None  # AWS profile for IAM and for S3
    region: str | None = None
    cluster_identifier: str | None = None  # provisioned, with IAM
    serverless_work_group: str | None = None  # Serverless, with IAM
    db_user: str | None = None  # provisioned IAM: the database user to sign in as
    ssl: bool = True
    data_uri: str | None = None  # s3://BUCKET/PREFIX: files are uploaded there for COPY
    iam_role_arn: str | None = None  # the role COPY reads S3 with (default: the cluster's)
    base_rpu: Annotated[int, Range(1, 1024)] | None = None  # Serverless capacity, for cost
    node_type: str | None = None  # provisioned node type and count, recorded for cost
    nodes: Annotated[int, Range(1, 1000)] | None = None

    def credentials(self) -> Credentials:
        if self.iam:
            return IAM("Serverless workgroup" if self.serverless_work_group else "cluster")
        return Password(self.password) if self.password is not None else NoCredentials()


class RedshiftEngine(CursorEngine[RedshiftSettings]):
    name = "redshift"
    dialect = "redshift"
    export_hint = (
        "UNLOAD ('SELECT * FROM <table>') TO 's3://BUCKET/<table>/' IAM_ROLE default FORMAT AS "
        "PARQUET, then aws s3 cp --recursive s3://BUCKET/<table>/ exports/<table>/"
    )
    driver_module = "redshift_connector"
    driver_package = "redshift-connector"
    extra = "redshift"
    cost_basis = "RPU-seconds (Serverless) or node-hours (provisioned)"
    billing = RedshiftBilling
    reports_engine_time = True
    object_stores = ("s3",)
    timer_grace_seconds = 2.0
    settings_class = RedshiftSettings
    service_name = "Amazon Redshift"
    # A provisioned cluster's endpoint, "examplecluster.abc123xyz789.us-west-2.redshift.amazonaws
    # .com:5439" (.amazonaws.com.cn in the China regions):
    # https://docs.aws.amazon.com/redshift/latest/mgmt/jdbc20-obtain-url.html and
    # https://docs.amazonaws.cn/en_us/redshift/latest/mgmt/jdbc20-obtain-url.html; a Serverless
    # workgroup's, "workgroup-name.account-number.aws-region.redshift-serverless.amazonaws.com":
    # https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-connecting.html (all read
    # 2026-12-06).
    service_domains = (
        "redshift.amazonaws.com",
        "redshift-serverless.amazonaws.com",
        "redshift.amazonaws.com.cn",
    )

    # redshift_connector is a pure-Python DB-API driver: rows (fetchmany/fetchall) are its
    # only form; fetch_dataframe and fetch_numpy_array are built from those rows, and there is
    # no Arrow path. https://pypi.org/project/redshift-connector/ and
    # https://docs.aws.amazon.com/redshift/latest/mgmt/python-connect-integrate-numpy.html
    # (both read 2026-12-06).
    fetch_path = spool.fetch_path("rows (fetchmany)", "rows (fetchmany), the driver's only form")

    def __init__(self, settings: RedshiftSettings) -> None:
        super().__init__(settings)
        self.fetch_used: str | None = None  # the last query's path: always "rows"
        role = settings.iam_role_arn
        if role is not None and not _ROLE_ARN.fullmatch(role):
            raise ConfigError(
                f"engines.redshift.iam_role_arn: {role!r} is not an IAM role ARN "
                "(arn:aws:iam::123456789012:role/NAME)"
            )
        if settings.node_type and not settings.nodes:
            raise ConfigError(
                "engines.redshift.nodes: a provisioned cluster (node_type "
                f"{settings.node_type}) needs its node count for cost"
            )
        self._pid: int | None = None

    def connect(self) -> None:
        import redshift_connector

        s = self.settings
        options = present(
            **self._server(),
            profile=s.profile,
            region=s.region,
            cluster_identifier=s.cluster_identifier,
            serverless_work_group=s.serverless_work_group,
            db_user=s.db_user,
        )
        match s.credentials():
            case IAM():
                options |= present(iam=True, is_serverless=bool(s.serverless_work_group) or None)
            case Password(password):
                options["password"] = password
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                self._con = redshift_connector.connect(**options)
                break
            except redshift_connector.InterfaceError as exc:  # network: worth another try
                if attempt == CONNECT_ATTEMPTS:
                    raise EngineError(
                        f"cannot reach Redshift after {attempt} attempts ({self.error_text(exc)}); "
                        "check engines.redshift host, port and network access"
                    ) from None
                time.sleep(2 ** (attempt - 1))
            except Exception as exc:  # credentials, database, permissions: retrying won't help
                raise EngineError(
                    f"cannot connect to Redshift ({self.error_text(exc)}); check engines.redshift "
                    "credentials, database and permissions"
                ) from None
        self._con.autocommit = True
        self._pid = self._scalar("SELECT pg_backend_pid()")

    def endpoint(self) -> str | None:
        """The host given and the port the socket is connected to. redshift_connector keeps no
        host of its own (not even one it found through IAM from a cluster or workgroup name):
        then the peer's IP address is what is known, and is recorded."""
        from harness.engines.where import address

        peer = self._con._usock.getpeername()
        return address(self.settings.host or str(peer[0]), peer[1])

    def _server(self) -> dict[str, Any]:
        s = self.settings
        return present(host=s.host, port=s.port, database=s.database, user=s.user, ssl=s.ssl)

    def error_text(self, exc: BaseException) -> str:
        """redshift_connector puts the server's whole error dictionary in the message: keep
        its 'M' (the message)."""
        text = str(exc).strip()
        if text.startswith("{") and "'M': '" in text:
            return text.split("'M': '", 1)[1].split("'", 1)[0]
        return first_line(exc)

    def version(self) -> str:
        return str(self._scalar("SELECT version()"))

    def describe(self) -> dict[str, Any]:
        s = self.settings
        return {
            "host": s.host,
            "serverless_work_group": s.serverless_work_group,
            "cluster_identifier": s.cluster_identifier,
            "base_rpu": s.base_rpu,
            "node_type": s.node_type,
            "nodes": s.nodes,
            "fetch": self.fetch_path,
        }

    def _fetch(self, cursor: Any) -> list[tuple] | spool.Spooled:
        self.fetch_used = "rows"  # the base class's fetchmany: the driver has nothing faster
        return super()._fetch(cursor)

    def use(self, namespace: str) -> None:
        self.statement(f"SET search_path TO {owned(namespace)}")

    def session_settings(self, tag: str, timeout_seconds: float) -> list[SessionSetting]:
        return [
            SessionSetting(
                "SET enable_result_cache_for_session TO off",
                "turn the result cache off",
                result_cache=True,
            ),
            SessionSetting(f"SET query_group TO '{tag}'", "label queries with the run id"),
            SessionSetting(
                f"SET statement_timeout TO {max(1, round(timeout_seconds * 1000))}",
                "set the statement timeout",
            ),
        ]

    def source_uris(self, data: TableData) -> dict[str, list[str]]:
        if self.data_location is None:
            return super().source_uris(data)
        # COPY reads every file under a prefix: the table's folder for that format.
        return {fmt: [folder.uri] for fmt, folder in self.remote_folders(data).items()}

    def storage_options(self) -> dict[str, Any]:
        return {"profile": self.settings.profile, "region": self.settings.region}

    def load(self, namespace: str, data: TableData, statements: Sequence[str]) -> LoadOutcome:
        table = data.table
        cursor = self._con.cursor()
        started = time.perf_counter()
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {owned(namespace)}")
        cursor.execute(f"SET search_path TO {namespace}")
        if self.data_location is not None:
            self.upload(data)
        cursor.execute("BEGIN")
        try:
            for statement in statements:
                if not statement.lstrip().upper().startswith("COPY "):
                    cursor.execute(statement)
                elif self.data_location is None:
                    self._insert_rows(cursor, table, data.by_format()["parquet"])  # small data
                else:
                    cursor.execute(self._with_role(statement))
            cursor.execute("COMMIT")
        except Exception:
            cursor.execute("ROLLBACK")  # all or nothing
            raise
        seconds = time.perf_counter() - started
        rows = self._scalar(f"SELECT count(*) FROM {table}")
        return LoadOutcome(table, rows, seconds, self._stored_bytes(namespace, table))

    def _with_role(self, copy: str) -> str:
        """The templates' COPY reads S3 as the cluster's default role; credentials belong to
        the engine's settings, not the workload, so a configured role is put in here."""
        if self.settings.iam_role_arn is None:
            return copy
        return copy.replace("IAM_ROLE default", f"IAM_ROLE '{self.settings.iam_role_arn}'")

    def _insert_rows(self, cursor: Any, table: str, files: Sequence[Path]) -> None:
        import pyarrow.parquet as pq

        for f in files:
            parquet = pq.ParquetFile(f)
            columns = parquet.schema_arrow.names
            row = f"({', '.join(['%s'] * len(columns))})"
            for batch in parquet.iter_batches(batch_size=INSERT_BATCH_ROWS):
                rows = zip(*(batch.column(c).to_pylist() for c in columns), strict=True)
                values = [value for one_row in rows for value in one_row]
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES {', '.join([row] * batch.num_rows)}",
                    values,
                )

    def _stored_bytes(self, namespace: str, table: str) -> int | None:
        try:  # Redshift's SVV_TABLE_INFO.size is in 1 MB blocks
            blocks = self._scalar(
                f"SELECT size FROM svv_table_info WHERE schema = '{namespace}' "
                f"AND \"table\" = '{table}'"
            )
        except Exception as exc:
            self.notes.append(f"stored size unknown: {self.error_text(exc)}")
            return None
        return None if blocks is None else int(blocks) * 1024 * 1024

    def is_timeout(self, exc: Exception) -> bool:
        # statement_timeout stops it on the server; the base class's timer (2 s later) covers
        # a server that ignores it.
        return "canceling statement" in str(exc) or "57014" in str(exc)

    def last_query_id(self) -> str | None:
        # SYS_QUERY_HISTORY.query_id pairs with LAST_USER_QUERY_ID(); PG_LAST_QUERY_ID() gives
        # the STL id, which that view does not hold.
        # https://docs.aws.amazon.com/redshift/latest/dg/LAST_USER_QUERY_ID.html (2026-11-26)
        try:
            value = self._scalar("SELECT last_user_query_id()")
        except Exception as exc:
            if not any("query id" in n for n in self.notes):
                self.notes.append(f"query ids unavailable: {self.error_text(exc)}")
            return None
        return None if value is None or int(value) < 0 else str(value)

    def interrupt(self) -> None:
        import redshift_connector

        options = self._server()
        if self.settings.password is not None:
            options["password"] = self.settings.password
        other = redshift_connector.connect(**options)
        try:
            other.cursor().execute(f"SELECT pg_cancel_backend({int(self._pid)})")
        finally:
            other.close()

    def query_history(self, query_ids: Sequence[str]) -> dict[str, tuple[float | None, Usage]]:
        if not query_ids:
            return {}
        listed = ", ".join(str(int(q)) for q in query_ids)
        cursor = self._con.cursor()
        try:
            cursor.execute(
                "SELECT query_id, elapsed_time, queue_time, compile_time, execution_time, "
                "result_cache_hit "
                f"FROM sys_query_history WHERE query_id IN ({listed})"
            )
        except Exception as exc:
            self.notes.append(
                "SYS_QUERY_HISTORY unavailable, so engine times and cache hits are not recorded "
                f"(client times are): {self.error_text(exc)}"
            )
            return {}
        return {
            str(query_id): (
                _seconds(elapsed),
                Usage(
                    cache_hit=cache_hit,
                    queued_seconds=_seconds(queued),
                    compile_seconds=_seconds(compiling),
                    execution_seconds=_seconds(executing),
                ),
            )
            for query_id, elapsed, queued, compiling, executing, cache_hit in cursor.fetchall()
        }

    # SYS_QUERY_HISTORY: query_id, query_type, status, start_time, elapsed_time in
    # microseconds (query_text there is cut at 4,000 characters); SYS_QUERY_TEXT: the whole
    # text as 4,000-character rows numbered by `sequence` from 0. Neither reports bytes scanned.
    # https://docs.aws.amazon.com/redshift/latest/dg/SYS_QUERY_HISTORY.html
    # https://docs.aws.amazon.com/redshift/latest/dg/SYS_QUERY_TEXT.html (both read 2026-11-26)
    def history_sql(self, since: datetime) -> str:
        return (
            "SELECT h.query_id, h.query_type, h.status, h.start_time, h.elapsed_time, "
            "t.sequence, t.text FROM sys_query_history h "
            "JOIN sys_query_text t ON t.query_id = h.query_id "
            f"WHERE h.start_time >= '{since:%Y-%m-%d %H:%M:%S}' "
            "AND h.query_type = 'SELECT' AND h.status = 'success' "
            "ORDER BY h.query_id, t.sequence"
        )

    @staticmethod
    def history_entries(rows: list[dict[str, Any]]) -> list[HistoryEntry]:
        from harness.history import HistoryEntry

        queries: dict[Any, dict[str, Any]] = {}
        for row in rows:
            if str(row.get("query_type", "")).strip().upper() != "SELECT":
                continue
            if str(row.get("status", "")).strip().lower() != "success":
                continue
            query = queries.setdefault(row["query_id"], {"row": row, "parts": {}})
            query["parts"][int(row["sequence"])] = row["text"] or ""
        entries = []
        for query in queries.values():
            parts = query["parts"]
            # Every part but the last is 4,000 characters whole; char(4000) pads the last.
            text = "".join(parts[n] for n in sorted(parts)).rstrip()
            elapsed = query["row"].get("elapsed_time")
            entries.append(
                HistoryEntry(
                    text=text,
                    elapsed_seconds=None if elapsed is None else float(elapsed) / 1e6,
                    bytes_scanned=None,
                    started_at=query["row"].get("start_time"),
                )
            )
        return entries

    # SVCS_CONCURRENCY_SCALING_USAGE: one row per period a concurrency-scaling cluster was
    # processing queries (start_time, end_time, queries, usage_in_seconds); visible to
    # superusers unless opened to others. Provisioned clusters only: Serverless scales within
    # its RPU billing. https://docs.aws.amazon.com/redshift/latest/dg/r_SVCS_CONCURRENCY_SCALING_USAGE.html
    # (read 2026-11-26)
    def scale_out(self, started: datetime, ended: datetime) -> dict[str, Any] | None:
        if not self.settings.node_type:
            return None
        try:
            cursor = self._con.cursor()
            cursor.execute(
                "SELECT start_time, end_time, queries, usage_in_seconds "
                "FROM svcs_concurrency_scaling_usage WHERE end_time > %s AND start_time < %s",
                (started.replace(tzinfo=None), ended.replace(tzinfo=None)),
            )
            periods = cursor.fetchall()
        except Exception as exc:
            self.notes.append(f"concurrency scaling unknown: {self.error_text(exc)}")
            return None
        return concurrency_scaling(
            periods, started.replace(tzinfo=None), ended.replace(tzinfo=None)
        )

    # SYS_SERVERLESS_USAGE: one row per 1-minute interval (start_time, end_time), with
    # charged_seconds, the RPU-seconds billed in it "after transactions complete", minimum
    # charges included; the whole workgroup; visible only to superusers.
    # https://docs.aws.amazon.com/redshift/latest/dg/SYS_SERVERLESS_USAGE.html and
    # https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-billing.html (read 2026-12-06)
    def billed_usage(self, started: datetime, ended: datetime) -> dict[str, Any] | None:
        if self.settings.node_type:  # provisioned: billed by node-hours, nothing per window
            return None
        first, last = usage_minutes(started, ended)
        cursor = self._con.cursor()
        superuser = self._superuser()
        try:
            cursor.execute(
                "SELECT sum(charged_seconds), count(*) FROM sys_serverless_usage "
                "WHERE start_time >= %s AND start_time < %s",
                (first, last),
            )
            charged, rows = cursor.fetchone()
            # How far the view has been written: by anything in the workgroup, not only us.
            cursor.execute("SELECT max(end_time) FROM sys_serverless_usage")
            (written_until,) = cursor.fetchone()
        except Exception as exc:
            if superuser is False and "permission denied" in str(exc).lower():
                return not_visible(self.settings.user, superuser)
            raise
        if written_until is None:
            # A view that holds 7 days of the workgroup's minutes and shows none, right after a
            # run on that workgroup: this user cannot see it, and waiting will not change that.
            return not_visible(self.settings.user, superuser)
        complete = written_until >= last
        return {
            "rpu_seconds": None if charged is None else float(charged),
            "minutes": int(rows),
            "window_minutes": [first.isoformat(), last.isoformat()],
            "complete": complete,
            "pending": None
            if complete
            else (
                f"SYS_SERVERLESS_USAGE is written up to {written_until:%H:%M} UTC, the run's "
                f"billed minutes end at {last:%H:%M} (it is written after transactions end)"
            ),
        }

    def _superuser(self) -> bool | None:
        """Whether this session's user is a superuser (PG_USER.usesuper); None if unknown."""
        try:
            value = self._scalar("SELECT usesuper FROM pg_user WHERE usename = current_user")
        except Exception:
            return None
        return None if value is None else bool(value)


def usage_minutes(started: datetime, ended: datetime) -> tuple[datetime, datetime]:
    """The SYS_SERVERLESS_USAGE intervals that hold a query window's charges, as naive UTC
    (the view's timestamps): from the minute the first query started up to and including the
    minute in which a 60 s minimum begun by the last query would end. Charges are written to
    the minute a transaction completes in, and the minimum can run past the last query's end,
    so `start_time < ended` would drop the last minute or two."""
    from harness.engines.redshift.billing import MINIMUM_SECONDS

    def utc(moment: datetime) -> datetime:
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment.replace(second=0, microsecond=0)

    last = utc(ended + timedelta(seconds=MINIMUM_SECONDS)) + timedelta(minutes=1)
    return utc(started), last


def not_visible(user: str | None, superuser: bool | None) -> dict[str, Any]:
    """The measured bill cannot be read by this user (not a lag: it will not arrive)."""
    who = f"user {user!r}" if user else "this user"
    reason = (
        f"{who} is not a superuser, and SYS_SERVERLESS_USAGE is visible only to superusers"
        if superuser is False
        else f"SYS_SERVERLESS_USAGE shows {who} no rows at all (it is visible only to superusers)"
    )
    return {
        "rpu_seconds": None,
        "complete": False,
        "pending": None,
        "not_visible": f"{reason}; a superuser can run `whbench cost --refresh RUN` "
        "(https://docs.aws.amazon.com/redshift/latest/dg/SYS_SERVERLESS_USAGE.html, read "
        "2026-12-06)",
    }


def _seconds(microseconds: int | None) -> float | None:
    """SYS_QUERY_HISTORY times are in microseconds."""
    return None if microseconds is None else microseconds / 1e6


def concurrency_scaling(periods: list[tuple], started: datetime, ended: datetime) -> dict[str, Any]:
    """The concurrency-scaling seconds inside [started, ended]: a period reaching past either
    end counts for the share of its usage that falls inside, pro rata."""
    used, queries = 0.0, 0
    for period_start, period_end, period_queries, usage in periods:
        length = (period_end - period_start).total_seconds()
        inside = (min(period_end, ended) - max(period_start, started)).total_seconds()
        if length > 0 and inside > 0:
            used += float(usage) * min(1.0, inside / length)
            queries += int(period_queries or 0)
    return {
        "concurrency_scaling_seconds": used,
        "concurrency_scaling_periods": len(periods),
        "concurrency_scaling_queries": queries,
    }
