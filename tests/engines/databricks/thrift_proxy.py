"""The Databricks stand-in's proxy: an HTTP server in the test process between the real
databricks-sql-connector (4.9.0) and a real Spark Thrift Server (spark.py).

Both speak the same protocol — TCLIService over Thrift's binary protocol in HTTP POST bodies — but
a Databricks SQL warehouse is a Spark Thrift Server with Databricks' extensions, and the connector
relies on some of them. The proxy decodes each message with the connector's own generated types
(`databricks.sql.thrift_api.TCLIService`), bridges exactly these differences, and re-encodes it.
It never changes an answer: rows, types, errors and query ids pass through as Spark gave them.

  1. auth         the connector sends `Authorization: Bearer <token>`; the server (authentication
                  NONE, HTTP mode) reads a user from Basic auth (and answers HTTP 500 to Bearer):
                  the proxy sends Basic with the user "token" and the token as password, the form
                  Databricks' JDBC driver signs in with ("UID=token;PWD=<personal-access-token>",
                  https://docs.databricks.com/integrations/jdbc/authentication.html, read
                  2026-12-06).
  2. protocol     the connector states its protocol version only in Databricks' 64-bit field
                  (`client_protocol_i64`), which Hive ignores while it requires `client_protocol`
                  ("Required field 'client_protocol' is unset!"): the proxy asks for Hive's highest,
                  HIVE_CLI_SERVICE_PROTOCOL_V10. And the connector refuses a server below
                  SPARK_CLI_SERVICE_PROTOCOL_V2, while Spark answers V10: the proxy says V2, the
                  lowest the connector takes, so that it assumes no later Databricks feature
                  (native parameters need V8, an initial catalog V4).
  3. result set   Databricks' metadata names the row set's format (`resultFormat`, Databricks-only:
                  the connector fails on None) and is returned with every FetchResults the
                  connector asks it for (`includeResultSetMetadata`, which Hive ignores). Spark's
                  rows are column-based: the proxy says COLUMN_BASED_SET and adds the metadata,
                  asking Spark for it (GetResultSetMetadata).
  4. more rows    Hive's FetchResults always says `hasMoreRows=false`, so the connector stops after
                  the first batch (200,000 rows came back as 100,000, with no error). The proxy
                  says true while a fetch returned rows; the fetch that returns none ends it.
  5. DDL results  a statement without a result (CREATE TABLE …) declares one column and returns a
                  row set with no columns (the connector fails with IndexError): the proxy adds the
                  declared columns, empty.

Beside the protocol, the Unity Catalog parts whbench's loading uses (unity_sql.py and
files_api.py): the Files API under /api/2.0/fs/ (files kept in a local folder), `CREATE VOLUME` /
`DROP VOLUME` as no-ops, and `COPY INTO` rewritten to Spark's `INSERT INTO … SELECT … FROM
parquet.`<folder>``. Everything else is passed through unchanged.
"""

from __future__ import annotations

import base64
import http.client
import json
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from databricks.sql.thrift_api.TCLIService import TCLIService, ttypes
from standins import free_port
from thrift.protocol import TBinaryProtocol
from thrift.Thrift import TApplicationException, TMessageType
from thrift.transport import TTransport

from engines.databricks.files_api import FilesApi
from engines.databricks.unity_sql import refuse, rewrite_statement

THRIFT_PATH = "/cliservice"
HOST_METADATA = "/.well-known/databricks-config"
FORWARD_TIMEOUT = 24 * 3600  # a slow query's GetOperationStatus returns at once; no real bound
SUCCESS = (ttypes.TStatusCode.SUCCESS_STATUS, ttypes.TStatusCode.SUCCESS_WITH_INFO_STATUS)
# Bridge 5: the TColumn field (and its column type) for an empty column of each declared type.
EMPTY_COLUMNS = {
    ttypes.TTypeId.BOOLEAN_TYPE: ("boolVal", ttypes.TBoolColumn),
    ttypes.TTypeId.TINYINT_TYPE: ("byteVal", ttypes.TByteColumn),
    ttypes.TTypeId.SMALLINT_TYPE: ("i16Val", ttypes.TI16Column),
    ttypes.TTypeId.INT_TYPE: ("i32Val", ttypes.TI32Column),
    ttypes.TTypeId.BIGINT_TYPE: ("i64Val", ttypes.TI64Column),
    ttypes.TTypeId.FLOAT_TYPE: ("doubleVal", ttypes.TDoubleColumn),
    ttypes.TTypeId.DOUBLE_TYPE: ("doubleVal", ttypes.TDoubleColumn),
    ttypes.TTypeId.BINARY_TYPE: ("binaryVal", ttypes.TBinaryColumn),
}


