"""Your data, your queries: a workload of files with plain SQL (harness/datafiles.py,
harness/datagen/files.py, harness/translate.py), `whbench workload init`, and a warehouse's
own history made a workload (harness/history.py and each engine's history_entries, on recorded
rows of the vendors' documented columns)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import assert_one_line_error

from harness.answers import compare, shape_of
from harness.engines import dialects
from harness.engines.bigquery import BigQueryEngine
from harness.engines.redshift import RedshiftEngine
from harness.engines.snowflake import SnowflakeEngine
from harness.errors import UsageError
from harness.history import HistoryEntry, group_queries, parse_since, rank, write_workload
from harness.store import open_store
from harness.translate import Untranslatable, translate
from harness.workloads import read_workload

TABLES = 12
QUERIES = 100


def write_tables(root: Path) -> dict[str, str]:
    """A dozen Parquet tables, each in a folder of its own and some split across files; the
    data: block naming them."""
    con = duckdb.connect()
    data = {}
    for number in range(TABLES):
        table = f"t{number:02d}"
        folder = root / "exports" / table
        folder.mkdir(parents=True)
        for part in range(1 + number % 3):
            con.execute(
                f"COPY (SELECT i AS id, i % 7 AS grp, round(i * 1.25 + {number}, 2) AS amount, "
                f"'name ' || (i % 11) AS label, DATE '2025-01-01' + CAST(i % 40 AS INTEGER) AS day "
                f"FROM range({part * 50}, {(part + 1) * 50}) r(i)) "
                f"TO '{folder}/part{part}.parquet' (FORMAT parquet)"
            )
        data[table] = f"exports/{table}/*.parquet"
    return data


def write_queries(folder: Path) -> dict[str, str]:
    """A hundred SQL files in DuckDB's dialect over the tables: aggregates, joins, windows."""
    shapes = [
        "SELECT grp, count(*) AS n, sum(amount) AS total FROM {a} GROUP BY grp ORDER BY grp",
        "SELECT a.grp, count(*) AS n FROM {a} a JOIN {b} b ON a.id = b.id GROUP BY a.grp "
        "ORDER BY a.grp",
        "SELECT day, max(amount) AS top FROM {a} WHERE day >= DATE '2025-01-10' GROUP BY day "
        "ORDER BY day",
        "SELECT label, avg(amount) AS mean FROM {a} GROUP BY label ORDER BY label",
        "SELECT id, amount, sum(amount) OVER (PARTITION BY grp ORDER BY id) AS running "
        "FROM {a} ORDER BY id LIMIT 20",
        "SELECT count(DISTINCT label) AS labels, min(day) AS first_day FROM {a}",
    ]
    pick = random.Random(5)
    queries = {}
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(QUERIES):
        a, b = pick.sample(range(TABLES), 2)
        sql = shapes[number % len(shapes)].format(a=f"t{a:02d}", b=f"t{b:02d}")
        query_id = f"q{number:03d}"
        (folder / f"{query_id}.sql").write_text(f"-- query {number}\n{sql};\n")
        queries[query_id] = sql
    return queries


def stored_answers(workdir: Path, run_id: str) -> dict[str, list]:
    with open_store(workdir / "results" / "results.duckdb", read_only=True) as store:
        return {q: kept.rows for q, kept in store.results(run_id).items()}


