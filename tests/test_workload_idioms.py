"""Every bundled query, read the way each engine will run it.

AVG on Redshift: "The return types supported by the AVG function are: BIGINT for any integer
type argument; DOUBLE PRECISION for a floating point argument; [the argument's type] for any
other argument type", and a NUMERIC or DECIMAL result keeps the argument's scale (AWS, "AVG
function", https://docs.aws.amazon.com/redshift/latest/dg/r_AVG.html, read 2026-12-06). So AVG
of an integer expression is cut to a whole number on a real Redshift, where DuckDB, BigQuery and
Snowflake return the fraction. The PostgreSQL stand-in cannot show the trap (PostgreSQL's AVG
of an integer is NUMERIC with the fraction), so the rule is checked on the SQL itself: every
AVG in every bundled query, rendered (or translated) for Redshift, must average a double.

DuckDB's word_rows: the select-list unnest DuckDB's docs show
(https://duckdb.org/docs/stable/sql/query_syntax/unnest, read 2026-12-06), not a CROSS JOIN
with unnest in FROM, which DuckDB 2.0 runs about 3x slower on the same rows
(benchmarks/text_idioms.py).
"""

from __future__ import annotations

from fractions import Fraction

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from harness.translate import translate
from harness.workloads import Renderer, Workload, discover

WORKLOADS = discover()
FLOATING = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}
DECIMALS = {exp.DataType.Type.DECIMAL, exp.DataType.Type.BIGDECIMAL}


def bundled_queries() -> list[tuple[str, str]]:
    return [(w.name, q.id) for w in WORKLOADS.values() for q in w.queries]


def declared_types(workload: Workload) -> dict[str, set[str]]:
    """Column name -> every type workload.yaml (or the data files) declares it with."""
    types: dict[str, set[str]] = {}
    for table in workload.tables:
        for column in table.columns:
            types.setdefault(column.name.lower(), set()).add(column.type.lower().replace(" ", ""))
    return types


def fractional(portable_type: str) -> bool:
    """Whether a declared column type keeps fractions under Redshift's AVG: a double, or a
    decimal with a scale (the mean keeps that scale, as the data itself does)."""
    if portable_type in ("double", "float", "real", "double precision"):
        return True
    if portable_type.startswith(("decimal(", "numeric(")):
        _, _, scale = portable_type.rstrip(")").partition(",")
        return scale.strip().isdigit() and int(scale) > 0
    return False


def avg_problems(sql: str, declared: dict[str, set[str]]) -> list[str]:
    """Every AVG in `sql` (Redshift SQL) whose argument may be an integer, with the reason.

    An argument passes when it is
    - a CAST to a floating type (DOUBLE PRECISION, FLOAT, REAL): Redshift's AVG then returns
      DOUBLE PRECISION. A CAST to DECIMAL does not pass: the mean would keep only the cast's
      scale on Redshift, and other engines round a decimal mean elsewhere;
    - or a plain column that no alias in the query redefines and that every table declaring
      it declares double or decimal(p, s > 0).
    Anything else (a column of a common table expression, an arithmetic expression, a CASE, a
    literal, an unknown column) fails: its type is not known from the SQL alone.
    """
    tree = sqlglot.parse_one(sql, read="redshift")
    defined = {alias.alias.lower() for alias in tree.find_all(exp.Alias)}
    defined |= {
        column.name.lower()
        for table_alias in tree.find_all(exp.TableAlias)
        for column in table_alias.columns
    }
    problems = []
    for avg in tree.find_all(exp.Avg):
        argument = avg.this
        if isinstance(argument, exp.Distinct):
            argument = argument.expressions[0]
        text = argument.sql(dialect="redshift")
        if isinstance(argument, (exp.Cast, exp.TryCast)):
            kind = argument.to.this
            if kind not in FLOATING:
                why = "a DECIMAL keeps its scale" if kind in DECIMALS else f"{kind.value}"
                problems.append(f"avg({text}): cast to {argument.to.sql('redshift')} ({why})")
            continue
        if isinstance(argument, exp.Column):
            name = argument.name.lower()
            types = declared.get(name)
            if name in defined:
                problems.append(f"avg({text}): {name} is computed in the query, type unknown")
            elif not types:
                problems.append(f"avg({text}): no table declares {name}")
            elif not all(fractional(t) for t in types):
                problems.append(f"avg({text}): {name} is declared {', '.join(sorted(types))}")
            continue
        problems.append(f"avg({text}): an expression, not a cast to a floating type")
    return problems


def redshift_sql(workload: Workload, query_id: str) -> str:
    options = {o.name: o.default for o in workload.options}
    return Renderer(workload, "redshift", workload.scale.default, options).query(query_id)


@pytest.mark.parametrize("workload_name, query_id", bundled_queries())
def test_no_bundled_query_averages_an_integer_on_redshift(workload_name, query_id):
    workload = WORKLOADS[workload_name]
    sql = redshift_sql(workload, query_id)
    assert avg_problems(sql, declared_types(workload)) == []


def test_the_rule_finds_every_average_there_is():
    """Guard against a rule that passes by seeing nothing: the bundled AVGs are all found."""
    found = {
        (name, query_id): len(
            list(
                sqlglot.parse_one(redshift_sql(WORKLOADS[name], query_id), "redshift").find_all(
                    exp.Avg
                )
            )
        )
        for name, query_id in [("text", "t09"), ("shop", "s04"), ("tpch", "q01"), ("events", "e03")]
    }
    assert found == {
        ("text", "t09"): 1,
        ("shop", "s04"): 1,
        ("tpch", "q01"): 3,
        ("events", "e03"): 1,
    }


