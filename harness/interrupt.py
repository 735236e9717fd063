"""Ctrl-C during a run: cancel the query in flight, keep what finished, then stop.

Shared by the runner's attempts and the streams of a run under load (harness/load.py): both
check `requested` between queries, and both list the sessions a Ctrl-C must cancel in
`engines`.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.engines.base import Engine


class StopOnCtrlC:
    """Python runs signal handlers only between bytecodes, and an engine's client may sit
    inside C code for the whole query (DuckDB even swallows the KeyboardInterrupt). So the
    signal also wakes a watcher thread through signal.set_wakeup_fd, and that thread cancels
    the query. A second Ctrl-C stops at once.
    """

    def __init__(self) -> None:
        self.requested = False
        self.engines: list[Engine] = []  # what a Ctrl-C cancels: every session in use
        self._pipe: tuple[int, int] | None = None

    def __enter__(self) -> StopOnCtrlC:
        if threading.current_thread() is not threading.main_thread():
            return self  # signals reach only the main thread; nothing to install
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        self._pipe = (read_end, write_end)
        self._previous_handler = signal.signal(signal.SIGINT, self._on_signal)
        self._previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, args=(read_end,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pipe is None:
            return
        signal.set_wakeup_fd(self._previous_fd)
        signal.signal(signal.SIGINT, self._previous_handler)
        for fd in self._pipe:
            os.close(fd)  # the watcher's read returns and it ends
        self._pipe = None

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def _watch(self, read_end: int) -> None:
        try:
            while signals := os.read(read_end, 16):
                if signal.SIGINT in signals:
                    for engine in list(self.engines):
                        engine.cancel()
        except OSError:
            pass  # the pipe was closed on exit

    def check(self) -> None:
        """Stop between attempts once Ctrl-C was pressed."""
        if self.requested:
            raise KeyboardInterrupt
