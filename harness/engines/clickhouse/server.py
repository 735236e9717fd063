"""ClickHouse server mode: a ClickHouse server or ClickHouse Cloud through clickhouse-connect
(HTTP(S)): its API, https://clickhouse.com/docs/integrations/language-clients/python/driver-api
(read 2026-12-06: get_client's host, port — 8123, or 8443 when secure —, username, password,
secure, session_id, and `settings` sent with every request), and ClickHouse's HTTP interface,
https://clickhouse.com/docs/interfaces/http (read 2026-12-06).

`ServerConnection` answers the calls the engine makes of a chDB connection (`query(sql)`,
`query(sql, "ArrowTable")`, `send_query(sql, "Arrow").record_batch()`, `close()`), so both modes
run the same SQL through the same engine code:

- one client per connection, in an HTTP session of its own (`session_id`), so `USE` and `SET`
  hold for the session as they do on a chDB connection. Each `SET name = value` is also kept and
  sent with every later request as a setting (clickhouse-connect's `settings=`), so a setting
  holds even where a request does not reach the session's server;
- a query's result as Arrow (`query_arrow`, `query_arrow_stream`: FORMAT Arrow/ArrowStream, the
  same output as chDB's, so dates, decimals and a DateTime read the same way — the Native format,
  clickhouse-connect's default, drops a DateTime's time zone);
- a query's id sent as `query_id` (a transport setting of clickhouse-connect), which a server
  logs in system.query_log and lists in system.processes (`KILL QUERY`);
- a load from local Parquet files: the engine's `INSERT … SELECT * FROM file('F', Parquet)` reads
  a file on the server's disk, which a remote server does not have, so the file is read here
  (pyarrow, a row group at a time) and sent with `insert_arrow` (INSERT … FORMAT Arrow).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

from harness.errors import EngineError, first_line

SET = re.compile(r"^\s*SET\s+(\w+)\s*=\s*(.+?)\s*;?\s*$", re.I | re.S)
USE = re.compile(r"^\s*USE\s+`?([^`]+?)`?\s*;?\s*$", re.I)
# The load script's form of a local file's rows (workloads/_shared/dialect.sql.j2,
# clickhouse__load_parquet).
FILE_INSERT = re.compile(
    r"^\s*INSERT\s+INTO\s+(`(?:[^`\\]|\\.)+`|\w+)\s+SELECT\s+\*\s+FROM\s+file\('((?:[^'\\]|\\.)*)',"
    r"\s*Parquet\)",
    re.I,
)
# A long query is stopped by max_execution_time or KILL QUERY, not by the HTTP read timeout.
RECEIVE_TIMEOUT_SECONDS = 7 * 24 * 3600
CONNECT_TIMEOUT_SECONDS = 10


def _value(literal: str) -> str:
    if len(literal) >= 2 and literal[0] == literal[-1] == "'":
        return literal[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    return literal


def _unquote(identifier: str) -> str:
    if identifier.startswith("`"):
        return identifier[1:-1].replace("\\`", "`").replace("\\\\", "\\")
    return identifier


class _Stream:
    """A query_arrow_stream read as chDB's record_batch() reader: its schema, then batches."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self.schema = context.gen.schema

    def __iter__(self) -> Iterator[Any]:
        with self._context as batches:
            yield from batches


class _Sent:
    def __init__(self, context: Any) -> None:
        self._context = context

    def record_batch(self, rows_per_batch: int | None = None) -> _Stream:
        return _Stream(self._context)  # batches are the server's blocks, whatever their size


def _quiet_driver_log() -> None:
    """clickhouse-connect logs a failed request as a warning (with its traceback) before it
    raises; whbench configures no logging, so Python would print it. The error itself reaches
    the user as one line (EngineError), so the driver's log gets a handler that drops it."""
    log = logging.getLogger("clickhouse_connect")
    if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
        log.addHandler(logging.NullHandler())
        log.propagate = False


class ServerConnection:
    def __init__(self, settings: Any) -> None:  # ClickHouseSettings; not imported: no cycle
        try:
            import clickhouse_connect
        except ImportError:  # the registry checks chDB, the embedded mode's driver
            raise EngineError(
                "the clickhouse server driver (clickhouse_connect) is not installed; run: "
                "pip install 'warehouse-bench[clickhouse]'"
            ) from None
        _quiet_driver_log()
        self._settings: dict[str, str] = {}
        host, port = settings.host, settings.server_port
        try:
            self.client = clickhouse_connect.get_client(
                host=host,
                port=port,
                username=settings.user,
                password=str(settings.password or ""),
                secure=settings.secure,
                session_id=f"whb-{uuid.uuid4().hex}",
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                send_receive_timeout=RECEIVE_TIMEOUT_SECONDS,
            )
        except Exception as exc:
            raise EngineError(
                f"cannot reach ClickHouse at {host}:{port} as {settings.user}: {first_line(exc)}"
            ) from None

    def _sent(self, query_id: str | None = None) -> dict[str, str]:
        settings = dict(self._settings)
        if query_id is not None:
            settings["query_id"] = query_id
        return settings

    def query(self, sql: str, fmt: str | None = None) -> Any:
        if fmt == "ArrowTable":
            return self.client.query_arrow(sql, settings=self._sent())
        self.client.command(sql, settings=self._sent())
        if found := SET.match(sql):  # after the server took it: a refused setting is not kept
            self._settings[found.group(1)] = _value(found.group(2))
        elif found := USE.match(sql):
            self.client.database = _unquote(found.group(1))
        return None

    def send_query(self, sql: str, fmt: str, query_id: str | None = None) -> _Sent:
        return _Sent(self.client.query_arrow_stream(sql, settings=self._sent(query_id)))

    def insert_parquet(self, table: str, path: str) -> None:
        """A local Parquet file's rows into `table`, a row group per request."""
        import pyarrow.parquet as pq

        file = pq.ParquetFile(path)
        for group in range(file.num_row_groups):
            self.client.insert_arrow(table, file.read_row_group(group), settings=self._sent())

    def close(self) -> None:
        self.client.close()


def local_file_insert(statement: str) -> tuple[str, str] | None:
    """(table, file) when the statement inserts a local Parquet file's rows (the load script's
    form); None for any other statement."""
    found = FILE_INSERT.match(statement)
    if not found:
        return None
    return _unquote(found.group(1)), found.group(2).replace("\\'", "'").replace("\\\\", "\\")
