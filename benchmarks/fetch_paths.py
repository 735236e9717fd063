"""How fast each driver's fetch paths hand a result to Python, per engine on its local stand-in.

For each engine and result size (1k, 100k, 1M rows of a whole number, a text and a date: the
column types every driver reads back alike from Arrow), the same query is run and its result
fetched by each path the driver documents; the figure is rows per second of the fetch alone
(after the query ran, best of --repeat):

    rows           the driver's own rows as a list of tuples (fetchmany; BigQuery: REST pages,
                   row by row): what the harness keeps for a result up to SPOOL_ROWS
    arrow          Arrow record batches, kept as Arrow (what the harness spools past SPOOL_ROWS)
    arrow->rows    Arrow record batches, then turned into a list of tuples (harness.spool's
                   python_rows): what a small result would cost on the Arrow path, since the
                   harness keeps a small result as a list
    read-api       BigQuery only: the Storage Read API (google-cloud-bigquery-storage over
                   gRPC), Arrow. bqemulator cannot read a query's result through it (its
                   anonymous result table is not in its catalog), so this reads the same rows
                   from a table made with CREATE TABLE AS; the query path is reported as failed

DuckDB runs in-process; Snowflake is fakesnow, BigQuery bqemulator (both started here on free
ports), Redshift is PostgreSQL 15 behind the test suite's protocol shim (redshift_connector has
no Arrow path: rows only; it reads a whole result off the socket inside execute, so its figure
is the cost of handing over rows already read). Stand-ins are not the warehouses: these figures
compare paths on one client, not engines.

Measured 2026-12-06 (2 cores; rows/s, best of 3, 2 for BigQuery and Redshift):

    engine     path              1k          100k        1M
    duckdb     rows              2.2M        2.0M        1.9M
    duckdb     arrow             2.4M        13.2M       14.3M
    duckdb     arrow->rows       0.65M       0.84M       0.82M
    snowflake  rows              0.75M       0.90M       0.93M
    snowflake  arrow             4.2M        11.4M       11.0M
    snowflake  arrow->rows       0.75M       0.85M       0.78M
    bigquery   rows (REST)       37k         30k         29k
    bigquery   arrow (REST)      53k         45k         46k
    bigquery   read-api (table)  2.4k        0.45M       2.0M   (query result: fails)
    redshift   rows              5.3M        4.1M        3.4M

    .venv/bin/python benchmarks/fetch_paths.py [--sizes 1000 100000 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import fakesnow_settings, free_port, server  # noqa: E402

from harness import spool  # noqa: E402
from harness.config import parse_config  # noqa: E402
from harness.engines import engine_class  # noqa: E402

SQL = {
    "duckdb": "SELECT range AS n, 'x' || range AS t, DATE '2020-01-01' + (range % 300)::INT AS d "
    "FROM range({rows})",
    "snowflake": "SELECT SEQ4() AS n, 'x' || SEQ4() AS t, DATEADD(day, SEQ4() % 300, "
    "'2020-01-01'::DATE) AS d FROM TABLE(GENERATOR(ROWCOUNT => {rows}))",
    "bigquery": "SELECT n, CONCAT('x', CAST(n AS STRING)) AS t, "
    "DATE_ADD(DATE '2020-01-01', INTERVAL MOD(n, 300) DAY) AS d "
    "FROM UNNEST(GENERATE_ARRAY(0, {rows} - 1)) AS n",
    "redshift": "SELECT n, 'x' || n AS t, DATE '2020-01-01' + (n % 300) AS d "
    "FROM generate_series(0, {rows} - 1) AS n",
}

# A fetch: given what ran (a cursor or a BigQuery RowIterator), the number of rows fetched.
Fetch = Callable[[Any], int]


def _rows(cursor: Any) -> int:
    rows: list[tuple] = []
    while batch := cursor.fetchmany(spool.BATCH_ROWS):
        rows.extend(tuple(r) for r in batch)
    return len(rows)


def _count(batches: Iterator[Any], to_rows: bool) -> int:
    if to_rows:
        return sum(len(spool.python_rows(batch)) for batch in batches)
    return sum(batch.num_rows for batch in batches)


def duckdb_paths() -> dict[str, Fetch]:
    return {
        "rows": _rows,
        "arrow": lambda cursor: _count(spool.arrow_reader(cursor), False),
        "arrow->rows": lambda cursor: _count(spool.arrow_reader(cursor), True),
    }


def snowflake_paths() -> dict[str, Fetch]:
    return {
        "rows": _rows,
        "arrow": lambda cursor: _count(cursor.fetch_arrow_batches(), False),
        "arrow->rows": lambda cursor: _count(cursor.fetch_arrow_batches(), True),
    }


def bigquery_paths() -> dict[str, Fetch]:
    return {
        "rows": lambda result: len([row.values() for row in result]),
        "arrow": lambda result: _count(result.to_arrow_iterable(), False),
        "arrow->rows": lambda result: _count(result.to_arrow_iterable(), True),
    }


@contextlib.contextmanager
def stand_in(name: str, folder: Path) -> Iterator[dict[str, Any]]:
    """Settings reaching `name`'s stand-in, started for the block (as tests/conftest.py does)."""
    if name == "duckdb":
        yield {"database": ":memory:"}
    elif name == "snowflake":
        port = free_port()
        command = [str(Path(sys.executable).parent / "fakesnow"), "-s", "-p", str(port)]
        with server(command, port, folder / "fakesnow.log"):
            yield {**fakesnow_settings(port), "warehouse": "bench_wh"}
    elif name == "bigquery":
        rest, grpc = free_port(), free_port()
        command = [str(ROOT / ".venv-bqemulator/bin/bqemulator"), "start", "--project"]
        command += ["whbench-test", "--rest-port", str(rest), "--grpc-port", str(grpc)]
        with server(command, rest, folder / "bqemulator.log", cwd=folder):
            yield {
                "project": "whbench-test",
                "api_endpoint": f"http://127.0.0.1:{rest}",
                "anonymous": True,
                "_grpc": grpc,
            }
    else:
        from engines.redshift.postgres import PostgresCluster, RedshiftShim

        cluster = PostgresCluster(free_port())
        cluster.start()
        shim = RedshiftShim(cluster.port)
        try:
            yield {
                "host": "127.0.0.1",
                "port": shim.port,
                "database": "postgres",
                "user": "bench",
                "password": "x",
                "ssl": False,
            }
        finally:
            shim.close()
            cluster.stop()


