"""What the store keeps of an answer: its first KEPT_ROWS rows and a fingerprint of the rest
(`keep`), why it differed from another (`Difference`), and both as JSON that keeps each value's
kind (`to_json`, `difference_json` and back).

Rows in no particular order are kept in one order over values of every kind (`sort_key`), so
that two engines keep the same ones. A large result (harness.spool.Spooled) keeps the same rows
and the same fingerprint, read batch by batch and sorted in a scratch DuckDB that spills to
disk, so memory stays bounded. Whether two answers agree is harness.answers, built on this.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from harness.checksum import batch_lines, encode_row, line_bytes
from harness.spool import Spooled, in_scratch, sorted_batches

if TYPE_CHECKING:
    import pyarrow as pa

KEPT_ROWS = 10_000  # rows of each query's result kept in the store


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


# -- one value, in an order over every kind ---------------------------------------------------
def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def instant(value: dt.date) -> dt.datetime:
    """Dates and timestamps on one axis: zoned ones in UTC, a date as its midnight."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    return dt.datetime(value.year, value.month, value.day)


def sort_key(row: Sequence, decimals: int) -> tuple:
    return tuple(sortable(v, decimals) for v in row)


def sortable(value: Any, decimals: int) -> tuple:
    """A key that orders values of mixed types: (kind, value) with numbers rounded."""
    if value is None:
        return (0, "")
    if is_number(value):
        number = float(value)
        return (1, round(number, decimals) if math.isfinite(number) else str(number))
    if isinstance(value, dt.date):
        return (2, instant(value).isoformat())
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
        rows = sorted(rows, key=functools.partial(sort_key, decimals=decimals))
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
    # Sorted as sorted(rows, key=sort_key) sorts them: on each column's (kind, key) and, for
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
    """How one column's `sortable` goes to the scratch DuckDB: one typed column when every
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
    """Column i's `sortable`: for a whole-number column the number (round(float(v), decimals)
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
        kind, key = sortable(value, decimals)
        kinds.append(kind)
        if kind == 0:
            numbers.append(None)
            texts.append(None)
        elif isinstance(key, float):
            numbers.append(key + 0.0)  # -0.0 and 0.0 tie in Python; make them one here
            texts.append(None)
        else:
            numbers.append(None)
            texts.append(key)
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
