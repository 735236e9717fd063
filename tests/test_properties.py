"""Properties that must hold for any input, checked with hypothesis: result checksums, cost
functions, identifier quoting in the dialect macros, and config parsing."""

from __future__ import annotations

import json
import math
import os
from decimal import Decimal

import sqlglot
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_pricing import cost

from harness.checksum import result_checksum
from harness.config import parse_config
from harness.errors import ConfigError
from harness.workloads import Renderer, get_workload

# The same examples on every run: CI must not pass or fail by the draw.
settings.register_profile("whbench", derandomize=True, database=None)
settings.load_profile("whbench")

DECIMALS = 2

# Values as engines return them; floats kept away from rounding boundaries where "noise" and
# "a different answer" cannot be told apart at any precision.
values = st.one_of(
    st.none(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)
    .map(lambda f: round(f, 4))
    .filter(lambda f: abs(abs(f * 10**DECIMALS) % 1 - 0.5) > 1e-3),  # not a rounding tie
    st.text(max_size=12),
    st.booleans(),
)
rows = st.lists(st.tuples(values, values, values), max_size=20)


@given(rows, st.randoms(use_true_random=False))
def test_an_unordered_answer_has_one_checksum_whatever_the_row_order(answer, random):
    shuffled = list(answer)
    random.shuffle(shuffled)
    assert result_checksum(answer, False, DECIMALS) == result_checksum(shuffled, False, DECIMALS)


@given(rows)
def test_float_noise_far_below_the_precision_does_not_change_the_checksum(answer):
    noisy = [tuple(v * (1 + 1e-13) if isinstance(v, float) else v for v in row) for row in answer]
    assert result_checksum(answer, True, DECIMALS) == result_checksum(noisy, True, DECIMALS)


@given(st.lists(st.integers(min_value=-(10**9), max_value=10**9), min_size=1, max_size=10))
def test_int_float_and_decimal_spellings_of_a_number_agree(numbers):
    as_int = [(n,) for n in numbers]
    as_float = [(float(n),) for n in numbers]
    as_decimal = [(Decimal(n).quantize(Decimal("0.001")),) for n in numbers]
    assert (
        result_checksum(as_int, True, DECIMALS)
        == result_checksum(as_float, True, DECIMALS)
        == result_checksum(as_decimal, True, DECIMALS)
    )


@given(rows)
def test_null_is_not_the_text_null_nor_an_empty_string(answer):
    assume(answer)
    with_null = [(None, *row[1:]) for row in answer]
    with_text = [("NULL", *row[1:]) for row in answer]
    with_empty = [("", *row[1:]) for row in answer]
    checksums = {result_checksum(r, True, DECIMALS) for r in (with_null, with_text, with_empty)}
    assert len(checksums) == 3


@given(rows, rows)
def test_different_multisets_of_rows_have_different_checksums(a, b):
    def canonical(answer):
        return sorted(
            tuple(
                "N" if v is None else repr(round(v, DECIMALS) if isinstance(v, float) else v)
                for v in row
            )
            for row in answer
        )

    assume(canonical(a) != canonical(b))
    assume(all(not isinstance(v, float) for row in a + b for v in row))  # no rounding ties
    assert result_checksum(a, False, DECIMALS) != result_checksum(b, False, DECIMALS)


# -- cost ------------------------------------------------------------------------------------
# Per engine, the usage its cost grows with, and run settings that select that rule.
COST_RULES = {
    "bigquery": ("bytes_billed", {}),
    "snowflake": ("warehouse_seconds", {"warehouse_size": "MEDIUM"}),
    "redshift": ("engine_seconds", {"base_rpu": 8}),
    "duckdb": ("client_seconds", {"threads": 2, "memory_limit": "6.2 GiB"}),
}
usage_amounts = st.floats(min_value=0, max_value=1e15, allow_nan=False, allow_infinity=False)


def priced(engine: str, amount: float) -> float:
    quantity, run_settings = COST_RULES[engine]
    usage = {quantity: int(amount) if quantity == "bytes_billed" else amount, "cache_hit": False}
    dollars = cost(engine, run_settings, **usage).dollars
    assert dollars is not None
    return dollars


@given(st.sampled_from(sorted(COST_RULES)), usage_amounts, usage_amounts)
def test_cost_is_never_negative_and_never_falls_as_usage_grows(engine, a, b):
    low, high = sorted((a, b))
    assert 0 <= priced(engine, low) <= priced(engine, high)


# -- identifiers -----------------------------------------------------------------------------
names = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="`"),
    min_size=1,
    max_size=20,
)
RENDERERS = {
    dialect: Renderer(get_workload("tpch"), dialect, 1.0)
    for dialect in ("duckdb", "bigquery", "snowflake", "redshift")
}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(RENDERERS)), names)
def test_a_quoted_identifier_stays_one_identifier_whatever_it_holds(dialect, name):
    """ident(x) inside SQL can never end the identifier and start SQL of its own."""
    ident = RENDERERS[dialect].env.globals["ident"]
    sql = f"SELECT 1 AS {ident(name)} FROM t"
    tree = sqlglot.parse_one(sql, read=dialect)
    (column,) = tree.expressions
    expected = name.upper() if dialect == "snowflake" else name
    assert column.alias == expected
    assert tree.find(sqlglot.exp.Table).name == "t"


# -- config ----------------------------------------------------------------------------------
yaml_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),  # nan and inf too: YAML's .nan and .inf
        st.text(),
        st.sampled_from(["${WHB_PROPERTY_SECRET}", "${WHB_UNSET:-canary-default}"]),
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
config_keys = st.sampled_from(
    [
        "runs",
        "timeout_seconds",
        "results_dir",
        "engines",
        "workloads",
        "max_cost",
        "projection",
        "templates",
        "nope",
    ]
)


@settings(max_examples=200)
@given(st.dictionaries(config_keys, yaml_values, max_size=4))
def test_any_config_either_parses_or_is_a_config_error(data):
    os.environ["WHB_PROPERTY_SECRET"] = "canary-property-secret"
    try:
        config = parse_config(data)
    except ConfigError as exc:
        message = str(exc)
        assert message and "\n" not in message  # one line, naming what is wrong
        assert "canary" not in message  # no value from a reference, not even a default
        return
    assert 1 <= config.runs <= 10_000
    assert 0 < config.timeout_seconds < math.inf
    assert config.max_cost is None or 0 < config.max_cost < math.inf
    for value in vars(config.projection).values():
        assert value is None or math.isfinite(value)
    assert "canary" not in json.dumps(config.redacted(), default=str)
