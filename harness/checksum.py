"""A result's fingerprint: a short digest that is equal when two results hold the same values
at the workload's stated decimals.

It is a quick first look (shown in `results show` and exports, and a shortcut when comparing);
the judge of whether two answers agree is `harness.answers.compare`, which allows for numbers
that straddle a rounding boundary. Equal fingerprints mean equal answers; unequal fingerprints
alone prove nothing.

Encoding, so that no two different results share one: every value is written as a kind letter,
its length and its text (`s3:abc`, `n1:5`), NULL as a lone `~` that no other value can be, and
every row is prefixed with its number of values. Numbers are rounded to `decimals` places (after
dropping float noise beyond `decimals` + 6) and written without trailing zeros, so 1, 1.0 and
Decimal('1.000') agree; dates and timestamps in ISO 8601, zoned ones in UTC. Rows are sorted
unless the query orders them.

A large result (harness.spool.Spooled) gets the same digest, read batch by batch: its row count
is known before the first line, Arrow batches' integer and text columns are encoded by Arrow
(the same strings, without a Python object per value), and unordered lines are sorted by a
scratch DuckDB that spills to disk. Its byte-wise order of UTF-8 text is Python's order of
str, so the sorted lines, and the digest, are the same.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from harness.spool import Spooled, in_scratch, sorted_batches

if TYPE_CHECKING:
    import pyarrow as pa

NULL = "~"
NOISE_DIGITS = 6  # digits past the stated precision that are taken as float noise


def encode_value(value: Any, decimals: int) -> str:
    kind = type(value)
    if kind is str:  # the common cases first: this runs for every value of every result
        return f"s{len(value)}:{value}"
    if kind is int:
        text = str(value)
    elif value is None:
        return NULL
    elif kind is Decimal:
        text = _number_text(value, decimals)
    elif kind is float:
        if not math.isfinite(value):
            text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        else:
            text = _number_text(Decimal(repr(value)), decimals)
    elif kind is bool:
        return "b1:t" if value else "b1:f"
    elif isinstance(value, (int, float, Decimal)):  # subclasses of the number types
        text = _number_text(Decimal(str(value)), decimals)
    elif isinstance(value, dt.datetime) and value.tzinfo is not None:
        # BigQuery's TIMESTAMP comes back zoned, the others' naive: compare both as UTC.
        text = value.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
        return f"t{len(text)}:{text}"
    elif isinstance(value, (dt.datetime, dt.date, dt.time)):
        text = value.isoformat()
        return f"t{len(text)}:{text}"
    elif isinstance(value, (bytes, bytearray, memoryview)):
        text = bytes(value).hex()
        return f"x{len(text)}:{text}"
    else:
        text = str(value)
        return f"s{len(text)}:{text}"
    return f"n{len(text)}:{text}"


def encode_row(row: tuple, decimals: int) -> str:
    return f"r{len(row)}:" + "".join(encode_value(v, decimals) for v in row)


def _number_text(value: Decimal, decimals: int) -> str:
    try:
        # Round twice: first past the float noise, then to the stated precision. Once would put
        # 368231.6694999999 (an engine computing in doubles) and 368231.6695 (one computing in
        # decimals) on either side of a rounding boundary.
        denoised = value.quantize(_quantum(decimals + NOISE_DIGITS), ROUND_HALF_EVEN)
        rounded = denoised.quantize(_quantum(decimals), ROUND_HALF_EVEN)
    except InvalidOperation:  # beyond Decimal's default precision: keep it whole
        rounded = value
    text = format(rounded.normalize(), "f")
    return "0" if text == "-0" else text


@functools.cache
def _quantum(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


def result_checksum(rows: list[tuple] | Spooled, ordered: bool, decimals: int) -> str:
    """A short hex digest of the encoded rows."""
    if isinstance(rows, Spooled):
        return _spooled_checksum(rows, ordered, decimals)
    lines = encoded_lines(rows, decimals)
    if not ordered:
        lines.sort()
    digest = hashlib.sha256()
    digest.update(f"{len(lines)}\n".encode())
    for line in lines:
        digest.update(line.encode())
    return digest.hexdigest()[:16]


def encoded_lines(rows: list[tuple], decimals: int) -> list[str]:
    """encode_row of each row."""
    width = len(rows[0]) if rows else 0
    if rows and all(len(row) == width for row in rows):
        # Column by column: a column of only text or only whole numbers (most of a large
        # result) is encoded in one comprehension, without asking each value its type.
        columns = [_encode_column(column, decimals) for column in zip(*rows, strict=True)]
        return [f"r{width}:" + "".join(values) for values in zip(*columns, strict=True)]
    return [encode_row(row, decimals) for row in rows]


def _encode_column(values: tuple, decimals: int) -> list[str]:
    """encode_value of each value, the same strings, faster for one-type columns."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return [f"s{len(v)}:{v}" for v in values]
    if kinds == {int}:
        return [f"n{len(t)}:{t}" for t in map(str, values)]
    return [encode_value(v, decimals) for v in values]


