"""DuckDB stands in for itself: an embedded database on a file in the test's folder."""

from __future__ import annotations

from standins import StandIn

STAND_IN = StandIn(
    name="duckdb",
    what="DuckDB itself, in process, on a file in the test's folder (no server to start)",
    settings=lambda request, tmp_path: {"database": str(tmp_path / "bench.duckdb")},
    slow_sql="SELECT count(*) FROM range(100000000000)",
    rows_sql="SELECT range AS n, 'x' || range AS t, DATE '2020-01-01' + (range % 300)::INT AS d "
    "FROM range({rows})",
    large_fetch="arrow",
    fetch_words=("fetchmany", "to_arrow_reader"),
    unarrow_sql="SELECT range AS n, range::HUGEINT AS h FROM range({rows})",  # HUGEINT
    # Local: no account to reach, and nothing it cannot do that it does elsewhere.
)
