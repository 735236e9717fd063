"""A large result, fetched in batches and spooled to a temporary file, so that the harness's
memory stays bounded however many rows a query returns.

An engine fetches up to SPOOL_ROWS rows as a plain list of tuples, exactly as before: every
TPC-H result and most others stay on that path, which is the per-query hot path. Past that it
hands the rest over in batches (Arrow record batches where the driver offers them and they
convert to the same Python values as the driver's own rows; else lists of rows) to a `Spool`,
which writes each batch to an unnamed temporary file (removed when closed, and by the kernel
even after kill -9) and keeps only where each one starts.

What it returns, `Spooled`, is a read-only sequence of the rows: len() is the row count, and
iterating, indexing and slicing read the batches back one at a time. The fingerprint
(harness.checksum) and the kept answer (harness.kept_answers.keep) read it batch by batch, Arrow
batches column by column without making a Python object per value where they can, and sort
what must be sorted in a scratch DuckDB that spills to disk past SORT_MEMORY.

pyarrow and duckdb are imported only when a result is large, so small results pay nothing.

Which path, and why (issue 25 item 12): each engine fetches by its driver's fastest documented
path for the size, measured rather than assumed (benchmarks/fetch_paths.py, each engine on its
stand-in, 2 cores, 2026-12-06). A small result must end as a list of tuples, and the driver's own
rows get there fastest: DuckDB fetchmany 2.0M rows/s at 100k rows where Arrow then to_pylist
gives 0.84M (2.3x slower; 3.4x at 1k rows), Snowflake (fakesnow) 0.90M against 0.85M. A large
result is spooled, and kept as Arrow it is 7x (DuckDB: 14M rows/s against 1.9M) to 12x
(Snowflake: 11M against 0.93M) faster than rows at 1M rows, BigQuery's Arrow over REST pages
1.6x faster than its rows. Each engine names its path in describe() ("fetch"), which every run
records with its settings, so the report's methodology can say which path each engine used.
"""

from __future__ import annotations

import bisect
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import IO, TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

T = TypeVar("T")

SPOOL_ROWS = 100_000  # rows fetched as a plain list; a result with more is spooled
BATCH_ROWS = 250_000  # rows per batch asked of a driver past SPOOL_ROWS
# The scratch DuckDB's memory limit (past it, its sort spills to disk), and the larger ones
# tried in turn when very wide rows need more; then DuckDB's default.
SORT_MEMORY = ("256MB", "1GB", "4GB")
SORT_THREADS = 2  # sorting is not measured: two threads, whatever the machine


@dataclass(frozen=True)
class _Chunk:
    """One spooled batch: where its pickle is in the file, and how many rows it holds."""

    offset: int
    length: int
    start: int  # position of its first row in the result
    rows: int
    schema: pa.Schema | None  # a record batch's (None: a list of tuples)

    @property
    def arrow(self) -> bool:
        return self.schema is not None


