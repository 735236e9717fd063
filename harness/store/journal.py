"""The journal beside the store: every attempt is appended to it as one JSON line the moment it
finishes, handed to the OS at once (a crash of the process, even kill -9, loses at most the
attempt in flight) and fsynced when the query's attempts are done (a crash of the machine loses
at most the query in flight). The lines move into the tables in one statement when the run ends,
since a DuckDB commit per attempt would cost 1.5-2 ms each, more than many TPC-H queries take
at SF 1.

Opening the store replays what a crashed process left: a line that cannot be read (torn by the
crash, or damaged since) is skipped and counted, every other one is recovered, and the journal
is then kept aside for a look rather than deleted.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import duckdb

from harness.errors import StoreError
from harness.store.failures import write_failure

Insert = Callable[[list[dict[str, Any]]], None]


class Journal:
    """The journal of the store at `store_path`: `<store>.journal` beside it."""

    def __init__(self, store_path: Path) -> None:
        self.store_path = store_path
        self.path = store_path.with_name(store_path.name + ".journal")
        self._file: IO[str] | None = None  # open once this process has journaled a line

    def append(self, row: dict[str, Any], sync: bool) -> None:
        """One line; `sync` also puts it on the disk (fsync), which a line alone is not."""
        line = json.dumps(row, default=datetime.isoformat) + "\n"
        try:
            if self._file is None:
                self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
            self._file.write(line)
            self._file.flush()  # with the OS: survives a crash of this process, even kill -9
            if sync:  # on the disk: survives a crash of the OS too
                os.fsync(self._file.fileno())
        except OSError as exc:
            # What the journal held before this line stays there (the next opening recovers
            # it, and counts this line if part of it was written). The file is let go: its
            # buffer holds a line the disk refused.
            self.let_go()
            raise write_failure(self.store_path, exc, self.path) from None

    def discard(self) -> None:
        """After its lines are in the tables: closed and deleted (if this process wrote it)."""
        if self._file is not None:
            self._file.close()
            self._file = None
            self.path.unlink(missing_ok=True)

    def let_go(self) -> None:
        """Closed, kept: what it holds is moved in by the next opening of the store."""
        if self._file is not None:
            with suppress(OSError, ValueError):
                self._file.close()
            self._file = None

    def replay(self, insert_attempts: Insert, insert_results: Insert) -> None:
        """Every line of a journal left by a process that died goes into the tables if it reads
        as an attempt or a result; one that does not (the line being written when the process
        died, or a line damaged since) is skipped, counted and said, and the journal is then
        kept aside rather than deleted, so nothing is thrown away unseen."""
        attempts: dict[tuple[str, str, int], tuple[int, dict[str, Any]]] = {}
        results: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        damaged: list[int] = []
        lines = 0
        torn = False
        try:
            journal = open(self.path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise StoreError(
                f"cannot read the journal {self.path}: {exc.strerror}; it holds attempts "
                "not yet in the store: make it readable and run the command again"
            ) from None
        with journal:
            for number, raw in enumerate(journal, 1):
                if not raw.strip():
                    continue  # nothing was written there, so nothing is lost
                lines += 1
                try:
                    kind, row = journal_row(json.loads(raw))
                except (ValueError, TypeError, OverflowError, RecursionError):
                    damaged.append(number)
                    torn = not raw.endswith(b"\n")  # only the last line can lack one
                    continue
                if kind == "result":  # a query's first answer is the one kept
                    results.setdefault((row["run_id"], row["query_id"]), (number, row))
                else:  # an attempt journaled twice (a crash mid-flush) is one attempt
                    attempts[row["run_id"], row["query_id"], row["attempt"]] = (number, row)
        damaged += _insert_recovered(insert_attempts, list(attempts.values()))
        damaged += _insert_recovered(insert_results, list(results.values()))
        if not damaged:
            self.path.unlink()
            return
        _warn(self._kept_aside(sorted(damaged), lines, torn))

    def _kept_aside(self, damaged: list[int], lines: int, torn: bool) -> str:
        """Move the journal aside after a replay that left lines out; what to tell the user."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        copy = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for n in range(2, 100):
            if not copy.exists():
                break
            copy = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{n}")
        listed = ", ".join(map(str, damaged[:5])) + (", …" if len(damaged) > 5 else "")
        count = len(damaged)
        told = (
            f"{count} line{'s' if count > 1 else ''} of the journal of results store "
            f"{self.store_path} could not be read (line{'s' if count > 1 else ''} {listed} of "
            f"{lines}"
            + (", the last cut off as it was written when whbench stopped" if torn else "")
            + f") and {'are' if count > 1 else 'is'} left out; the other {lines - count} "
            "were recovered"
        )
        try:
            self.path.rename(copy)
        except OSError as exc:
            return f"{told}; the journal stays at {self.path} ({exc.strerror})"
        return f"{told}; the journal is kept as {copy}"