def test_a_workload_of_your_files_and_sql_runs_with_the_rows_duckdb_gives(
    whbench, make_config, workdir
):
    """The done-when: a folder written by hand (a dozen Parquet tables, a hundred SQL files in
    DuckDB's dialect) runs on DuckDB with every query answered and the rows DuckDB itself gives
    for those files; validate counts per dialect; `workload init` makes an equivalent folder."""
    by_hand = workdir / "mine" / "sales"
    data = write_tables(by_hand)
    queries = write_queries(by_hand / "queries")
    spec = {"name": "sales", "data_type": "structured", "dialect": "duckdb", "data": data}
    (by_hand / "workload.yaml").write_text(yaml.safe_dump(spec))
    config = make_config(runs=1, workload_dirs=["mine"], workloads={"sales": {}})

    validated = whbench("validate", "--config", config, "--json")
    assert validated.code == 0, validated.stderr
    (sales,) = [w for w in validated.json()["workloads"] if w["workload"] == "sales"]
    assert sales["queries"]["duckdb"] == {"ok": QUERIES, "of": QUERIES}
    assert set(sales["queries"]) == set(dialects())
    assert all(0 < c["ok"] <= QUERIES for c in sales["queries"].values())

    result = whbench("run", "--config", config, "-e", "duckdb", "-w", "sales", "--json")
    assert result.code == 0, result.stderr
    (run,) = result.json()
    assert len(run["queries"]) == QUERIES
    assert {q["status"] for q in run["queries"]} == {"ok"}

    # The same SQL files, run by hand on DuckDB over views of the same files.
    direct = duckdb.connect()
    for table, pattern in data.items():
        direct.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{by_hand}/{pattern}')")
    kept = stored_answers(workdir, run["run_id"])
    for query_id, sql in queries.items():
        expected = direct.execute(sql).fetchall()
        shape = lambda sql=sql: shape_of(sql, "duckdb")  # noqa: E731
        assert compare(expected, kept[query_id], shape, None) is None, query_id

    # `workload init` from the same files and SQL: the same tables, queries and answers.
    made = whbench(
        "workload", "init", "sales2", "--config", config, "--into", "mine", "--dialect",
        "duckdb", "--queries", by_hand / "queries",
        *[f"--data={t}={by_hand / p}" for t, p in data.items()],
    )  # fmt: skip
    assert made.code == 0, made.stderr
    assert "duckdb 100/100" in made.stdout
    hand, init = read_workload(by_hand), read_workload(workdir / "mine" / "sales2")
    assert init.tables == hand.tables
    assert [q.id for q in init.queries] == [q.id for q in hand.queries]
    assert init.declared_tables is not None  # init writes the schema it read
    again = whbench("run", "--config", config, "-e", "duckdb", "-w", "sales2", "--json")
    assert again.code == 0, again.stderr
    assert stored_answers(workdir, again.json()[0]["run_id"]) == kept


def test_file_problems_are_one_clear_line_before_anything_loads(whbench, make_config, workdir):
    folder = workdir / "mine" / "bad"
    (folder / "queries").mkdir(parents=True)
    (folder / "queries" / "q.sql").write_text("SELECT count(*) FROM t")
    config = make_config(workload_dirs=["mine"], workloads={"bad": {}})

    def problem(data: dict[str, str], *fragments: str) -> None:
        spec = {"name": "bad", "data_type": "structured", "dialect": "duckdb", "data": data}
        (folder / "workload.yaml").write_text(yaml.safe_dump(spec))
        result = whbench("run", "--config", config, "-e", "duckdb", "-w", "bad")
        assert_one_line_error(result, *fragments, code=2)
        assert not (workdir / "results" / "results.duckdb").exists()  # nothing began

    problem({"t": "exports/*.parquet"}, "table t: no file matches exports/*.parquet")
    (folder / "exports").mkdir()
    (folder / "exports" / "a.parquet").write_bytes(b"not parquet at all")
    problem({"t": "exports/*.parquet"}, "cannot read", "a.parquet")
    con = duckdb.connect()
    con.execute(f"COPY (SELECT 1 AS id) TO '{folder}/exports/a.parquet' (FORMAT parquet)")
    con.execute(f"COPY (SELECT 'x' AS id) TO '{folder}/exports/b.parquet' (FORMAT parquet)")
    problem({"t": "exports/*.parquet"}, "b.parquet has columns (id VARCHAR)", "one schema")
    (folder / "exports" / "c.xlsx").write_text("x")
    problem({"t": "exports/c.*"}, "c.xlsx is not Parquet, CSV or NDJSON")
    # An empty file has no columns: DuckDB would invent one (column0, or json).
    (folder / "exports" / "d.csv").write_text("")
    problem({"t": "exports/d.csv"}, "d.csv is empty: no header and no rows")
    (folder / "exports" / "e.ndjson").write_text("\n")
    problem({"t": "exports/e.ndjson"}, "e.ndjson is empty")


