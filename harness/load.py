"""Under load: one workload at several concurrency levels, and what each level measured.

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
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import queue
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from harness.engines.base import Engine, QueryCancelled
from harness.errors import UsageError
from harness.measure import Judge, measure
from harness.stats import geometric_mean, percentile
from harness.store import Attempt

if TYPE_CHECKING:
    from harness.answers import Expected
    from harness.pricing import Catalog
    from harness.runner import PlannedQuery, Runner, Task
    from harness.workloads import Workload

MAX_STREAMS = 256
BATCH_SECONDS = 0.05  # how often the main thread journals what the streams finished
SAMPLE_SECONDS = 5.0  # how often it asks the engine how far it has scaled out
TPCH_SPEC = "TPC-H 3.0.1, https://www.tpc.org/tpc_documents_current_versions/pdf/tpc-h_v3.0.1.pdf"
NOT_COMPARABLE = "QphH@Size without refresh functions — not comparable to published TPC-H results"


@dataclass(frozen=True)
class LoadPlan:
    """`whbench run --streams 1,2,4 [--iterations K | --duration S] [--arrival-rate QPS]`."""

    levels: tuple[int, ...]
    iterations: int = 1
    duration_seconds: float | None = None
    arrival_rate: float | None = None  # open loop: queries per second, Poisson
    seed: int = 0  # of the open loop's arrival times

    @classmethod
    def parse(
        cls,
        streams: str,
        iterations: int | None = None,
        duration_seconds: float | None = None,
        arrival_rate: float | None = None,
    ) -> LoadPlan:
        try:
            levels = sorted({int(part) for part in streams.split(",") if part.strip()})
        except ValueError:
            raise UsageError(
                f"--streams {streams!r}: give concurrency levels as numbers, e.g. --streams 1,2,4"
            ) from None
        if not levels or levels[0] < 1 or levels[-1] > MAX_STREAMS:
            raise UsageError(f"--streams: each level must be from 1 to {MAX_STREAMS}")
        if iterations is not None and duration_seconds is not None:
            raise UsageError("--iterations and --duration both bound a level; give one of them")
        if iterations is not None and iterations < 1:
            raise UsageError("--iterations must be at least 1")
        if duration_seconds is not None and not duration_seconds > 0:
            raise UsageError("--duration must be a positive number of seconds")
        if arrival_rate is not None and not arrival_rate > 0:
            raise UsageError("--arrival-rate must be a positive number of queries per second")
        return cls(tuple(levels), iterations or 1, duration_seconds, arrival_rate)

    def for_workload(self, workload: Workload) -> LoadPlan:
        """TPC-H's metric needs its power test (level 1, stream 0): added when not asked for."""
        if workload.streams.metric == "tpch" and 1 not in self.levels and not self.arrival_rate:
            return dataclasses.replace(self, levels=(1, *self.levels))
        return self

    def streams_of(self, level: int) -> list[int]:
        return [0] if level == 1 else list(range(1, level + 1))

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class _Stop(Exception):
    """A stream ends early: Ctrl-C."""


