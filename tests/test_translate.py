"""The rule for a translation sqlglot cannot vouch for (harness/translate.py): a function the
target may not have makes the query unverified, named; a syntax error is one position."""

from __future__ import annotations

import pytest
import sqlglot

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


def test_an_anonymous_call_sqlglot_wrote_from_a_known_function_is_unverified():
    # A typed function in the source that came out as a name sqlglot does not model in the
    # target: sqlglot rewrote it into something it cannot vouch for.
    source = sqlglot.parse_one("SELECT MEDIAN(a) FROM t", read="snowflake")
    target = sqlglot.parse_one("SELECT NOT_A_FUNCTION(a) FROM t", read="duckdb")
    assert unverified_functions(source, target, "snowflake", "duckdb") == [
        "NOT_A_FUNCTION has no duckdb equivalent that sqlglot knows"
    ]
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