# -- Thrift messages ---------------------------------------------------------------------------
def decode(body: bytes, kind: str) -> tuple[str, int, int, Any]:
    """A TCLIService message: (method name, message type, sequence id, its `_args` or `_result`
    struct)."""
    protocol = TBinaryProtocol.TBinaryProtocol(TTransport.TMemoryBuffer(body))
    name, message_type, seqid = protocol.readMessageBegin()
    struct = getattr(TCLIService, f"{name}_{kind}")()
    struct.read(protocol)
    protocol.readMessageEnd()
    return name, message_type, seqid, struct


def encode(name: str, message_type: int, seqid: int, struct: Any) -> bytes:
    buffer = TTransport.TMemoryBuffer()
    protocol = TBinaryProtocol.TBinaryProtocol(buffer)
    protocol.writeMessageBegin(name, message_type, seqid)
    struct.write(protocol)
    protocol.writeMessageEnd()
    return buffer.getvalue()


def application_exception(body: bytes) -> str | None:
    """The message of a TApplicationException answer (the server failed the call), or None."""
    protocol = TBinaryProtocol.TBinaryProtocol(TTransport.TMemoryBuffer(body))
    if protocol.readMessageBegin()[1] != TMessageType.EXCEPTION:
        return None
    exception = TApplicationException()
    exception.read(protocol)
    return exception.message or f"TApplicationException type {exception.type}"


def row_count(row_set: ttypes.TRowSet | None) -> int:
    """Rows in a column-based row set (what Spark sends)."""
    if row_set is None:
        return 0
    if row_set.columns:
        column = row_set.columns[0]
        for field in EMPTY_COLUMNS.values():
            if (values := getattr(column, field[0])) is not None:
                return len(values.values)
        return len(column.stringVal.values) if column.stringVal else 0
    return len(row_set.rows or [])


def empty_column(column: ttypes.TColumnDesc) -> ttypes.TColumn:
    """An empty column of the declared type (bridge 5)."""
    entry = column.typeDesc.types[0].primitiveEntry
    field, kind = EMPTY_COLUMNS.get(
        entry.type if entry else None, ("stringVal", ttypes.TStringColumn)
    )
    return ttypes.TColumn(**{field: kind(values=[], nulls=b"")})


