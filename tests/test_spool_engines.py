"""A large result on every engine with a local stand-in: past SPOOL_ROWS the rest is fetched in
batches and spooled (Arrow record batches where the driver offers them and they read back as
the driver's rows: DuckDB, Snowflake's fetch_arrow_batches, BigQuery's to_arrow_iterable; rows
from fetchmany on Redshift), with the row count, rows and fingerprint of the same result
fetched whole."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import STAND_INS

from harness import spool
from harness.checksum import result_checksum
from harness.config import parse_config
from harness.engines import engine_class

ROWS = 3000
# Whole numbers, text and dates: the column types every driver reads back alike from Arrow.
LARGE = {
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
ARROW = {"duckdb", "snowflake", "bigquery"}  # the drivers that hand over record batches


@pytest.mark.parametrize("name", STAND_INS)
def test_a_large_result_is_fetched_in_batches_on_every_engine(name, stand_in, monkeypatch):
    settings = parse_config({"engines": {name: stand_in(name)}}).engines[name]
    engine = engine_class(name)(settings)
    engine.connect()
    try:
        whole = engine.execute(LARGE[name], 120).rows  # below SPOOL_ROWS: one list, as ever
        monkeypatch.setattr(spool, "SPOOL_ROWS", 1000)
        monkeypatch.setattr(spool, "BATCH_ROWS", 700)
        batched = engine.execute(LARGE[name], 120).rows
    finally:
        engine.close()
    assert type(whole) is list and isinstance(batched, spool.Spooled)
    assert len(batched) == len(whole) == ROWS
    assert any(schema is not None for schema in batched.schemas()) == (name in ARROW)
    # The same values, of the same types: text, whole numbers and dates.
    assert sorted(batched) == sorted(whole)
    assert {tuple(map(type, row)) for row in batched} == {(int, str, dt.date)}
    for decimals in (0, 2):
        assert result_checksum(batched, False, decimals) == result_checksum(whole, False, decimals)