def test_files_are_inspected_once_until_they_change(tmp_path, monkeypatch):
    import os

    from harness import datafiles

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "mine"
    (folder / "exports").mkdir(parents=True)
    for number in range(30):
        (folder / "exports" / f"p{number:02d}.csv").write_text(f"id,name\n{number},n\n")
    old = 1_600_000_000  # files older than a clock tick: their size and time can be trusted
    for file in (folder / "exports").iterdir():
        os.utime(file, (old, old))
    read: list[str] = []
    real = datafiles.file_columns
    monkeypatch.setattr(
        datafiles, "file_columns", lambda con, file: read.append(file.name) or real(con, file)
    )
    data = {"t": "exports/*.csv"}
    expected = {"t": [("id", "bigint"), ("name", "varchar")]}
    assert datafiles.inspect_tables(folder, data) == expected
    assert len(read) == 30
    read.clear()
    assert datafiles.inspect_tables(folder, data) == expected
    assert read == []  # every file known by path, size and time: DuckDB not even opened
    changed = folder / "exports" / "p07.csv"
    changed.write_text("id,label\n7,n\n")
    os.utime(changed, (old + 1, old + 1))
    with pytest.raises(UsageError, match=r"p07\.csv has columns \(id BIGINT, label VARCHAR\)"):
        datafiles.inspect_tables(folder, data)
    assert read == ["p07.csv"]  # only the changed file read again
    # A file written just now is not remembered: it could change again within a clock tick.
    changed.write_text("id,name\n7,n\n")
    read.clear()
    datafiles.inspect_tables(folder, data)
    datafiles.inspect_tables(folder, data)
    assert read == ["p07.csv", "p07.csv"]


def test_a_query_that_cannot_be_translated_is_skipped_with_the_reason(
    whbench, make_config, workdir
):
    """Snowflake SQL on DuckDB: the translatable query runs; the one sqlglot cannot write for
    DuckDB (Oracle-style (+) outer join) is skipped, never sent, and the run still succeeds."""
    folder = workdir / "mine" / "sf"
    (folder / "queries").mkdir(parents=True)
    (folder / "data.csv").write_text("id,grp\n1,a\n2,b\n3,a\n")
    spec = {
        "name": "sf",
        "data_type": "structured",
        "dialect": "snowflake",
        "data": {"t": "data.csv"},
    }
    (folder / "workload.yaml").write_text(yaml.safe_dump(spec))
    (folder / "queries" / "ok.sql").write_text(
        "SELECT grp, IFF(COUNT(*) > 1, 'many', 'one') AS n FROM t GROUP BY grp ORDER BY grp"
    )
    (folder / "queries" / "outer.sql").write_text("SELECT a.id FROM t a, t b WHERE a.id = b.id(+)")
    config = make_config(runs=1, workload_dirs=["mine"], workloads={"sf": {}})

    result = whbench("run", "--config", config, "-e", "duckdb", "-w", "sf", "--json")
    assert result.code == 0, result.stderr
    queries = {q["query_id"]: q for q in result.json()[0]["queries"]}
    assert queries["ok"]["status"] == "ok" and queries["ok"]["rows"] == 2
    assert queries["outer"]["status"] == "skipped"
    assert "outer cannot be translated to duckdb" in queries["outer"]["error"]
    assert "(+)" in queries["outer"]["error"]
    report = whbench("report", "--config", config)
    assert report.code == 0, report.stderr
    html = (workdir / "results" / "report.html").read_text()
    assert "Skipped, so without a time" in html and "cannot be translated to duckdb" in html

    validated = whbench("validate", "--config", config)
    assert "duckdb 1/2" in validated.stdout
    assert "skipped: outer cannot be translated" in validated.stdout
    rendered = whbench("render", "--config", config, "sf", "outer", "-e", "duckdb")
    assert_one_line_error(rendered, "outer cannot be translated to duckdb", code=2)


def test_translation_keeps_the_same_dialect_as_written_and_refuses_what_it_cannot_write():
    assert translate("SELECT 1 ;\n", "duckdb", "duckdb") == "SELECT 1"
    assert translate("SELECT IFF(a, 1, 2) FROM t", "snowflake", "duckdb") == (
        "SELECT CASE WHEN a THEN 1 ELSE 2 END FROM t"
    )
    with pytest.raises(Untranslatable, match="INTERSECT ALL"):
        translate("SELECT a FROM t INTERSECT ALL SELECT a FROM u", "duckdb", "bigquery")
    with pytest.raises(Untranslatable, match="2 statements"):
        translate("SELECT 1; SELECT 2", "duckdb", "snowflake")
    with pytest.raises(Untranslatable, match="does not parse as duckdb"):
        translate("SELECT FROM WHERE (", "duckdb", "snowflake")
    with pytest.raises(UsageError, match="no dialect 'klingon'"):
        translate("SELECT 1", "klingon", "duckdb")