def _insert_recovered(insert: Insert, rows: list[tuple[int, dict[str, Any]]]) -> list[int]:
    """Insert (line number, row) pairs; the line numbers of rows the store refused. All at once
    first; if a value slipped past the checks, row by row (each insert skips what is stored
    already), so one bad row costs only itself."""
    try:
        insert([row for _, row in rows])
        return []
    except duckdb.Error:
        refused = []
        for number, row in rows:
            try:
                insert([row])
            except duckdb.Error:
                refused.append(number)
        return refused


def _warn(text: str) -> None:
    """One line on stderr: stdout stays clean for what the command prints (and --json)."""
    print(f"warning: {text}", file=sys.stderr, flush=True)


# A journal line is read back only after a crash, and anything may have happened to it (torn,
# overwritten, edited): it counts as an attempt or a result only if it has exactly the columns
# one has, each of the type its column takes. Every other line is damaged, however it parses.
def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    value.encode("utf-8")  # a lone surrogate ("\ud800" in the JSON) is no text DuckDB takes
    if "\0" in value:
        raise ValueError("NUL in text")
    return value


def _whole(bits: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if type(value) is not int or not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise ValueError(f"not a {bits}-bit whole number")
        return value

    return check


def _number(value: Any) -> float:
    if type(value) not in (int, float):  # not a bool, though bool is an int
        raise TypeError("not a number")
    return float(value)  # an int too large for a double: OverflowError


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise TypeError("not true or false")
    return value


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(_text(value))


def _json_text(value: Any) -> str:
    json.loads(_text(value))
    return value


_INT, _BIGINT = _whole(32), _whole(64)
# column -> its check; the required columns first (a row needs them, not None)
_ATTEMPT_COLUMNS: dict[str, Callable[[Any], Any]] = {
    "run_id": _text,
    "query_id": _text,
    "attempt": _INT,
    "phase": _text,
    "status": _text,
    "started_at": _moment,
    "client_seconds": _number,
    "engine_seconds": _number,
    "rows": _BIGINT,
    "checksum": _text,
    "engine_query_id": _text,
    "bytes_scanned": _BIGINT,
    "bytes_billed": _BIGINT,
    "slot_ms": _BIGINT,
    "warehouse_seconds": _number,
    "rpu_seconds": _number,
    "cache_hit": _flag,
    "cloud_services_credits": _number,
    "queued_seconds": _number,
    "compile_seconds": _number,
    "execution_seconds": _number,
    "error": _text,
    "ended_at": _moment,
    "answer": _text,
    "cold_method": _text,
    "stream": _INT,
    "level": _INT,
    "harness_queue_seconds": _number,
    "rows_read": _BIGINT,
    "peak_memory_bytes": _BIGINT,
    "recall": _number,
}
_ATTEMPT_REQUIRED = ("run_id", "query_id", "attempt", "phase", "status", "started_at")
_RESULT_COLUMNS: dict[str, Callable[[Any], Any]] = {
    "run_id": _text,
    "query_id": _text,
    "attempt": _INT,
    "columns": _json_text,
    "total_rows": _BIGINT,
    "rest_fingerprint": _text,
    "rows": _json_text,
    "answer": _text,
    "difference": _json_text,
}
_RESULT_REQUIRED = ("run_id", "query_id", "attempt", "columns", "rows")


def journal_row(line: Any) -> tuple[str, dict[str, Any]]:
    """("attempt" | "result", the row as the tables take it) from a parsed journal line;
    ValueError or TypeError (or OverflowError) when it is not one. A column missing from an
    older whbench's line is None; an unknown one makes the line damaged."""
    if not isinstance(line, dict):
        raise TypeError("not an object")
    kind, columns, required = "attempt", _ATTEMPT_COLUMNS, _ATTEMPT_REQUIRED
    if "result" in line:
        if len(line) != 1:
            raise ValueError("a result line holds only the result")
        line = line["result"]
        if not isinstance(line, dict):
            raise TypeError("not an object")
        kind, columns, required = "result", _RESULT_COLUMNS, _RESULT_REQUIRED
    if unknown := set(line) - set(columns):
        raise ValueError(f"unknown columns {sorted(unknown)[:3]}")
    row = {}
    for name, check in columns.items():  # in one order: a batch inserts by the first row's
        value = line.get(name)
        if value is None:
            if name in required:
                raise ValueError(f"{name} is missing")
            row[name] = None
        else:
            row[name] = check(value)
    if kind == "result":
        row["rows"] = line["rows"]  # as written: its digest names the kept rows
    return kind, row
