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

A stored result keeps its first `KEPT_ROWS` rows; beyond that only the row count and a
fingerprint of the rest are kept, so rows past the cap are compared by their count only (the
fingerprint is exact, and float noise between engines would make it a false alarm). A large
result (harness.spool.Spooled) keeps the same rows and the same fingerprint, read batch by batch
and sorted in a scratch DuckDB that spills to disk, so memory stays bounded.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.checksum import batch_lines, encode_row, line_bytes
from harness.spool import Spooled, in_scratch, sorted_batches

if TYPE_CHECKING:
    import pyarrow as pa

KEPT_ROWS = 10_000  # rows of each query's result kept in the store
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
        return f"numbers within {10**-self.decimals:g} or {self.relative:.2g} relative{looser}"


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
    may know the count per category but not the average)."""

    rows: list[tuple]
    source: str  # "TPC-H answer set", "events generator's truth"
    columns: tuple[int, ...] | None = None  # positions from 0; None: every column
    trimmed: bool = False  # its text was written without leading and trailing blanks


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


def check(
    expected: Expected,
    actual: Sequence[Sequence],
    shape: Callable[[], Shape],
    tolerance: Tolerance,
) -> Difference | None:
    """`compare` against a known answer; when it knows only some columns, those columns of
    every row, as a multiset."""
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


@dataclass(frozen=True)
class Stored:
    """A query's result as the store keeps it."""

    rows: list[tuple]  # the first KEPT_ROWS
    total_rows: int
    rest_fingerprint: str | None = None  # of the rows beyond KEPT_ROWS
    columns: tuple[str, ...] = ()

    @property
    def capped(self) -> bool:
        return self.total_rows > len(self.rows)


@dataclass(frozen=True)
class Difference:
    """Why two answers differ: the rule that failed, and the first differing rows of each."""

    rule: str
    expected: list[tuple]
    actual: list[tuple]
    row: int | None = None  # where the first difference is (from 1), when it has a place
    against: str | None = None  # what `expected` is: "the TPC-H answer set", "duckdb's answer"


# -- one value ---------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def same_value(a: Any, b: Any, tolerance: Tolerance, column: int = 0) -> bool:
    if type(a) is type(b) and a == b:  # the common case, and the cheap one
        return True
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) and not isinstance(b, str):
        a = _parse_like(a, b)
    elif isinstance(b, str) and not isinstance(a, str):
        b = _parse_like(b, a)
    if _is_number(a) and _is_number(b):
        return _same_number(a, b, tolerance, column)
    if isinstance(a, dt.date) and isinstance(b, dt.date):
        return _instant(a) == _instant(b)
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


