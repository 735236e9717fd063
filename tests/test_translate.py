"""The rule for a translation sqlglot cannot vouch for (harness/translate.py): a function the
target may not have makes the query unverified, named; a syntax error is one position."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from harness.translate import (
    SourceSyntaxError,
    Untranslatable,
    parse_source,
    translate,
    unverified_functions,
)


def test_a_function_sqlglot_knew_in_the_source_but_cannot_map_is_unverified_and_named():
    # The user's report: Snowflake MEDIAN and APPROX_QUANTILE "translated" to BigQuery as
    # themselves, though BigQuery has neither (it has PERCENTILE_CONT … OVER () and
    # APPROX_QUANTILES). sqlglot parses both as typed nodes in BigQuery too, so only the list
    # of functions a dialect lacks can catch them.
    with pytest.raises(Untranslatable) as caught:
        translate(
            "SELECT MEDIAN(a), APPROX_QUANTILE(b, 0.9), MEDIAN(c) FROM t", "snowflake", "bigquery"
        )
    message = str(caught.value)
    assert message.startswith("unverified: ")
    assert "MEDIAN has no bigquery equivalent that sqlglot knows" in message
    assert "APPROX_QUANTILE has no bigquery equivalent that sqlglot knows" in message
    assert message.count("MEDIAN") == 1  # called twice, named once


def test_a_function_name_sqlglot_wrote_for_the_target_on_purpose_is_trusted():
    # sqlglot's DuckDB parser does not model LIST_COUNT, but its DuckDB generator wrote it for
    # Snowflake's ARRAY_CONTAINS: a mapping, not a name carried across unmapped.
    assert "LIST_COUNT" in translate("SELECT ARRAY_CONTAINS(a, b) FROM t", "snowflake", "duckdb")


def test_a_function_sqlglot_passes_through_untranslated_is_unverified():
    # Snowflake TO_TIMESTAMP_NTZ of a column is left anonymous by sqlglot and written as is for
    # DuckDB, which has no such function.
    with pytest.raises(Untranslatable, match="unverified: TO_TIMESTAMP_NTZ is a function"):
        translate("SELECT TO_TIMESTAMP_NTZ(a) FROM t", "snowflake", "duckdb")


def test_sqlglot_failing_on_odd_arguments_is_untranslatable_not_a_crash():
    with pytest.raises(Untranslatable, match="sqlglot failed to read this snowflake statement"):
        translate("SELECT OBJECT_CONSTRUCT(a) FROM t", "snowflake", "duckdb")


def test_the_same_functions_translate_where_the_target_has_them():
    # DuckDB and Redshift both have MEDIAN; Redshift's approximate percentile is sqlglot's own
    # mapping, so these are counted as translated.
    assert translate("SELECT MEDIAN(a) FROM t", "snowflake", "duckdb") == "SELECT MEDIAN(a) FROM t"
    assert translate("SELECT MEDIAN(a) FROM t", "snowflake", "redshift") == (
        "SELECT MEDIAN(a) FROM t"
    )
    assert "PERCENTILE_DISC" in translate(
        "SELECT APPROX_QUANTILE(b, 0.9) FROM t", "snowflake", "redshift"
    )
    # A function sqlglot maps by name for the target is known there.
    assert translate("SELECT LISTAGG(s, ',') FROM t", "snowflake", "bigquery") == (
        "SELECT STRING_AGG(s, ',') FROM t"
    )


def test_a_function_anonymous_in_the_source_too_is_unverified_as_a_udf():
    with pytest.raises(Untranslatable) as caught:
        translate("SELECT my_udf(a) FROM t", "snowflake", "duckdb")
    message = str(caught.value)
    assert "unverified: MY_UDF is a function sqlglot knows in neither snowflake nor duckdb" in (
        message
    )
    assert "user-defined function" in message and "queries/duckdb/" in message


def test_a_query_in_the_engines_own_dialect_is_sent_as_written_unchecked():
    sql = "SELECT MEDIAN(a), my_udf(b) FROM t"
    assert translate(sql + ";\n", "bigquery", "bigquery") == sql


def test_a_known_function_carried_across_under_its_generic_name_is_unverified():
    # As a target parser that does not model MEDIAN would read sqlglot's fallback MEDIAN(a): the
    # generic name of a function sqlglot knew in the source, unmapped. Any other anonymous name
    # is one the target's generator chose, and trusted.
    source = sqlglot.parse_one("SELECT MEDIAN(a) FROM t", read="snowflake")
    column = exp.column("a")
    unmapped = exp.select(exp.Anonymous(this="median", expressions=[column])).from_("t")
    assert unverified_functions(source, unmapped, "snowflake", "duckdb") == [
        "MEDIAN has no duckdb equivalent that sqlglot knows"
    ]
    mapped = exp.select(exp.Anonymous(this="QUANTILE_CONT", expressions=[column])).from_("t")
    assert unverified_functions(source, mapped, "snowflake", "duckdb") == []
    assert unverified_functions(source, source, "snowflake", "duckdb") == []


def test_a_syntax_error_is_one_position_in_the_users_text():
    text = "\n-- revenue\nSELECT a,\n  FROM WHERE (\n"
    with pytest.raises(SourceSyntaxError) as caught:
        parse_source(text, "snowflake")
    position = caught.value.position
    # the file's lines, the blank first one included; the column where WHERE starts
    assert (position.line, position.column) == (4, 8)
    assert str(position) == "line 4, column 8: Expected table name but got 'WHERE'"
    message = str(caught.value)
    assert "\n" not in message and "Token" not in message and "\x1b" not in message
    with pytest.raises(SourceSyntaxError, match="does not parse as snowflake SQL: line 4"):
        translate(text, "snowflake", "duckdb")


def test_several_statements_or_an_opaque_command_are_still_refused():
    with pytest.raises(Untranslatable, match="2 statements"):
        parse_source("SELECT 1; SELECT 2;", "duckdb")
