"""The TPC-H specification's SF 1 answer set (tests/data/tpch-answers-sf1) and how to compare."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ANSWERS = Path(__file__).parent / "data" / "tpch-answers-sf1"


def expected_rows(query_number: int) -> tuple[list[str], list[list[str]]]:
    lines = (ANSWERS / f"q{query_number}.out").read_text().splitlines()
    header = [h.strip() for h in lines[0].split("|")]
    rows = [[v.strip() for v in line.split("|")] for line in lines[1:] if line.strip()]
    return header, rows


def column_kinds(query_number: int) -> list[str]:
    """The kit's comparison kind of each column: str, int, num, cnt, sum, avg or rat."""
    return (ANSWERS / "colprecision.txt").read_text().splitlines()[query_number - 1].split()


def differences(query_number: int, actual: list[tuple]) -> list[str]:
    """Every cell where `actual` differs from the answer set beyond the specification's tolerance.

    TPC-H clause 2.1.3.5: singleton values and counts match exactly (numbers as printed, to
    the cent); SUM results within $100; AVG results and ratios, rounded to the cent, within 1%.
    """
    header, expected = expected_rows(query_number)
    kinds = column_kinds(query_number)
    problems = []
    if len(actual) != len(expected):
        problems.append(f"q{query_number}: {len(actual)} rows, expected {len(expected)}")
    for i, (got_row, want_row) in enumerate(zip(actual, expected, strict=False)):
        for column, kind, got, want in zip(header, kinds, got_row, want_row, strict=True):
            if not _same(kind, got, want):
                problems.append(f"q{query_number} row {i + 1} {column}: got {got!r}, want {want!r}")
    return problems


def _same(kind: str, got: object, want: str) -> bool:
    if isinstance(got, (int, float, Decimal)) and not isinstance(got, bool):
        got, want_number = Decimal(str(got)), Decimal(want)
        if kind == "sum":
            return abs(got - want_number) <= 100
        if kind in ("avg", "rat"):  # compared as reported: to the cent, rounded half up
            got = got.quantize(Decimal("0.01"), ROUND_HALF_UP)
            return abs(got - want_number) <= abs(want_number) * Decimal("0.01")
        return abs(got - want_number) <= Decimal("0.005000001")  # printed to the cent
    if isinstance(got, dt.date):
        return got.isoformat() == want
    return str(got).strip() == want
