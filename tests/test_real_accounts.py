"""The adapters on real accounts: what no local stand-in can prove (query history, queueing
under load, bills in bytes, import-history's reads). Each engine's stand-in declaration
(tests/engines/<engine>/standin.py, `real=RealAccount(...)`) names the environment variables a
real account needs and builds its engine from them; without them the engine's tests are
skipped, and the skip message names the variables.

The shared tests run on every engine that declares a real account; an engine's own facts are
the per-engine cases at the end.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from conftest import at_once
from standins import RealAccount, collected

from harness.engines.base import Engine
from harness.errors import UsageError

REAL = {name: s.real for name, s in collected().items() if s.real is not None}


@pytest.fixture
def real_engine(request):
    """The engine `request.param`, connected to the real account its environment names."""
    real: RealAccount = REAL[request.param]
    if not all(os.environ.get(variable) for variable in real.needs):
        pytest.skip(real.reason)
    engine = real.engine(os.environ)
    engine.connect()
    try:
        yield engine
    finally:
        engine.close()


def on_real(*engines: str):
    """Run the test on each named engine's real account (every declared one by default)."""
    return pytest.mark.parametrize("real_engine", list(engines or REAL), indirect=True)


def reported(engine: Engine, results: list) -> dict:
    """Query id -> (engine seconds, usage) as a run records them: from the engine's query
    history where it reads one (Snowflake, Redshift), else from each query's job (BigQuery)."""
    if type(engine).query_history is not Engine.query_history:
        return engine.query_history([r.engine_query_id for r in results])
    return {r.engine_query_id: (r.engine_seconds, r.usage) for r in results}


# -- every real account -------------------------------------------------------------------------
@on_real()
def test_a_real_account_runs_a_query_and_reports_its_own_time(real_engine):
    real = REAL[real_engine.name]
    real_engine.prepare_session(real.namespace, "whbench-test", 60)
    # Every session setting took (result cache off, label, time limit): none refused.
    assert not [note for note in real_engine.notes if note.startswith("could not ")]
    result = real_engine.execute("SELECT 42", 60)
    if not type(real_engine).reports_engine_time:  # MotherDuck: no query id, no own time
        assert result.rows == [(42,)] and result.engine_seconds is None
        return
    assert result.rows == [(42,)] and result.engine_query_id
    found = reported(real_engine, [result])
    assert result.engine_query_id in found
    assert found[result.engine_query_id][0] is not None  # the engine's own seconds


@on_real()
def test_a_real_account_under_load_reports_each_querys_wait_and_run(real_engine):
    """Four sessions at once: each query's queued and executing time (and what else the engine
    declares) come from its history or its job's statistics."""
    real = REAL[real_engine.name]
    results = at_once(real_engine, real.namespace, real.load_sql, sessions=4)
    if not type(real_engine).reports_engine_time:  # nothing of its own to report: unknown
        assert all(r.engine_seconds is None for r in results)
        return
    found = reported(real_engine, results)
    # Every stream's query is found, each in its own session's history where it is read by
    # session (Snowflake's SESSION_ID, one for the engine and one per stream).
    assert set(found) == {r.engine_query_id for r in results}
    if hasattr(real_engine, "session_ids"):
        assert len(real_engine.session_ids) == 5 and None not in real_engine.session_ids
    for _, usage in found.values():
        for statistic in real.under_load:
            assert getattr(usage, statistic) is not None, statistic


@on_real()
def test_a_real_account_history_reads_as_entries(real_engine):
    """`workload import-history`'s read (Snowflake ACCOUNT_USAGE.QUERY_HISTORY, Redshift
    SYS_QUERY_HISTORY joined to SYS_QUERY_TEXT, BigQuery INFORMATION_SCHEMA.JOBS); an engine
    with free dry runs (BigQuery) estimates its bytes first."""
    real = REAL[real_engine.name]
    since = datetime.now(UTC) - timedelta(days=real.history_days)
    if type(real_engine).history_sql is Engine.history_sql:  # none it can read: it says so
        with pytest.raises(UsageError, match="keeps no query history"):
            real_engine.read_history(since, 120)
        return
    if real.history_current:
        real_engine.execute("SELECT 42", 60)
    if type(real_engine).estimate is not Engine.estimate:
        assert real_engine.estimate(real_engine.history_sql(since)).bytes_scanned is not None
    entries = real_engine.read_history(since, 120)
    assert all(e.text and e.elapsed_seconds is not None for e in entries)
    if real.history_current:
        assert any("42" in e.text for e in entries)


# -- one engine's own ---------------------------------------------------------------------------
@on_real("snowflake")
def test_real_snowflake_shows_its_started_clusters(real_engine):
    """Under load, SHOW WAREHOUSES' started_clusters is sampled for the level's peak."""
    sample = real_engine.scale_out_sample()
    assert sample is not None and sample["clusters_started"] >= 0


@on_real("bigquery")
def test_real_bigquery_reports_bytes_billed(real_engine):
    real_engine.prepare_session("whb_check", "whbench-test", 60)
    result = real_engine.execute(
        "SELECT count(*) FROM `bigquery-public-data.samples.shakespeare`", 60
    )
    assert result.usage.bytes_billed and result.usage.bytes_billed >= 10 * 2**20
    assert result.usage.cache_hit is False


@on_real("bigquery")
def test_real_bigquery_reads_a_large_result_through_the_storage_read_api(real_engine):
    """Past SPOOL_ROWS, a query's result comes through the Storage Read API (the client's
    documented fast path: RowIterator.to_arrow_iterable(bqstorage_client=...),
    https://cloud.google.com/python/docs/reference/bigquery/latest, read 2026-12-06), which
    needs bigquery.readsessions.create. A million rows of about 110 bytes: far more than a
    third of them in the first REST page would keep the client on REST pages. No table is
    read, so no bytes are billed."""
    pytest.importorskip("google.cloud.bigquery_storage", reason="google-cloud-bigquery-storage")
    engine = real_engine
    assert "through the Storage Read API" in engine.describe()["fetch"]
    engine.prepare_session("whb_check", "whbench-test", 300)
    result = engine.execute(
        "SELECT a * 1000 + b AS n, REPEAT('x', 100) AS t "
        "FROM UNNEST(GENERATE_ARRAY(0, 999)) AS a, UNNEST(GENERATE_ARRAY(0, 999)) AS b",
        300,
    )
    refused = [note for note in engine.notes if "Read API" in note]
    assert engine.fetch_used == "read-api", refused
    assert not refused
    assert len(result.rows) == 1_000_000
    assert sum(row[0] for row in result.rows) == sum(range(1_000_000))