def _instant(value: dt.date) -> dt.datetime:
    """Dates and timestamps on one axis: zoned ones in UTC, a date as its midnight."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    return dt.datetime(value.year, value.month, value.day)


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
    if _is_number(like):
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
    sort_key = functools.partial(_sort_key, decimals=tolerance.decimals)
    left, right = sorted(a, key=sort_key), sorted(b, key=sort_key)
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


def _sort_key(row: Sequence, decimals: int) -> tuple:
    return tuple(_sortable(v, decimals) for v in row)


def _sortable(value: Any, decimals: int) -> tuple:
    """A key that orders values of mixed types: (kind, value) with numbers rounded."""
    if value is None:
        return (0, "")
    if _is_number(value):
        number = float(value)
        return (1, round(number, decimals) if math.isfinite(number) else str(number))
    if isinstance(value, dt.date):
        return (2, _instant(value).isoformat())
    return (3, str(value))


# -- what the store keeps ---------------------------------------------------------------------
def keep(
    rows: list[tuple] | Spooled, ordered: bool, decimals: int, columns: Sequence[str] = ()
) -> Stored:
    """The first KEPT_ROWS rows and a fingerprint of the rest. Rows in no particular order are
    sorted first, so that two engines keep the same ones."""
    if isinstance(rows, Spooled):
        return _keep_spooled(rows, ordered, decimals, columns)
    if not ordered and len(rows) > KEPT_ROWS:
        rows = sorted(rows, key=functools.partial(_sort_key, decimals=decimals))
    rest = rows[KEPT_ROWS:]
    fingerprint = None
    if rest:
        digest = hashlib.sha256()
        for row in rest:
            digest.update(encode_row(row, 12).encode())
        fingerprint = digest.hexdigest()[:16]
    return Stored(rows[:KEPT_ROWS], len(rows), fingerprint, tuple(c.lower() for c in columns))


REST_DECIMALS = 12  # the rest's fingerprint is exact: encode_row at 12 decimals


def _keep_spooled(rows: Spooled, ordered: bool, decimals: int, columns: Sequence[str]) -> Stored:
    """`keep` of a spooled result: the same rows and fingerprint, read batch by batch."""
    names = tuple(c.lower() for c in columns)
    if len(rows) <= KEPT_ROWS:
        return keep(list(rows), ordered, decimals, columns)
    if ordered:
        digest = hashlib.sha256()
        kept = rows[:KEPT_ROWS]
        position = 0
        for batch in rows.batches():
            size = len(batch) if isinstance(batch, list) else batch.num_rows
            skip = min(max(KEPT_ROWS - position, 0), size)
            position += size
            if skip < size:
                rest = batch[skip:] if isinstance(batch, list) else batch.slice(skip)
                digest.update(line_bytes(batch_lines(rest, REST_DECIMALS)))
        return Stored(kept, len(rows), digest.hexdigest()[:16], names)
    # Sorted as sorted(rows, key=_sort_key) sorts them: on each column's (kind, key) and, for
    # rows that tie, their place in the result (sorted() is stable).
    keys = _sort_keys(rows, decimals)
    order = ", ".join([key.order(i) for i, key in enumerate(keys)] + ["position"])
    schema = _keyed_schema(keys)

    def sort(con: Any) -> tuple[list[int], str]:
        positions: list[int] = []
        rest = hashlib.sha256()
        con.register("keyed", _keyed_batches(rows, schema, keys, decimals))
        for batch in sorted_batches(con, f"SELECT position, line FROM keyed ORDER BY {order}"):
            wanted = KEPT_ROWS - len(positions)
            if wanted > 0:
                positions.extend(batch.column(0).slice(0, wanted).to_pylist())
            if wanted < batch.num_rows:
                rest.update(line_bytes(batch.column(1).slice(max(wanted, 0))))
        return positions, rest.hexdigest()[:16]

    positions, fingerprint = in_scratch(sort)
    return Stored(rows.take(positions), len(rows), fingerprint, names)


@dataclass(frozen=True)
class _SortKey:
    """How one column's `_sortable` goes to the scratch DuckDB: one typed column when every
    batch holds the column as Arrow whole numbers (kind 1, the number) or text (kind 3, the
    text), NULL sorting first as kind 0 does; else three (the kind, the number, the text)."""

    kind: str  # "number", "text" or "any"

    def order(self, i: int) -> str:
        if self.kind == "any":
            return f"k{i}, n{i} NULLS LAST, t{i} NULLS LAST"
        return f"c{i} NULLS FIRST"

    def fields(self, i: int) -> list[tuple[str, Any]]:
        import pyarrow as pa

        if self.kind == "number":
            return [(f"c{i}", pa.float64())]
        if self.kind == "text":
            return [(f"c{i}", pa.string())]
        return [(f"k{i}", pa.int8()), (f"n{i}", pa.float64()), (f"t{i}", pa.string())]


def _sort_keys(rows: Spooled, decimals: int) -> list[_SortKey]:
    """Each column's _SortKey: from each Arrow batch's schema, and from the values of each
    batch of rows (a large result's first SPOOL_ROWS, or a driver's rows): whole numbers
    (not bool) and NULL, or text and NULL, take one typed column."""
    import pyarrow as pa

    width = len(rows[0])
    kinds: list[set[str]] = [set() for _ in range(width)]
    for schema, batch in zip(rows.schemas(), rows.batches(rows_only=True), strict=True):
        for i in range(width):
            if schema is None:
                kinds[i].add(_python_kind(batch, i))
                continue
            kind = schema.field(i).type if i < len(schema) else None
            if kind is not None and pa.types.is_integer(kind):
                kinds[i].add("number")
            elif kind is not None and (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
                kinds[i].add("text")
            else:
                kinds[i].add("any")
    if decimals < 0:  # round(v, decimals) then changes whole numbers too
        kinds = [{"any"} if "number" in found else found for found in kinds]
    return [_SortKey(found.pop() if len(found) == 1 else "any") for found in kinds]


def _python_kind(rows: list[tuple], i: int) -> str:
    if i >= len(rows[0]) or any(len(row) != len(rows[0]) for row in rows):
        return "any"  # rows of different lengths: the absent value has a kind of its own
    found = set(map(type, (row[i] for row in rows))) - {type(None)}
    if found == {int}:
        return "number"
    return "text" if found == {str} else "any"


def _keyed_schema(keys: list[_SortKey]) -> pa.Schema:
    import pyarrow as pa

    fields = [("position", pa.int64()), ("line", pa.string())]
    for i, key in enumerate(keys):
        fields += key.fields(i)
    return pa.schema(fields)


def _keyed_batches(rows: Spooled, schema: pa.Schema, keys: list[_SortKey], decimals: int) -> Any:
    """Each batch's rows as (position, line at REST_DECIMALS, each column's sort key): a
    reader DuckDB sorts from."""
    import pyarrow as pa

    def batches() -> Any:
        start = 0
        for batch in rows.batches():
            size = len(batch) if isinstance(batch, list) else batch.num_rows
            arrays = [pa.array(range(start, start + size), pa.int64())]
            arrays.append(batch_lines(batch, REST_DECIMALS))
            for i, key in enumerate(keys):
                arrays += _key_columns(batch, i, key, decimals)
            start += size
            yield pa.record_batch(arrays, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def _key_columns(batch: Any, i: int, key: _SortKey, decimals: int) -> list[pa.Array]:
    """Column i's `_sortable`: for a whole-number column the number (round(float(v), decimals)
    is float(v) for a whole number), for a text column the text; else the kind (0 NULL,
    1 number, 2 date, 3 other; -1 for a row too short to have column i, which sorts first as a
    shorter tuple does), the rounded number, and the text (a non-finite number's too)."""
    import pyarrow as pa

    if isinstance(batch, list) and key.kind != "any":
        values = [row[i] for row in batch]
        if key.kind == "number":
            return [pa.array([None if v is None else float(v) for v in values], pa.float64())]
        return [pa.array(values, pa.string())]
    if key.kind == "number":
        return [batch.column(i).cast(pa.float64(), safe=False)]
    if key.kind == "text":
        return [batch.column(i).cast(pa.string())]
    if isinstance(batch, list):
        values = [row[i] if i < len(row) else _ABSENT for row in batch]
    else:
        values = batch.column(i).to_pylist()
    kinds: list[int] = []
    numbers: list[float | None] = []
    texts: list[str | None] = []
    for value in values:
        if value is _ABSENT:
            kinds.append(-1)
            numbers.append(None)
            texts.append(None)
            continue
        kind, sortable = _sortable(value, decimals)
        kinds.append(kind)
        if kind == 0:
            numbers.append(None)
            texts.append(None)
        elif isinstance(sortable, float):
            numbers.append(sortable + 0.0)  # -0.0 and 0.0 tie in Python; make them one here
            texts.append(None)
        else:
            numbers.append(None)
            texts.append(sortable)
    return [
        pa.array(kinds, pa.int8()),
        pa.array(numbers, pa.float64()),
        pa.array(texts, pa.string()),
    ]


_ABSENT = object()


def to_json(stored: Stored) -> str:
    return json.dumps([[_encode(v) for v in row] for row in stored.rows])


def from_json(text: str) -> list[tuple]:
    return [tuple(_decode(v) for v in row) for row in json.loads(text)]


def difference_json(difference: Difference | None) -> str | None:
    if difference is None:
        return None
    return json.dumps(
        {
            "rule": difference.rule,
            "row": difference.row,
            "against": difference.against,
            "expected": [[_encode(v) for v in row] for row in difference.expected],
            "actual": [[_encode(v) for v in row] for row in difference.actual],
        }
    )


def difference_from_json(text: str) -> Difference:
    data = json.loads(text)
    return Difference(
        data["rule"],
        [tuple(_decode(v) for v in row) for row in data["expected"]],
        [tuple(_decode(v) for v in row) for row in data["actual"]],
        data["row"],
        data.get("against"),
    )


def _encode(value: Any) -> Any:
    """A value as JSON that keeps its kind: numbers that JSON cannot hold exactly, dates and
    bytes are tagged."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"timestamp": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"time": value.isoformat()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, (dict, list)):
        return {"json": value}
    return str(value)


_DECODERS = {
    "float": float,
    "decimal": Decimal,
    "timestamp": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "bytes": bytes.fromhex,
    "json": lambda v: v,
}


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        return _DECODERS[tag](text)
    return value


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
