"""Each engine fetches by its driver's fastest documented path for the size (issue 25 item 12),
says which in describe() ("fetch", recorded with every run), and the path changes no answer:
the same fingerprint and the same kept answer as the same result fetched as rows.

Against the real clients on the local stand-ins (DuckDB itself, fakesnow, bqemulator, PostgreSQL
behind the Redshift shim); SPOOL_ROWS is lowered so that a 3,000-row result counts as large.
The figures behind the choice of path per size are benchmarks/fetch_paths.py's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import STAND_INS, free_port, server

from harness import spool
from harness.answers import keep
from harness.checksum import result_checksum
from harness.config import parse_config
from harness.engines import engine_class

ROWS = 3000
# Whole numbers, text and dates: every column converts faithfully from Arrow.
FAITHFUL = {
    "duckdb": "SELECT range AS n, 'x' || range AS t, DATE '2020-01-01' + (range % 300)::INT AS d "
    f"FROM range({ROWS})",
    "snowflake": "SELECT SEQ4() AS n, 'x' || SEQ4() AS t, DATEADD(day, SEQ4() % 300, "
    f"'2020-01-01'::DATE) AS d FROM TABLE(GENERATOR(ROWCOUNT => {ROWS}))",
    "bigquery": "SELECT n, CONCAT('x', CAST(n AS STRING)) AS t, "
    "DATE_ADD(DATE '2020-01-01', INTERVAL MOD(n, 300) DAY) AS d "
    f"FROM UNNEST(GENERATE_ARRAY(0, {ROWS - 1})) AS n",
    "redshift": "SELECT n, 'x' || n AS t, DATE '2020-01-01' + (n % 300) AS d "
    f"FROM generate_series(0, {ROWS - 1}) AS n",
}
# A column whose Arrow form reads back otherwise than the driver's rows: HUGEINT (DuckDB), a
# NUMBER with a scale (Snowflake: float64 in Arrow, Decimal in rows).
UNFAITHFUL = {
    "duckdb": f"SELECT range AS n, range::HUGEINT AS h FROM range({ROWS})",
    "snowflake": "SELECT SEQ4() AS n, (SEQ4() / 4)::NUMBER(10, 2) AS x "
    f"FROM TABLE(GENERATOR(ROWCOUNT => {ROWS}))",
}
# The path a large result of FAITHFUL takes: Arrow where the driver has it.
LARGE_PATH = {"duckdb": "arrow", "snowflake": "arrow", "bigquery": "arrow", "redshift": "rows"}
# What each engine's describe() says, in the words the report's methodology will show.
NAMED = {
    "duckdb": ("fetchmany", "to_arrow_reader"),
    "snowflake": ("fetchmany", "fetch_arrow_batches"),
    "bigquery": ("REST pages", "to_arrow_iterable", "not the Storage Read API"),
    "redshift": ("fetchmany", "only form"),
}


def _engine(name: str, stand_in):
    settings = parse_config({"engines": {name: stand_in(name)}}).engines[name]
    engine = engine_class(name)(settings)
    engine.connect()
    return engine


def _same_answer(batched, whole, columns, ordered_too: bool = False) -> None:
    """The fingerprint (both decimal settings; in order too where the engine promises the
    same order both times) and the kept answer, alike."""
    for ordered in (False, True) if ordered_too else (False,):
        for decimals in (0, 2):
            assert result_checksum(batched, ordered, decimals) == result_checksum(
                whole, ordered, decimals
            )
    assert keep(batched, False, 2, columns) == keep(whole, False, 2, columns)


@pytest.mark.parametrize("name", STAND_INS)
def test_each_engine_fetches_by_the_path_it_records(name, stand_in, monkeypatch):
    engine = _engine(name, stand_in)
    try:
        described = engine.describe()["fetch"]
        whole = engine.execute(FAITHFUL[name], 120)
        small_path = engine.fetch_used
        monkeypatch.setattr(spool, "SPOOL_ROWS", 1000)
        monkeypatch.setattr(spool, "BATCH_ROWS", 700)
        batched = engine.execute(FAITHFUL[name], 120)
        large_path = engine.fetch_used
    finally:
        engine.close()
    # Recorded with the run: the same text the engine's class declares, naming its calls.
    assert described == engine.fetch_path
    assert all(words in described for words in NAMED[name]), described
    # Up to SPOOL_ROWS: the driver's own rows, as one list (the measured fastest path there).
    assert small_path == "rows" and type(whole.rows) is list
    # Past it: spooled, as Arrow record batches where the driver has them.
    assert large_path == LARGE_PATH[name]
    assert isinstance(batched.rows, spool.Spooled) and len(batched.rows) == ROWS
    arrow = any(schema is not None for schema in batched.rows.schemas())
    assert arrow == (LARGE_PATH[name] == "arrow")
    # DuckDB's range() comes in order both times: the same rows in the same order.
    if name == "duckdb":
        assert list(batched.rows) == whole.rows
    _same_answer(batched.rows, whole.rows, whole.columns, ordered_too=name == "duckdb")


@pytest.mark.parametrize("name", sorted(UNFAITHFUL))
def test_a_column_arrow_would_change_keeps_a_large_result_on_rows(name, stand_in, monkeypatch):
    engine = _engine(name, stand_in)
    try:
        whole = engine.execute(UNFAITHFUL[name], 120)
        monkeypatch.setattr(spool, "SPOOL_ROWS", 1000)
        monkeypatch.setattr(spool, "BATCH_ROWS", 700)
        batched = engine.execute(UNFAITHFUL[name], 120)
    finally:
        engine.close()
    assert engine.fetch_used == "rows"
    assert all(schema is None for schema in batched.rows.schemas())
    assert {tuple(map(type, row)) for row in batched.rows} == {
        tuple(map(type, row)) for row in whole.rows
    }
    _same_answer(batched.rows, whole.rows, whole.columns)


@pytest.mark.standin_gap("bigquery", "does not exist")
def test_bigquery_storage_read_api_cannot_read_a_query_result_on_the_stand_in(tmp_path):
    """Why BigQuery still fetches over REST pages: bqemulator serves the Storage Read API for a
    table, but not for a query's result (its anonymous destination table is not in its
    catalog). Once it can, this test fails: then the Read API path can be shipped, tested."""
    pytest.importorskip("google.cloud.bigquery_storage", reason="google-cloud-bigquery-storage")
    import grpc
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery, bigquery_storage
    from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
        BigQueryReadGrpcTransport,
    )

    root = Path(__file__).resolve().parent.parent
    executable = root / ".venv-bqemulator/bin/bqemulator"
    if not executable.exists():
        pytest.fail(f"{executable} is missing: run `make test`, which installs bqemulator")
    rest, port = free_port(), free_port()
    command = [str(executable), "start", "--project", "whbench-test"]
    command += ["--rest-port", str(rest), "--grpc-port", str(port)]
    with server(command, rest, tmp_path / "bqemulator.log", cwd=tmp_path):
        client = bigquery.Client(
            project="whbench-test",
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=f"http://127.0.0.1:{rest}"),
        )
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        read = bigquery_storage.BigQueryReadClient(
            transport=BigQueryReadGrpcTransport(channel=channel)
        )
        config = bigquery.QueryJobConfig(use_query_cache=False)
        try:
            # The Read API itself answers: a table's rows arrive as Arrow.
            client.create_dataset("whb_gap", exists_ok=True)
            sql = FAITHFUL["bigquery"]
            table = "whbench-test.whb_gap.large"
            client.query(f"CREATE TABLE `{table}` AS {sql}", job_config=config).result()
            listed = client.list_rows(table).to_arrow_iterable(bqstorage_client=read)
            assert sum(batch.num_rows for batch in listed) == ROWS
            # A query's result, which is what the harness fetches, does not.
            result = client.query(sql, job_config=config).result()
            assert result._should_use_bqstorage(read, False), "the client would not use it"
            try:
                list(result.to_arrow_iterable(bqstorage_client=read))
            except Exception as exc:
                problem = str(exc)
            else:
                problem = None
        finally:
            channel.close()
            client.close()
    assert problem is not None, (
        "bqemulator now reads a query's result through the Storage Read API: use it for "
        "large results in BigQueryEngine._fetch (and test it here)"
    )
    assert "does not exist" in problem, problem
    pytest.xfail(f"stand-in gap: {problem.splitlines()[0][:120]}")
