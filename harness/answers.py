"""Answers compared value by value, with rules a reader can check.

Two results are the same answer when they have the same number of rows and their rows pair up
so that every pair of values is the same under these rules:

- NULL equals only NULL.
- Whole numbers from both sides (counts, keys) must be equal exactly.
- Other numbers are equal when they differ by less than one unit of the workload's stated last
  decimal place (`decimals`: 2 means less than 0.01), or by at most `relative` of the larger.
  DECIMAL against DOUBLE therefore never matters: 56586554400.735 (a DECIMAL sum) and
  56586554400.734993 (the same sum in doubles) agree, and so do an AVG an engine returns at the
  column's scale (Redshift: 25.52) and one it returns as a DOUBLE (25.522005...).
  A workload may loosen `relative` for named columns (TPC-H: AVG results and ratios, 1%).
- Dates and timestamps are compared as instants: a zoned timestamp in UTC against a naive one.
- Text is compared exactly; JSON values as parsed JSON.

Row order: a result without ORDER BY is compared as a multiset of rows. An ordered result is
compared in order on its ORDER BY keys: consecutive rows that tie on the keys form a group, and a
group is compared as a multiset, since the engine may return tied rows in any order. When the
query has LIMIT n and both results have n rows, the last group may be cut short inside a tie:
which of the tied rows made it in is the engine's choice, so only its keys are compared.

An approximate query (an index search: workload.yaml `approximate: {k, min_recall}`) is not
compared row by row: its known answer is the exact k nearest neighbours, and it is scored by
recall@k, the share of them among the first k rows it returned (by their first column, the id;
order and distances aside). Its answer is correct when that share is at least `min_recall`,
else wrong; the recall itself is kept with every attempt (`recall_of`).

A stored result keeps its first `KEPT_ROWS` rows; beyond that only the row count and a
fingerprint of the rest are kept, so rows past the cap are compared by their count only (the
fingerprint is exact, and float noise between engines would make it a false alarm). What is
kept, and how, is harness.kept_answers; the order of a query's rows, from its SQL, is
`shape_of` at the end of this module.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from harness import units
from harness.capabilities import Approximate
from harness.kept_answers import Difference, instant, is_number, sort_key
from harness.spool import Spooled

SHOWN_ROWS = 5  # differing rows shown per side in a report
DEFAULT_RELATIVE = 1e-9  # doubles summed in another order differ by ~1e-15 of the value


@dataclass(frozen=True)
class Tolerance:
    """How closely numbers must agree: see the module docstring."""

    decimals: int = 2
    relative: float = DEFAULT_RELATIVE
    columns: dict[int, float] = field(default_factory=dict)  # position from 0 -> relative

    def describe(self) -> str:
        looser = ", looser for some columns" if self.columns else ""
        within, relative = units.number(10**-self.decimals), units.number(self.relative, 2)
        return f"numbers within {within} or {relative} relative{looser}"


@dataclass(frozen=True)
class AnswerRules:
    """A workload's `answers:` block: how its numbers are compared, and where its expected
    answers are."""

    decimals: int = 2
    relative: float = DEFAULT_RELATIVE
    looser: dict[str, dict[int, float]] = field(default_factory=dict)  # query -> column from 1
    files: dict[float, str] = field(default_factory=dict)  # scale -> folder of <query id>.csv
    source: str = "expected answers"  # what the files are, in words
    trimmed: bool = False  # the files print text without leading and trailing blanks

    def tolerance(self, query_id: str) -> Tolerance:
        columns = {c - 1: r for c, r in self.looser.get(query_id, {}).items()}
        return Tolerance(self.decimals, self.relative, columns)


@dataclass(frozen=True)
class Expected:
    """A query's known answer: all its rows, or only some of its columns (a generator's truth
    may know the count per category but not the average); for an approximate query, the exact
    nearest neighbours its recall is counted against."""

    rows: list[tuple]
    source: str  # "TPC-H answer set", "events generator's truth"
    columns: tuple[int, ...] | None = None  # positions from 0; None: every column
    trimmed: bool = False  # its text was written without leading and trailing blanks
    approximate: Approximate | None = None  # scored by recall@k, not compared row by row


def expected_answers(
    folder: Path | None, rules: AnswerRules, generated: dict[str, dict[str, Any]]
) -> dict[str, Expected]:
    """Query id -> known answer: the workload's answer files (`folder`/<query id>.csv, a header
    row, an empty field for NULL), else what the data generator recorded."""
    found = {
        query_id: Expected(
            [tuple(row) for row in spec["rows"]],
            rules.source,
            tuple(c - 1 for c in spec["columns"]) if spec.get("columns") else None,
            approximate=spec.get("approximate"),
        )
        for query_id, spec in generated.items()
    }
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.csv")):
            with path.open(newline="", encoding="utf-8") as f:
                rows = [tuple(row) for row in csv.reader(f)][1:]
            if any("" in row for row in rows):  # rare: most answers have no NULL to convert
                rows = [tuple(None if v == "" else v for v in row) for row in rows]
            found[path.stem] = Expected(
                rows,
                rules.source,
                trimmed=rules.trimmed,
            )
    return found


def recall_of(expected: Expected | None, actual: Sequence[Sequence]) -> float | None:
    """recall@k of an approximate query's rows: the share of the k exact nearest neighbours
    (the known answer's first column) among the ids in the first k rows; None for a query that
    is not approximate, so that no exact query ever shows a recall."""
    if expected is None or expected.approximate is None:
        return None
    k = expected.approximate.k
    truth = {_id(row[0]) for row in expected.rows[:k]}
    if not truth:
        return None
    found = {_id(row[0]) for row in list(actual[:k]) if len(row)}
    return len(truth & found) / len(truth)


def _id(value: Any) -> Any:
    """An id as one kind of value on both sides: 7, 7.0, Decimal('7') and '7' are the same id."""
    if is_number(value) and float(value).is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


def _check_recall(expected: Expected, actual: Sequence[Sequence]) -> Difference | None:
    rule = expected.approximate
    assert rule is not None
    recall = recall_of(expected, actual) or 0.0
    if recall >= rule.min_recall:
        return None
    truth = [_id(row[0]) for row in expected.rows[: rule.k]]
    found = [_id(row[0]) for row in list(actual[: rule.k]) if len(row)]
    return Difference(
        f"recall@{rule.k} is {recall:.2f}, below the {units.number(rule.min_recall)} this "
        f"approximate query must reach ({round(recall * len(truth))} of the {len(truth)} exact "
        "nearest neighbours returned)",
        [(i,) for i in truth if i not in found][:SHOWN_ROWS],
        [(i,) for i in found if i not in truth][:SHOWN_ROWS],
    )


def check(
    expected: Expected,
    actual: Sequence[Sequence],
    shape: Callable[[], Shape],
    tolerance: Tolerance,
) -> Difference | None:
    """`compare` against a known answer; when it knows only some columns, those columns of
    every row, as a multiset; an approximate query by its recall@k."""
    if expected.approximate is not None:
        difference = _check_recall(expected, actual)
        return difference and dataclasses.replace(difference, against=f"the {expected.source}")
    counted = expected.columns is None and len(actual) != len(expected.rows)
    if counted and isinstance(actual, Spooled):
        # The row count decides: a large result is not read whole to strip its blanks.
        difference = compare(expected.rows, actual, Shape, tolerance)
    else:
        if expected.trimmed and _padded(actual):  # blanks the answer file cannot show
            actual = [tuple(v.strip() if isinstance(v, str) else v for v in row) for row in actual]
        difference = _check(expected, actual, shape, tolerance)
    return difference and dataclasses.replace(difference, against=f"the {expected.source}")


def _padded(rows: Sequence[Sequence]) -> bool:
    """Whether any text value has leading or trailing blanks (only text columns are read)."""
    texts = [i for i, sample in _samples(rows).items() if isinstance(sample, str)]
    return any(isinstance(row[i], str) and row[i] != row[i].strip() for row in rows for i in texts)


def _check(
    expected: Expected,
    actual: Sequence[Sequence],
    shape: Callable[[], Shape],
    tolerance: Tolerance,
) -> Difference | None:
    if expected.columns is None:
        return compare(_typed_like(expected.rows, actual), actual, shape, tolerance)
    picked = expected.columns
    if any(len(row) <= max(picked) for row in actual):
        return Difference("the result has fewer columns than the known answer", [], [])
    narrowed = Tolerance(
        tolerance.decimals,
        tolerance.relative,
        {i: tolerance.columns[c] for i, c in enumerate(picked) if c in tolerance.columns},
    )
    narrow = [tuple(row[c] for c in picked) for row in actual]
    return compare(_typed_like(expected.rows, narrow), narrow, Shape, narrowed)


@dataclass(frozen=True)
class Shape:
    """How a query orders its rows: the positions of its ORDER BY keys in the select list
    (None: unordered) and its LIMIT."""

    order_keys: tuple[int, ...] | None = None
    limit: int | None = None
    note: str | None = None  # why the order could not be checked, when it could not


# -- one value ---------------------------------------------------------------------------------
def same_value(a: Any, b: Any, tolerance: Tolerance, column: int = 0) -> bool:
    if type(a) is type(b) and a == b:  # the common case, and the cheap one
        return True
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) and not isinstance(b, str):
        a = _parse_like(a, b)
    elif isinstance(b, str) and not isinstance(a, str):
        b = _parse_like(b, a)
    if is_number(a) and is_number(b):
        return _same_number(a, b, tolerance, column)
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        return instant(a) == instant(b)
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return _json(a) == _json(b)
    return a == b


def _same_number(a: Any, b: Any, tolerance: Tolerance, column: int) -> bool:
    if type(a) is int and type(b) is int:
        return a == b
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    difference = abs(x - y)
    if difference < 10.0**-tolerance.decimals:
        return True
    return difference <= tolerance.columns.get(column, tolerance.relative) * max(abs(x), abs(y))


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _reader_like(like: Any) -> Callable[[str], Any] | None:
    """How to read text (an expected-answer file) as the type of `like`; None: leave it text."""
    if isinstance(like, bool):
        return lambda text: {"true": True, "false": False}.get(text.strip().lower(), text)
    if isinstance(like, float):
        return float  # float() and Decimal() allow surrounding blanks themselves
    if is_number(like):
        return Decimal
    if isinstance(like, dt.datetime):
        return lambda text: dt.datetime.fromisoformat(text.strip())
    if isinstance(like, dt.date):
        return lambda text: dt.date.fromisoformat(text.strip())
    return None


def _parse_like(text: str, like: Any) -> Any:
    """A value written as text read as the type it is compared to; the text when it is not."""
    reader = _reader_like(like)
    try:
        return text if reader is None else reader(text)
    except (ValueError, InvalidOperation):
        return text


def _identical(a: Sequence, b: Sequence) -> bool:
    return tuple(a) == tuple(b)


def _typed_like(expected: list[tuple], actual: Sequence[Sequence]) -> list[tuple]:
    """Expected rows written as text, read once as the types of the actual result's columns
    (its first non-NULL value in each), so that most values then compare by plain equality.
    Column by column: one reader per column, which a whole-answer file makes worth it."""
    samples = _samples(actual)
    readers = {i: _reader_like(sample) for i, sample in samples.items()}
    readers = {i: reader for i, reader in readers.items() if reader is not None}
    width = len(expected[0]) if expected else 0
    if not readers or any(len(row) != width for row in expected):
        return expected  # ragged rows differ anyway; same_value still reads text as needed
    columns = list(zip(*expected, strict=True))
    for i, reader in readers.items():
        if i < width:
            columns[i] = _read_column(columns[i], reader)
    return list(zip(*columns, strict=True))


def _samples(rows: Sequence[Sequence]) -> dict[int, Any]:
    """Column -> its first non-NULL value (columns that are NULL throughout are left out)."""
    samples: dict[int, Any] = {}
    for row in rows:
        for i, value in enumerate(row):
            if value is not None and i not in samples:
                samples[i] = value
        if len(samples) == len(row):
            break
    return samples


def _read_column(texts: tuple, reader: Callable[[str], Any]) -> tuple:
    try:  # all at once; a NULL or a value the reader refuses sends it value by value
        return tuple(map(reader, texts))
    except (ValueError, TypeError, InvalidOperation):
        values = []
        for text in texts:
            try:
                values.append(reader(text) if isinstance(text, str) else text)
            except (ValueError, InvalidOperation):
                values.append(text)
        return tuple(values)


# -- rows and results --------------------------------------------------------------------------
def _same_row(a: Sequence, b: Sequence, tolerance: Tolerance) -> bool:
    return len(a) == len(b) and all(
        same_value(x, y, tolerance, i) for i, (x, y) in enumerate(zip(a, b, strict=True))
    )


def compare(
    expected: Sequence[Sequence],
    actual: Sequence[Sequence],
    shape: Callable[[], Shape],
    tolerance: Tolerance,
) -> Difference | None:
    """None when `actual` is the same answer as `expected`; else what differs. `shape` gives
    the query's ORDER BY keys and LIMIT (`shape_of` parses the SQL); it is asked for only when
    the rows do not already agree in order."""
    if len(expected) == len(actual) and (
        all(map(_identical, expected, actual))
        or all(_same_row(a, b, tolerance) for a, b in zip(expected, actual, strict=True))
    ):
        return None  # the same values row for row, in order: the same answer under every rule
    if len(expected) != len(actual):
        return Difference(
            f"{len(actual)} rows where {len(expected)} were expected",
            list(expected[:SHOWN_ROWS]),
            list(actual[:SHOWN_ROWS]),
        )
    widths = {len(r) for r in expected} | {len(r) for r in actual}
    if len(widths) > 1:
        return Difference("the results have different columns", expected[:1], actual[:1], 1)
    order = shape()
    if order.order_keys is None:
        difference = _compare_groups([list(expected)], [list(actual)], tolerance, cut=False)
        if difference and order.note:  # ORDER BY that cannot be checked: say so with the rule
            difference = dataclasses.replace(difference, rule=f"{difference.rule}; {order.note}")
        return difference
    keys = order.order_keys
    a_groups, b_groups = _ties(expected, keys, tolerance), _ties(actual, keys, tolerance)
    cut = order.limit is not None and len(actual) == order.limit
    return _compare_groups(a_groups, b_groups, tolerance, cut, keys)


def _ties(rows: Sequence[Sequence], keys: tuple[int, ...], tolerance: Tolerance) -> list[list]:
    """Consecutive rows that tie on the ORDER BY keys, as groups."""
    groups: list[list] = []
    for row in rows:
        if groups and all(same_value(row[k], groups[-1][0][k], tolerance, k) for k in keys):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _compare_groups(
    expected: list[list],
    actual: list[list],
    tolerance: Tolerance,
    cut: bool,
    keys: tuple[int, ...] = (),
) -> Difference | None:
    position = 0
    for index, (a, b) in enumerate(zip(expected, actual, strict=False)):
        last = index == len(expected) - 1 and index == len(actual) - 1
        if keys and not all(same_value(a[0][k], b[0][k], tolerance, k) for k in keys):
            return Difference(
                f"row {position + 1} is out of order on the ORDER BY columns "
                f"({', '.join(str(k + 1) for k in keys)})",
                a[:SHOWN_ROWS],
                b[:SHOWN_ROWS],
                position + 1,
            )
        if len(a) != len(b) and not (cut and last):
            return Difference(
                f"{len(b)} rows tie at row {position + 1} where {len(a)} were expected",
                a[:SHOWN_ROWS],
                b[:SHOWN_ROWS],
                position + 1,
            )
        if cut and last:  # LIMIT cut inside a tie: which tied rows made it is the engine's choice
            break
        unmatched = _unmatched(a, b, tolerance)
        if unmatched is not None:
            missing, extra = unmatched
            within = "" if len(a) == 1 else f", compared as a set of {len(a)} tied rows"
            return Difference(
                f"{_first_difference(missing, extra, tolerance)} ({tolerance.describe()}{within})",
                missing[:SHOWN_ROWS],
                extra[:SHOWN_ROWS],
                position + 1 if len(a) == 1 else None,
            )
        position += len(a)
    if len(expected) != len(actual):  # the same row count split into a different number of ties
        return Difference(
            "the rows tie differently on the ORDER BY columns",
            [g[0] for g in expected[:SHOWN_ROWS]],
            [g[0] for g in actual[:SHOWN_ROWS]],
        )
    return None


def _first_difference(missing: list, extra: list, tolerance: Tolerance) -> str:
    """The first differing value of the first unpaired rows, in words."""
    if not missing or not extra:
        return "rows differ"
    for column, (want, got) in enumerate(zip(missing[0], extra[0], strict=False)):
        if not same_value(want, got, tolerance, column):
            return f"column {column + 1} is {_shown(got)} where {_shown(want)} was expected"
    return "rows differ"


def _shown(value: Any) -> str:
    text = "NULL" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


GREEDY_LIMIT = 500  # unmatched rows beyond this are a difference, not a search


def _unmatched(a: list, b: list, tolerance: Tolerance) -> tuple[list, list] | None:
    """The rows of `a` and of `b` that find no partner on the other side (None: all pair up).

    Both sides are sorted on their rounded values and paired in order; the few rows that a
    rounding boundary puts out of step are then paired by search.
    """
    if len(a) == 1:
        return None if _same_row(a[0], b[0], tolerance) else (a, b)
    by_value = functools.partial(sort_key, decimals=tolerance.decimals)
    left, right = sorted(a, key=by_value), sorted(b, key=by_value)
    missing, extra = [], []
    for x, y in zip(left, right, strict=True):
        if not _same_row(x, y, tolerance):
            missing.append(x)
            extra.append(y)
    if not missing:
        return None
    if len(missing) > GREEDY_LIMIT:
        return missing, extra
    still_extra = list(extra)
    still_missing = []
    for x in missing:
        partner = next((i for i, y in enumerate(still_extra) if _same_row(x, y, tolerance)), None)
        if partner is None:
            still_missing.append(x)
        else:
            del still_extra[partner]
    return (still_missing, still_extra) if still_missing or still_extra else None


# -- the shape of a query ---------------------------------------------------------------------
def shape_of(sql: str, dialect: str) -> Shape:
    """Where the outermost ORDER BY's keys are in the select list, and the LIMIT, from the SQL.

    A key that is not one of the selected columns (ORDER BY an expression not selected) cannot
    be checked in the result: the result is then compared as a multiset, and `note` says so.
    """
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return Shape(note="the SQL could not be parsed, so row order is not checked")
    order = tree.args.get("order")
    limit_node = tree.args.get("limit")
    limit = None
    if limit_node is not None:
        expression = limit_node.expression if hasattr(limit_node, "expression") else None
        if isinstance(expression, exp.Literal) and expression.is_int:
            limit = int(expression.this)
    if order is None:
        return Shape(limit=limit)
    selects = tree.selects if isinstance(tree, exp.Query) else []
    names = [s.alias_or_name.lower() for s in selects]
    texts = [(s.this if isinstance(s, exp.Alias) else s).sql(dialect) for s in selects]
    keys = []
    for ordered in order.expressions:
        key = ordered.this
        position = None
        if isinstance(key, exp.Literal) and key.is_int:
            position = int(key.this) - 1
        elif isinstance(key, exp.Column) and key.name.lower() in names:
            position = names.index(key.name.lower())
        elif key.sql(dialect) in texts:
            position = texts.index(key.sql(dialect))
        if position is None or not 0 <= position < len(selects):
            return Shape(
                limit=limit,
                note=f"ORDER BY {key.sql(dialect)} is not a selected column, so row order "
                "is not checked",
            )
        keys.append(position)
    return Shape(tuple(keys), limit)
