"""Results as the harness reads them, in both modes (chDB and a server both write ClickHouse's
Arrow output): a DateTime's seconds and an Enum's number as what they are, a zoned timestamp as
its UTC wall time."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any


def readable_batches(reader: Any, types: list[str] | None) -> Iterator[Any]:
    """Record batches whose values read as DuckDB's do: a zoned timestamp as its UTC wall time
    (the session's zone is UTC; ClickHouse's DateTime64 comes out zoned, DuckDB's TIMESTAMP
    naive), a DateTime's seconds as that time too, and an Enum's number as its name."""
    import pyarrow as pa

    converters = {i: c for i, c in enumerate(map(_converter, types or ())) if c is not None}
    for batch in reader:
        fields = list(batch.schema)
        if converters or any(pa.types.is_timestamp(f.type) and f.type.tz for f in fields):
            arrays = []
            for i, (f, column) in enumerate(zip(fields, batch.columns, strict=True)):
                if i in converters:
                    column = converters[i](column)
                elif pa.types.is_timestamp(f.type):
                    column = column.cast(pa.timestamp(f.type.unit))
                arrays.append(column)
            batch = pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)
        yield batch


def _converter(clickhouse_type: str) -> Any:
    """How to read a column of this ClickHouse type from its Arrow form; None: as it is."""
    import pyarrow as pa

    inner = clickhouse_type
    for wrapper in ("LowCardinality(", "Nullable("):
        if inner.startswith(wrapper):
            inner = inner[len(wrapper) : -1]
    if inner == "DateTime" or inner.startswith("DateTime("):
        return lambda column: column.cast(pa.int64()).cast(pa.timestamp("s"))
    if inner.startswith(("Enum8(", "Enum16(")):
        names = {
            int(number): name.replace("\\'", "'")
            for name, number in re.findall(r"'((?:[^'\\]|\\.)*)' = (-?\d+)", inner)
        }
        return lambda column: pa.array(
            [None if v is None else names.get(v) for v in column.to_pylist()], pa.string()
        )
    return None


def table_rows(table: Any) -> list[tuple]:
    if not table.num_columns:
        return [()] * table.num_rows
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))
