"""The store's failures, told as what they mean to the user: a file that is not a store (left
as it was), a damaged one (nothing was changed: move it aside), a full disk (what is safe, what
to run next), a lock held by another process. `Connection` wraps DuckDB's connection so that
every statement's failure is told that way.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from harness.errors import StoreError, first_line, lock_holder

# What an OS or DuckDB says when a write does not fit: the disk is full, a quota is reached, or
# the file size limit (RLIMIT_FSIZE) is.
FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
_FULL_WORDS = ("No space left on device", "File too large", "Disk quota exceeded")
# What DuckDB says of a file that is cut short or whose blocks are not what it wrote.
_DAMAGED_WORDS = (
    "Corrupt database file",
    "not a valid DuckDB database file",
    "Could not read enough bytes",
    "checksum",
)


class NotAStore(StoreError):
    """A file that is not a whbench results store (someone's DuckDB database, a SQLite file):
    left as it was. Bad input, so exit 2."""

    exit_code = 2

    def __init__(self, path: Path, what: str = "") -> None:
        super().__init__(
            f"{path} is not a whbench results store{what}; it was left as it was: choose "
            "another store with --results-dir (or store: in the config)"
        )


class StoreFull(StoreError):
    """A write to the store or its journal that the disk refused. Every attempt finished before
    it is kept (in the tables, or in the journal the next opening moves in); `resume_command`,
    when a run was under way, is how to finish it once there is space."""

    def __init__(self, path: Path, reason: str, journal: Path) -> None:
        super().__init__(path, reason, journal)
        self.path, self.reason, self.journal = path, reason, journal
        self.resume_command: str | None = None

    def __str__(self) -> str:
        then = (
            f"then: {self.resume_command}"
            if self.resume_command
            else "then run the same command again"
        )
        return (
            f"the disk holding results store {self.path} is full ({self.reason}); every attempt "
            f"that finished before is kept ({self.journal} holds those not yet in the store): "
            f"free space on that disk, {then}"
        )


def damaged(path: Path, detail: str) -> str:
    return (
        f"results store {path} is damaged ({detail}); whbench changed nothing in it: move it "
        f"aside (mv {path} {path}.damaged) to start a new store there, or choose another store "
        "with --results-dir"
    )


def full_reason(text: str) -> str | None:
    return next((words for words in _FULL_WORDS if words in text), None)


def write_failure(path: Path, exc: OSError, journal: Path) -> StoreError:
    """An OS error writing the journal, as the user needs it."""
    if exc.errno in FULL_ERRNOS:
        return StoreFull(path, exc.strerror or first_line(exc), journal)
    return StoreError(
        f"cannot write the journal {journal} of results store {path}: "
        f"{exc.strerror or first_line(exc)}; every attempt that finished before is kept in it: "
        "make its folder writable, then run the command again"
    )


def _open_failure(path: Path, exc: Exception) -> StoreError:
    text = first_line(exc)
    who = lock_holder(exc)
    if who is not None:
        return StoreError(
            f"results store {path} is in use by another process{who}; wait for it to finish "
            "or choose another store with --results-dir"
        )
    journal = path.with_name(path.name + ".journal")
    if isinstance(exc, OSError):
        if exc.errno in FULL_ERRNOS:
            return StoreFull(path, exc.strerror or text, journal)
        text = exc.strerror or text
        if isinstance(exc, (FileExistsError, NotADirectoryError)):  # a file on the way
            blocker = next((p for p in path.parents if p.is_file()), None)
            text = f"{blocker} is a file, not a folder" if blocker else text
    elif reason := full_reason(str(exc)):
        return StoreFull(path, reason, journal)
    elif any(words in str(exc) for words in _DAMAGED_WORDS):
        return StoreError(damaged(path, text.removeprefix("IO Error: ")))
    elif "extension" in str(exc).lower() and path.exists():
        # DuckDB recognised another database's file (SQLite …) and wanted an extension
        return NotAStore(path, " (it is another kind of database file)")
    return StoreError(
        f"cannot open results store {path}: {text}; choose a writable folder with --results-dir"
    )


class Connection:
    """The store's DuckDB connection, whose failures are told as what they mean to the user:
    a full disk (what is safe, what to run next) or a damaged file. Any other error (whbench's
    own SQL, a missing table) passes through as DuckDB raised it, so that the schema check can
    still tell a new file by its CatalogException."""

    __slots__ = ("_full", "_journal", "_path", "raw")

    def __init__(self, raw: duckdb.DuckDBPyConnection, path: Path, journal: Path) -> None:
        self.raw = raw
        self._path, self._journal = path, journal
        self._full: str | None = None  # once the disk refused a write: what it said

    def execute(self, sql: str, params: Any = None) -> Connection:
        try:
            if params is None:
                self.raw.execute(sql)
            else:
                self.raw.execute(sql, params)
        except duckdb.Error as exc:
            raise self._explained(exc) from None
        return self

    def fetchone(self) -> tuple | None:
        try:
            return self.raw.fetchone()
        except duckdb.Error as exc:
            raise self._explained(exc) from None

    def fetchall(self) -> list[tuple]:
        try:
            return self.raw.fetchall()
        except duckdb.Error as exc:
            raise self._explained(exc) from None

    @property
    def description(self) -> Any:
        return self.raw.description

    def close(self) -> None:
        try:
            self.raw.close()
        except duckdb.Error:
            if self._full is None:
                raise  # after a full disk, its last checkpoint failing is no news

    def __getattr__(self, name: str) -> Any:  # register, unregister …: DuckDB's own
        return getattr(self.raw, name)

    def _explained(self, exc: duckdb.Error) -> Exception:
        text = str(exc)
        if reason := full_reason(text):
            self._full = reason
            return StoreFull(self._path, reason, self._journal)
        if self._full is not None and "invalidated" in text:  # DuckDB gave up after that
            return StoreFull(self._path, self._full, self._journal)
        if any(words in text for words in _DAMAGED_WORDS):
            return StoreError(damaged(self._path, first_line(exc).removeprefix("IO Error: ")))
        return exc


@contextmanager
def explained_open_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except (OSError, duckdb.Error) as exc:
        raise _open_failure(path, exc) from None