def test_a_function_the_target_may_not_have_is_unverified_never_counted_or_sent(
    whbench, make_config, workdir
):
    """Snowflake SQL calling MEDIAN and APPROX_QUANTILE: BigQuery has neither, so validate
    counts them there as unverified, named, not as translated; DuckDB has both and runs them. A
    user-defined function is unverified everywhere but its own dialect, and DuckDB records it
    skipped with the reason instead of being sent it."""
    folder = workdir / "mine" / "stats"
    (folder / "queries").mkdir(parents=True)
    (folder / "data.csv").write_text("id,amount\n1,10\n2,20\n3,40\n")
    spec = {"name": "stats", "data_type": "structured", "dialect": "snowflake",
            "data": {"t": "data.csv"}}  # fmt: skip
    (folder / "workload.yaml").write_text(yaml.safe_dump(spec))
    queries = folder / "queries"
    (queries / "plain.sql").write_text("SELECT IFF(COUNT(*) > 1, 'many', 'one') AS n FROM t;\n")
    (queries / "median.sql").write_text("-- middle\nSELECT MEDIAN(amount) AS m FROM t;\n")
    (queries / "approx.sql").write_text("SELECT APPROX_QUANTILE(amount, 0.5) AS q FROM t;\n")
    (queries / "udf.sql").write_text("SELECT my_udf(amount) AS u FROM t;\n")
    config = make_config(runs=1, workload_dirs=["mine"], workloads={"stats": {}})

    validated = whbench("validate", "--config", config, "--json")
    assert validated.code == 0, validated.stderr
    (stats,) = [w for w in validated.json()["workloads"] if w["workload"] == "stats"]
    assert stats["queries"]["bigquery"] == {"ok": 1, "of": 4}
    assert stats["queries"]["duckdb"] == {"ok": 3, "of": 4}
    assert stats["queries"]["snowflake"] == {"ok": 4, "of": 4}  # its own dialect, as written
    bigquery = stats["untranslatable"]["bigquery"]
    assert "unverified: MEDIAN has no bigquery equivalent that sqlglot knows" in bigquery["median"]
    assert "APPROX_QUANTILE has no bigquery equivalent" in bigquery["approx"]
    assert "MY_UDF is a function sqlglot knows in neither" in bigquery["udf"]
    assert set(stats["untranslatable"]["duckdb"]) == {"udf"}

    text = whbench("validate", "--config", config)
    assert "bigquery 1/4" in text.stdout and "duckdb 3/4" in text.stdout
    assert "skipped: median cannot be translated to bigquery: unverified: MEDIAN" in text.stdout

    rendered = whbench("render", "--config", config, "stats", "median", "--dialect", "bigquery")
    assert_one_line_error(rendered, "median cannot be translated to bigquery", "MEDIAN", code=2)
    own = whbench("render", "--config", config, "stats", "udf", "--dialect", "snowflake")
    assert own.code == 0 and "my_udf(amount)" in own.stdout

    result = whbench("run", "--config", config, "-e", "duckdb", "-w", "stats", "--json")
    assert result.code == 0, result.stderr
    ran = {q["query_id"]: q for q in result.json()[0]["queries"]}
    assert {ran[q]["status"] for q in ("plain", "median", "approx")} == {"ok"}
    assert ran["udf"]["status"] == "skipped"
    assert "unverified: MY_UDF" in ran["udf"]["error"]


def test_a_syntax_error_in_a_users_query_is_one_line_with_the_file_and_position(
    whbench, make_config, workdir
):
    folder = workdir / "mine" / "typo"
    (folder / "queries").mkdir(parents=True)
    (folder / "data.csv").write_text("id,grp\n1,a\n")
    spec = {"name": "typo", "data_type": "structured", "dialect": "snowflake",
            "data": {"t": "data.csv"}}  # fmt: skip
    (folder / "workload.yaml").write_text(yaml.safe_dump(spec))
    (folder / "queries" / "good.sql").write_text("SELECT grp FROM t")
    (folder / "queries" / "bad.sql").write_text("-- a typo\nSELECT grp,\n  FROM WHERE grp = 'a'\n")
    config = make_config(runs=1, workload_dirs=["mine"], workloads={"typo": {}})

    validated = whbench("validate", "--config", config)
    assert validated.code == 1
    where = "queries/bad.sql does not parse as snowflake SQL: line 3, column 8"
    lines = [line for line in validated.stdout.splitlines() if "bad" in line]
    assert len(lines) == 1, validated.stdout  # once, not once per dialect
    assert where in lines[0] and "Expected table name but got 'WHERE'" in lines[0]
    assert "Token" not in validated.stdout and "\x1b" not in validated.stdout
    assert "duckdb 1/2" in validated.stdout and "snowflake 1/2" in validated.stdout

    rendered = whbench("render", "--config", config, "typo", "bad", "--dialect", "duckdb")
    assert_one_line_error(rendered, where, code=2)


