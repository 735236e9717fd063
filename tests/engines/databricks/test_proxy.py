"""The Databricks stand-in itself (thrift_proxy.py, files_api.py, unity_sql.py), through the real
databricks-sql-connector and databricks-sdk against the session's Spark Thrift Server: each test
names the bridge it needs, and fails without it. The engine's own tests are in test_databricks.py.
"""

from __future__ import annotations

import datetime
import io
import threading
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engines.databricks.standin import SPARK_GAPS

ROWS = 200_000  # more than one fetch of the connector's (its arraysize is 100,000)
SCHEMA = "spark_catalog.whb_proxy_test"
VOLUME = "/Volumes/spark_catalog/whb_proxy_test/whb_files"


def connect(port: int):
    """The connector as the engine connects to the stand-in: plain HTTP through the proxy."""
    import databricks.sql

    return databricks.sql.connect(
        server_hostname="127.0.0.1",
        http_path="cliservice",
        access_token="x",
        _connection_uri=f"http://127.0.0.1:{port}/cliservice",
        enable_telemetry=False,  # else it asks https://127.0.0.1:443 for feature flags
    )


@pytest.fixture(scope="module")
def cursor(databricks_server):
    """Bridges 1 (auth) and 2 (protocol version): without them, connect() fails."""
    connection = connect(databricks_server)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        yield cursor
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    connection.close()


