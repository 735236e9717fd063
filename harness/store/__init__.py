"""The results store: an embedded DuckDB file with a versioned schema, and the only code that
sends it SQL. Runs write to it; the report, the console, billing and the load figures read
typed rows from it (rows.py), never SQL of their own.

Every attempt is made durable the moment it finishes, in a journal beside the store (fsynced
per query), and moves into the tables in one statement when the run ends; opening the store
recovers what a crashed process left there. A quantity an engine did not report is stored as
NULL, never as 0. The store refuses a file that is not one (someone's DuckDB database is left
byte for byte as it was), and its failures are told as what they mean to the user.

Where things are:

- schema.py     the tables, the attempt_details view, the migrations between versions
- opening.py    opening (create, upgrade, refuse), crash recovery, flush and close
- journal.py    the journal: appending a line, replaying it after a crash, checking its lines
- writes.py     what a run records (`Attempt`, start_run, record_attempt …)
- reads.py      what readers get back (run, attempts, levels, loads, results, …)
- rows.py       the typed rows the reads return
- failures.py   NotAStore, StoreFull, damaged files and locks, told plainly
- output.py     files written for the user (-o), whole or not at all
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.store.failures import NotAStore, StoreFull
from harness.store.journal import journal_row
from harness.store.output import output_file
from harness.store.reads import EXPORT_FORMATS, StoreReads
from harness.store.rows import (
    LoadedTable,
    PassTime,
    RunListing,
    StoredAttempt,
    StoredLevel,
    StoredLoad,
    StoredResult,
    StoredRun,
)
from harness.store.schema import SCHEMA_VERSION
from harness.store.writes import Attempt, StoreWrites

__all__ = [
    "EXPORT_FORMATS",
    "SCHEMA_VERSION",
    "Attempt",
    "LoadedTable",
    "NotAStore",
    "PassTime",
    "RunListing",
    "Store",
    "StoreFull",
    "StoredAttempt",
    "StoredLevel",
    "StoredLoad",
    "StoredResult",
    "StoredRun",
    "journal_row",
    "open_store",
    "output_file",
]


class Store(StoreWrites, StoreReads):
    """An open results store: what runs write (writes.py) and what readers get back
    (reads.py), over one file (opening.py). Open it with `open_store`."""


@contextmanager
def open_store(path: Path, read_only: bool = False) -> Iterator[Store]:
    store = Store(path, read_only=read_only)
    try:
        yield store
    except BaseException:
        # The command failed already (a full disk, Ctrl-C …): what is journaled moves into the
        # tables if it can, else the journal keeps it; either way that failure is the one told.
        store.close(quietly=True)
        raise
    store.close()