class LoadTest:
    """Runs a task's levels for the runner, into the run `run_id`."""

    def __init__(
        self, runner: Runner, run_id: str, task: Task, engine: Engine, expected: dict[str, Expected]
    ) -> None:
        self.runner, self.run_id, self.task, self.engine = runner, run_id, task, engine
        self.plan: LoadPlan = task.load
        self.store = runner.store
        self.expected = expected
        self.timeout = runner.config.timeout_seconds
        # A query that cannot be translated for this engine has no place in any stream.
        self.queries = {q.id: q for q in task.queries if not q.skipped}
        self.kept = set(self.store.results(run_id, with_rows=False))  # kept before a resume
        self.kept_lock = threading.Lock()
        self.finished: queue.SimpleQueue = queue.SimpleQueue()  # (attempt, kept) from streams
        # Each query's attempt numbers, counted across levels in the order attempts start
        # (next() on a count is atomic: the streams share these without a lock).
        numbered = {
            row["query_id"]: row["n"]
            for row in self.store.rows(
                "SELECT query_id, max(attempt) AS n FROM attempts WHERE run_id = ? GROUP BY 1",
                [run_id],
            )
        }
        self.numbers = {q: itertools.count(numbered.get(q, 0) + 1) for q in self.queries}

    def run(self) -> set[str]:
        done = {
            row["level"] for row in self.store.levels(self.run_id) if row["status"] == "finished"
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
        plan, stop = self.plan, self.runner.stop
        numbers = plan.streams_of(level) if not plan.arrival_rate else list(range(1, level + 1))
        step = self.runner.progress.add_task(f"level {level}", total=None)
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
                    if self.runner.stop.requested:
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
        if self.runner.stop.requested:
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
            judge = judges[query.id] = self.runner.judge(query, self.task, self.expected)
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
            self.runner.progress.advance(step, len(batch))


# -- what a level measured ---------------------------------------------------------------------
def summary(
    run: dict[str, Any],
    attempts: list[dict],
    levels: list[dict],
    workload: Workload | None,
    catalog: Catalog | None = None,
) -> dict[str, Any]:
    """Per finished level: throughput, latency percentiles, errors, the engine's own split of
    time and the level's cost; and the workload's own metric (TPC-H: QphH@Size)."""
    by_level: dict[int, list[dict]] = {}
    for attempt in attempts:
        if attempt.get("level") is not None:
            by_level.setdefault(attempt["level"], []).append(attempt)
    measured = [
        _level_figures(row, by_level.get(row["level"], []), run, catalog)
        for row in levels
        if row["status"] == "finished"
    ]
    found: dict[str, Any] = {"plan": run.get("load"), "levels": measured}
    if workload is not None and workload.streams.metric == "tpch":
        found["tpch"] = tpch_metrics(measured, by_level, run["scale"], workload)
    return found


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


def _level_figures(
    row: dict, attempts: list[dict], run: dict, catalog: Catalog | None
) -> dict[str, Any]:
    ok = [a for a in attempts if a["status"] == "ok"]
    # The level's measurement interval, like TPC-H's Ts: from the first query's start to the
    # last one's end, so a reader can recompute it from the exported attempts.
    starts = [a["started_at"] for a in attempts]
    ends = [a["ended_at"] or a["started_at"] for a in attempts]
    seconds = (max(ends) - min(starts)).total_seconds() if attempts else 0.0
    latencies = [a["client_seconds"] + (a.get("harness_queue_seconds") or 0.0) for a in ok]
    waits = [a["harness_queue_seconds"] for a in ok if a.get("harness_queue_seconds") is not None]

    def mean_of(key: str) -> float | None:
        values = [a[key] for a in ok if a.get(key) is not None]
        return sum(values) / len(values) if values else None

    figures: dict[str, Any] = {
        "level": row["level"],
        "streams": len({a["stream"] for a in attempts}),
        "queries": len(attempts),
        "ok": len(ok),
        "errors": sum(a["status"] == "error" for a in attempts),
        "timeouts": sum(a["status"] == "timeout" for a in attempts),
        "wrong": sum(a.get("answer") == "wrong" for a in ok),
        "seconds": seconds,
        "queries_per_second": len(ok) / seconds if seconds > 0 else None,
        "queries_per_hour": len(ok) * 3600 / seconds if seconds > 0 else None,
    }
    for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        figures[f"{name}_seconds"] = percentile(latencies, fraction) if latencies else None
    figures["max_seconds"] = max(latencies) if latencies else None
    figures["harness_queue_p95_seconds"] = percentile(waits, 0.95) if waits else None
    # The engine's own split of a query's time, where it reports one (None where it does not).
    figures["engine_queued_seconds_mean"] = mean_of("queued_seconds")
    figures["engine_execution_seconds_mean"] = mean_of("execution_seconds")
    # Where the engine reports slot time (BigQuery), the slots the level used on average.
    slot_ms = [a["slot_ms"] for a in ok if a.get("slot_ms") is not None]
    figures["average_slots"] = sum(slot_ms) / (seconds * 1000) if slot_ms and seconds else None
    figures["scale_out"] = row.get("scale_out")  # None: the engine reports none (unknown)
    figures["cost"] = figures["cost_per_1000_queries"] = None
    if catalog is not None:
        from harness.pricing import Priced, billing

        # The level as if it ran alone, modelled by the engine's own rules (a vendor's billed
        # figures cover the whole run, not one level).
        rules = billing({**run, "run_usage": None}, catalog)
        priced = rules.run_bill(attempts)
        # Scale-out the engine reported for the level (Redshift concurrency scaling) is billed
        # beside the base capacity.
        if (scaled := rules.scale_out_bill(row.get("scale_out"))) is not None:
            priced = Priced(priced.cost + scaled.cost, priced.explain + scaled.explain)
        figures["cost"] = {"dollars": priced.cost.dollars, "basis": priced.cost.basis}
        if priced.cost.dollars is not None and ok:
            figures["cost_per_1000_queries"] = priced.cost.dollars / len(ok) * 1000
        figures["cost_explain"] = priced.explain
    return figures


def tpch_metrics(
    levels: list[dict], by_level: dict[int, list[dict]], scale: float, workload: Workload
) -> dict[str, Any]:
    """Power@Size, Throughput@Size and QphH@Size as TPC-H 3.0.1 clause 5.4 defines them, without
    the refresh functions (this harness does not generate refresh sets):

    - Power@Size = 3600 x SF / geometric mean of the power test's 22 query times (clause
      5.4.1; with RF1/RF2 the mean would be over 24 timings). Times below 1/1000 of the longest
      are raised to it, the spec's guard against one trivial query dominating the mean (its
      sub-clause number could not be checked here: the specification PDF was not reachable).
    - Throughput@Size = S x 22 x 3600 / Ts x SF (clause 5.4.2), Ts the throughput test's
      elapsed seconds; with `--iterations K`, the queries completed stand for S x 22.
    - QphH@Size = sqrt(Power@Size x Throughput@Size) (clause 5.4.3).
    """
    found: dict[str, Any] = {"label": NOT_COMPARABLE, "source": TPCH_SPEC, "scale": scale}
    least = workload.streams.least_streams(scale)
    power_attempts = [a for a in by_level.get(1, []) if a["stream"] == 0]
    first_pass: dict[str, dict] = {}
    for attempt in sorted(power_attempts, key=lambda a: a["started_at"]):
        first_pass.setdefault(attempt["query_id"], attempt)
    total = len(workload.queries)
    power = None
    if len(first_pass) < total:
        found["power_note"] = f"the power test ran {len(first_pass)} of {total} queries"
    elif failed := [q for q, a in first_pass.items() if a["status"] != "ok"]:
        found["power_note"] = f"not computed: {', '.join(sorted(failed))} failed in the power test"
    else:
        times = [a["client_seconds"] for a in first_pass.values()]
        floor = max(times) / 1000
        power = 3600 * scale / geometric_mean(max(t, floor) for t in times)
    found["power_at_size"] = power
    throughput = []
    for figures in levels:
        if figures["level"] < 2:
            continue
        entry: dict[str, Any] = {"streams": figures["level"], "seconds": figures["seconds"]}
        complete = figures["ok"] == figures["queries"] and figures["queries"] > 0
        value = figures["ok"] * 3600 / figures["seconds"] * scale if complete else None
        entry["throughput_at_size"] = value
        entry["qphh_at_size"] = math.sqrt(power * value) if power and value else None
        if not complete:
            entry["note"] = "not computed: some queries failed or timed out"
        if least is None:
            entry["streams_check"] = (
                f"SF {scale:g} is below TPC-H's smallest scale factor (1): no minimum applies"
            )
        elif figures["level"] < least:
            entry["streams_check"] = (
                f"{figures['level']} streams is below clause 5.3.4's minimum of {least} at SF "
                f"{scale:g}"
            )
        else:
            entry["streams_check"] = f"meets clause 5.3.4's minimum of {least} streams"
        throughput.append(entry)
    found["throughput"] = throughput
    return found