# -- history ------------------------------------------------------------------------------------
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
REVENUE = "SELECT region, SUM(amount) FROM sales.orders WHERE day = '{day}' GROUP BY region"


def snowflake_rows() -> list[dict]:
    """Rows as SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY gives them (TOTAL_ELAPSED_TIME in ms)."""
    rows = []
    for n in range(5):  # one query, five runs, one literal: one group
        rows.append(
            {"query_text": REVENUE.format(day="2026-11-01"), "query_type": "SELECT",
             "execution_status": "SUCCESS", "start_time": NOW - timedelta(hours=n),
             "total_elapsed_time": 2000 + 100 * n, "bytes_scanned": 10_000_000}
        )  # fmt: skip
    rows.append(  # the same query with another literal: literals are kept, so a second group
        {"query_text": REVENUE.format(day="2026-11-02"), "query_type": "SELECT",
         "execution_status": "SUCCESS", "start_time": NOW, "total_elapsed_time": 1500,
         "bytes_scanned": 9_000_000}
    )  # fmt: skip
    rows.append(
        {"query_text": "select  region , sum(amount) from SALES.ORDERS where day = '2026-11-01' "
         "group by region", "query_type": "SELECT", "execution_status": "SUCCESS",
         "start_time": NOW, "total_elapsed_time": 2500, "bytes_scanned": None}
    )  # fmt: skip
    rows.append(
        {"query_text": "SELECT * FROM snowflake.account_usage.query_history", "query_type":
         "SELECT", "execution_status": "SUCCESS", "start_time": NOW, "total_elapsed_time": 99,
         "bytes_scanned": 1}
    )  # fmt: skip
    rows.append(
        {"query_text": "SELECT 1/0", "query_type": "SELECT", "execution_status": "FAIL",
         "start_time": NOW, "total_elapsed_time": 1, "bytes_scanned": 0}
    )  # fmt: skip
    rows.append(
        {"query_text": "INSERT INTO t VALUES (1)", "query_type": "INSERT",
         "execution_status": "SUCCESS", "start_time": NOW, "total_elapsed_time": 1,
         "bytes_scanned": 0}
    )  # fmt: skip
    return rows


def test_snowflake_history_groups_by_fingerprint_keeps_literals_and_ranks_by_time():
    entries = SnowflakeEngine.history_entries(snowflake_rows())
    assert len(entries) == 8  # the failed query and the INSERT are not SELECTs that finished
    groups = group_queries(entries, "snowflake")
    assert len(groups) == 2  # re-spaced, re-cased text is the same query; the catalog is out
    top = rank(groups, top=10, min_runs=2)
    assert len(top) == 1  # the 2026-11-02 literal ran once
    (query,) = top
    assert query.runs == 6
    assert query.median_seconds == pytest.approx(2.25)  # 2.0 2.1 2.2 2.3 2.4 2.5
    assert query.statistics()["median_bytes"] == 10_000_000  # the unknown one left out
    assert query.tables == ["sales.orders"]
    assert "FROM orders" in query.text and "'2026-11-01'" in query.text
    assert rank(groups, top=10, min_runs=1)[0] is query  # most time in all comes first


