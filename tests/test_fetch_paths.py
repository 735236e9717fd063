"""Each engine fetches by its driver's fastest documented path for the size (issue 25 item 12),
says which in describe() ("fetch", recorded with every run), and the path changes no answer:
the same fingerprint and the same kept answer as the same result fetched as rows.

Against the real clients on every registered engine's local stand-in (DuckDB itself, fakesnow,
bqemulator, PostgreSQL behind the Redshift shim), whose declaration (tests/engines/<engine>/
standin.py) says which path a large result takes there and what describe() names; SPOOL_ROWS is
lowered so that a 3,000-row result counts as large.
The figures behind the choice of path per size are benchmarks/fetch_paths.py's.
"""

from __future__ import annotations

import pytest
from engines.bigquery.standin import bqemulator_executable
from standins import expect, free_port, server
from test_spool_engines import LARGE, ROWS, STAND_INS

from harness import spool
from harness.checksum import result_checksum
from harness.config import parse_config
from harness.engines import engine_class
from harness.kept_answers import keep

# A column whose Arrow form reads back otherwise than the driver's rows (the stand-ins' own:
# HUGEINT on DuckDB, a NUMBER with a scale on Snowflake).
UNLARGE = {name: s.unarrow_sql.format(rows=ROWS) for name, s in STAND_INS.items() if s.unarrow_sql}


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


@pytest.mark.parametrize("name", list(STAND_INS))
def test_each_engine_fetches_by_the_path_it_records(name, stand_in, monkeypatch):
    engine = _engine(name, stand_in)
    try:
        described = engine.describe()["fetch"]
        whole = engine.execute(LARGE[name], 120)
        small_path = engine.fetch_used
        monkeypatch.setattr(spool, "SPOOL_ROWS", 1000)
        monkeypatch.setattr(spool, "BATCH_ROWS", 700)
        batched = engine.execute(LARGE[name], 120)
        large_path = engine.fetch_used
    finally:
        engine.close()
    # Recorded with the run: the text the engine's class declares, naming its calls (BigQuery:
    # the REST one, then why the Read API is not configured).
    declared = engine.rest_fetch_path if name == "bigquery" else engine.fetch_path
    assert described.startswith(declared)
    assert all(words in described for words in STAND_INS[name].fetch_words), described
    # Up to SPOOL_ROWS: the driver's own rows, as one list (the measured fastest path there).
    assert small_path == "rows" and type(whole.rows) is list
    # Past it: spooled, as Arrow record batches where the driver has them.
    assert large_path == STAND_INS[name].large_fetch
    assert isinstance(batched.rows, spool.Spooled) and len(batched.rows) == ROWS
    arrow = any(schema is not None for schema in batched.rows.schemas())
    assert arrow == (large_path == "arrow")
    # DuckDB's range() comes in order both times: the same rows in the same order.
    if name == "duckdb":
        assert list(batched.rows) == whole.rows
    _same_answer(batched.rows, whole.rows, whole.columns, ordered_too=name == "duckdb")


@pytest.mark.parametrize("name", sorted(UNLARGE))
def test_a_column_arrow_would_change_keeps_a_large_result_on_rows(name, stand_in, monkeypatch):
    engine = _engine(name, stand_in)
    try:
        whole = engine.execute(UNLARGE[name], 120)
        monkeypatch.setattr(spool, "SPOOL_ROWS", 1000)
        monkeypatch.setattr(spool, "BATCH_ROWS", 700)
        batched = engine.execute(UNLARGE[name], 120)
    finally:
        engine.close()
    assert engine.fetch_used == "rows"
    assert all(schema is None for schema in batched.rows.schemas())
    assert {tuple(map(type, row)) for row in batched.rows} == {
        tuple(map(type, row)) for row in whole.rows
    }
    _same_answer(batched.rows, whole.rows, whole.columns)


