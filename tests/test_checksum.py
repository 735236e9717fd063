from __future__ import annotations

import datetime as dt
from decimal import Decimal

from harness.checksum import NULL, normalise_value, result_checksum


def test_row_order_is_ignored_unless_the_query_orders():
    rows = [(1, "a"), (2, "b")]
    assert result_checksum(rows, False, 2) == result_checksum(rows[::-1], False, 2)
    assert result_checksum(rows, True, 2) != result_checksum(rows[::-1], True, 2)


def test_numbers_agree_across_types_and_float_noise():
    a = [(Decimal("1234.50"), 3, 0.1 + 0.2)]
    b = [(1234.5000000001, Decimal("3.00"), 0.3)]
    assert result_checksum(a, True, 2) == result_checksum(b, True, 2)


def test_differences_beyond_the_stated_precision_change_the_checksum():
    assert result_checksum([(1.004,)], True, 2) == result_checksum([(1.0,)], True, 2)
    assert result_checksum([(1.01,)], True, 2) != result_checksum([(1.0,)], True, 2)
    assert result_checksum([(1.01,)], True, 1) == result_checksum([(1.0,)], True, 1)


def test_null_is_canonical_and_not_the_text_null():
    assert normalise_value(None, 2) == NULL
    assert result_checksum([(None,)], True, 2) != result_checksum([("NULL",)], True, 2)
    assert result_checksum([(None,)], True, 2) != result_checksum([("",)], True, 2)


def test_values_normalise_to_canonical_text():
    assert normalise_value(-0.0, 2) == "0"
    assert normalise_value(Decimal("2.500"), 2) == "2.5"
    assert normalise_value(10, 2) == "10"
    assert normalise_value(1e20, 2) == "100000000000000000000"
    assert normalise_value(float("nan"), 2) == "nan"
    assert normalise_value(dt.date(1995, 3, 15), 2) == "1995-03-15"
    assert normalise_value(True, 2) == "true"


def test_column_boundaries_matter():
    assert result_checksum([("ab", "c")], True, 2) != result_checksum([("a", "bc")], True, 2)


def test_float_noise_at_a_rounding_boundary_does_not_flip_the_answer():
    # An engine computing in doubles and one computing in decimals, at a half-way point.
    assert normalise_value(368231.6694999999, 3) == normalise_value(Decimal("368231.6695"), 3)
    assert normalise_value(2.1250000000001, 2) == normalise_value(Decimal("2.125"), 2) == "2.12"
    assert normalise_value(2.135, 2) == "2.14"


def test_zoned_and_naive_timestamps_of_the_same_instant_agree():
    naive = dt.datetime(2026, 1, 5, 10, 0)
    assert normalise_value(naive.replace(tzinfo=dt.UTC), 2) == normalise_value(naive, 2)
    two_hours_east = dt.timezone(dt.timedelta(hours=2))
    assert normalise_value(dt.datetime(2026, 1, 5, 12, 0, tzinfo=two_hours_east), 2) == (
        "2026-01-05T10:00:00"
    )