# -- a spooled result, batch by batch ---------------------------------------------------------
def _spooled_checksum(rows: Spooled, ordered: bool, decimals: int) -> str:
    import pyarrow as pa

    digest = hashlib.sha256()
    digest.update(f"{len(rows)}\n".encode())
    if ordered:
        for batch in rows.batches():
            digest.update(line_bytes(batch_lines(batch, decimals)))
        return digest.hexdigest()[:16]
    schema = pa.schema([("line", pa.string())])

    def sort(con: Any) -> str:
        sorted_digest = digest.copy()
        lines = (pa.record_batch([batch_lines(b, decimals)], schema=schema) for b in rows.batches())
        con.register("spooled", pa.RecordBatchReader.from_batches(schema, lines))
        for batch in sorted_batches(con, "SELECT line FROM spooled ORDER BY line"):
            sorted_digest.update(line_bytes(batch.column(0)))
        return sorted_digest.hexdigest()[:16]

    return in_scratch(sort)


def batch_lines(batch: Any, decimals: int) -> pa.Array:
    """encode_row of each row of one spooled batch, as an Arrow string array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(batch, list):
        return pa.array(encoded_lines(batch, decimals), pa.string())
    if not batch.num_columns:
        return pa.array(["r0:"] * batch.num_rows, pa.string())
    columns = [_arrow_column(column, decimals) for column in batch.columns]
    return pc.binary_join_element_wise(f"r{batch.num_columns}:", *columns, "")


def _arrow_column(column: pa.Array, decimals: int) -> pa.Array:
    """encode_value of each value of an Arrow column: whole numbers and text by Arrow (the
    digits of an integer and the length in code points of a text are the same there), the
    rest value by value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_dictionary(kind):  # DuckDB's ENUM
        column = column.dictionary_decode()
        kind = column.type
    if pa.types.is_integer(kind):
        text, tag = column.cast(pa.string()), "n"
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text, tag = column.cast(pa.string()), "s"
    else:
        return pa.array(_encode_column(tuple(column.to_pylist()), decimals), pa.string())
    length = pc.utf8_length(text).cast(pa.string())
    encoded = pc.binary_join_element_wise(tag, length, ":", text, "")
    return pc.fill_null(encoded, NULL) if encoded.null_count else encoded


def line_bytes(lines: pa.Array) -> bytes | memoryview:
    """The UTF-8 bytes of every line, concatenated: a view of the array's data buffer."""
    import pyarrow as pa

    if lines.null_count == 0 and lines.type in (pa.string(), pa.large_string()):
        _, offsets, data = lines.buffers()
        if data is None:  # every line empty
            return b""
        ends = memoryview(offsets).cast("i" if lines.type == pa.string() else "q")
        return memoryview(data)[ends[lines.offset] : ends[lines.offset + len(lines)]]
    return "".join(lines.to_pylist()).encode()
