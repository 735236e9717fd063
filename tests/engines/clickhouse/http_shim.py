"""A small ClickHouse HTTP interface in front of chDB, for the server mode's stand-in: the real
clickhouse-connect talks HTTP to this process, which runs each request with chDB (ClickHouse
26.9 in process). Run it as its own process (chDB opens one data folder per process, and the
pytest process has its own):

    python tests/engines/clickhouse/http_shim.py --port P --path DIR

What it does, as ClickHouse's HTTP interface page describes the server's side
(https://clickhouse.com/docs/interfaces/http, read 2026-12-06): the `query` URL parameter
followed by the POST body; chunked and compressed (Content-Encoding gzip, deflate, zstd, lz4)
request bodies; one chDB connection per `session_id`; `database` as USE; `param_NAME` as query
parameters; other URL parameters as SET; `INSERT … FORMAT F` with the data in the body streamed
into chDB's send_insert; response headers X-ClickHouse-Query-Id, -Format, -Timezone, -Summary;
an error as HTTP 500 with X-ClickHouse-Exception-Code and ClickHouse's message as the body.

What it cannot prove about a real server or ClickHouse Cloud (its gaps, also in standin.py and
docs/engines.md): the query id in system.query_log and system.processes is chDB's own, not the
one the client sent (the engine also labels each query with log_comment, which is found);
no authentication (user and password are accepted, unchecked); no TLS (secure=False); settings
sent with one request stick to the session; response bodies are not compressed; no progress
headers, no `wait_end_of_query`, no external data; one process, so no replicas, no
`ON CLUSTER`, no scaling to zero, no network latency.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import re
import socket
import sys
import threading
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import chdb

# The query log, which chDB keeps only when its configuration asks: the embedded engine's.
from harness.engines.clickhouse import CONFIG

# URL parameters that are the HTTP interface's own, not settings.
OWN = {
    "query", "session_id", "session_timeout", "session_check", "database", "default_format",
    "query_id", "user", "password", "compress", "decompress", "enable_http_compression",
    "client_protocol_version", "wait_end_of_query", "buffer_size", "quota_key",
    "send_progress_in_http_headers", "http_headers_progress_interval_ms", "role",
}  # fmt: skip
INSERT = re.compile(r"^\s*(INSERT\s+INTO\s+.+?)\s+FORMAT\s+(\w+)\s*$", re.I | re.S)
FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.I)
CODE = re.compile(r"Code: (\d+)\.")


class Shim:
    def __init__(self, folder: str) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        config = Path(folder, "whbench-shim.xml")
        config.write_text(CONFIG)
        path = self.path = f"{Path(folder).resolve()}?config-file={config.resolve()}"
        self.base = chdb.connect(path)  # kept open: chDB closes its server with the last one
        self.sessions: dict[str, tuple[object, threading.Lock]] = {}
        self.lock = threading.Lock()

    def session(self, session_id: str | None) -> tuple[object, threading.Lock, bool]:
        if session_id is None:
            return chdb.connect(self.path), threading.Lock(), True
        with self.lock:
            if session_id not in self.sessions:
                self.sessions[session_id] = (chdb.connect(self.path), threading.Lock())
            con, lock = self.sessions[session_id]
        return con, lock, False


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    headers = handler.headers
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            parts.append(handler.rfile.read(size))
            handler.rfile.readline()
        body = b"".join(parts)
    else:
        body = handler.rfile.read(int(headers.get("Content-Length") or 0))
    encoding = headers.get("Content-Encoding", "").lower()
    if encoding == "gzip":
        body = gzip.decompress(body)
    elif encoding == "deflate":
        body = zlib.decompress(body)
    elif encoding == "zstd":
        from backports import zstd

        body = zstd.decompress(body)
    elif encoding == "lz4":
        import lz4.frame

        body = lz4.frame.decompress(body)
    return body


def figure(result: object, name: str) -> float:
    value = getattr(result, name, 0)
    return float((value() if callable(value) else value) or 0)


def literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Handler(BaseHTTPRequestHandler):
    shim: Shim
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # disable_nagle_algorithm: without it every small response waits ~40-50 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path in ("/ping", "/") and "query" not in dict(parse_qsl(url.query)):
            return self.reply(200, b"Ok.\n", {})
        self.handle_query(b"")

    def do_POST(self) -> None:
        self.handle_query(read_body(self))

    def reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_query(self, body: bytes) -> None:
        params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
        query_id = params.get("query_id") or str(uuid.uuid4())
        sql = params.get("query", "")
        con, lock, temporary = self.shim.session(params.get("session_id"))
        headers = {"X-ClickHouse-Query-Id": query_id, "X-ClickHouse-Timezone": "UTC"}
        try:
            with lock:
                for name, value in params.items():
                    if name in OWN:
                        continue
                    if not name.startswith("param_"):
                        con.query(f"SET {name} = {literal(value)}")
                if params.get("database"):
                    con.query(f"USE `{params['database']}`")
                bind = {k[6:]: v for k, v in params.items() if k.startswith("param_")}
                out, fmt, result = self.run(con, sql, body, bind, params)
        except Exception as exc:
            text = str(exc)
            code = CODE.search(text)
            headers["X-ClickHouse-Exception-Code"] = code.group(1) if code else "1001"
            headers["Content-Type"] = "text/plain; charset=UTF-8"
            return self.reply(500, (text + "\n").encode(), headers)
        finally:
            if temporary:
                con.close()
        summary = {
            "read_rows": str(int(figure(result, "rows_read"))),
            "read_bytes": str(int(figure(result, "bytes_read"))),
            "written_rows": str(int(figure(result, "rows_written"))),
            "written_bytes": str(int(figure(result, "bytes_written"))),
            "elapsed_ns": str(int(figure(result, "elapsed") * 1e9)),
        }
        headers |= {"X-ClickHouse-Format": fmt, "X-ClickHouse-Summary": json.dumps(summary)}
        self.reply(200, out, headers)

    def run(self, con, sql: str, body: bytes, bind: dict, params: dict):
        insert = INSERT.match(sql) if body else None
        if insert:  # the data is the body: streamed into chDB's insert
            with con.send_insert(insert.group(1), insert.group(2)) as inserter:
                inserter.append(body)
                result = inserter.finish()
            return b"", insert.group(2), result
        if body:
            sql = f"{sql}\n{body.decode()}" if sql else body.decode()
        found = FORMAT.search(sql)
        fmt = found.group(1) if found else params.get("default_format", "TabSeparated")
        result = con.query(sql, fmt, params=bind or None)
        data = result.bytes() if hasattr(result, "bytes") else bytes(result)
        return data, fmt, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    args = parser.parse_args()
    Handler.shim = Shim(args.path)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"listening on {args.port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
