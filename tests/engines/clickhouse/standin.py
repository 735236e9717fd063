"""Embedded ClickHouse stands in for itself: chDB (ClickHouse 26.9 in this process) on a data
folder in the test's folder, no server to start. One process opens one chDB folder at a time;
each test's engine is closed after it, so the next test may open its own.

The server mode (a ClickHouse server or ClickHouse Cloud through clickhouse-connect) has a
stand-in of its own, started here for the session (`clickhouse_server`): the real
clickhouse-connect against chDB behind a small HTTP server (tests/engines/clickhouse/http_shim.py)
in a process of its own (chDB opens one data folder per process, and this process has the
embedded one's). The registry has one stand-in per engine name, so the conformance suite runs on
the embedded one; tests/engines/clickhouse/test_clickhouse_server.py runs the conformance suite's
checks through the server path. What the shim cannot prove about a real server or ClickHouse
Cloud (SERVER_GAPS) is in docs/engines.md too."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from standins import RealAccount, StandIn, free_port, server

SHIM = Path(__file__).resolve().parent / "http_shim.py"
SERVER_GAPS = {
    "query id": "system.query_log and system.processes hold chDB's own query id, not the one "
    "sent: the engine finds a query by its log_comment there (a real server: by either)",
    "authentication": "user and password are accepted unchecked",
    "tls": "no TLS: secure=False (ClickHouse Cloud is HTTPS on 8443)",
    "settings": "settings sent with one request stick to the session",
    "compression": "responses are not compressed; request bodies are (gzip, deflate, zstd, lz4)",
    "cold": "SYSTEM DROP … CACHE always has the right here; a Cloud user may not (then a note)",
    "cloud": "one process: no replicas, no ON CLUSTER, no scaling to zero or idle timeout, no "
    "object storage or its file system cache, no network latency",
}


@pytest.fixture(scope="session")
def clickhouse_server(tmp_path_factory) -> int:
    """The HTTP shim in front of chDB, in a process of its own: its port."""
    port = free_port()
    folder = tmp_path_factory.mktemp("clickhouse-server")
    command = [sys.executable, str(SHIM), "--port", str(port), "--path", str(folder / "chdb")]
    with server(command, port, folder / "shim.log"):
        yield port


def server_settings(port: int) -> dict:
    return {"host": "127.0.0.1", "port": port, "secure": False}


def real_clickhouse(env):
    from harness.engines.clickhouse import ClickHouseEngine, ClickHouseSettings
    from harness.engines.credentials import Secret

    return ClickHouseEngine(
        ClickHouseSettings(
            host=env["CLICKHOUSE_HOST"],
            user=env.get("CLICKHOUSE_USER") or "default",
            password=Secret(env["CLICKHOUSE_PASSWORD"]),
            secure=True,
        )
    )


STAND_IN = StandIn(
    name="clickhouse",
    what="chDB (ClickHouse in process) on a data folder in the test's folder (no server)",
    settings=lambda request, tmp_path: {"path": str(tmp_path / "chdb")},
    slow_sql="SELECT count() FROM numbers(100000000000)",
    rows_sql="SELECT number AS n, concat('x', toString(number)) AS t, "
    "toDate32('2020-01-01') + toInt32(number % 300) AS d FROM numbers({rows})",
    large_fetch="arrow",
    fetch_words=("send_query", "record_batch"),
    real=RealAccount(
        needs=("CLICKHOUSE_HOST", "CLICKHOUSE_PASSWORD"),
        reason="needs a real ClickHouse Cloud service (or server over HTTPS): set "
        "CLICKHOUSE_HOST and CLICKHOUSE_PASSWORD, optionally CLICKHOUSE_USER (default: default)",
        engine=real_clickhouse,
        namespace="default",
        under_load=("execution_seconds",),  # system.query_log: no queue time
        history_current=False,  # system.query_log is flushed every 7.5 s
    ),
)
