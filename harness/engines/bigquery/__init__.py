"""Google BigQuery, through google-cloud-bigquery.

Auth is Application Default Credentials unless a credentials file is given: a gcloud login, an
attached service account, or Workload Identity Federation (an `external_account` file) need no
downloaded key. A service-account key file works but draws a warning. Statistics come from each
query's job object (free), never from INFORMATION_SCHEMA (each such look-up bills 10 MB).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence
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
    Ran,
    TableData,
    Usage,
    owned,
    present,
)
from harness.engines.bigquery.billing import BigQueryBilling
from harness.engines.credentials import (
    Anonymous,
    ApplicationDefault,
    Credentials,
    CredentialsFile,
)
from harness.errors import ConfigError, EngineError, first_line
from harness.settings import Range

if TYPE_CHECKING:
    from harness.history import HistoryEntry

MINIMUM_BYTES_LIMIT = 10 * 2**20  # BigQuery refuses a maximum_bytes_billed below 10 MB
_SOURCE_FORMATS = {"parquet": "PARQUET", "ndjson": "NEWLINE_DELIMITED_JSON"}
# Column types whose Arrow form reads back (to_pylist) as the client's rows give them: not
# JSON (text in Arrow, parsed in rows), GEOGRAPHY, INTERVAL, RANGE, RECORD, nor any REPEATED.
_ARROW_FAITHFUL = {
    *("INTEGER", "INT64", "FLOAT", "FLOAT64", "NUMERIC", "BIGNUMERIC", "BOOLEAN", "BOOL"),
    *("STRING", "BYTES", "DATE", "DATETIME", "TIME", "TIMESTAMP"),
}


def read_api_path(result: Any, read: Any) -> bool:
    """Whether `result` (a RowIterator) would be read through the Storage Read API given the
    client `read` (None: not configured, or refused this session). The BigQuery client decides
    and would fall back silently (to REST pages for a result with no table, a capped one, or one
    almost all in its first page), so its own rule is asked, to record the path taken."""
    return read is not None and bool(result._should_use_bqstorage(read, False))


def _arrow_faithful(schema: Sequence[Any] | None) -> bool:
    return bool(schema) and all(
        field.field_type in _ARROW_FAITHFUL and field.mode != "REPEATED" for field in schema
    )


@dataclass
class BigQuerySettings(EngineSettings):
    project: str | None = None  # default: the credentials' project
    location: str | None = None  # e.g. US, EU, us-east1
    # Put between the harness's "whb_" and the data set's name, so people sharing a project
    # keep their datasets apart: "alice_" gives whb_alice_tpch_sf1.
    dataset_prefix: str = ""
    credentials_file: str | None = None  # external_account (keyless) or a service-account key
    # Per-query hard limit (at least MINIMUM_BYTES_LIMIT).
    maximum_bytes_billed: Annotated[int, Range(MINIMUM_BYTES_LIMIT, 2**63 - 1)] | None = None
    # gs://BUCKET/PREFIX: upload generated files there once and load them from there (large
    # scales); unset, the client streams local files to each load job.
    data_uri: str | None = None
    # Only for a local stand-in (bqemulator): where it listens, and no credentials.
    api_endpoint: str | None = None
    # Only for a local stand-in: where its Storage Read API (gRPC) listens, as
    # http://HOST:PORT (plain text, as the stand-in speaks it). With api_endpoint set and this
    # unset, large results are read over REST pages: the REST endpoint does not speak gRPC.
    read_api_endpoint: str | None = None
    anonymous: bool = False

    def credentials(self) -> Credentials:
        if self.anonymous:
            return Anonymous()
        if self.credentials_file:
            return CredentialsFile(self.credentials_file)
        return ApplicationDefault()


class BigQueryEngine(Engine[BigQuerySettings]):
    name = "bigquery"
    dialect = "bigquery"
    export_hint = (
        "EXPORT DATA OPTIONS (uri = 'gs://BUCKET/<table>/*.parquet', format = 'PARQUET') AS "
        "SELECT * FROM <table>, then gcloud storage cp 'gs://BUCKET/<table>/*' exports/<table>/"
    )
    driver_module = "google.cloud.bigquery"
    driver_package = "google-cloud-bigquery"
    extra = "bigquery"
    cost_basis = "bytes billed (on demand) or autoscaled slots (Editions)"
    billing = BigQueryBilling
    reports_engine_time = True
    supports_dry_run = True
    object_stores = ("gs",)
    timer_grace_seconds = None  # the client stops waiting at the time limit and cancels the job
    settings_class = BigQuerySettings
    service_name = "Google BigQuery"
    # "The API endpoint of the service used to make requests. Defaults to
    # bigquery.googleapis.com": https://cloud.google.com/nodejs/docs/reference/bigquery/5.5.0/
    # bigquery/bigqueryoptions, and https://bigquery.googleapis.com/bigquery/v2/ in
    # https://cloud.google.com/bigquery/docs/samples/bigquery-set-client-endpoint (both read
    # 2026-12-06).
    service_domains = ("bigquery.googleapis.com",)

    @classmethod
    def namespace_prefix(cls, settings: BigQuerySettings) -> str:
        return settings.dataset_prefix

    # Google documents REST pages (jobs.getQueryResults) as "appropriate for small result
    # sets" and the Storage Read API (gRPC, Arrow; google-cloud-bigquery-storage) as the fast
    # path for large ones: https://docs.cloud.google.com/bigquery/docs/reference/storage, and
    # the client's RowIterator.to_arrow_iterable(bqstorage_client=...) as the way to use it:
    # https://cloud.google.com/python/docs/reference/bigquery/latest (both read 2026-12-06).
    # The Read API needs bigquery.readsessions.create; refused, a query falls back to Arrow
    # over REST pages (1.6x faster than rows there: benchmarks/fetch_paths.py). bqemulator
    # refuses it for a query's result (its anonymous result table is not in its catalog;
    # tests/test_fetch_paths.py checks both the gap and the fallback).
    fetch_path = spool.fetch_path(
        "rows over REST pages",
        "Arrow through the Storage Read API (to_arrow_iterable with a BigQueryReadClient) "
        "when every column converts faithfully, Arrow over REST pages (to_arrow_iterable) "
        "where the Read API refuses, else rows over REST pages",
    )
    # What describe() says when the Read API is not configured (the reason follows).
    rest_fetch_path = spool.fetch_path(
        "rows over REST pages",
        "Arrow over REST pages (to_arrow_iterable) when every column converts faithfully, "
        "else rows; not the Storage Read API",
    )

    def __init__(self, settings: BigQuerySettings) -> None:
        super().__init__(settings)
        # The last query's path: "rows", "arrow" (over REST pages) or "read-api".
        self.fetch_used: str | None = None
        if not re.fullmatch(r"[a-z0-9_]{0,60}", settings.dataset_prefix):
            raise ConfigError(
                f"engines.bigquery.dataset_prefix: {settings.dataset_prefix!r} may hold only "
                "lower-case letters, digits and _ (at most 60)"
            )
        self._client: Any = None
        self._credentials: Any = None
        self._namespace: str | None = None
        self._labels: dict[str, str] = {}
        self._job: Any = None
        self._max_bytes_billed = settings.maximum_bytes_billed
        self._read: Any = None  # the session's BigQueryReadClient, when the Read API is used
        self._no_read_api: str | None = None  # why not, when it is not

    def connect(self) -> None:
        from google.api_core.client_options import ClientOptions
        from google.cloud import bigquery

        s = self.settings
        credentials = None
        try:
            match s.credentials():
                case Anonymous():
                    from google.auth.credentials import AnonymousCredentials

                    credentials = AnonymousCredentials()
                case CredentialsFile() as file:
                    credentials = self._credentials_from_file(file)
            options = ClientOptions(api_endpoint=s.api_endpoint) if s.api_endpoint else None
            self._credentials = credentials
            self._client = bigquery.Client(
                project=s.project,
                credentials=credentials,
                location=s.location,
                client_options=options,
            )
        except ConfigError:
            raise  # the credentials file itself: its message names the setting
        except Exception as exc:
            raise EngineError(
                f"cannot set up BigQuery ({first_line(exc)}); sign in with `gcloud auth "
                "application-default login` or set engines.bigquery.credentials_file"
            ) from None
        self._read, self._no_read_api = self._read_client()

    def _read_client(self) -> tuple[Any, str | None]:
        """The session's Storage Read API client, made once here rather than at the first
        large result, so its setting-up is never inside a query's measured time; with the
        BigQuery client's own credentials and universe (its _ensure_bqstorage_client, which
        to_arrow(create_bqstorage_client=True) uses). (None, why) when it cannot be used."""
        s = self.settings
        try:
            import google.cloud.bigquery_storage  # noqa: F401
        except ImportError:
            return None, "google-cloud-bigquery-storage is not installed"
        transport = None
        if s.read_api_endpoint:
            import functools

            import grpc
            from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
                BigQueryReadGrpcTransport,
            )

            # A stand-in speaks plain-text gRPC; given a channel, the transport ignores the
            # (anonymous) credentials.
            target = re.sub(r"^https?://", "", s.read_api_endpoint)
            transport = functools.partial(
                BigQueryReadGrpcTransport, channel=grpc.insecure_channel(target)
            )
        elif s.api_endpoint:
            return None, "a stand-in's api_endpoint is set and its read_api_endpoint is not"
        try:
            # transport only when needed: older clients take no such argument.
            extra = {"transport": transport} if transport else {}
            client = self._client._ensure_bqstorage_client(**extra)
        except Exception as exc:
            return None, f"its client could not be made: {first_line(exc)}"
        if client is None:  # an outdated google-cloud-bigquery-storage (the client warned)
            return None, "google-cloud-bigquery-storage is too old for google-cloud-bigquery"
        return client, None

    def _credentials_from_file(self, file: CredentialsFile) -> Any:
        import google.auth

        path = file.path
        if file.kind("engines.bigquery.credentials_file") == "service_account":
            message = (
                "a downloaded service-account key works, but keyless Workload Identity "
                "Federation (an external_account credentials file) is preferred"
            )
            self.notes.append(message)
            print(f"warning: {message}", file=sys.stderr)
        credentials, _ = google.auth.load_credentials_from_file(
            str(Path(path).expanduser()),
            scopes=["https://www.googleapis.com/auth/cloud-platform"],
        )
        return credentials

    def close(self) -> None:
        if self._read is not None:
            self._read.transport.close()
            self._read = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def endpoint(self) -> str | None:
        # The REST API the client sends its jobs to (its default, or a stand-in's api_endpoint);
        # large results may also be read from the Storage Read API, in the same service.
        from harness.engines.where import url_address

        return url_address(str(self._client._connection.API_BASE_URL))

    def version(self) -> str:
        from google.cloud import bigquery

        # BigQuery has no server version; the client library's is what can differ between runs.
        return f"google-cloud-bigquery {bigquery.__version__}"

    def describe(self) -> dict[str, Any]:
        return {
            "project": self._client.project,
            "location": self.settings.location,
            "maximum_bytes_billed": self.settings.maximum_bytes_billed,
            "fetch": self.fetch_path
            if self._read is not None
            else f"{self.rest_fetch_path} ({self._no_read_api})",
        }

    def use(self, namespace: str) -> None:
        # BigQuery has no session: every query's job config names the dataset, turns the
        # result cache off (each job's cache_hit proves it) and carries the labels.
        self._namespace = owned(namespace)
        self.result_cache = "off"

    def prepare_session(self, namespace: str, tag: str, timeout_seconds: float) -> None:
        super().prepare_session(namespace, tag, timeout_seconds)
        self._labels = {"whbench_run": _label(tag)}

    def _job_config(self, query_label: str | None = None, dry_run: bool = False) -> Any:
        from google.cloud import bigquery

        labels = dict(self._labels)
        if query_label:
            labels["whbench_query"] = _label(query_label)
        return bigquery.QueryJobConfig(
            use_query_cache=False,
            labels=labels,
            default_dataset=f"{self._client.project}.{self._namespace}",
            maximum_bytes_billed=self._max_bytes_billed,
            dry_run=dry_run,
        )

    def existing_tables(self, namespace: str) -> set[str]:
        from google.api_core.exceptions import NotFound

        try:
            return {t.table_id for t in self._client.list_tables(owned(namespace))}
        except NotFound:
            return set()

    def storage_options(self) -> dict[str, Any]:
        """The bucket is reached with the engine's own project and credentials."""
        return present(project=self._client.project, credentials=self._credentials)

    def source_uris(self, data: TableData) -> dict[str, list[str]]:
        if self.data_location is None:
            return super().source_uris(data)
        # One wildcard URI per format: a load job reads every file of the folder.
        return {fmt: [folder.uri + "*"] for fmt, folder in self.remote_folders(data).items()}

    def load(self, namespace: str, data: TableData, statements: Sequence[str]) -> LoadOutcome:
        from google.cloud import bigquery

        self._namespace = owned(namespace)
        self._client.create_dataset(namespace, exists_ok=True)
        destination = f"{self._client.project}.{namespace}.{data.table}"
        started = time.perf_counter()
        if self.data_location is not None:
            self.upload(data)
        try:
            for statement in statements:
                if statement.lstrip().upper().startswith("LOAD DATA"):
                    # Through the load-job API rather than as SQL: it reads local files too, and
                    # the emulator the tests use runs load jobs but not LOAD DATA.
                    fmt = "ndjson" if "'JSON'" in statement.upper() else "parquet"
                    config = bigquery.LoadJobConfig(
                        source_format=_SOURCE_FORMATS[fmt], write_disposition="WRITE_APPEND"
                    )
                    if self.data_location is not None:
                        self._client.load_table_from_uri(
                            self.source_uris(data)[fmt], destination, job_config=config
                        ).result()
                    else:
                        for f in data.by_format()[fmt]:
                            with f.open("rb") as file:
                                self._client.load_table_from_file(
                                    file, destination, job_config=config
                                ).result()
                else:
                    self._client.query(statement, job_config=self._job_config()).result()
        except Exception:
            self._client.delete_table(destination, not_found_ok=True)  # all or nothing
            raise
        seconds = time.perf_counter() - started
        stored = self._client.get_table(destination)
        # A table with rows and no bytes is a server that does not report sizes.
        size = stored.num_bytes if stored.num_bytes or not stored.num_rows else None
        return LoadOutcome(data.table, stored.num_rows, seconds, size)

    def run(self, sql: str, timeout_seconds: float, query_label: str | None) -> Ran:
        import concurrent.futures

        self._job = job = self._client.query(sql, job_config=self._job_config(query_label))
        try:
            result = job.result(timeout=timeout_seconds)
        except concurrent.futures.TimeoutError:
            job.cancel()  # the client stopped waiting; the job would run on, and bill
            raise
        rows = self._fetch(result, lambda: job.result(timeout=timeout_seconds))
        engine_seconds = None
        if job.started and job.ended:
            engine_seconds = (job.ended - job.started).total_seconds()
        return Ran(
            rows=rows,
            columns=tuple(field.name for field in result.schema or ()),
            engine_query_id=job.job_id,
            engine_seconds=engine_seconds,
            usage=self._usage(job),
        )

    def _fetch(self, result: Any, again: Callable[[], Any]) -> list[tuple] | spool.Spooled:
        """Every row: a list while they are few; a large result (its row count is known once
        the job is done) as Arrow record batches, spooled, when every column reads back from
        Arrow as the client's rows would give it, through the Storage Read API where the
        client would use it (`read_api_path`), else over REST pages; else row by row, spooled
        in batches. `again` gives the result anew: a RowIterator's REST pages can be read
        once, and a refused Read API may have started them."""
        total = result.total_rows
        if total is not None and total >= spool.SPOOL_ROWS and _arrow_faithful(result.schema):
            read = self._read if self._no_read_api is None else None
            if read_api_path(result, read):
                from google.api_core.exceptions import GoogleAPICallError, RetryError

                try:
                    rows = spool.spooled([], result.to_arrow_iterable(bqstorage_client=read))
                except (GoogleAPICallError, RetryError) as exc:
                    # Refused (no bigquery.readsessions.create; bqemulator: NotFound for a
                    # query's result table): this query and the session's later ones go over
                    # REST pages, so no later query pays a refused round trip in its time.
                    self._refused(exc)
                    result = again()
                else:
                    self.fetch_used = "read-api"
                    return rows
            self.fetch_used = "arrow"
            return spool.spooled([], result.to_arrow_iterable())
        self.fetch_used = "rows"
        return spool.collect(row.values() for row in result)

    def _refused(self, exc: Exception) -> None:
        self._no_read_api = f"the Storage Read API refused: {first_line(exc)}"
        self.notes.append(
            f"{self._no_read_api}; large results of this session are read over REST pages "
            "(Arrow), which is slower"
        )

    def end_of_run(self) -> dict[str, Any]:
        """The run's tables' logical and physical bytes, read after its last query (table
        metadata is free to read, and physical sizes "might be delayed by a few seconds to a few
        minutes" after a load), for a dataset billed on physical storage."""
        if self._namespace is None:
            return {}
        try:
            return {"storage": self._storage_bytes(self._namespace)}
        except Exception as exc:  # the storage bill is then unknown, and the notes say why
            self.notes.append(f"table sizes unavailable: {first_line(exc)}")
            return {}

    def _storage_bytes(self, namespace: str) -> dict[str, Any]:
        """Logical (numBytes) and physical bytes of every table in the dataset; physical is
        None when any table's is not reported."""
        logical, physical, unreported = 0, 0, []
        tables = list(self._client.list_tables(namespace))
        for item in tables:
            table = self._client.get_table(item.reference)
            logical += table.num_bytes or 0
            found = physical_bytes(table.to_api_repr())
            if found is None:
                unreported.append(table.table_id)
            else:
                physical += found
        if unreported:
            self.notes.append(
                "the server reported no physical bytes (numTotalPhysicalBytes) for "
                f"{', '.join(sorted(unreported))}: physical storage is unknown"
            )
        return {
            "tables": len(tables),
            "logical_bytes": logical,
            "physical_bytes": None if unreported or not tables else physical,
        }

    def is_timeout(self, exc: Exception) -> bool:
        import concurrent.futures

        return isinstance(exc, concurrent.futures.TimeoutError)

    def interrupt(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def _usage(self, job: Any) -> Usage:
        billed = job.total_bytes_billed
        if billed is None and not any("bytes billed" in n for n in self.notes):
            self.notes.append(
                "the server reported no bytes billed, so bytes processed are not recorded either"
            )
        # A job waits for slots between its creation and its start, then runs to its end
        # (JobStatistics creationTime, startTime, endTime:
        # https://cloud.google.com/bigquery/docs/reference/rest/v2/Job#JobStatistics, read
        # 2026-11-26): the queued / executing split under load.
        queued = executing = None
        if job.created and job.started:
            queued = max(0.0, (job.started - job.created).total_seconds())
        if job.started and job.ended:
            executing = (job.ended - job.started).total_seconds()
        return Usage(
            bytes_scanned=job.total_bytes_processed if billed is not None else None,
            bytes_billed=billed,
            slot_ms=job.slot_millis,
            cache_hit=job.cache_hit,
            queued_seconds=queued,
            execution_seconds=executing,
        )

    def limit_spend(self, dollars: float, price_per_byte: float | None) -> None:
        if price_per_byte is None:
            return
        affordable = max(MINIMUM_BYTES_LIMIT, int(dollars / price_per_byte))
        configured = self.settings.maximum_bytes_billed
        self._max_bytes_billed = min(affordable, configured) if configured else affordable

    def estimate(self, sql: str) -> Usage | None:
        """A dry run: free, and BigQuery's own figure for the bytes the query would process."""
        job = self._client.query(sql, job_config=self._job_config(dry_run=True))
        return Usage(bytes_scanned=job.total_bytes_processed)

    # INFORMATION_SCHEMA.JOBS (the project's jobs, per region, 180 days): query,
    # statement_type, job_type, state, error_result, start_time, end_time,
    # total_bytes_processed. Reading it bills like any query, so it is estimated first.
    # https://cloud.google.com/bigquery/docs/information-schema-jobs (read 2026-11-26)
    def history_sql(self, since: datetime) -> str:
        region = (self.settings.location or "US").lower()
        return (
            "SELECT query, statement_type, state, error_result IS NULL AS succeeded, "
            "start_time, end_time, total_bytes_processed "
            f"FROM `region-{region}`.INFORMATION_SCHEMA.JOBS "
            f"WHERE creation_time >= TIMESTAMP '{since:%Y-%m-%d %H:%M:%S}' "
            "AND job_type = 'QUERY' AND statement_type = 'SELECT' AND state = 'DONE' "
            "AND error_result IS NULL"
        )

    @staticmethod
    def history_entries(rows: list[dict[str, Any]]) -> list[HistoryEntry]:
        from harness.history import HistoryEntry

        entries = []
        for row in rows:
            if str(row.get("statement_type", "")).upper() != "SELECT" or row.get("state") != "DONE":
                continue
            if not row.get("succeeded", True) or not row.get("query"):
                continue
            started, ended = row.get("start_time"), row.get("end_time")
            entries.append(
                HistoryEntry(
                    text=row["query"],
                    elapsed_seconds=(ended - started).total_seconds()
                    if started and ended
                    else None,
                    bytes_scanned=row.get("total_bytes_processed"),
                    started_at=started,
                )
            )
        return entries

    def namespaces(self) -> list[str]:
        return sorted(
            d.dataset_id
            for d in self._client.list_datasets()
            if d.dataset_id.startswith(NAMESPACE_PREFIX)
        )

    def drop(self, namespace: str) -> None:
        self._client.delete_dataset(owned(namespace), delete_contents=True, not_found_ok=True)


# The Table resource: numTotalPhysicalBytes, "the physical size of this table in bytes. This
# also includes storage used for time travel. This data is not kept in real time, and might be
# delayed by a few seconds to a few minutes" (and numActivePhysicalBytes, numLongTermPhysical-
# Bytes, numTimeTravelPhysicalBytes); the older numPhysicalBytes, "the physical size of this
# table in bytes ... includes compression and storage used for time travel".
# https://cloud.google.com/bigquery/docs/reference/rest/v2/tables (read 2026-12-06). The
# Python client exposes neither as an attribute, so they are read from the resource itself.
_PHYSICAL_FIELDS = ("numTotalPhysicalBytes", "numPhysicalBytes")


def physical_bytes(resource: dict[str, Any]) -> int | None:
    """A table resource's physical bytes; None when the server does not report them, or
    reports 0 for a table that holds logical bytes (a size not computed yet is no size)."""
    for name in _PHYSICAL_FIELDS:
        value = resource.get(name)
        if value is None:
            continue
        try:
            found = int(value)
        except (TypeError, ValueError):
            return None
        if found == 0 and int(resource.get("numBytes") or 0) > 0:
            return None
        return found
    return None


def _label(text: str) -> str:
    """BigQuery label values: lower case letters, digits, - and _, at most 63 characters."""
    return re.sub(r"[^a-z0-9_-]", "_", text.lower())[:63]
