"""Databricks SQL's stand-in: a local Spark 4.3 Thrift Server (PyPI pyspark 4.3.0 in its own
virtualenv, .venv-spark; tests/engines/databricks/spark.py) behind a test-side proxy
(tests/engines/databricks/thrift_proxy.py) that bridges the protocol differences between it and
a Databricks SQL warehouse, reached by the real databricks-sql-connector. Started once per
session. What Spark cannot do that Databricks can (Unity Catalog, VARIANT results, …) is in
`gaps` and in docs/engines.md ("Databricks stand-in")."""

from __future__ import annotations

import pytest
from standins import RealAccount, StandIn


@pytest.fixture(scope="session")
def databricks_server(tmp_path_factory):
    """A Spark Thrift Server behind the Databricks proxy for the whole session: the proxy's port.
    Skips, naming why, when Java is missing; fails when .venv-spark is (`make test` makes it)."""
    from engines.databricks.spark import SparkMissing, java_missing, spark_home, thrift_server
    from engines.databricks.thrift_proxy import ThriftProxy

    if why := java_missing():
        pytest.skip(f"the Databricks stand-in cannot start: {why}")
    try:
        spark_home()
    except SparkMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    folder = tmp_path_factory.mktemp("databricks")
    with thrift_server(folder) as spark_port:
        proxy = ThriftProxy(spark_port, folder / "files")
        try:
            yield proxy.port
        finally:
            proxy.close()


def standin_settings(port: int) -> dict:
    """engines.databricks settings that reach the proxy on `port` (plain HTTP, any token)."""
    return {
        "server_hostname": "127.0.0.1",
        "port": port,
        "http_path": "cliservice",
        "tls": False,
        "access_token": "${WHB_TEST_DATABRICKS_TOKEN:-x}",
    }


def real_databricks(env):
    from harness.engines.credentials import Secret
    from harness.engines.databricks import DatabricksEngine, DatabricksSettings

    def secret(name: str) -> Secret | None:
        return Secret(env[name]) if env.get(name) else None

    return DatabricksEngine(
        DatabricksSettings(
            server_hostname=env["DATABRICKS_SERVER_HOSTNAME"],
            http_path=env["DATABRICKS_HTTP_PATH"],
            access_token=secret("DATABRICKS_TOKEN"),
            client_id=env.get("DATABRICKS_CLIENT_ID"),
            client_secret=secret("DATABRICKS_CLIENT_SECRET"),
            catalog=env.get("DATABRICKS_CATALOG"),
        )
    )


# What Spark cannot do that a Databricks SQL warehouse can, beyond what the shared suites meet
# (STAND_IN.gaps: none of their workloads or behaviours fails here): topic -> (a statement, its
# parameters, a fragment of the error Spark gives). test_proxy.py checks each is still a gap.
SPARK_GAPS: dict[str, tuple[str, dict | None, str]] = {
    # Spark 4.3 runs VARIANT functions but the Thrift server cannot describe a VARIANT column.
    "VARIANT results": ("SELECT parse_json('{\"a\": 1}') AS v", None, "type name: variant"),
    # Databricks takes `:` paths on a STRING too; Spark only on a VARIANT (parse_json first),
    # and reads `:a` as a parameter marker.
    "paths on a STRING": ("SELECT '{\"a\": 1}':a AS a", None, "UNBOUND_SQL_PARAMETER"),
    # Native parameters travel in a Databricks-only field (protocol V8) that Hive ignores.
    "native parameters": ("SELECT :x AS x", {"x": 1}, "UNBOUND_SQL_PARAMETER"),
    "Unity Catalog": ("USE CATALOG main", None, "PARSE_SYNTAX_ERROR"),
    "system tables": ("SELECT * FROM system.query.history", None, "REQUIRES_SINGLE_PART_NAMESPACE"),
    # Databricks' default table format; here tables are Spark's own (Parquet).
    "Delta": ("CREATE TABLE whb_delta_gap (a INT) USING DELTA", None, "DATA_SOURCE_NOT_FOUND"),
}

STAND_IN = StandIn(
    name="databricks",
    what="Spark 4.3 Thrift Server (pyspark 4.3.0 in .venv-spark) behind a Thrift proxy that "
    "bridges Databricks' protocol differences, per session",
    settings=lambda request, tmp_path: standin_settings(
        request.getfixturevalue("databricks_server")
    ),
    slow_sql="SELECT count(*) FROM range(1000000000000000)",
    rows_sql="SELECT id AS n, concat('x', id) AS t, "
    "date_add(DATE '2020-01-01', CAST(id % 300 AS INT)) AS d FROM range({rows})",
    large_fetch="arrow",
    fetch_words=("fetchmany_arrow",),
    gaps={},  # every shared-suite subject passes; Spark's own gaps: SPARK_GAPS above
    real=RealAccount(
        needs=("DATABRICKS_SERVER_HOSTNAME", "DATABRICKS_HTTP_PATH"),
        reason="needs a real Databricks SQL warehouse: set DATABRICKS_SERVER_HOSTNAME, "
        "DATABRICKS_HTTP_PATH and either DATABRICKS_TOKEN (a personal access token) or "
        "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (a service principal), optionally "
        "DATABRICKS_CATALOG",
        engine=real_databricks,
        namespace="whb_check",
        under_load=("queued_seconds", "execution_seconds"),
        history_current=False,  # system.query.history is not immediate
    ),
)