# -- BigQuery's Storage Read API ---------------------------------------------------------
# bqemulator started with its gRPC port known (the shared fixture keeps it to itself), so the
# engine's read_api_endpoint can reach its Storage Read API.
BQ_PROJECT = "whbench-test"


@pytest.fixture(scope="module")
def bqemulator_ports(tmp_path_factory):
    """(REST port, gRPC port) of a bqemulator for this module."""
    executable = bqemulator_executable()
    folder = tmp_path_factory.mktemp("bqemulator-read-api")
    rest, port = free_port(), free_port()
    command = [str(executable), "start", "--project", BQ_PROJECT]
    command += ["--rest-port", str(rest), "--grpc-port", str(port)]
    with server(command, rest, folder / "bqemulator.log", cwd=folder):
        yield rest, port


@pytest.fixture
def read_api_engine(bqemulator_ports):
    """The BigQuery engine on the stand-in, its Storage Read API configured."""
    pytest.importorskip("google.cloud.bigquery_storage", reason="google-cloud-bigquery-storage")
    from harness.engines.bigquery import BigQueryEngine, BigQuerySettings

    rest, port = bqemulator_ports
    engine = BigQueryEngine(
        BigQuerySettings(
            project=BQ_PROJECT,
            api_endpoint=f"http://127.0.0.1:{rest}",
            anonymous=True,
            read_api_endpoint=f"http://127.0.0.1:{port}",
        )
    )
    engine.connect()
    yield engine
    engine.close()


def _table(engine, name: str) -> str:
    """A real table holding LARGE's rows (bqemulator serves a table through the Read API)."""
    from google.cloud import bigquery

    engine._client.create_dataset("whb_read_api", exists_ok=True)
    table = f"{BQ_PROJECT}.whb_read_api.{name}"
    config = bigquery.QueryJobConfig(use_query_cache=False)
    sql = f"CREATE OR REPLACE TABLE `{table}` AS {LARGE['bigquery']}"
    engine._client.query(sql, job_config=config).result()
    return table


def test_bigquery_falls_back_to_rest_pages_when_the_read_api_refuses(read_api_engine, monkeypatch):
    """On bqemulator the Read API refuses a query's result (NotFound): the query is read over
    REST pages instead, as Arrow, the refusal is noted once for the session and no later
    query asks again, and the answer is the one the rows give."""
    engine = read_api_engine
    described = engine.describe()["fetch"]
    assert described == engine.fetch_path and "Storage Read API" in described
    whole = engine.execute(LARGE["bigquery"], 120)
    assert engine.fetch_used == "rows" and type(whole.rows) is list  # small: never asks
    assert not [n for n in engine.notes if "Read API" in n]
    monkeypatch.setattr(spool, "SPOOL_ROWS", 1000)
    monkeypatch.setattr(spool, "BATCH_ROWS", 700)
    first = engine.execute(LARGE["bigquery"], 120)
    assert engine.fetch_used == "arrow"  # over REST pages, after the refusal
    second = engine.execute(LARGE["bigquery"], 120)
    assert engine.fetch_used == "arrow"
    (refused,) = [n for n in engine.notes if "Read API" in n]  # once: the second never asked
    assert "refused" in refused and "does not exist" in refused and "REST pages" in refused
    for batched in (first, second):
        assert isinstance(batched.rows, spool.Spooled) and len(batched.rows) == ROWS
        assert all(schema is not None for schema in batched.rows.schemas())
        _same_answer(batched.rows, whole.rows, whole.columns)


def test_bigquery_reads_through_the_read_api_where_the_stand_in_serves_it(
    read_api_engine, monkeypatch
):
    """The Read API path itself, on what bqemulator serves through it (a table's rows, as
    the client's list_rows gives them): Arrow batches, the same fingerprint and kept answer
    as the same rows over REST pages, and no refusal."""
    engine = read_api_engine
    table = _table(engine, "served")
    rows = [row.values() for row in engine._client.list_rows(table)]
    columns = ("n", "t", "d")
    monkeypatch.setattr(spool, "SPOOL_ROWS", 1000)
    batched = engine._fetch(
        engine._client.list_rows(table), lambda: engine._client.list_rows(table)
    )
    assert engine.fetch_used == "read-api"
    assert not [n for n in engine.notes if "Read API" in n]
    assert isinstance(batched, spool.Spooled) and len(batched) == ROWS
    assert all(schema is not None for schema in batched.schemas())
    _same_answer(batched, rows, columns)


