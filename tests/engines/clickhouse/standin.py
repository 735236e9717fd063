"""Embedded ClickHouse stands in for itself: chDB (ClickHouse 26.9 in this process) on a data
folder in the test's folder, no server to start. One process opens one chDB folder at a time;
each test's engine is closed after it, so the next test may open its own."""

from __future__ import annotations

from standins import StandIn

STAND_IN = StandIn(
    name="clickhouse",
    what="chDB (ClickHouse in process) on a data folder in the test's folder (no server)",
    settings=lambda request, tmp_path: {"path": str(tmp_path / "chdb")},
    slow_sql="SELECT count() FROM numbers(100000000000)",
    rows_sql="SELECT number AS n, concat('x', toString(number)) AS t, "
    "toDate32('2020-01-01') + toInt32(number % 300) AS d FROM numbers({rows})",
    large_fetch="arrow",
    fetch_words=("send_query", "record_batch"),
    # Embedded: no account to reach; the server mode (clickhouse-connect) is not written yet.
)
