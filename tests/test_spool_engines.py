"""A large result on every engine in the registry, on its stand-in: past SPOOL_ROWS the rest is
fetched in batches and spooled (Arrow record batches where the driver offers them and they read
back as the driver's rows: DuckDB, Snowflake's fetch_arrow_batches, BigQuery's
to_arrow_iterable; rows from fetchmany on Redshift), with the row count, rows and fingerprint of
the same result fetched whole. Each engine's query is its stand-in's `rows_sql`."""

from __future__ import annotations

import datetime as dt

import pytest
from standins import collected

from harness import spool
from harness.checksum import result_checksum
from harness.config import parse_config
from harness.engines import engine_class

ROWS = 3000
STAND_INS = collected()  # an engine without a stand-in fails here, by name
# Whole numbers, text and dates: the column types every driver reads back alike from Arrow.
LARGE = {name: s.rows_sql.format(rows=ROWS) for name, s in STAND_INS.items()}


@pytest.mark.parametrize("name", list(STAND_INS))
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
    arrow = STAND_INS[name].large_fetch == "arrow"  # the drivers that hand over batches
    assert any(schema is not None for schema in batched.schemas()) == arrow
    # The same values, of the same types: text, whole numbers and dates.
    assert sorted(batched) == sorted(whole)
    assert {tuple(map(type, row)) for row in batched} == {(int, str, dt.date)}
    for decimals in (0, 2):
        assert result_checksum(batched, False, decimals) == result_checksum(whole, False, decimals)