def test_redshift_history_joins_the_text_parts_in_order():
    """SYS_QUERY_HISTORY joined to SYS_QUERY_TEXT: 4,000-character parts by `sequence`
    (elapsed_time in microseconds; no bytes scanned there: unknown)."""
    long_sql = "SELECT " + ", ".join(f"c{n}" for n in range(1200)) + " FROM public.wide"
    parts = [long_sql[i : i + 4000] for i in range(0, len(long_sql), 4000)]
    assert len(parts) > 1
    rows = []
    for query_id in (7, 8):
        for sequence in reversed(range(len(parts))):  # order must come from `sequence`
            text = parts[sequence].ljust(4000)  # char(4000) pads the last part
            rows.append(
                {"query_id": query_id, "query_type": "SELECT ", "status": "success",
                 "start_time": NOW, "elapsed_time": 3_000_000, "sequence": sequence,
                 "text": text}
            )  # fmt: skip
    rows.append(
        {"query_id": 9, "query_type": "SELECT", "status": "failed", "start_time": NOW,
         "elapsed_time": 1, "sequence": 0, "text": "SELECT 1/0"}
    )  # fmt: skip
    entries = RedshiftEngine.history_entries(rows)
    assert [e.text for e in entries] == [long_sql, long_sql]
    assert entries[0].elapsed_seconds == 3.0 and entries[0].bytes_scanned is None
    (query,) = rank(group_queries(entries, "redshift"), top=5, min_runs=2)
    assert query.runs == 2 and query.tables == ["public.wide"]


def test_bigquery_history_times_each_job_from_start_to_end():
    """INFORMATION_SCHEMA.JOBS rows: elapsed is end_time - start_time."""
    rows = [
        {"query": "SELECT COUNT(*) FROM `proj.ds.events` WHERE kind = 'click'",
         "statement_type": "SELECT", "state": "DONE", "succeeded": True,
         "start_time": NOW, "end_time": NOW + timedelta(seconds=4), "total_bytes_processed": 512},
        {"query": "SELECT COUNT(*) FROM `proj.ds.events` WHERE kind = 'click'",
         "statement_type": "SELECT", "state": "DONE", "succeeded": True,
         "start_time": NOW, "end_time": NOW + timedelta(seconds=6), "total_bytes_processed": 512},
        {"query": "SELECT broken", "statement_type": "SELECT", "state": "DONE",
         "succeeded": False, "start_time": NOW, "end_time": NOW, "total_bytes_processed": 0},
    ]  # fmt: skip
    entries = BigQueryEngine.history_entries(rows)
    assert [e.elapsed_seconds for e in entries] == [4.0, 6.0]
    (query,) = rank(group_queries(entries, "bigquery"), top=5, min_runs=2)
    assert query.median_seconds == 5.0 and query.tables == ["proj.ds.events"]
    assert "FROM `events`" in query.text  # runs against the benchmark's own dataset


def test_an_imported_history_is_a_workload_folder_with_its_statistics(tmp_path):
    entries = SnowflakeEngine.history_entries(snowflake_rows())
    chosen = rank(group_queries(entries, "snowflake"), top=10, min_runs=1)
    folder = write_workload(tmp_path / "team", "team", "snowflake", "snowflake", chosen, "7d")
    assert sorted(p.name for p in (folder / "queries").iterdir()) == ["h01.sql", "h02.sql"]
    statistics = yaml.safe_load((folder / "history.yaml").read_text())
    assert statistics["h01"]["runs"] == 6 and statistics["h02"]["runs"] == 1
    spec = yaml.safe_load((folder / "workload.yaml").read_text())
    assert spec["dialect"] == "snowflake" and spec["data"] == {"orders": "exports/orders/*.parquet"}
    workload = read_workload(folder)  # readable before the tables are exported
    assert [q.id for q in workload.queries] == ["h01", "h02"]
    with pytest.raises(UsageError, match="no file matches exports/orders"):
        workload.tables  # noqa: B018 - what running it would find
    with pytest.raises(UsageError, match="not empty"):
        write_workload(folder, "team", "snowflake", "snowflake", chosen, "7d")


def test_since_spans():
    assert parse_since("7d") == timedelta(days=7)
    assert parse_since("90m") == timedelta(minutes=90)
    with pytest.raises(UsageError, match="7d, 24h or 90m"):
        parse_since("a week")


def test_a_history_entry_that_is_not_a_select_is_left_out():
    entries = [
        HistoryEntry("CREATE TABLE x AS SELECT 1", 1.0, None, NOW),
        HistoryEntry("SELECT 1; SELECT 2", 1.0, None, NOW),
        HistoryEntry("WITH a AS (SELECT 1 AS x) SELECT x FROM a", 1.0, None, NOW),
    ]
    (query,) = group_queries(entries, "duckdb")
    assert query.tables == []  # a CTE is not a table to export


