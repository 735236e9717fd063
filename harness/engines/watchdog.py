"""Every query's time limit, on one thread: `WATCHDOG.arm(at, callback)` calls `callback` at
monotonic time `at` unless the returned Alarm was disarmed first (Engine.execute)."""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable


class Alarm:
    """One armed time limit: `fired` once its callback ran; `disarm` before that stops it."""

    __slots__ = ("at", "callback", "disarmed", "fired")

    def __init__(self, at: float, callback: Callable[[], None]) -> None:
        self.at, self.callback = at, callback
        self.disarmed = self.fired = False

    def __lt__(self, other: Alarm) -> bool:
        return self.at < other.at

    def disarm(self) -> None:
        self.disarmed = True


class Watchdog:
    """Every query's time limit on one thread (started on first use): arming one costs a heap
    push, where a timer thread per query would cost a thread start, about 0.1 ms, which many
    streams of short queries cannot afford."""

    def __init__(self) -> None:
        self._alarms: list[Alarm] = []
        self._armed = 0
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, at: float, callback: Callable[[], None]) -> Alarm:
        alarm = Alarm(at, callback)
        with self._wake:
            self._armed += 1
            if self._armed % 1024 == 0:  # drop the disarmed ones, which would pile up for the
                alive = [a for a in self._alarms if not a.disarmed]  # whole time limit
                heapq.heapify(alive)
                self._alarms = alive
            heapq.heappush(self._alarms, alarm)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, daemon=True, name="watchdog")
                self._thread.start()
            elif self._alarms[0] is alarm:  # sooner than what the thread is waiting for
                self._wake.notify()
        return alarm

    def _watch(self) -> None:
        with self._wake:
            while True:
                while self._alarms and self._alarms[0].disarmed:
                    heapq.heappop(self._alarms)  # finished in time: dropped lazily
                if not self._alarms:
                    self._wake.wait()
                    continue
                alarm = self._alarms[0]
                wait = alarm.at - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                heapq.heappop(self._alarms)
                alarm.fired = True
                self._wake.release()  # the callback may take a while: never block arm()
                try:
                    alarm.callback()
                finally:
                    self._wake.acquire()


WATCHDOG = Watchdog()
