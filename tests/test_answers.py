"""The value-by-value answer comparison: each false alarm and each collision the fingerprint
used to have, as a case."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from harness.answers import Shape, Tolerance, compare, shape_of
from harness.kept_answers import KEPT_ROWS, from_json, keep, to_json

CENTS = Tolerance(decimals=2)
UNORDERED = Shape()


def differ(a, b, shape=UNORDERED, tolerance=CENTS):
    return compare(a, b, lambda: shape, tolerance)


def same(a, b, shape=UNORDERED, tolerance=CENTS):
    return differ(a, b, shape, tolerance) is None


def test_a_decimal_sum_and_the_same_sum_in_doubles_agree():
    # TPC-H q01 sum_base_price: DECIMAL arithmetic gives .735, doubles give .734993; rounded to
    # cents they fall either side of a boundary, yet they are the same sum.
    assert same([(Decimal("56586554400.735"),)], [(56586554400.734993,)])


def test_an_avg_at_the_column_scale_agrees_with_the_double():
    # Redshift returns AVG of a DECIMAL(15,2) at scale 2 (rounded or cut); DuckDB a DOUBLE.
    assert same([("A", 25.522005853257337)], [("A", Decimal("25.52"))])
    assert same([(0.04999,)], [(Decimal("0.04"),)])  # cut at the scale, not rounded


def test_a_difference_of_one_in_a_sum_is_wrong():
    assert not same([(Decimal("37734107.00"),)], [(Decimal("37734108.00"),)])
    assert not same([(1478493,)], [(1478494,)])  # whole numbers: exactly


def test_a_column_may_be_looser_where_the_workload_says_so():
    tolerance = Tolerance(decimals=2, columns={0: 0.01})
    assert same([(100.0,)], [(100.9,)], tolerance=tolerance)
    assert not same([(100.0,)], [(102.0,)], tolerance=tolerance)
    assert not same([(100.0,)], [(100.9,)])


def test_null_equals_only_null():
    assert same([(None,)], [(None,)])
    for other in ("\\N", "NULL", "", 0):
        assert not same([(None,)], [(other,)])


def test_a_separator_inside_a_string_is_just_a_character():
    assert not same([("a\x1fb", "c")], [("a", "b\x1fc")])
    assert not same([("x\x1ey",)], [("x",), ("y",)])


def test_dates_and_timestamps_compare_as_instants():
    naive = dt.datetime(2026, 1, 5, 10, 0)
    east = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert same([(naive,)], [(east,)])
    assert not same([(naive,)], [(naive + dt.timedelta(seconds=1),)])
    assert same([(dt.date(1995, 3, 15),)], [(dt.datetime(1995, 3, 15),)])


def test_expected_answers_written_as_text_are_read_as_the_actual_type():
    assert same([("1995-03-15", "25.52", "x")], [(dt.date(1995, 3, 15), 25.5200001, "x")])
    assert not same([("1995-03-16",)], [(dt.date(1995, 3, 15),)])


ORDERED_BY_FIRST = Shape(order_keys=(0,))


def test_rows_that_tie_on_the_order_by_keys_may_come_in_any_order():
    a = [(3, "x"), (2, "p"), (2, "q"), (1, "z")]
    b = [(3, "x"), (2, "q"), (2, "p"), (1, "z")]
    assert same(a, b, ORDERED_BY_FIRST)
    assert not same(a, [a[0], a[3], a[1], a[2]], ORDERED_BY_FIRST)  # out of order
    difference = differ(a, [a[0], a[3], a[1], a[2]], ORDERED_BY_FIRST)
    assert "out of order" in difference.rule and difference.row == 2


def test_a_limit_cut_inside_a_tie_is_no_difference():
    # LIMIT 3 over 3, 2, 2, 2: which two of the tied rows come back is the engine's choice.
    cut = Shape(order_keys=(0,), limit=3)
    assert same([(3, "x"), (2, "p"), (2, "q")], [(3, "x"), (2, "r"), (2, "p")], cut)
    assert not same([(3, "x"), (2, "p"), (2, "q")], [(3, "y"), (2, "r"), (2, "p")], cut)
    # Without the LIMIT it is a difference.
    assert not same(
        [(3, "x"), (2, "p"), (2, "q")], [(3, "x"), (2, "r"), (2, "p")], ORDERED_BY_FIRST
    )


def test_an_unordered_result_is_a_multiset():
    assert same([(1,), (2,), (2,)], [(2,), (1,), (2,)])
    assert not same([(1,), (2,), (2,)], [(1,), (1,), (2,)])


def test_values_either_side_of_a_rounding_boundary_still_pair_up_in_a_set():
    a = [("k", Decimal("0.735")), ("k", Decimal("0.7349"))]
    b = [("k", 0.7350000001), ("k", 0.734993)]
    assert same(a, b)


def test_a_difference_names_the_rule_and_shows_both_sides():
    difference = differ([(1, 2.0)], [(1, 2.5)], ORDERED_BY_FIRST)
    assert difference.rule.startswith("column 2 is 2.5 where 2.0 was expected")
    assert difference.expected == [(1, 2.0)] and difference.actual == [(1, 2.5)]
    difference = differ([(1,), (2,)], [(1,)])
    assert difference.rule == "1 rows where 2 were expected"


def test_stored_results_keep_their_types_and_are_capped():
    rows = [
        (None, True, 7, 1.5, Decimal("2.25"), "s", dt.date(2020, 1, 2)),
        (dt.datetime(2020, 1, 2, 3, 4), b"\x00", float("nan"), {"k": [1]}, 0, "", -1),
    ]
    stored = keep(rows, True, 2, ["A", "b"])
    assert stored.columns == ("a", "b") and not stored.capped
    back = from_json(to_json(stored))
    assert back[0] == rows[0] and back[1][0] == rows[1][0] and back[1][3] == {"k": [1]}
    many = keep([(i,) for i in range(KEPT_ROWS + 5)], True, 2)
    assert many.capped and many.total_rows == KEPT_ROWS + 5 and len(many.rows) == KEPT_ROWS
    more = keep([(i,) for i in range(KEPT_ROWS + 6)], True, 2)
    assert many.rest_fingerprint != more.rest_fingerprint
    # Unordered rows are sorted before the cut, so every engine keeps the same ones.
    shuffled = keep([(i,) for i in reversed(range(KEPT_ROWS + 5))], False, 2)
    assert shuffled.rows == many.rows


@pytest.mark.parametrize(
    ("sql", "keys", "limit"),
    [
        ("select a, b from t order by b desc, 1 limit 10", (1, 0), 10),
        ("select x as total, y from t order by total", (0,), None),
        ("select count(*), k from t group by k order by count(*) desc", (0,), None),
        ("select a from t", None, None),
        ("select a, (select max(b) from u order by 1) from t", None, None),
    ],
)
def test_the_shape_of_a_query_is_read_from_its_sql(sql, keys, limit):
    shape = shape_of(sql, "duckdb")
    assert shape.order_keys == keys and shape.limit == limit


def test_an_order_by_on_an_unselected_expression_is_said_not_to_be_checked():
    shape = shape_of("select a from t order by b", "duckdb")
    assert shape.order_keys is None and "not a selected column" in shape.note
    assert same([(1,), (2,)], [(2,), (1,)], shape)  # compared as a multiset
    assert "row order is not checked" in differ([(1,), (2,)], [(1,), (3,)], shape).rule


def test_a_known_answer_written_as_text_is_read_as_the_results_types():
    """An answer file's text is read column by column as the result's types: a NULL, a number
    the file writes with blanks, a date, and a value no reader accepts (which stays text and so
    differs); a padded string is trimmed only when the answer file is."""
    from harness.answers import Expected, check

    expected = Expected(
        [("a", " 1.50", None, "2024-01-02"), ("b", None, "2.5", "2024-01-03")],
        "test answers",
        trimmed=True,
    )
    actual = [
        ("a  ", Decimal("1.5"), None, dt.date(2024, 1, 2)),
        ("b", None, 2.5, dt.date(2024, 1, 3)),
    ]
    assert check(expected, actual, lambda: UNORDERED, CENTS) is None
    unreadable = [("a", "one", None, "2024-01-02"), *expected.rows[1:]]
    difference = check(
        dataclasses.replace(expected, rows=unreadable), actual, lambda: UNORDERED, CENTS
    )
    assert difference is not None and difference.expected[0][1] == "one"
    untrimmed = dataclasses.replace(expected, trimmed=False)
    assert check(untrimmed, actual, lambda: UNORDERED, CENTS) is not None


def test_a_spooled_result_keeps_the_rows_and_fingerprint_a_list_keeps(monkeypatch):
    """keep() of a large result read batch by batch (harness.spool): the same first rows, in
    no particular order sorted as sorted() sorts them (ties in their order in the result), and
    the same fingerprint of the rest. Some columns mix kinds: numbers, text, dates, NULL."""
    import random

    from harness import kept_answers

    monkeypatch.setattr(kept_answers, "KEPT_ROWS", 700)
    from test_checksum import mixed_rows, spooled_like

    rows = mixed_rows(3000, seed=11)
    rng = random.Random(3)
    kinds = [None, 5, 2.5, "5", dt.date(2020, 1, 2), Decimal("2.50"), True]
    rows[:1000] = [(rng.choice(kinds), b, c) for _, b, c in rows[:1000]]  # spooled as rows
    spooled = spooled_like(rows, first=1000, batch=250)
    for ordered in (True, False):
        kept = keep(spooled, ordered, 2, ("A", "b", "c"))
        assert kept == keep(rows, ordered, 2, ("A", "b", "c")), ordered
        assert len(kept.rows) == 700 and kept.total_rows == 3000 and kept.columns[0] == "a"