# -- the proxy ---------------------------------------------------------------------------------
class ThriftProxy:
    """The proxy on a free port of 127.0.0.1, serving until close(); `files` is the folder the
    Files API keeps volumes' files in (what COPY INTO reads)."""

    def __init__(self, spark_port: int, files: Path) -> None:
        self.spark_port = spark_port
        self.files = FilesApi(files)
        self.port = free_port()
        proxy = self

        class Handler(ProxyHandler):
            owner = proxy

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # A call to Spark on its own connection: the connector's calls come from many threads (a
    # cancel arrives while an execute waits), and each handler thread forwards its own.
    def spark(self, body: bytes, authorization: str) -> tuple[int, bytes, str]:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.spark_port, timeout=FORWARD_TIMEOUT
        )
        try:
            connection.request(
                "POST",
                THRIFT_PATH,
                body,
                {"Content-Type": "application/x-thrift", "Authorization": authorization},
            )
            response = connection.getresponse()
            return response.status, response.read(), response.reason
        finally:
            connection.close()

    def call(self, name: str, request: Any, authorization: str) -> Any:
        """One TCLIService call of the proxy's own (bridge 3's GetResultSetMetadata)."""
        args = getattr(TCLIService, f"{name}_args")(req=request)
        status, body, reason = self.spark(
            encode(name, ttypes.TMessageType.CALL, 0, args), authorization
        )
        if status != 200:
            raise RuntimeError(f"Spark answered {name} with HTTP {status} {reason}")
        return decode(body, "result")[3].success

    def forward(self, body: bytes, authorization: str) -> tuple[int, bytes, str]:
        """One Thrift call from the connector: bridged, forwarded, its answer bridged."""
        name, message_type, seqid, args = decode(body, "args")
        if name == "OpenSession" and (args.req.client_protocol or -1) < 0:
            # Bridge 2: the connector states its version only in Databricks' 64-bit field
            # (client_protocol_i64); Hive requires client_protocol (unset: the generated
            # default, -7, which Hive does not know): the highest Hive version.
            args.req.client_protocol = ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10
        elif name == "ExecuteStatement":
            args.req.statement = self.rewrite(args.req, authorization)
        status, answer, reason = self.spark(encode(name, message_type, seqid, args), authorization)
        if status != 200:
            return status, answer, reason
        if exception := application_exception(answer):
            print(f"proxy: Spark refused {name}: {exception}", file=sys.stderr)
            return status, answer, reason  # the server's TApplicationException, as it is
        name, message_type, seqid, result = decode(answer, "result")
        if result.success is not None:
            self.bridge(name, args.req, result.success, authorization)
        return status, encode(name, message_type, seqid, result), reason

    def rewrite(self, request: ttypes.TExecuteStatementReq, authorization: str) -> str:
        """The statement Spark runs (unity_sql.py), after what it needs run first in the same
        session; a failure there fails the statement, with Spark's message."""
        rewrite = rewrite_statement(request.statement, self.files.root)
        for statement in rewrite.before:
            response = self.call(
                "ExecuteStatement",
                ttypes.TExecuteStatementReq(
                    sessionHandle=request.sessionHandle, statement=statement, runAsync=False
                ),
                authorization,
            )
            if response.status.statusCode not in SUCCESS:
                return refuse(response.status.errorMessage or "failed").statement
            self.call(
                "CloseOperation",
                ttypes.TCloseOperationReq(operationHandle=response.operationHandle),
                authorization,
            )
        return rewrite.statement

    def bridge(self, name: str, request: Any, response: Any, authorization: str) -> None:
        if name == "OpenSession":
            # Bridge 2: the lowest version the connector accepts (see the module's docstring).
            response.serverProtocolVersion = ttypes.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V2
        elif name == "GetResultSetMetadata":
            # Bridge 3: Spark's row sets are column-based; Databricks says so, Hive does not.
            response.resultFormat = ttypes.TSparkRowSetType.COLUMN_BASED_SET
        elif name == "FetchResults" and response.status.statusCode in SUCCESS:
            metadata = response.resultSetMetadata
            if metadata is None:
                # Bridge 3: the metadata the connector asked to have with the rows.
                metadata = self.call(
                    "GetResultSetMetadata",
                    ttypes.TGetResultSetMetadataReq(operationHandle=request.operationHandle),
                    authorization,
                )
                metadata.resultFormat = ttypes.TSparkRowSetType.COLUMN_BASED_SET
                if request.includeResultSetMetadata:
                    response.resultSetMetadata = metadata
            rows = row_count(response.results)
            # Bridge 4: more rows may follow while a fetch returns some.
            response.hasMoreRows = rows > 0
            declared = metadata.schema.columns if metadata.schema else []
            if response.results is not None and not response.results.columns and declared:
                # Bridge 5: the declared columns, empty (there are no rows).
                response.results.columns = [empty_column(column) for column in declared]


class ProxyHandler(BaseHTTPRequestHandler):
    owner: ThriftProxy
    protocol_version = "HTTP/1.1"  # keep-alive: the connector reuses its connections
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for the
    # client's delayed ACK (about 40 ms), five times per query (250 ms of a 300 ms SELECT 1).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: pytest shows failures, not every request

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def authorization(self) -> str:
        """Bridge 1: Bearer <token> becomes Basic token:<token>."""
        given = self.headers.get("Authorization", "")
        token = given.removeprefix("Bearer ").strip() if given.startswith("Bearer ") else "x"
        return "Basic " + base64.b64encode(f"token:{token}".encode()).decode()

    def do_POST(self) -> None:
        if self.path.startswith("/api/"):
            return self.files_api()
        try:
            status, body, _ = self.owner.forward(self.body(), self.authorization())
        except Exception as exc:  # a bug of the proxy's: say so, rather than drop the connection
            traceback.print_exc()
            status, body = 500, f"the Databricks stand-in's proxy failed: {exc!r}".encode()
        self.reply(status, body, {"Content-Type": "application/x-thrift"})

    def files_api(self) -> None:
        if self.command == "GET" and self.path == HOST_METADATA:
            # databricks-sdk reads a workspace's discovery document before its first call and
            # warns on every run without one. A workspace's OIDC endpoints are under <host>/oidc
            # ("POST … to https://<databricks-instance>/oidc/v1/token",
            # https://docs.databricks.com/aws/en/dev-tools/auth/oauth-authorization-details, read
            # 2026-12-06); nothing else is claimed (no account or workspace id).
            oidc = f"http://127.0.0.1:{self.owner.port}/oidc"
            body = json.dumps({"oidc_endpoint": oidc}).encode()
            return self.reply(200, body, {"Content-Type": "application/json"})
        status, body, headers = self.owner.files.handle(self.command, self.path, self.body)
        self.reply(status, body, headers)

    do_GET = do_PUT = do_DELETE = do_HEAD = files_api