def test_bigquery_read_api_path_selection(read_api_engine, bqemulator_ports, monkeypatch):
    """When the Read API is asked, by the client's own rule, and when it is not."""
    from harness.engines.bigquery import BigQueryEngine, BigQuerySettings, read_api_path

    engine = read_api_engine
    table = _table(engine, "paths")
    client, read = engine._client, engine._read
    assert read is not None
    # A table's rows: the Read API, when a client is given.
    assert read_api_path(client.list_rows(table), read)
    assert not read_api_path(client.list_rows(table), None)
    # A capped read is REST pages (the client will not use the Read API with max_results).
    assert not read_api_path(client.list_rows(table, max_results=10), read)
    # A column Arrow would change keeps a large result on rows, without asking the Read API.
    monkeypatch.setattr(spool, "SPOOL_ROWS", 1000)
    engine.execute(f"SELECT n, JSON '{{}}' AS j FROM UNNEST(GENERATE_ARRAY(1, {ROWS})) AS n", 60)
    assert engine.fetch_used == "rows"
    assert not [n for n in engine.notes if "Read API" in n]

    rest, _ = bqemulator_ports

    def described(**settings) -> str:
        other = BigQueryEngine(BigQuerySettings(project=BQ_PROJECT, anonymous=True, **settings))
        other.connect()
        try:
            return other.describe()["fetch"]
        finally:
            other.close()

    # A stand-in without its gRPC endpoint: REST pages, and why.
    text = described(api_endpoint=f"http://127.0.0.1:{rest}")
    assert text.startswith(BigQueryEngine.rest_fetch_path) and "read_api_endpoint" in text
    # Without google-cloud-bigquery-storage (its import blocked, as if not installed).
    monkeypatch.setitem(__import__("sys").modules, "google.cloud.bigquery_storage", None)
    text = described(api_endpoint=f"http://127.0.0.1:{rest}", read_api_endpoint="http://x:1")
    assert text.endswith("(google-cloud-bigquery-storage is not installed)")


@pytest.mark.standin_gap("bigquery", STAND_INS["bigquery"].gaps["read api"])
def test_bigquery_storage_read_api_cannot_read_a_query_result_on_the_stand_in(bqemulator_ports):
    """Why BigQuery falls back to REST pages on the stand-in: bqemulator serves the Storage
    Read API for a table, but not for a query's result (its anonymous destination table is not
    in its catalog). Once it can, this test fails: then the fallback test above can become a
    test of the Read API path on a query."""
    pytest.importorskip("google.cloud.bigquery_storage", reason="google-cloud-bigquery-storage")
    import grpc
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery, bigquery_storage
    from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
        BigQueryReadGrpcTransport,
    )

    rest, port = bqemulator_ports
    client = bigquery.Client(
        project="whbench-test",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=f"http://127.0.0.1:{rest}"),
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    read = bigquery_storage.BigQueryReadClient(transport=BigQueryReadGrpcTransport(channel=channel))
    config = bigquery.QueryJobConfig(use_query_cache=False)
    try:
        # The Read API itself answers: a table's rows arrive as Arrow.
        client.create_dataset("whb_gap", exists_ok=True)
        sql = LARGE["bigquery"]
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
        "bqemulator now reads a query's result through the Storage Read API: remove its 'read "
        "api' gap (tests/engines/bigquery/standin.py); the fallback test above should then see "
        "fetch_used == 'read-api' for a query; make it say so"
    )
    expect(STAND_INS["bigquery"], "read api", problem)