def test_an_imported_workload_runs_once_its_tables_are_exported_and_the_report_shows_its_past(
    whbench, make_config, workdir
):
    """import-history's folder, its one table exported as CSV: the Snowflake queries run on
    DuckDB, and the report sets each beside how it ran on the team's own warehouse."""
    entries = SnowflakeEngine.history_entries(snowflake_rows())
    chosen = rank(group_queries(entries, "snowflake"), top=10, min_runs=1)
    folder = write_workload(
        workdir / "mine" / "team", "team", "snowflake", "snowflake", chosen, "7d"
    )
    (folder / "exports" / "orders").mkdir(parents=True)
    (folder / "exports" / "orders" / "part.csv").write_text(
        "region,amount,day\neu,10.5,2026-11-01\nus,4,2026-11-01\neu,1,2026-11-02\n"
    )
    spec = yaml.safe_load((folder / "workload.yaml").read_text())
    spec["data"]["orders"] = "exports/orders/*.csv"
    (folder / "workload.yaml").write_text(yaml.safe_dump(spec))
    config = make_config(runs=1, workload_dirs=["mine"], workloads={"team": {}})

    result = whbench("run", "--config", config, "-e", "duckdb", "-w", "team", "--json")
    assert result.code == 0, result.stderr
    assert {q["query_id"]: q["rows"] for q in result.json()[0]["queries"]} == {"h01": 2, "h02": 1}
    assert whbench("report", "--config", config).code == 0
    html = (workdir / "results" / "report.html").read_text()
    assert "on your snowflake: median" in html and "over 6 runs" in html
    assert "team · your data" in html


def test_tables_in_s3_and_gcs_are_fetched_once_and_checked_like_local_files(
    whbench, make_config, workdir, s3_emulator, gcs_emulator
):
    """data: naming s3:// and gs:// globs (moto's S3 and the GCS emulator): the objects are
    fetched into the object cache, read and checked like local files, and loaded by every
    engine from there; a second run downloads nothing again; a URI matching nothing is one
    clear error."""
    from conftest import s3_client
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    s3_client(s3_emulator).put_object(
        Bucket="whb-test", Key="mine/orders/part-1.csv", Body=b"id,amount\n1,2.5\n2,4\n"
    )
    gcs = storage.Client(
        project="test",
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": gcs_emulator["STORAGE_EMULATOR_HOST"]},
    )
    gcs.bucket("whb-test").blob("mine/events/day-1.ndjson").upload_from_string(
        '{"id": 1, "props": {"page": "home"}}\n{"id": 2, "props": {"page": "cart"}}\n'
    )  # fmt: skip
    folder = workdir / "mine" / "remote"
    (folder / "queries").mkdir(parents=True)
    (folder / "queries" / "q.sql").write_text(
        "SELECT o.id, o.amount, e.props ->> '$.page' AS page FROM orders o JOIN events e "
        "USING (id) ORDER BY o.id"
    )
    spec = {
        "name": "remote", "data_type": "structured", "dialect": "duckdb",
        "data": {"orders": "s3://whb-test/mine/orders/*.csv",
                 "events": "gs://whb-test/mine/events/*.ndjson"},
    }  # fmt: skip
    (folder / "workload.yaml").write_text(yaml.safe_dump(spec))
    config = make_config(runs=1, workload_dirs=["mine"], workloads={"remote": {}})
    env = {**s3_emulator, **gcs_emulator, "XDG_CACHE_HOME": str(workdir / "cache")}

    result = whbench("run", "--config", config, "-e", "duckdb", "--json", env=env)
    assert result.code == 0, result.stderr
    (query,) = result.json()[0]["queries"]
    assert query["status"] == "ok" and query["rows"] == 2
    fetched = workdir / "cache" / "whbench" / "objects" / "s3" / "whb-test" / "mine" / "orders"
    copy = fetched / "part-1.csv"
    assert copy.read_text().startswith("id,amount")
    before = copy.stat().st_mtime_ns
    assert whbench("run", "--config", config, "-e", "duckdb", env=env).code == 0
    assert copy.stat().st_mtime_ns == before  # unchanged objects are not fetched again

    spec["data"]["orders"] = "s3://whb-test/elsewhere/*.csv"
    (folder / "workload.yaml").write_text(yaml.safe_dump(spec))
    missing = whbench("run", "--config", config, "-e", "duckdb", env=env)
    assert_one_line_error(missing, "no file matches s3://whb-test/elsewhere/*.csv", code=2)