@pytest.fixture(scope="module")
def files(databricks_server):
    """databricks-sdk's Files API client on the proxy."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config

    host = f"http://127.0.0.1:{databricks_server}"
    return WorkspaceClient(config=Config(host=host, token="x")).files


def test_a_large_result_comes_back_whole_as_rows(cursor):
    """Bridge 4 (hasMoreRows): without it, 100,000 of the 200,000 rows, and no error."""
    cursor.execute(f"SELECT id AS n, concat('x', id) AS t FROM range({ROWS})")
    rows = cursor.fetchall()
    assert len(rows) == ROWS
    assert sorted(row.n for row in rows) == list(range(ROWS))


def test_a_large_result_comes_back_whole_as_arrow(cursor):
    """Bridges 3 (result metadata) and 4, through the Arrow fetch."""
    cursor.execute(f"SELECT id AS n FROM range({ROWS})")
    table = cursor.fetchall_arrow()
    assert table.num_rows == ROWS
    assert pa.compute.sum(table["n"]).as_py() == ROWS * (ROWS - 1) // 2


def test_values_come_back_typed(cursor):
    """Bridge 3: the connector reads the row set only once it knows its format."""
    cursor.execute(
        "SELECT DATE '2020-01-02' AS d, CAST(1234.56 AS DECIMAL(15, 2)) AS x, 7 AS i, 'é' AS s"
    )
    (row,) = cursor.fetchall()
    assert row.d == datetime.date(2020, 1, 2)
    assert row.x == Decimal("1234.56")
    assert (row.i, row.s) == (7, "é")
    assert [column[1] for column in cursor.description] == ["date", "decimal", "int", "string"]
    cursor.execute("SELECT DATE '2020-01-02' AS d, CAST(1234.56 AS DECIMAL(15, 2)) AS x")
    schema = cursor.fetchall_arrow().schema
    assert schema.field("d").type == pa.date32()
    # Decimal with its scale; the precision is the connector's, read from the values of a
    # column-based row set (Databricks sends Arrow, with the declared precision: a gap).
    assert pa.types.is_decimal(schema.field("x").type) and schema.field("x").type.scale == 2


def test_ddl_runs(cursor):
    """Bridge 5: a statement without a result declares a column and returns none."""
    cursor.execute(f"CREATE TABLE {SCHEMA}.ddl (n BIGINT, t STRING) USING parquet")
    assert cursor.fetchall() == []
    cursor.execute(f"INSERT INTO {SCHEMA}.ddl VALUES (1, 'a'), (2, 'b')")
    cursor.execute(f"SELECT count(*) AS rows FROM {SCHEMA}.ddl")
    assert cursor.fetchall()[0].rows == 2


def test_an_error_is_an_error_with_sparks_message(cursor):
    from databricks.sql.exc import ServerOperationError

    with pytest.raises(ServerOperationError, match="TABLE_OR_VIEW_NOT_FOUND"):
        cursor.execute(f"SELECT * FROM {SCHEMA}.no_such_table")


def test_a_query_has_an_id(cursor):
    cursor.execute("SELECT 1")
    first = cursor.query_id
    cursor.execute("SELECT 1")
    assert first and cursor.query_id and first != cursor.query_id


def test_cancel_from_another_thread_stops_a_slow_query(databricks_server):
    """The slow query runs for days on two cores; a cancel ends it (CancelOperation passes
    through the proxy while the execute waits)."""
    connection = connect(databricks_server)
    cursor = connection.cursor()
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            cursor.execute("SELECT count(*) FROM range(1000000000000000)")
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while cursor.query_id is None and thread.is_alive():
        thread.join(0.1)
    assert cursor.query_id, outcome.get("error")
    cursor.cancel()
    thread.join(600)  # not a measure: without the cancel the query would run for days
    assert not thread.is_alive(), "the cancelled query still runs"
    assert "CANCELED" in str(outcome.get("error")), outcome
    connection.close()


def test_files_api_keeps_volume_files(files):
    folder = f"{VOLUME}/api/t/parquet"
    files.create_directory(folder)
    files.upload(f"{folder}/a.bin", io.BytesIO(b"one"), overwrite=True)
    files.upload(f"{folder}/a.bin", io.BytesIO(b"two"), overwrite=True)
    assert files.download(f"{folder}/a.bin").contents.read() == b"two"
    assert files.get_metadata(f"{folder}/a.bin").content_length == 3
    listed = [(entry.path, entry.is_directory) for entry in files.list_directory_contents(folder)]
    assert listed == [(f"{folder}/a.bin", False)]
    from databricks.sdk.errors import NotFound

    files.delete(f"{folder}/a.bin")
    with pytest.raises(NotFound):
        files.download(f"{folder}/a.bin").contents.read()


def test_copy_into_loads_uploaded_parquet_and_json(cursor, files):
    """CREATE VOLUME (a no-op) and both forms of COPY INTO, over files uploaded through the
    Files API."""
    parquet = io.BytesIO()
    # Columns in another order than the table's: COPY INTO matches them by name.
    pq.write_table(pa.table({"b": ["x", "y", "z"], "a": [1, 2, 3]}), parquet)
    files.upload(f"{VOLUME}/ds/t/parquet/part-0.parquet", io.BytesIO(parquet.getvalue()))
    lines = b'{"id": 1, "p": {"k": "v"}}\n{"id": 2, "p": {"k": "w"}}\n'
    files.upload(f"{VOLUME}/ds/e/json/part-0.json", io.BytesIO(lines))
    for statement in (
        f"CREATE VOLUME IF NOT EXISTS {SCHEMA}.whb_files",
        f"CREATE TABLE {SCHEMA}.t (a BIGINT, b STRING) USING parquet",
        f"COPY INTO {SCHEMA}.t FROM '{VOLUME}/ds/t/parquet/' FILEFORMAT = PARQUET",
        f"CREATE TABLE {SCHEMA}.e (id BIGINT, p STRING) USING parquet",
        f"COPY INTO {SCHEMA}.e FROM (SELECT id, to_json(p) AS p FROM '{VOLUME}/ds/e/json/') "
        "FILEFORMAT = JSON FORMAT_OPTIONS ('multiLine' = 'false') COPY_OPTIONS ('force' = 'true')",
    ):
        cursor.execute(statement)
    cursor.execute(f"SELECT a, b FROM {SCHEMA}.t ORDER BY a")
    assert [tuple(row) for row in cursor.fetchall()] == [(1, "x"), (2, "y"), (3, "z")]
    cursor.execute(f"SELECT id, p FROM {SCHEMA}.e ORDER BY id")
    assert [tuple(row) for row in cursor.fetchall()] == [(1, '{"k":"v"}'), (2, '{"k":"w"}')]


def test_copy_into_from_a_bucket_is_refused_naming_why(cursor):
    from databricks.sql.exc import ServerOperationError

    with pytest.raises(ServerOperationError, match="no object storage"):
        cursor.execute(f"COPY INTO {SCHEMA}.t FROM 's3://bucket/t/' FILEFORMAT = PARQUET")


@pytest.mark.parametrize("topic", SPARK_GAPS)
def test_what_spark_cannot_do_is_still_a_gap(cursor, topic):
    """Each of SPARK_GAPS fails with its fragment; once one runs, the stand-in has closed it."""
    from databricks.sql.exc import Error

    statement, parameters, fragment = SPARK_GAPS[topic]
    try:
        cursor.execute(statement, parameters) if parameters else cursor.execute(statement)
        cursor.fetchall()
    except Error as exc:
        assert fragment in str(exc), (topic, str(exc)[:300])
        return
    pytest.fail(f"the stand-in gap {topic!r} is closed: remove it from SPARK_GAPS in standin.py")


def test_an_initial_catalog_is_refused(databricks_server):
    """The connector asks for an initial catalog only of a server at protocol V4 or later; the
    proxy says V2 (bridge 2), so whbench names the catalog in its statements instead."""
    import databricks.sql
    from databricks.sql.exc import InvalidServerResponseError

    with pytest.raises(InvalidServerResponseError, match="initial namespace not supported"):
        databricks.sql.connect(
            server_hostname="127.0.0.1",
            http_path="cliservice",
            access_token="x",
            _connection_uri=f"http://127.0.0.1:{databricks_server}/cliservice",
            enable_telemetry=False,
            catalog="main",
        )


# -- the SQL rewrite alone (unity_sql.py), no server ----------------------------------------------
def test_only_databricks_only_sql_is_rewritten(tmp_path):
    from engines.databricks.unity_sql import NO_OP, rewrite_statement

    plain = "-- a comment\nSELECT 'COPY INTO x' AS s"
    assert rewrite_statement(plain, tmp_path).statement == plain
    assert rewrite_statement("CREATE VOLUME IF NOT EXISTS c.s.v", tmp_path).statement == NO_OP
    copy = rewrite_statement(
        "COPY INTO `c`.`s`.`t`\nFROM '/Volumes/c/s/v/d/t/parquet/'\nFILEFORMAT = PARQUET", tmp_path
    )
    folder = tmp_path / "Volumes/c/s/v/d/t/parquet"
    assert copy.statement == f"INSERT INTO `c`.`s`.`t` BY NAME SELECT * FROM parquet.`{folder}`"
    assert copy.before == []


@pytest.mark.parametrize(
    ("tail", "refusal"),
    [
        ("FILEFORMAT = CSV", "FILEFORMAT = csv"),
        ("FILEFORMAT = PARQUET PATTERN = '*.parquet'", "PATTERN"),
        ("FILEFORMAT = PARQUET FILES = ('a.parquet')", "FILES"),
    ],
)
def test_what_copy_into_cannot_bridge_is_refused_by_name(tmp_path, tail, refusal):
    from engines.databricks.unity_sql import rewrite_statement

    rewrite = rewrite_statement(f"COPY INTO t FROM '/Volumes/c/s/v/x/' {tail}", tmp_path)
    assert rewrite.statement.startswith("SELECT raise_error('the Databricks stand-in")
    assert refusal in rewrite.statement


def test_drop_volume_deletes_its_files(tmp_path):
    from engines.databricks.unity_sql import rewrite_statement

    (tmp_path / "Volumes/c/s/v/d").mkdir(parents=True)
    (tmp_path / "Volumes/c/s/v/d/f.parquet").write_bytes(b"x")
    rewrite_statement("DROP VOLUME IF EXISTS `c`.`s`.`v`", tmp_path)
    assert not (tmp_path / "Volumes/c/s/v").exists()
