"""Under load: one workload at several concurrency levels, its streams running at once.

A level of N runs N streams at once, each on a session of its own (`Engine.open_session`: its
own connection; DuckDB's, a cursor on the one instance) and in its own query order: the
workload's `streams.orders` (TPC-H: Appendix A), else a shuffle seeded by the stream. Level 1
runs stream 0 (TPC-H's power test); level N runs streams 1..N (its throughput test).
Everything is rendered, and every session opened and prepared, before the level's clock
starts; then the streams are released together.

Closed loop: each stream runs its order `iterations` times, or starts queries until `duration`
has passed. Open loop (`arrival_rate`): queries arrive at Poisson times at that rate whatever
has finished, and N workers (the cap on queries in flight) take them in turn; the time a query
waited for a free worker is recorded apart from the engine's time.

The streams never touch the store: each hands its attempts to the main thread, which journals
them in batches (one sync per batch) while it waits. Answers are checked in the streams,
outside the timed call. A level is measured whole or not at all: one cut short by Ctrl-C is run
again whole by `whbench run --resume`.

What a level measured, from the stored rows, is harness/levels.py; this module only runs the
levels (the thread executor), handed what it needs by the runner, and imports nothing back.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from harness.engines.base import Engine, QueryCancelled
from harness.measure import Judge, measure
from harness.plan import LoadPlan, PlannedQuery, Task
from harness.store import Attempt, Store

if TYPE_CHECKING:
    from harness.answers import Expected
    from harness.interrupt import StopOnCtrlC
    from harness.progress import Progress

BATCH_SECONDS = 0.05  # how often the main thread journals what the streams finished
SAMPLE_SECONDS = 5.0  # how often it asks the engine how far it has scaled out


class _Stop(Exception):
    """A stream ends early: Ctrl-C."""


class LoadTest:
    """Runs a task's levels into the run `run_id` of `store`: the runner hands it the engine
    (connected, its session prepared), the known answers, the progress display to add a bar
    per level to, and the Ctrl-C handler whose `requested` every stream checks between queries
    and whose `engines` a Ctrl-C cancels."""

    def __init__(
        self,
        task: Task,
        engine: Engine,
        expected: dict[str, Expected],
        *,
        store: Store,
        run_id: str,
        timeout_seconds: float,
        progress: Progress,
        stop: StopOnCtrlC,
    ) -> None:
        assert task.load is not None, "a task under load has a LoadPlan"
        self.task, self.engine, self.expected = task, engine, expected
        self.plan: LoadPlan = task.load
        self.store, self.run_id, self.timeout = store, run_id, timeout_seconds
        self.progress, self.stop = progress, stop
        # A query that cannot be translated for this engine has no place in any stream.
        self.queries = {q.id: q for q in task.queries if not q.skipped}
        self.kept = set(self.store.results(run_id, with_rows=False))  # kept before a resume
        self.kept_lock = threading.Lock()
        self.finished: queue.SimpleQueue = queue.SimpleQueue()  # (attempt, kept) from streams
        # Each query's attempt numbers, counted across levels in the order attempts start
        # (next() on a count is atomic: the streams share these without a lock).
        numbered = self.store.attempt_numbers(run_id)
        self.numbers = {q: itertools.count(numbered.get(q, 0) + 1) for q in self.queries}

    def run(self) -> set[str]:
        done = {
            stored.level for stored in self.store.levels(self.run_id) if stored.status == "finished"
        }
        for level in self.plan.levels:
            if level in done:
                continue
            if removed := self.store.discard_level(self.run_id, level):
                self.engine.notes.append(
                    f"level {level} was cut short; its {removed} attempts were discarded and it "
                    "ran again whole"
                )
            self._level(level)
        return set(self.queries)

    # -- one level -------------------------------------------------------------------------------
    def _level(self, level: int) -> None:
        plan, stop = self.plan, self.stop
        numbers = plan.streams_of(level) if not plan.arrival_rate else list(range(1, level + 1))
        step = self.progress.add_task(f"level {level}", total=None)
        with self._sessions(len(numbers)) as sessions:
            release = threading.Event()
            judges = {n: {} for n in numbers}
            if plan.arrival_rate:
                jobs: queue.SimpleQueue = queue.SimpleQueue()
                bodies = [
                    (self._worker, (level, n, s, jobs, judges[n]))
                    for n, s in zip(numbers, sessions, strict=True)
                ]
                bodies.append((self._arrivals, (jobs, len(numbers), release)))
            else:
                bodies = [
                    (self._stream, (level, n, s, judges[n], release))
                    for n, s in zip(numbers, sessions, strict=True)
                ]
            threads = [
                threading.Thread(target=self._guarded, args=(body, args), daemon=True)
                for body, args in bodies
            ]
            for thread in threads:
                thread.start()
            stop.engines = [s for s in sessions if isinstance(s, Engine)]
            started_at = datetime.now(UTC)
            self.level_started = time.monotonic()
            release.set()
            peaks = Peaks(self.engine)
            while any(thread.is_alive() for thread in threads):
                time.sleep(BATCH_SECONDS)
                self._journal(step)
                peaks.sample()
            for thread in threads:
                thread.join()
            self._journal(step)
            ended_at = datetime.now(UTC)
            stop.engines = [self.engine]
        status = "interrupted" if stop.requested else "finished"
        scale_out = None
        if not stop.requested:
            peaks.sample(now=True)
            scale_out = {**(self.engine.scale_out(started_at, ended_at) or {}), **peaks.seen}
        self.store.record_level(self.run_id, level, status, started_at, ended_at, scale_out or None)
        stop.check()

    @contextlib.contextmanager
    def _sessions(self, count: int) -> Iterator[list[Engine | str]]:
        """`count` sessions, each connected and prepared; one the engine refused is the reason
        (its stream records it on every query and the level goes on)."""
        with contextlib.ExitStack() as stack:
            sessions: list[Engine | str] = []
            for _ in range(count):
                try:
                    session = self.engine.open_session()
                    stack.callback(session.close)
                    session.prepare_session(self.task.namespace, self.run_id, self.timeout)
                except Exception as exc:
                    why = f"{type(exc).__name__}: {self.engine.error_text(exc)}"
                    sessions.append(f"session refused: {why}")
                    continue
                sessions.append(session)
            try:
                yield sessions
            finally:
                for session in sessions:
                    if isinstance(session, Engine):
                        self.engine.notes.extend(
                            n for n in session.notes if n not in self.engine.notes
                        )

    @staticmethod
    def _guarded(body: Any, args: tuple) -> None:
        with contextlib.suppress(_Stop):
            body(*args)

    def _stream(
        self, level: int, number: int, session: Engine | str, judges: dict, release: threading.Event
    ) -> None:
        order = self.task.workload.streams.order(
            number, list(self.queries), self.task.workload.name
        )
        release.wait()
        deadline = self._deadline()
        # A stream without a session records its refusal once per query, however long the level.
        rounds = (
            itertools.count()
            if deadline and not isinstance(session, str)
            else range(self.plan.iterations)
        )
        for _ in rounds:
            for query_id in order:
                if deadline is not None and time.monotonic() >= deadline:
                    return
                self._one(level, number, session, self.queries[query_id], judges)

    def _arrivals(self, jobs: queue.SimpleQueue, workers: int, release: threading.Event) -> None:
        """Open loop: put each query on `jobs` at its Poisson arrival time, then one end marker
        per worker. The order cycles through stream 0's."""
        rng = random.Random(self.plan.seed)
        order = self._order(0)
        release.wait()
        deadline = self._deadline()
        total = None if deadline else self.plan.iterations * len(order)
        due = time.monotonic()
        try:
            for count, query_id in enumerate(itertools.cycle(order)):
                if total is not None and count >= total:
                    break
                due += rng.expovariate(self.plan.arrival_rate)
                if deadline is not None and due >= deadline:
                    break
                while (wait := due - time.monotonic()) > 0:
                    if self.stop.requested:
                        return
                    time.sleep(min(wait, 0.1))
                jobs.put((query_id, due))
        finally:
            for _ in range(workers):
                jobs.put(None)

    def _worker(
        self, level: int, number: int, session: Engine | str, jobs: queue.SimpleQueue, judges: dict
    ) -> None:
        while (job := jobs.get()) is not None:
            query_id, due = job
            self._one(level, number, session, self.queries[query_id], judges, due)

    def _order(self, stream: int) -> list[str]:
        workload = self.task.workload
        return workload.streams.order(stream, list(self.queries), workload.name)

    def _deadline(self) -> float | None:
        duration = self.plan.duration_seconds
        return None if duration is None else self.level_started + duration

    def _one(
        self,
        level: int,
        stream: int,
        session: Engine | str,
        query: PlannedQuery,
        judges: dict[str, Judge],
        due: float | None = None,
    ) -> None:
        """One query on one stream's session, handed to the main thread to journal."""
        if self.stop.requested:
            raise _Stop
        number = next(self.numbers[query.id])
        base: dict[str, Any] = {"query_id": query.id, "attempt": number, "phase": "load"}
        base.update(stream=stream, level=level)
        if due is not None:
            base["harness_queue_seconds"] = max(0.0, time.monotonic() - due)
        if isinstance(session, str):  # the engine refused this stream a session
            refused = Attempt(**base, started_at=datetime.now(UTC), status="error", error=session)
            self.finished.put((refused, None))
            return
        judge = judges.get(query.id)
        if judge is None:
            judge = Judge.for_query(query, self.task.workload, self.expected)
            judges[query.id] = judge
        try:
            attempt = measure(session, query, self.timeout, judge, **base)
        except QueryCancelled:
            raise _Stop from None
        kept = None
        if attempt.status == "ok" and query.id not in self.kept:
            with self.kept_lock:
                if query.id not in self.kept:
                    self.kept.add(query.id)
                    kept = judge.to_keep()
        self.finished.put((attempt, kept))

    def _journal(self, step: int) -> None:
        """Journal what the streams finished since the last call, synced once."""
        batch = []
        with contextlib.suppress(queue.Empty):
            while True:
                batch.append(self.finished.get_nowait())
        for position, (attempt, kept) in enumerate(batch):
            if kept is not None:
                self.store.record_result(self.run_id, attempt.query_id, attempt.attempt, *kept)
            self.store.record_attempt(self.run_id, attempt, sync=position == len(batch) - 1)
        if batch:
            self.progress.advance(step, len(batch))


class Peaks:
    """The most the engine showed of its scale-out during a level (Engine.scale_out_sample,
    asked every SAMPLE_SECONDS from the main thread, never from a stream): `<name>_peak`."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.seen = engine, {}
        self.due = time.monotonic()

    def sample(self, now: bool = False) -> None:
        if not now and time.monotonic() < self.due:
            return
        self.due = time.monotonic() + SAMPLE_SECONDS
        for name, value in (self.engine.scale_out_sample() or {}).items():
            self.seen[f"{name}_peak"] = max(value, self.seen.get(f"{name}_peak", value))
