"""Snowflake's stand-in: fakesnow (a DuckDB-backed Snowflake) in server mode, started once per
session, reached by the real snowflake-connector-python over HTTP."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from standins import RealAccount, StandIn, free_port, server


def fakesnow_settings(port: int) -> dict:
    """engines.snowflake settings that reach the fakesnow stand-in."""
    return {
        "host": "127.0.0.1",
        "port": port,
        "protocol": "http",
        "account": "fake",
        "user": "fake",
        "password": "${WHB_TEST_SF_PASSWORD:-x}",
        "warehouse_size": "XSMALL",
    }


@pytest.fixture(scope="session")
def fakesnow_port(tmp_path_factory):
    """A fakesnow server (a DuckDB-backed Snowflake) for the whole session, on a free port."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "fakesnow"), "-s", "-p", str(port)]
    with server(command, port, tmp_path_factory.mktemp("fakesnow") / "server.log"):
        yield port


def real_snowflake(env):
    from harness.engines.snowflake import SnowflakeEngine, SnowflakeSettings

    return SnowflakeEngine(
        SnowflakeSettings(
            account=env["SNOWFLAKE_ACCOUNT"],
            user=env["SNOWFLAKE_USER"],
            private_key_file=env.get("SNOWFLAKE_PRIVATE_KEY_FILE"),
            private_key_passphrase=env.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"),
            password=env.get("SNOWFLAKE_PASSWORD"),
            warehouse=env.get("SNOWFLAKE_WAREHOUSE"),
        )
    )


STAND_IN = StandIn(
    name="snowflake",
    what="fakesnow (PyPI fakesnow[server], DuckDB-backed) as a server on a free port, per session",
    settings=lambda request, tmp_path: {
        **fakesnow_settings(request.getfixturevalue("fakesnow_port")),
        "warehouse": "bench_wh",
    },
    slow_sql="SELECT count(*) FROM TABLE(GENERATOR(ROWCOUNT => 30000000000))",
    rows_sql="SELECT SEQ4() AS n, 'x' || SEQ4() AS t, DATEADD(day, SEQ4() % 300, "
    "'2020-01-01'::DATE) AS d FROM TABLE(GENERATOR(ROWCOUNT => {rows}))",
    large_fetch="arrow",
    fetch_words=("fetchmany", "fetch_arrow_batches"),
    # A NUMBER with a scale: float64 in Arrow, Decimal in rows.
    unarrow_sql="SELECT SEQ4() AS n, (SEQ4() / 4)::NUMBER(10, 2) AS x "
    "FROM TABLE(GENERATOR(ROWCOUNT => {rows}))",
    gaps={
        "t06": "split_to_table does not exist",  # fakesnow: no SPLIT_TO_TABLE
        "t09": "split_to_table does not exist",
        "ts01": 'syntax error at or near "MATCH_CONDITION"',  # fakesnow: no ASOF JOIN
        "t12": "Function with name search does not exist",  # fakesnow: no SEARCH (native search)
        "t13": "Function with name search does not exist",
        "vectors": "Expected a constant as type modifier",  # fakesnow: no VECTOR(FLOAT, n)
        "timeout": "no timeout",  # fakesnow ignores the statement timeout
        "cancel": "not cancelled",  # ... and SYSTEM$CANCEL_ALL_QUERIES
        "result cache": "not turned off",  # fakesnow refuses USE_CACHED_RESULT
    },
    real=RealAccount(
        needs=("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER"),
        reason="needs a real Snowflake account: set SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER and one of "
        "SNOWFLAKE_PRIVATE_KEY_FILE or SNOWFLAKE_PASSWORD (and SNOWFLAKE_WAREHOUSE)",
        engine=real_snowflake,
        namespace="PUBLIC",
        # ACCOUNT_USAGE.QUERY_HISTORY is up to 45 minutes late: a week back, nothing current.
        history_days=7,
    ),
)
