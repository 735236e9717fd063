"""BigQuery's stand-in: bqemulator (a DuckDB-backed BigQuery) from its own virtualenv, started
once per session, reached by the real google-cloud-bigquery client."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from standins import RealAccount, StandIn, free_port, server

ROOT = Path(__file__).resolve().parents[3]
PROJECT = "whbench-test"


def bqemulator_executable() -> Path:
    """bqemulator, from the virtualenv `make test` makes for it (or WHB_BQEMULATOR)."""
    executable = Path(os.environ.get("WHB_BQEMULATOR", ROOT / ".venv-bqemulator/bin/bqemulator"))
    if not executable.exists():
        pytest.fail(f"{executable} is missing: run `make test`, which installs bqemulator")
    return executable


@pytest.fixture(scope="session")
def bqemulator_port(tmp_path_factory, object_storage_dir):
    """bqemulator for the whole session; yields its REST port. It resolves gs:// URIs under the
    GCS emulator's folder (tests/conftest.py), as BigQuery reads the storage client's bucket."""
    rest, grpc = free_port(), free_port()
    log = tmp_path_factory.mktemp("bqemulator") / "server.log"
    command = [str(bqemulator_executable()), "start", "--rest-port", str(rest)]
    command += ["--grpc-port", str(grpc), "--project", PROJECT]
    env = {**os.environ, "BQEMU_GCS_LOCAL_ROOT": str(object_storage_dir / ".cloudstorage")}
    with server(command, rest, log, cwd=log.parent, env=env):
        yield rest


def emulator_settings(port: int) -> dict:
    """engines.bigquery settings that reach bqemulator on `port`."""
    return {"project": PROJECT, "api_endpoint": f"http://127.0.0.1:{port}", "anonymous": True}


def real_bigquery(env):
    from harness.engines.bigquery import BigQueryEngine, BigQuerySettings

    return BigQueryEngine(BigQuerySettings(project=env["BIGQUERY_PROJECT"]))


STAND_IN = StandIn(
    name="bigquery",
    what="bqemulator (PyPI, DuckDB-backed) from .venv-bqemulator, REST on a free port, per session",
    settings=lambda request, tmp_path: emulator_settings(
        request.getfixturevalue("bqemulator_port")
    ),
    # (a few seconds on bqemulator, which runs it inside the job insert call)
    slow_sql="SELECT count(*) FROM UNNEST(GENERATE_ARRAY(1, 10000000)) a, "
    "UNNEST(GENERATE_ARRAY(1, 10)) b",
    rows_sql="SELECT n, CONCAT('x', CAST(n AS STRING)) AS t, "
    "DATE_ADD(DATE '2020-01-01', INTERVAL MOD(n, 300) DAY) AS d "
    "FROM UNNEST(GENERATE_ARRAY(0, {rows} - 1)) AS n",
    large_fetch="arrow",
    # The session stand-in gives no gRPC endpoint: the Read API is not configured, and says why.
    fetch_words=(
        "REST pages",
        "to_arrow_iterable",
        "not the Storage Read API",
        "read_api_endpoint",
    ),
    gaps={
        # bqemulator runs a query inside the call that inserts its job, to the end: the
        # client's time limit and the job's cancel only start once it is done.
        "timeout": "no timeout",
        "cancel": "not cancelled",
        # It serves the Storage Read API for a table, not for a query's (anonymous) result.
        "read api": "does not exist",
        # timeseries: bqemulator has no TIMESTAMP_BUCKET (ts02's five-minute buckets)
        "ts02": "Function not found: timestamp_bucket",
        # text t12/t13 (native search): bqemulator has no SEARCH function
        "t12": "Function not found: search",
        "t13": "Function not found: search",
        # vectors: bqemulator cannot parse CREATE VECTOR INDEX, the load of ann_items
        "vectors": 'syntax error at or near "VECTOR"',
    },
    real=RealAccount(
        needs=("BIGQUERY_PROJECT",),
        reason="needs a real BigQuery project: set BIGQUERY_PROJECT (and sign in with "
        "Application Default Credentials, or set GOOGLE_APPLICATION_CREDENTIALS)",
        engine=real_bigquery,
        namespace="whb_check",
        # A public table: each job bills bytes, waits for slots and uses them.
        load_sql="SELECT count(*) FROM `bigquery-public-data.samples.shakespeare`",
        under_load=("queued_seconds", "execution_seconds", "slot_ms"),
    ),
)
