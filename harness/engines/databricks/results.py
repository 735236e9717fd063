"""Results as the harness reads them: Arrow tables from the connector, whichever row set the
server sent, with zoned timestamps as their UTC wall time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness import spool


def batches(cursor: Any) -> Iterator[Any]:
    """The rest of a result, BATCH_ROWS rows at a time, as Arrow record batches."""
    while (table := cursor.fetchmany_arrow(spool.BATCH_ROWS)).num_rows:
        yield from arrow(table).to_batches()


def arrow(table: Any) -> Any:
    """A fetched chunk as an Arrow table. A server that answers a query with a column-based row
    set rather than Arrow (a warehouse does so for metadata commands; the Spark stand-in for
    everything) gets the connector's ColumnTable from fetchmany_arrow, its values already
    typed by the connector (dates, decimals, timestamps): made an Arrow table of those values."""
    from databricks.sql.utils import ColumnTable

    if isinstance(table, ColumnTable):
        import pyarrow as pa

        columns = [pa.array(list(column)) for column in table.column_table]
        table = pa.Table.from_arrays(columns, names=list(table.column_names))
    return naive(table)


def naive(table: Any) -> Any:
    """Timestamps as the UTC wall time, without a zone: how the other engines' TIMESTAMP
    columns read, so answers compare value by value."""
    import pyarrow as pa

    if not any(pa.types.is_timestamp(f.type) and f.type.tz for f in table.schema):
        return table
    columns = [
        column.cast(pa.timestamp(f.type.unit))
        if pa.types.is_timestamp(f.type) and f.type.tz
        else column
        for f, column in zip(table.schema, table.columns, strict=True)
    ]
    return pa.Table.from_arrays(columns, names=table.schema.names)