TPCH_TYPES = declared_types(WORKLOADS["tpch"])


@pytest.mark.parametrize(
    "sql, problem",
    [
        # t09 before the fix: the mean of a per-document integer score
        (
            "with scored as (select channel, sum(case when w = 'good' then 1 else 0 end) as score"
            " from d group by channel) select channel, avg(score) from scored group by channel",
            "score is computed in the query",
        ),
        ("select avg(p_size) from part", "p_size is declared int"),
        ("select avg(l_orderkey) from lineitem", "l_orderkey is declared bigint"),
        ("select avg(l_quantity * 2) from lineitem", "an expression"),
        ("select avg(1) from lineitem", "an expression"),
        ("select avg(cast(p_size as integer)) from part", "INT"),
        ("select avg(cast(p_size as decimal(18, 0))) from part", "a DECIMAL keeps its scale"),
        ("select avg(nothing) from part", "no table declares nothing"),
        # a table column's name reused for a computed integer
        (
            "with x as (select count(*) as l_quantity from lineitem) select avg(l_quantity) from x",
            "l_quantity is computed in the query",
        ),
        ("select avg(distinct p_size) from part", "p_size is declared int"),
        ("select avg(p_size) over () from part", "p_size is declared int"),
    ],
)
def test_an_integer_average_is_caught(sql, problem):
    problems = avg_problems(sql, TPCH_TYPES)
    assert len(problems) == 1 and problem in problems[0], problems


@pytest.mark.parametrize(
    "sql",
    [
        "select avg(cast(score as double precision)) from scored",
        "select avg(cast(score as float)) from scored",
        "select avg(l_quantity), avg(l.l_extendedprice) from lineitem l",  # decimal(15,2)
        "select avg(distinct c_acctbal) from customer",
    ],
)
def test_a_fractional_average_passes(sql):
    assert avg_problems(sql, TPCH_TYPES) == []


def test_a_users_integer_average_in_snowflake_sql_is_caught_after_translation():
    """The shop workload's s04 as it was: Snowflake SQL whose AVG(IFF(…, 1, 0)) is a share on
    Snowflake and 0 on Redshift."""
    sql = translate(
        "SELECT AVG(IFF(status = 'returned', 1, 0)) FROM orders", "snowflake", "redshift"
    )
    assert avg_problems(sql, {}) == [
        "avg(CASE WHEN status = 'returned' THEN 1 ELSE 0 END): "
        "an expression, not a cast to a floating type"
    ]


def test_avg_exact_is_the_correctly_rounded_mean_on_duckdb():
    """avg_exact casts whole numbers to a double: their sum is exact below 2^53, so the mean is
    the one correctly rounded quotient, the same as the text generator's score / documents."""
    workload = WORKLOADS["text"]
    renderer = Renderer(workload, "duckdb", 100)
    assert renderer.env.globals["avg_exact"]("x") == "avg(CAST(x AS DOUBLE))"
    assert str(Renderer(workload, "redshift", 100).env.globals["avg_exact"]("x")) == (
        "avg(CAST(x AS DOUBLE PRECISION))"
    )
    values = [3, -1, 0, 0, 2, -5, 7] * 1000 + [1]
    with duckdb.connect() as con:
        (mean,) = con.execute(
            f"SELECT {renderer.env.globals['avg_exact']('x')} FROM unnest(?) AS t(x)", [values]
        ).fetchone()
    assert mean == float(Fraction(sum(values), len(values)))
    assert mean != int(mean)  # a BIGINT average (Redshift's) would be 0


@pytest.mark.parametrize(
    "workload_name, query_id",
    [("text", "t06"), ("text", "t09"), ("events", "e04"), ("events", "e09")],
)
def test_duckdb_unnests_in_a_select_list_not_in_a_cross_join(workload_name, query_id):
    """word_rows, json_array_rows and json_key_rows on DuckDB: the select-list unnest (in a
    subquery or a LATERAL subquery), which DuckDB 2.0.1 ran 2.5-10x faster than a CROSS JOIN
    with unnest(...) in FROM on the same rows (figures in dialect.sql.j2)."""
    renderer = Renderer(WORKLOADS[workload_name], "duckdb", WORKLOADS[workload_name].scale.default)
    tree = sqlglot.parse_one(renderer.query(query_id), read="duckdb")
    unnests = list(tree.find_all(exp.Unnest, exp.Explode))  # sqlglot: a select-list unnest
    assert unnests  # parses as Explode, one in FROM as Unnest
    for unnest in unnests:
        owner = unnest.find_ancestor(exp.Select, exp.Join, exp.From, exp.Lateral)
        assert isinstance(owner, exp.Select), f"{unnest.sql('duckdb')} is in FROM"


def test_the_select_list_check_catches_the_cross_join_form():
    tree = sqlglot.parse_one(
        "select word from documents d cross join unnest(regexp_split_to_array(lower(d.body), "
        "'[^a-z]+')) as word_rows(word)",
        read="duckdb",
    )
    (unnest,) = tree.find_all(exp.Unnest, exp.Explode)
    assert not isinstance(unnest.find_ancestor(exp.Select, exp.Join, exp.From), exp.Select)
