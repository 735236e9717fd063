"""Redshift's stand-in: a throwaway PostgreSQL 15 cluster behind a protocol shim
(tests/engines/redshift/postgres.py), started once per session, reached by the real
redshift_connector. Redshift-only SQL (SUPER, PartiQL) does not run on PostgreSQL: those are
its gaps."""

from __future__ import annotations

import pytest
from standins import RealAccount, StandIn, free_port


@pytest.fixture(scope="session")
def redshift_port():
    """A throwaway PostgreSQL cluster behind the Redshift protocol shim; yields the shim's port."""
    from engines.redshift.postgres import PostgresCluster, RedshiftShim, postgres_available

    if not postgres_available():
        pytest.fail("PostgreSQL 15 is missing: .ci/run installs it (apt-get install postgresql-15)")
    cluster = PostgresCluster(free_port())
    cluster.start()
    shim = RedshiftShim(cluster.port)
    try:
        yield shim.port
    finally:
        shim.close()
        cluster.stop()


def shim_settings(port: int) -> dict:
    """engines.redshift settings that reach the shim on `port`."""
    return {
        "host": "127.0.0.1",
        "port": port,
        "database": "postgres",
        "user": "bench",
        "password": "${WHB_TEST_RS_PASSWORD:-x}",
        "ssl": False,
    }


def real_redshift(env):
    from harness.engines.redshift import RedshiftEngine, RedshiftSettings

    return RedshiftEngine(
        RedshiftSettings(
            host=env["REDSHIFT_HOST"],
            user=env["REDSHIFT_USER"],
            password=env.get("REDSHIFT_PASSWORD"),
            iam=bool(env.get("REDSHIFT_IAM")),
            database=env.get("REDSHIFT_DATABASE", "dev"),
        )
    )


STAND_IN = StandIn(
    name="redshift",
    what="PostgreSQL 15 (Debian's) as the postgres user, behind a protocol shim, per session",
    settings=lambda request, tmp_path: shim_settings(request.getfixturevalue("redshift_port")),
    slow_sql="SELECT pg_sleep(120)",
    rows_sql="SELECT n, 'x' || n AS t, DATE '2020-01-01' + (n % 300) AS d "
    "FROM generate_series(0, {rows} - 1) AS n",
    large_fetch="rows",  # redshift_connector has no Arrow fetch
    fetch_words=("fetchmany", "only form"),
    gaps={
        "t06": "split_to_array",  # PostgreSQL: no SPLIT_TO_ARRAY or PartiQL
        "t09": "split_to_array",
        # PostgreSQL's REGEXP_SUBSTR takes the sub-expression as a sixth argument, Redshift's
        # 'e' parameter as the fifth: the same SQL means something else there.
        "t04": "differs",
        "events": 'type "super" does not exist',  # SUPER exists only on Redshift
        "shop": 'type "super" does not exist',  # (its events table has JSON)
        "vectors": 'type "super" does not exist',  # embeddings in SUPER (no vector type)
        "result cache": "not turned off",  # PostgreSQL has no result cache setting
        # timeseries: PostgreSQL has no IGNORE NULLS, no DATEADD / DATEDIFF(unit, a, b), and no
        # PERCENTILE_DISC as a window function (Redshift has all three)
        "ts01": 'syntax error at or near "NULLS"',
        "ts02": 'syntax error at or near "NULLS"',
        "ts03": 'column "millisecond" does not exist',
        "ts05": "OVER is not supported for ordered-set aggregate percentile_disc",
        "ts06": "function dateadd(",
        "ts07": 'column "millisecond" does not exist',
    },
    # PostgreSQL runs TPC-H's correlated subqueries (Q2, Q17, Q20, Q21, Q22) row by row; with
    # these indexes it takes seconds instead of minutes. Redshift has no indexes: this is the
    # stand-in's tuning only, and it changes no answer. (The conformance suite's TPC-H scale.)
    after_load={
        "tpch": (
            "CREATE INDEX ON whb_tpch_sf0_01.lineitem (l_partkey, l_suppkey)",
            "CREATE INDEX ON whb_tpch_sf0_01.lineitem (l_orderkey)",
            "CREATE INDEX ON whb_tpch_sf0_01.partsupp (ps_partkey)",
            "CREATE INDEX ON whb_tpch_sf0_01.orders (o_custkey)",
            "ANALYZE",
        )
    },
    real=RealAccount(
        needs=("REDSHIFT_HOST", "REDSHIFT_USER"),
        reason="needs a real Redshift: set REDSHIFT_HOST, REDSHIFT_USER and REDSHIFT_PASSWORD (or "
        "REDSHIFT_IAM=1 with AWS credentials), optionally REDSHIFT_DATABASE",
        engine=real_redshift,
        namespace="whb_check",
        history_current=True,  # SYS_QUERY_HISTORY has a query once it has run
    ),
)
