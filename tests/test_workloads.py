"""Workload format and rendering: every TPC-H query in every dialect, overrides, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from harness.engines import dialects
from harness.errors import TemplateError, WorkloadError
from harness.paths import bundled
from harness.settings import TemplateLimits
from harness.validate import validate_workload
from harness.workloads import Renderer, discover, get_workload, read_workload, sql_orders_rows

TPCH = get_workload("tpch")


@pytest.mark.parametrize("dialect", dialects())
@pytest.mark.parametrize("query_id", [q.id for q in TPCH.queries])
def test_every_tpch_query_renders_and_parses_in_every_dialect(query_id, dialect):
    sql = Renderer(TPCH, dialect, 1.0).query(query_id)
    tree = sqlglot.parse_one(sql, read=dialect)
    assert isinstance(tree, (exp.Select, exp.Union)), type(tree)
    assert "{{" not in sql and "{%" not in sql


def test_tpch_has_22_queries_and_8_tables():
    assert [q.id for q in TPCH.queries] == [f"q{n:02d}" for n in range(1, 23)]
    assert {t.name for t in TPCH.tables} == {
        "region",
        "nation",
        "supplier",
        "customer",
        "part",
        "partsupp",
        "orders",
        "lineitem",
    }


def test_validate_finds_no_problem_in_bundled_workloads():
    for workload in discover().values():
        checked = validate_workload(workload, TemplateLimits())
        assert checked.problems == []
        assert checked.untranslatable == {}
        assert checked.statements >= len(dialects()) * (
            len(workload.queries) + len(workload.tables)
        )


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("duckdb", "(DATE '1998-12-01' + INTERVAL '-90' DAY)"),
        ("bigquery", "DATE_ADD(DATE '1998-12-01', INTERVAL -90 DAY)"),
        ("snowflake", "DATEADD(day, -90, DATE '1998-12-01')"),
        ("redshift", "(DATE '1998-12-01' + INTERVAL '-90 day')"),
    ],
)
def test_dialect_macros_dispatch_on_the_target(dialect, expected):
    assert expected in Renderer(TPCH, dialect, 1.0).query("q01")


def test_schema_uses_each_dialects_types_and_quoting():
    lineitem = next(t for t in TPCH.tables if t.name == "lineitem")
    bigquery = Renderer(TPCH, "bigquery", 1.0).table_statements(
        lineitem, {"parquet": ["gs://b/l.parquet"]}
    )
    assert "`l_quantity` NUMERIC" in bigquery[0]
    assert "gs://b/l.parquet" in bigquery[1]
    redshift = Renderer(TPCH, "redshift", 1.0).table_statements(
        lineitem, {"parquet": ["s3://b/l/"]}
    )
    assert redshift[0] == 'DROP TABLE IF EXISTS "lineitem"'
    assert '"l_comment" VARCHAR(65535)' in redshift[1]


def test_q11_fraction_scales_with_the_data():
    assert "0.0001000000" in Renderer(TPCH, "duckdb", 1.0).query("q11")
    assert "0.0100000000" in Renderer(TPCH, "duckdb", 0.01).query("q11")


@pytest.fixture
def scratch_workload(tmp_path) -> Path:
    """A copy of the TPC-H workload to break in different ways."""
    folder = tmp_path / "tpch"
    shutil.copytree(bundled("workloads") / "tpch", folder)
    return folder


def test_a_per_dialect_override_wins_over_the_shared_template(scratch_workload):
    override = scratch_workload / "queries" / "snowflake" / "q06.sql.j2"
    override.parent.mkdir()
    override.write_text("select 'snowflake shape' as marker")
    workload = discover([scratch_workload.parent])["tpch"]
    assert Renderer(workload, "snowflake", 1.0).query("q06") == "select 'snowflake shape' as marker"
    assert "sum(l_extendedprice * l_discount)" in Renderer(workload, "duckdb", 1.0).query("q06")


def test_undefined_variable_names_file_line_and_variable(scratch_workload):
    (scratch_workload / "queries" / "q06.sql.j2").write_text(
        "select 1\nfrom lineitem\nwhere x < {{ nope }}\n"
    )
    workload = discover([scratch_workload.parent])["tpch"]
    with pytest.raises(TemplateError) as caught:
        Renderer(workload, "duckdb", 1.0).query("q06")
    message = str(caught.value)
    assert "q06.sql.j2:3" in message and "'nope' is undefined" in message


def test_template_syntax_error_names_file_and_line(scratch_workload):
    (scratch_workload / "queries" / "q02.sql.j2").write_text("select 1\n{% if %}\n")
    workload = discover([scratch_workload.parent])["tpch"]
    with pytest.raises(TemplateError, match=r"q02\.sql\.j2:2: template syntax error"):
        Renderer(workload, "duckdb", 1.0).query("q02")


def test_missing_query_file_is_named(scratch_workload):
    (scratch_workload / "queries" / "q03.sql.j2").unlink()
    workload = discover([scratch_workload.parent])["tpch"]
    with pytest.raises(TemplateError, match=r"queries/q03\.sql\.j2 not found"):
        Renderer(workload, "duckdb", 1.0).query("q03")


def test_a_malformed_workload_file_names_the_line(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "workload.yaml").write_text("name: broken\nqueries: [q01\n")
    with pytest.raises(WorkloadError, match=r"workload\.yaml: line 3, column 1: cannot read"):
        read_workload(tmp_path / "broken")


def test_every_bundled_workload_passes_the_strict_reader_with_its_titles_whole():
    # An unquoted comma in a flow mapping once cut t03's and t06's titles and made stray keys.
    workloads = discover()
    assert set(workloads) >= {"tpch", "events", "text", "shop"}
    text = workloads["text"]
    assert text.query("t03").title == "Counting e-mails, phone numbers, order ids and URLs (regex)"
    assert text.query("t06").title == "Top words (tokenise, unnest, group)"


def strict_case(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "workload.yaml").write_text(text)
    (folder / "queries").mkdir()
    (folder / "queries" / "q1.sql.j2").write_text("select 1")
    return folder


SPEC = (
    "name: mine\n"
    "data_type: structured\n"
    "generator: tpch\n"
    "scale: {default: 1, min: 1, max: 1, unit: rows}\n"
    "tables: {t: {a: int}}\n"
)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("titel: Mine\n", r"line 6: unknown key 'titel'; did you mean 'title'\?"),
        (
            "queries:\n  - {id: q1, title: Counting e-mails, phone numbers}\n",
            r"line 7: unknown key 'phone numbers' in queries\[0\]; an unquoted comma",
        ),
        ("options:\n  seed: {default: 1, min: 0, max: 9, hlep: x}\n", r"line 7: .*'hlep'"),
        ("answers: {decimals: 2, relativ: 0.1}\n", r"line 6: .*did you mean 'relative'"),
        ("name: again\n", r"line 6, column 1: .*duplicate key 'name'"),
    ],
)
def test_unknown_and_duplicate_workload_keys_name_the_file_and_line(tmp_path, extra, message):
    folder = strict_case(tmp_path, SPEC + extra)
    with pytest.raises(WorkloadError, match=r"mine/workload\.yaml: " + message):
        read_workload(folder)


def test_a_column_cut_by_a_comma_is_named(tmp_path):
    spec = SPEC.replace("{t: {a: int}}", "{t: {a: decimal(15,2)}}")
    with pytest.raises(WorkloadError, match=r"line 5: tables\.t\.2\) has no value"):
        read_workload(strict_case(tmp_path, spec))


def test_unknown_query_and_workload_list_what_exists():
    with pytest.raises(WorkloadError, match=r"no query 'q99'.*q01, q02"):
        TPCH.query("q99")
    with pytest.raises(WorkloadError, match=r"unknown workload 'nope'; available: .*tpch"):
        get_workload("nope")


@pytest.mark.parametrize("scale", [-1, 0, 0.001, 5000, float("nan")])
def test_scale_out_of_range_is_refused(scale):
    with pytest.raises(WorkloadError, match="scale"):
        TPCH.scale.check(scale, "tpch")


@pytest.mark.parametrize(
    ("sql", "ordered"),
    [
        ("select a from t order by a", True),
        ("select a from t", False),
        ("select a, row_number() over (order by b) from t", False),
        ("select * from (select a from t order by a limit 3) s", False),
        ("select 'order by' as x from t", False),
        ("with c as (select a from t order by a) select * from c order by 1", True),
    ],
)
def test_row_order_counts_only_when_the_outer_query_orders(sql, ordered):
    assert sql_orders_rows(sql) is ordered


def test_snowflake_loads_from_a_stage_or_a_url():
    region = next(t for t in TPCH.tables if t.name == "region")
    renderer = Renderer(TPCH, "snowflake", 1.0)
    staged = renderer.table_statements(region, {"parquet": ["@whb_region_parquet"]})
    assert 'COPY INTO "REGION" FROM @whb_region_parquet\n' in staged[1]
    external = renderer.table_statements(region, {"parquet": ["s3://bucket/region/"]})
    assert "FROM 's3://bucket/region/'" in external[1]