class Spool:
    """Batches written to an unnamed temporary file as they arrive: `add` each, then
    `finish` for the rows (the list itself when nothing was spooled)."""

    def __init__(self, first: list[tuple]) -> None:
        self._first = first
        self._file: IO[bytes] | None = None
        self._chunks: list[_Chunk] = []
        self._end = 0  # bytes written
        self._count = 0  # rows written

    def add(self, batch: Any) -> None:
        """A pyarrow RecordBatch or Table, or a list (or tuple) of rows."""
        arrow = not isinstance(batch, (list, tuple))
        if arrow:
            import pyarrow as pa

            if isinstance(batch, pa.Table):  # Snowflake hands over tables
                for part in batch.to_batches():
                    self.add(part)
                return
        rows = batch.num_rows if arrow else len(batch)
        if not rows:
            return
        if self._file is None:
            # Closed by finish()'s Spooled (or discard); unnamed, so never left behind.
            self._file = tempfile.TemporaryFile(prefix="whbench-result-")  # noqa: SIM115
            if self._first:
                first, self._first = self._first, []
                self._write(first, arrow=False)
        if not arrow:
            batch = [tuple(row) for row in batch]  # DB-API rows may be row objects
        self._write(batch, arrow)

    def _write(self, batch: Any, arrow: bool) -> None:
        assert self._file is not None
        data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.write(data)
        rows = batch.num_rows if arrow else len(batch)
        schema = batch.schema if arrow else None
        self._chunks.append(_Chunk(self._end, len(data), self._count, rows, schema))
        self._end += len(data)
        self._count += rows

    def finish(self) -> list[tuple] | Spooled:
        if self._file is None:
            return self._first
        self._file.flush()
        return Spooled(self._file, self._chunks, self._count)

    def discard(self) -> None:
        """Drop what was spooled (the fetch failed part-way)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def spooled(first: list[tuple], rest: Iterable[Any]) -> list[tuple] | Spooled:
    """`first` and then every batch of `rest`, spooled; `first` as it is when `rest` is
    empty."""
    spool = Spool(first)
    try:
        for batch in rest:
            spool.add(batch)
    except BaseException:
        spool.discard()
        raise
    return spool.finish()


def collect(rows: Iterable[Sequence]) -> list[tuple] | Spooled:
    """Rows from an iterator (a driver's row iterator): a list while they are few, spooled in
    batches of BATCH_ROWS past SPOOL_ROWS."""
    iterator = iter(rows)
    first = [tuple(row) for row in islice(iterator, SPOOL_ROWS)]
    if len(first) < SPOOL_ROWS:
        return first
    return spooled(first, iter(lambda: list(islice(iterator, BATCH_ROWS)), []))


def fetch_path(small: str, large: str) -> str:
    """How an engine fetches, as its describe() records it ("fetch"): `small` up to
    SPOOL_ROWS, `large` past that."""
    return f"{small} up to {SPOOL_ROWS:,} rows; past that {large}"


def fetched_many(cursor: Any) -> Iterator[list]:
    """A DB-API cursor's remaining rows, BATCH_ROWS at a time."""
    while batch := cursor.fetchmany(BATCH_ROWS):
        yield batch


class Spooled(Sequence[tuple]):
    """A large result's rows, in its spool file. Read-only; each read takes one batch at a
    time into memory. Equal to another sequence holding the same rows in the same order."""

    def __init__(self, file: IO[bytes], chunks: list[_Chunk], count: int) -> None:
        self._file = file
        self._chunks = chunks
        self._starts = [chunk.start for chunk in chunks]
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"<{self._count} rows spooled in {len(self._chunks)} batches>"

    # -- reading -------------------------------------------------------------------------------
    def _load(self, chunk: _Chunk) -> Any:
        # pread: each reader keeps its own place, so two iterations can run side by side.
        data = os.pread(self._file.fileno(), chunk.length, chunk.offset)
        return pickle.loads(data)  # our own file, written above: trusted

    def batches(self, rows_only: bool = False) -> Iterator[Any]:
        """Each batch as spooled: a pyarrow RecordBatch or a list of tuples. `rows_only`: the
        lists of tuples, and None in place of each record batch (which is not read)."""
        for chunk in self._chunks:
            yield None if rows_only and chunk.arrow else self._load(chunk)

    def schemas(self) -> Iterator[pa.Schema | None]:
        """Each batch's Arrow schema (None for a list of rows), without reading it."""
        for chunk in self._chunks:
            yield chunk.schema

    def row_batches(self) -> Iterator[list[tuple]]:
        """Each batch as a list of tuples."""
        for batch in self.batches():
            yield python_rows(batch)

    def __iter__(self) -> Iterator[tuple]:
        for rows in self.row_batches():
            yield from rows

    @overload
    def __getitem__(self, index: int) -> tuple: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple]: ...

    def __getitem__(self, index: int | slice) -> tuple | list[tuple]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._count)
            if step != 1:
                return list(self)[index]
            return self._range(start, stop)
        position = index + self._count if index < 0 else index
        if not 0 <= position < self._count:
            raise IndexError("spooled result index out of range")
        return self._range(position, position + 1)[0]

    def _range(self, start: int, stop: int) -> list[tuple]:
        """Rows start..stop-1, reading only the batches that hold them."""
        rows: list[tuple] = []
        if start >= stop:
            return rows
        first = bisect.bisect_right(self._starts, start) - 1
        for chunk in self._chunks[first:]:
            if chunk.start >= stop:
                break
            batch = self._load(chunk)
            low, high = max(start - chunk.start, 0), min(stop - chunk.start, chunk.rows)
            if chunk.arrow:
                rows.extend(python_rows(batch.slice(low, high - low)))
            else:
                rows.extend(batch[low:high])
        return rows

    def take(self, positions: Sequence[int]) -> list[tuple]:
        """The rows at `positions`, in that order; each batch is read once."""
        wanted: dict[int, list[int]] = {}
        for position in positions:
            wanted.setdefault(bisect.bisect_right(self._starts, position) - 1, []).append(position)
        found: dict[int, tuple] = {}
        for number, chunk_positions in wanted.items():
            chunk = self._chunks[number]
            batch = self._load(chunk)
            local = [p - chunk.start for p in chunk_positions]
            if chunk.arrow:
                import pyarrow as pa

                picked = python_rows(batch.take(pa.array(local, pa.int64())))
            else:
                picked = [batch[i] for i in local]
            found.update(zip(chunk_positions, picked, strict=True))
        return [found[p] for p in positions]

    # -- comparing -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        if len(other) != self._count:
            return False
        if isinstance(other, Spooled) and self._same_layout(other):
            # Batch against batch: Arrow compares in C, without Python objects.
            for a, b in zip(self.batches(), other.batches(), strict=True):
                same = a.equals(b) if hasattr(a, "equals") and hasattr(b, "equals") else None
                if same is None:
                    same = python_rows(a) == python_rows(b)
                if not same:
                    return False
            return True
        return all(a == tuple(b) for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # a sequence of rows, like a list

    def _same_layout(self, other: Spooled) -> bool:
        return [(c.rows, c.arrow) for c in self._chunks] == [
            (c.rows, c.arrow) for c in other._chunks
        ]

    def close(self) -> None:
        self._file.close()


def python_rows(batch: Any) -> list[tuple]:
    """A batch as a list of tuples: a record batch column by column (to_pylist is C)."""
    if isinstance(batch, list):
        return batch
    if not batch.num_columns:
        return [()] * batch.num_rows
    return list(zip(*(column.to_pylist() for column in batch.columns), strict=True))


def in_scratch(work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """work(con) on a scratch in-memory DuckDB that spills to a temporary folder past
    SORT_MEMORY, so a sort of any length stays within it. DuckDB needs more for very wide rows
    (a hundred columns): when it runs out, `work` starts again with four times the memory, and
    last with DuckDB's own default. (preserve_insertion_order keeps its default: without it
    DuckDB 2 may hand an ORDER BY result to Arrow out of order.)"""
    import duckdb

    for limit in (*SORT_MEMORY, None):
        config: dict[str, Any] = {"threads": SORT_THREADS}
        if limit is not None:
            config["memory_limit"] = limit
        with tempfile.TemporaryDirectory(prefix="whbench-sort-") as folder:
            con = duckdb.connect(":memory:", config={**config, "temp_directory": folder})
            try:
                return work(con)
            except (duckdb.OutOfMemoryException, OSError) as exc:
                # Through an Arrow reader, DuckDB's error arrives as an OSError.
                if limit is None or "Out of Memory" not in str(exc):
                    raise
            finally:
                con.close()
    raise AssertionError("unreachable: the last attempt returns or raises")


def sorted_batches(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[pa.RecordBatch]:
    """A query's result on a scratch connection as record batches of BATCH_ROWS, streamed
    through a relation: a DB-API result would first be copied whole (DuckDB 2), which is the
    memory a sort that spills is there to save."""
    relation = con.sql(sql)
    read = getattr(relation, "to_arrow_reader", None) or relation.fetch_arrow_reader  # DuckDB 1
    yield from read(BATCH_ROWS)


def arrow_reader(cursor: Any) -> Iterator[pa.RecordBatch]:
    """A DuckDB result's remaining rows as record batches of BATCH_ROWS: `to_arrow_reader`
    (DuckDB 2),
    `fetch_record_batch` (1.x). DuckDB 2 warns that this copies the rows of a DB-API result;
    the copy is one batch at a time, and the warning would land on the user's terminal."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        read = getattr(cursor, "to_arrow_reader", None) or cursor.fetch_record_batch
        reader = read(BATCH_ROWS)
    yield from reader
