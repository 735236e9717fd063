from __future__ import annotations

import datetime as dt
from decimal import Decimal

from harness.checksum import NULL, encode_value, result_checksum


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


def test_a_separator_inside_a_string_cannot_move_a_column_boundary():
    assert result_checksum([("a\x1fb", "c")], True, 2) != result_checksum(
        [("a", "b\x1fc")], True, 2
    )
    assert result_checksum([("ab", "c")], True, 2) != result_checksum([("a", "bc")], True, 2)


def test_a_separator_inside_a_string_cannot_make_two_rows_of_one():
    assert result_checksum([("x\x1ey",)], True, 2) != result_checksum([("x",), ("y",)], True, 2)
    assert result_checksum([("x\x1ey",)], False, 2) != result_checksum([("x",), ("y",)], False, 2)


def test_null_is_no_string_at_all():
    assert encode_value(None, 2) == NULL
    for text in ("\\N", "NULL", "", "~", NULL):
        assert result_checksum([(None,)], True, 2) != result_checksum([(text,)], True, 2)


def test_no_string_looks_like_a_number_or_a_date():
    assert result_checksum([("5",)], True, 2) != result_checksum([(5,)], True, 2)
    day = dt.date(1995, 3, 15)
    assert result_checksum([("1995-03-15",)], True, 2) != result_checksum([(day,)], True, 2)


def test_values_encode_to_canonical_text():
    assert encode_value(-0.0, 2) == "n1:0"
    assert encode_value(Decimal("2.500"), 2) == "n3:2.5"
    assert encode_value(10, 2) == "n2:10"
    assert encode_value(1e20, 2) == "n21:100000000000000000000"
    assert encode_value(float("nan"), 2) == "n3:nan"
    assert encode_value(dt.date(1995, 3, 15), 2) == "t10:1995-03-15"
    assert encode_value(True, 2) == "b1:t"


def test_float_noise_at_a_rounding_boundary_does_not_flip_the_fingerprint():
    # An engine computing in doubles and one computing in decimals, at a half-way point.
    assert encode_value(368231.6694999999, 3) == encode_value(Decimal("368231.6695"), 3)
    assert encode_value(2.1250000000001, 2) == encode_value(Decimal("2.125"), 2) == "n4:2.12"
    assert encode_value(2.135, 2) == "n4:2.14"


def test_zoned_and_naive_timestamps_of_the_same_instant_agree():
    naive = dt.datetime(2026, 1, 5, 10, 0)
    assert encode_value(naive.replace(tzinfo=dt.UTC), 2) == encode_value(naive, 2)
    two_hours_east = dt.timezone(dt.timedelta(hours=2))
    assert encode_value(dt.datetime(2026, 1, 5, 12, 0, tzinfo=two_hours_east), 2) == (
        "t19:2026-01-05T10:00:00"
    )


def test_column_by_column_gives_the_fingerprint_value_by_value_gives():
    import hashlib

    from harness.checksum import encode_row

    rows = [("a", 1, 2.5, None), ("bb", -20, None, "x"), ("", 3, 1.0, "y")]
    for ordered in (True, False):
        lines = [encode_row(row, 2) for row in rows]
        if not ordered:
            lines.sort()
        digest = hashlib.sha256(f"{len(lines)}\n".encode() + "".join(lines).encode())
        assert result_checksum(rows, ordered, 2) == digest.hexdigest()[:16]
    # True is an int to Python but not to the fingerprint: a bool column stays b1:t.
    assert result_checksum([(True,), (1,)], True, 2) != result_checksum([(1,), (1,)], True, 2)


def mixed_rows(count: int, seed: int) -> list[tuple]:
    """Whole numbers, text (several bytes a character, a NUL, the encoding's own separators),
    NULLs and doubles with signed zeros, with ties."""
    import random

    rng = random.Random(seed)
    alphabet = "aé€😀\x00 ~:rns"
    return [
        (
            rng.randrange(-50, 50),
            "".join(rng.choices(alphabet, k=rng.randrange(4))) if rng.random() > 0.1 else None,
            rng.choice([None, 1.5, 2.125, -0.0, 0.0, 1e-9]),
        )
        for _ in range(count)
    ]


def spooled_like(rows: list[tuple], first: int, batch: int):
    """The same rows spooled: `first` of them as a list, then batches of `batch`, by turns a
    pyarrow record batch and a list of rows."""
    import pyarrow as pa

    from harness import spool

    batches = []
    for number, start in enumerate(range(first, len(rows), batch)):
        part = rows[start : start + batch]
        if number % 2:
            batches.append(part)
            continue
        a, b, c = zip(*part, strict=True)
        batches.append(
            pa.record_batch(
                [pa.array(a, pa.int64()), pa.array(b, pa.string()), pa.array(c, pa.float64())],
                names=["a", "b", "c"],
            )
        )
    return spool.spooled(rows[:first], batches)


def test_a_spooled_result_has_the_fingerprint_of_the_same_rows_in_a_list():
    from harness.spool import Spooled

    rows = mixed_rows(3000, seed=7)
    spooled = spooled_like(rows, first=1000, batch=300)
    assert isinstance(spooled, Spooled) and spooled == rows and len(spooled) == 3000
    for ordered in (True, False):
        for decimals in (0, 2, 12):
            assert result_checksum(spooled, ordered, decimals) == result_checksum(
                rows, ordered, decimals
            ), (ordered, decimals)
    shuffled = spooled_like(rows[::-1], first=1000, batch=300)
    assert result_checksum(shuffled, False, 2) == result_checksum(spooled, False, 2)
    assert result_checksum(shuffled, True, 2) != result_checksum(spooled, True, 2)


def test_a_sort_that_does_not_fit_the_scratch_memory_is_done_again_with_more(monkeypatch):
    """DuckDB needs more than SORT_MEMORY for very wide rows: it runs out, and the sort starts
    over with more memory (last with DuckDB's default) and gives the same fingerprint."""
    import duckdb

    from harness import spool

    limits = []
    connect = duckdb.connect

    def counted(*args, **kwargs):
        limits.append(kwargs["config"].get("memory_limit"))
        return connect(*args, **kwargs)

    monkeypatch.setattr(spool, "SORT_MEMORY", ("1MB",))
    monkeypatch.setattr(duckdb, "connect", counted)
    rows = mixed_rows(20000, seed=5)
    spooled = spooled_like(rows, first=1000, batch=3000)
    assert result_checksum(spooled, False, 2) == result_checksum(rows, False, 2)
    assert limits == ["1MB", None]
