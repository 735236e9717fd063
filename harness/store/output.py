"""Files written for the user (`-o`: a report, an export): written whole under a new name,
then moved over the target, so a reader never sees half of one; refused when the target is
not a regular file.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from harness.errors import HarnessError, UsageError, first_line
from harness.paths import file_kind
from harness.store.failures import FULL_ERRNOS, full_reason


@contextmanager
def output_file(target: Path, what: str) -> Iterator[Path]:
    """A new file to write `what` into, moved over `target` once written whole (readers never
    see half of it), or with `target` "-" copied to stdout. Refused as bad input (one line,
    exit 2): a target that exists and is not a regular file, since the move would replace a
    device node or a symbolic link (and writing to a fixed partial name could follow one); a
    path under a file; a folder that cannot be made or written. A full disk is exit 1."""
    to_stdout = str(target) == "-"
    folder = None if to_stdout else target.parent
    try:
        if folder is not None:
            _check_output_path(target, what)
            folder.mkdir(parents=True, exist_ok=True)
        # a name nobody has (O_EXCL): never a file, or a link, that was there before
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=folder)
        os.close(handle)
    except OSError as exc:
        raise _output_error(target, what, exc.errno, exc.strerror or first_line(exc)) from None
    partial = Path(name)
    try:
        yield partial
        if to_stdout:
            sys.stdout.flush()
            with partial.open("rb") as written:
                while chunk := written.read(1 << 20):
                    sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        else:
            partial.chmod(_mode_for(target))
            partial.replace(target)
    except OSError as exc:
        raise _output_error(target, what, exc.errno, exc.strerror or first_line(exc)) from None
    except duckdb.Error as exc:  # DuckDB writes some files itself (COPY … TO)
        reason = full_reason(str(exc))
        raise _output_error(
            target, what, errno.ENOSPC if reason else None, reason or first_line(exc)
        ) from None
    finally:
        partial.unlink(missing_ok=True)


def _check_output_path(target: Path, what: str) -> None:
    try:
        found = os.lstat(target)
    except FileNotFoundError:
        found = None
    except NotADirectoryError:
        found = None  # a file on the way: named below
    except OSError as exc:
        raise _output_error(target, what, exc.errno, exc.strerror or first_line(exc)) from None
    if found is not None:
        if stat.S_ISREG(found.st_mode):
            return
        raise UsageError(
            f"cannot write {what} to {target}: it is {file_kind(found.st_mode)}, and whbench "
            "writes only regular files; choose another file with -o (or - for standard output)"
        )
    for folder in target.parents:  # the nearest that exists must be a folder
        if os.path.lexists(folder):
            if not folder.is_dir():
                raise UsageError(
                    f"cannot write {what} to {target}: {folder} is a file, not a folder; "
                    "choose another path with -o"
                )
            return


def _output_error(target: Path, what: str, number: int | None, reason: str) -> HarnessError:
    if number in FULL_ERRNOS:
        return HarnessError(
            f"cannot write {what} {target}: {reason}; free space on that disk or choose another "
            "file with -o"
        )
    return UsageError(
        f"cannot write {what} {target}: {reason}; choose a file in a folder you can write "
        "with -o (or - for standard output)"
    )


def _mode_for(target: Path) -> int:
    """The permissions a file written anew gets (a replaced file keeps its own): mkstemp makes
    it private, but a report is written to be shared."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask
