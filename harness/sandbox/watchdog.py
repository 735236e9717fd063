"""The sandbox's time limit: a watchdog thread raises OutOfTime in a rendering thread that
passed its deadline. (Not harness.engines.watchdog, which calls a callback to interrupt a
query: a template renders in Python, so the only way to stop it is an exception raised in its
own thread.)"""

from __future__ import annotations

import itertools
import math
import threading
import time
from typing import Any


class OutOfTime(BaseException):
    """Raised in the rendering thread by the watchdog. A BaseException, so that no `except
    Exception` in a filter or in Jinja itself (constant folding catches Exception) swallows it."""


class Watchdog:
    """One daemon thread for the process, raising OutOfTime in a thread whose render passed its
    deadline. A thread per render would cost about 0.1 ms each (TPC-H renders 30 templates per
    dialect); arming and disarming here is a lock and a dictionary entry.

    A finished render must never get a late exception: the watchdog raises only while the render
    is armed, under the lock, and disarming (under the same lock) withdraws an exception that was
    raised but not yet delivered. An exception delivered while disarming is still inside the
    render's `try`, so it is reported as the timeout it is."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._armed: dict[int, list[Any]] = {}  # token -> [deadline, thread id, fired]
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None
        self._wake_at = math.inf

    def arm(self, seconds: float) -> int:
        # An infinite (or NaN) limit is no limit: the render is watched by nothing.
        deadline = time.monotonic() + seconds if seconds < math.inf else math.inf
        with self._lock:
            token = next(self._tokens)
            self._armed[token] = [deadline, threading.get_ident(), False]
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="whbench-render-watchdog")
                self._thread.daemon = True
                self._thread.start()
            elif deadline < self._wake_at:  # only then: waking the thread costs a switch
                self._lock.notify()
        return token

    def disarm(self, token: int) -> None:
        """Idempotent: the caller repeats it if a timeout cut it short (see guard())."""
        with self._lock:
            entry = self._armed.pop(token, None)
            if entry is not None and entry[2]:  # raised, maybe not yet delivered: withdraw it
                _async_raise(entry[1], None)

    def _watch(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                for entry in self._armed.values():
                    if entry[0] <= now:
                        # Raised again a second later while still armed, in case the first one
                        # landed in code that swallowed it (a bare `except:`).
                        entry[0], entry[2] = now + 1.0, True
                        _async_raise(entry[1], OutOfTime)
                self._wake_at = min((entry[0] for entry in self._armed.values()), default=math.inf)
                self._lock.wait(None if self._wake_at == math.inf else self._wake_at - now)


def _async_raise(thread: int, exception: type[BaseException] | None) -> None:
    """Raise `exception` in `thread` when it next runs Python code; None withdraws one that is
    pending. ctypes is imported only here, when a render runs out of time."""
    import ctypes

    target = ctypes.c_ulong(thread)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        target, None if exception is None else ctypes.py_object(exception)
    )


WATCHDOG = Watchdog()
