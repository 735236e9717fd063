"""The bundled workloads' SQL for Databricks reads JSON columns as what they are there: VARIANT.

dialect.sql.j2 maps the portable `json` type to VARIANT on Databricks (Databricks recommends it
over JSON strings: https://docs.databricks.com/aws/en/semi-structured/variant, read 2026-12-06).
Databricks' JSON-string functions take only a STRING ("expr: A STRING expression containing well
formed JSON", https://docs.databricks.com/aws/en/sql/language-manual/functions/get_json_object,
read 2026-12-06), and no VARIANT is cast to STRING implicitly, so such a call on a JSON column
parses (whbench validate passes) but fails when it runs. sqlglot writes one when it translates
Snowflake's JSON_EXTRACT_PATH_TEXT, which is why the shop workload's s05 has a Databricks file.
"""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from harness.translate import translate
from harness.workloads import Renderer, discover

# Databricks functions whose JSON argument must be a STRING (their pages in the SQL reference,
# https://docs.databricks.com/aws/en/sql/language-manual/functions/<name>, read 2026-12-06).
JSON_STRING_FUNCTIONS = {
    "GET_JSON_OBJECT",
    "JSON_TUPLE",
    "FROM_JSON",
    "SCHEMA_OF_JSON",
    "JSON_ARRAY_LENGTH",
    "JSON_OBJECT_KEYS",
}


def json_string_calls_on_variants(sql: str, json_columns: set[str]) -> list[str]:
    """Each call of a JSON-string function whose JSON argument is one of `json_columns`."""
    found = []
    for call in sqlglot.parse_one(sql, read="databricks").find_all(exp.Func):
        name = call.sql("databricks").split("(", 1)[0].upper()
        if name not in JSON_STRING_FUNCTIONS:
            continue
        argument = call.expressions[0] if isinstance(call, exp.Anonymous) else call.this
        column = argument.find(exp.Column) if isinstance(argument, exp.Expression) else None
        if column is not None and column.name.lower() in json_columns:
            found.append(call.sql("databricks"))
    return found


WORKLOADS = discover()


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_no_bundled_query_reads_a_variant_column_as_json_text(workload):
    spec = WORKLOADS[workload]
    json_columns = {c.name.lower() for t in spec.tables for c in t.columns if c.type == "json"}
    renderer = Renderer(spec, "databricks", spec.scale.default)
    found = {
        query.id: calls
        for query in spec.queries
        if (calls := json_string_calls_on_variants(renderer.query(query.id), json_columns))
    }
    assert found == {}


def test_the_check_catches_what_sqlglot_translates_from_snowflake():
    """The shop workload's shared s05 as sqlglot translates it, without the Databricks file."""
    shared = WORKLOADS["shop"].path / "queries" / "s05.sql"
    translated = translate(shared.read_text(), "snowflake", "databricks")
    assert json_string_calls_on_variants(translated, {"properties"}) == [
        "GET_JSON_OBJECT(properties, '$.page')",
        "GET_JSON_OBJECT(properties, '$.device')",
    ]


def test_json_columns_are_variant_and_timestamps_have_no_zone_on_databricks():
    """The two type choices the check above and the answers rely on (dialect.sql.j2)."""
    events = WORKLOADS["events"]
    table = next(t for t in events.tables if t.name == "events")
    uris = {"parquet": ["/Volumes/main/whb_x/whb_files/events/events/parquet/"]}
    create = Renderer(events, "databricks", 1500).table_statements(table, uris)[1]
    assert "`event_properties` VARIANT" in create and "`event_time` TIMESTAMP_NTZ" in create
