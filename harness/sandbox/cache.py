"""Compiled templates kept on disk between runs, bounded in entry size and in total."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Any

from harness.paths import cache_dir

CACHE_ENTRY_BYTES = 2**20  # a compiled template above this is compiled again each time instead
CACHE_TOTAL_BYTES = 64 * 2**20  # the oldest entries go when the folder holds more than this
# Jinja keys cache entries on template and source, not on Environment options: a change of
# options (trim_blocks, the sandbox, intercepted operators, finalize, the code generator …)
# needs a new folder name here. v1 was the unsandboxed environment.
CACHE_FOLDER = "templates-v2"


def template_cache() -> Any:
    """Compiled templates on disk, keyed by file and source checksum, so a run does not pay
    for compiling every template again (about 0.1 s for TPC-H). Bounded: an entry over
    CACHE_ENTRY_BYTES is not written, and after a write the oldest entries go while the folder
    holds over CACHE_TOTAL_BYTES. A cache that cannot be written is only slower; None when there
    is nowhere to keep one."""
    import jinja2

    class TemplateCache(jinja2.FileSystemBytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            with contextlib.suppress(OSError):
                if os.stat(self._get_cache_filename(bucket)).st_size <= CACHE_ENTRY_BYTES:
                    super().load_bytecode(bucket)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            data = bucket.bytecode_to_string()
            if len(data) > CACHE_ENTRY_BYTES:
                return
            name = self._get_cache_filename(bucket)
            partial = f"{name}.{os.getpid()}.partial"
            try:
                with open(partial, "wb") as file:
                    file.write(data)
                os.replace(partial, name)  # whole or not at all, for a reader in another process
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(partial)
                return
            global _WRITTEN
            _WRITTEN += len(data)
            if _WRITTEN >= 0:  # the first write of the process, then every eighth of the total
                _WRITTEN = -CACHE_TOTAL_BYTES // 8
                prune(Path(self.directory))

    directory = cache_dir() / CACHE_FOLDER
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return TemplateCache(str(directory))


_WRITTEN = 0  # bytes this process wrote to the template cache since it last pruned it, less 1/8


def prune(directory: Path, total: int = CACHE_TOTAL_BYTES) -> None:
    """The oldest entries removed until the folder holds at most three quarters of `total`
    (so a full folder is not pruned on every write), and earlier versions' folders removed."""
    entries = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            with contextlib.suppress(OSError):
                stat = entry.stat(follow_symlinks=False)
                entries.append((stat.st_mtime, stat.st_size, entry.path))
    held = sum(size for _, size, _ in entries)
    if held > total:
        for _, size, path in sorted(entries):
            with contextlib.suppress(OSError):
                os.unlink(path)
                held -= size
            if held <= total * 3 // 4:
                break
    for old in directory.parent.glob("templates-v*"):
        if old.name != directory.name and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