def best(seconds: list[float]) -> float:
    return min(seconds)


def measure(name: str, settings: dict[str, Any], sizes: list[int], repeat: int) -> None:
    grpc = settings.pop("_grpc", None)
    engine = engine_class(name)(parse_config({"engines": {name: settings}}).engines[name])
    engine.connect()
    try:
        if name == "bigquery":
            paths = bigquery_paths()
        elif name == "duckdb":
            paths = duckdb_paths()
        elif name == "snowflake":
            paths = snowflake_paths()
        else:
            paths = {"rows": _rows}
        for rows in sizes:
            sql = SQL[name].format(rows=rows)
            for path, fetch in paths.items():
                seconds = []
                for _ in range(repeat):
                    ran = _ready(name, engine, sql)
                    started = time.perf_counter()
                    got = fetch(ran)
                    seconds.append(time.perf_counter() - started)
                    assert got == rows, (name, path, got, rows)
                _line(name, path, rows, best(seconds))
            if grpc is not None:
                _read_api(engine, grpc, sql, rows, repeat)
    finally:
        engine.close()


def _ready(name: str, engine: Any, sql: str) -> Any:
    """The query run, its result not yet fetched."""
    if name == "bigquery":
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(use_query_cache=False)
        return engine._client.query(sql, job_config=config).result()
    cursor = engine._con.cursor()
    cursor.execute(sql)
    return cursor


def _read_api(engine: Any, grpc_port: int, sql: str, rows: int, repeat: int) -> None:
    """BigQuery's Storage Read API: a query's result (fails on bqemulator), then a table."""
    try:
        import google.cloud.bigquery_storage  # noqa: F401
    except ImportError:
        print("bigquery   read-api: google-cloud-bigquery-storage is not installed, not measured")
        return
    import grpc
    from google.cloud import bigquery, bigquery_storage
    from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
        BigQueryReadGrpcTransport,
    )

    client = engine._client
    read = bigquery_storage.BigQueryReadClient(
        transport=BigQueryReadGrpcTransport(channel=grpc.insecure_channel(f"127.0.0.1:{grpc_port}"))
    )
    config = bigquery.QueryJobConfig(use_query_cache=False)
    result = client.query(sql, job_config=config).result()
    try:
        _count(result.to_arrow_iterable(bqstorage_client=read), False)
        print(f"bigquery   read-api (query result)  {rows:>9,}  worked")
    except Exception as exc:  # the stand-in's gap, reported as it is
        print(f"bigquery   read-api (query result)  {rows:>9,}  fails: {str(exc)[:70]}")
    client.create_dataset("whb_fetch_paths", exists_ok=True)
    table = f"{client.project}.whb_fetch_paths.r{rows}"
    client.query(f"CREATE OR REPLACE TABLE `{table}` AS {sql}", job_config=config).result()
    for path, to_rows in (("read-api (table)", False), ("read-api->rows (table)", True)):
        seconds = []
        for _ in range(repeat):
            listed = client.list_rows(table)
            started = time.perf_counter()
            got = _count(listed.to_arrow_iterable(bqstorage_client=read), to_rows)
            seconds.append(time.perf_counter() - started)
            assert got == rows, (path, got)
        _line("bigquery", path, rows, best(seconds))
    seconds = []
    for _ in range(repeat):
        listed = client.list_rows(table)
        started = time.perf_counter()
        got = len([row.values() for row in listed])
        seconds.append(time.perf_counter() - started)
    _line("bigquery", "rows (table, REST)", rows, best(seconds))


def _line(name: str, path: str, rows: int, seconds: float) -> None:
    print(
        f"{name:<10} {path:<24} {rows:>9,} rows  {seconds:8.3f} s  {rows / seconds:>12,.0f} rows/s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--engines", nargs="+", default=["duckdb", "snowflake", "bigquery", "redshift"]
    )
    parser.add_argument("--sizes", nargs="+", type=int, default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="best of this many fetches")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; best of {args.repeat}")
    with tempfile.TemporaryDirectory(prefix="whbench-fetch-paths-") as folder:
        for name in args.engines:
            with stand_in(name, Path(folder)) as settings:
                measure(name, settings, args.sizes, args.repeat)


if __name__ == "__main__":
    main()
