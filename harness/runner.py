"""Execute: each planned task (harness/plan.py) as one run in the results store.

Executing generates and loads what is missing, then runs each query N times. Attempt 1 is
the first run: "cold" when the engine emptied every cache first (its `cold_method`), else
"lukewarm" (with what was emptied, where something was); the others are hot. Every attempt
is written to the store as soon as it finishes, its answer checked against the workload's
known answer where there is one, and a failing query is recorded with its error while the
run goes on. A task under load (`--streams`) is handed to harness/load.py instead.

The arrows run one way: runner -> load -> measure -> plan; the level figures a run under load
ends with are harness/levels.py, the progress bars harness/progress.py, Ctrl-C
harness/interrupt.py.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import platform
import secrets
import socket
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.answers import Expected, expected_answers
from harness.budget import Budget
from harness.capabilities import run_record
from harness.config import Config
from harness.datagen import DataSet, ensure_data
from harness.engines import billing_for, connected
from harness.engines.base import Engine, QueryCancelled
from harness.errors import HarnessError, RunInterrupted, StoreError, first_line
from harness.interrupt import StopOnCtrlC
from harness.levels import summary as load_summary
from harness.load import LoadTest
from harness.measure import Judge, measure
from harness.plan import PlannedQuery, Task, invocation_plan
from harness.pricing import Catalog, load_catalog
from harness.progress import NoProgress, Progress, progress_bars
from harness.stats import timing
from harness.store import Attempt, Store, StoreFull
from harness.store.rows import StoredAttempt
from harness.workloads import Workload


@dataclass
class RunSummary:
    run_id: str
    engine: str
    workload: str
    scale: float
    status: str
    error: str | None = None
    queries: list[dict[str, Any]] = field(default_factory=list)
    answers_from: str | None = None  # what the answers were checked against, when anything
    load: dict[str, Any] | None = None  # under load: harness.levels.summary

    def answers_line(self) -> str | None:
        """ "answers: 22/22 correct (TPC-H answer set)", naming what is wrong or unchecked."""
        checked = [q for q in self.queries if q["answer"] in ("correct", "wrong")]
        if not checked:
            return None
        correct = sum(q["answer"] == "correct" for q in checked)
        line = f"answers: {correct}/{len(checked)} correct ({self.answers_from})"
        if wrong := [q["query_id"] for q in checked if q["answer"] == "wrong"]:
            line += f"; wrong: {', '.join(wrong)}"
        unsupported = [q for q in self.queries if q["status"] == "unsupported"]
        if unchecked := len(self.queries) - len(checked) - len(unsupported):
            line += f"; {unchecked} without a known answer"
        return line

    def unsupported_line(self) -> str | None:
        """ "2 unsupported on redshift: v01, v02" — queries needing a feature the engine lacks
        (its features.yaml), recorded as such: a result, not a failure."""
        ids = [q["query_id"] for q in self.queries if q["status"] == "unsupported"]
        if not ids:
            return None
        return f"{len(ids)} unsupported on {self.engine}: {', '.join(ids)}"


class Runner:
    def __init__(
        self,
        config: Config,
        store: Store | None,
        quiet: bool = False,
        invocation_id: str | None = None,
    ) -> None:
        """`invocation_id`: the `whbench run` a --resume continues (its plan is stored)."""
        self.config = config
        self.store = store
        self.progress: Progress = NoProgress() if quiet else progress_bars()
        self.resuming = invocation_id is not None
        self.invocation_id = invocation_id or _new_id()
        self.started_runs: list[str] = []  # runs this process started or reopened
        self.stop = StopOnCtrlC()
        self.budget: Budget | None = None
        if config.max_cost is not None and store is not None:
            self.budget = Budget(config.max_cost, self.catalog, store)

    @functools.cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.config.pricing)

    def generate(
        self, workload: Workload, scale: float, options: dict[str, int], force: bool = False
    ) -> DataSet:
        step = self.progress.add_task(f"generate {workload.variant(scale, options)}", total=None)
        data = ensure_data(
            self.config.data_path,
            workload,
            scale,
            options,
            force=force,
            progress=lambda done, parts: self.progress.update(step, completed=done, total=parts),
        )
        self.progress.update(step, total=1, completed=1)
        return data

    def run(self, tasks: list[Task], load_only: bool = False) -> list[RunSummary]:
        # What exists by now (modules, config, the plan) lives as long as the process: out of
        # the collector's reach, a full collection during the run (one may fall inside a timed
        # fetch) walks only what the run itself made. It was 25 ms a TPC-H SF 1 run, and as
        # much again when the interpreter exits. Left frozen, for that reason; a program that
        # runs whbench inside a process of its own may call gc.unfreeze() after.
        gc.freeze()
        if self.store is not None and not load_only and not self.resuming:
            self.store.record_invocation(self.invocation_id, invocation_plan(tasks))
        summaries = []
        with self.progress, self.stop:
            for task in tasks:
                summaries.append(self._run_task(task, load_only))
        return summaries

    def _run_task(self, task: Task, load_only: bool) -> RunSummary:
        with _TaskRun(self, task, load_only) as run:
            if run.ready and not load_only:
                run.ran = (
                    LoadTest(
                        task,
                        run.engine,
                        run.expected,
                        store=self.store,
                        run_id=run.run_id,
                        timeout_seconds=self.config.timeout_seconds,
                        progress=self.progress,
                        stop=self.stop,
                    ).run()
                    if task.load
                    else self._run_queries(run.run_id, task, run.engine, run.expected)
                )
        return run.summary

    def interleave(self, task_a: Task, task_b: Task) -> tuple[RunSummary, RunSummary]:
        """Two tasks (one engine, workload and scale; a change in the workload, its queries or
        the config between them) as two runs in one process, in turn: per query, attempt by
        attempt, A B then B A, so that a slow spell of the machine hits both alike. Each
        side's first attempt of a query is its first run (cold or lukewarm), as in `run`."""
        with (
            self.progress,
            self.stop,
            _TaskRun(self, task_a, False) as a,
            _TaskRun(self, task_b, False) as b,
        ):
            if a.ready and b.ready:
                self.stop.engines = [a.engine, b.engine]
                a.ran = b.ran = self._interleave_queries(a, b)
        return a.summary, b.summary

    def _interleave_queries(self, a: _TaskRun, b: _TaskRun) -> set[str]:
        b_queries = {q.id: q for q in b.task.queries}
        step = self.progress.add_task("interleave", total=2 * len(b_queries) * self.config.runs)
        ran: set[str] = set()
        for query_a in a.task.queries:
            query_b = b_queries.get(query_a.id)
            if query_b is None or query_a.skipped or query_b.skipped:
                continue
            sides = [(a, query_a, Judge.for_query(query_a, a.task.workload, a.expected))]
            sides.append((b, query_b, Judge.for_query(query_b, b.task.workload, b.expected)))
            for number in range(1, self.config.runs + 1):
                for side, query, judge in sides if number % 2 else sides[::-1]:
                    attempt = self._attempt(side.engine, query, number, judge)
                    if attempt.status == "ok" and not judge.kept:
                        self.store.record_result(side.run_id, query.id, number, *judge.to_keep())
                    self.store.record_attempt(side.run_id, attempt)
                    self.progress.advance(step)
                    self.stop.check()
            ran.add(query_a.id)
        return ran

    def _start_run(self, run_id: str, task: Task, engine: Engine) -> None:
        self.store.start_run(
            run_id=run_id,
            invocation_id=self.invocation_id,
            harness_version=__version__,
            git_commit=_git_commit(),
            host=socket.gethostname(),
            engine=task.engine,
            engine_version=engine.version(),
            endpoint=engine.where(),  # the address its client really talks to (engines/where.py)
            engine_settings={
                **engine.describe(),
                "platform": platform.platform(),
                "cpu_count": os.cpu_count(),
                # what the engine declared for the features its queries need, as it was then
                **_features_of(task, engine),
            },
            workload=task.workload.name,
            data_type=task.workload.data_type,
            scale=task.scale,
            workload_options=task.options,
            namespace=task.namespace,
            runs_per_query=self.config.runs,
            timeout_seconds=self.config.timeout_seconds,
            checksum_decimals=task.workload.checksum_decimals,
            config=self.config.redacted(),
            load=task.load.as_json() if task.load else None,
        )
        self.store.record_queries(run_id, [(q.id, q.title, q.ordered, q.sql) for q in task.queries])

    def _load_missing(
        self, run_id: str, task: Task, engine: Engine, data: DataSet, namespace: str
    ) -> None:
        present = engine.existing_tables(namespace)
        step = self.progress.add_task(
            f"load {task.engine} {task.workload.name}", total=len(task.workload.tables)
        )
        for table in task.workload.tables:
            if table.name in present:
                self.store.record_load(run_id, table.name, "reused")
            else:
                files = data.table_data(table.name)
                try:
                    statements = task.renderer.table_statements(table, engine.source_uris(files))
                    outcome = engine.load(namespace, files, statements)
                except HarnessError:
                    raise
                except Exception as exc:
                    message = _one_line(exc)
                    self.store.record_load(run_id, table.name, "error", error=message)
                    disk_full = "No space left" in message or "File too large" in message
                    hint = (
                        "free disk space, or point the engine's database elsewhere"
                        if disk_full
                        else "check the data files or generate them again"
                    )
                    raise HarnessError(
                        f"{task.engine}: loading table {table.name} from {files.files[0].parent} "
                        f"failed: {message}; {hint}"
                    ) from exc
                self.store.record_load(run_id, table.name, "loaded", outcome)
            self.progress.advance(step)
            self.stop.check()

    def _run_queries(
        self, run_id: str, task: Task, engine: Engine, expected: dict[str, Expected]
    ) -> set[str]:
        """Run every attempt not yet stored; the ids of the queries that ran."""
        runs = self.config.runs
        step = self.progress.add_task(
            f"run {task.engine} {task.workload.name}", total=len(task.queries) * runs
        )
        ran: set[str] = set()
        refusal: str | None = None  # once the budget refuses, this engine stops
        for query in task.queries:
            judge = Judge.for_query(query, task.workload, expected)
            for number in range(1, runs + 1):
                if (query.id, number) in task.done:
                    continue
                if self.budget and refusal is None and not query.skipped:
                    refusal = self.budget.before(engine, query.id, query.sql)
                if reason := query.skipped or refusal:  # not sent, and says why
                    phase = "lukewarm" if number == 1 else "hot"
                    status = query.skipped_as if query.skipped else "skipped"
                    attempt = Attempt(
                        query.id, number, phase, status, datetime.now(UTC), error=reason
                    )
                else:
                    attempt = self._attempt(engine, query, number, judge)
                    if self.budget:
                        self.budget.after(attempt)
                if attempt.status == "ok" and not judge.kept:  # before its attempt: see there
                    self.store.record_result(run_id, query.id, number, *judge.to_keep())
                self.store.record_attempt(run_id, attempt, sync=number == runs)
                ran.add(query.id)
                self.progress.advance(step)
                self.stop.check()
        return ran

    def _record_history(self, run_id: str, engine: Engine) -> None:
        """One look-up of the engine's own statistics for every query of the run."""
        ids = self.store.engine_query_ids(run_id)
        for query_id, (seconds, usage) in engine.query_history(ids).items():
            self.store.record_history(run_id, query_id, seconds, usage)

    def _attempt(self, engine: Engine, query: PlannedQuery, number: int, judge: Judge) -> Attempt:
        phase, cold_method = "hot", None
        if number == 1:
            # `make_cold` says how the caches were emptied: None when nothing was, and text
            # starting "lukewarm: " when only some were (DuckDB's buffer pool emptied with the OS
            # page cache warm): that attempt is lukewarm, with what was done recorded. "Cold"
            # labels only a first attempt with every cache emptied.
            cold_method = engine.make_cold()
            phase = "cold" if cold_method else "lukewarm"
            if cold_method and cold_method.startswith("lukewarm: "):
                phase, cold_method = "lukewarm", cold_method.removeprefix("lukewarm: ")
        try:
            return measure(
                engine,
                query,
                self.config.timeout_seconds,
                judge,
                query_id=query.id,
                attempt=number,
                phase=phase,
                cold_method=cold_method,
            )
        except QueryCancelled:  # a cut-short attempt is no measurement: record nothing
            raise KeyboardInterrupt from None


def fetch_billed_usage(store: Store, run_id: str, engine: Engine, catalog: Catalog) -> None:
    """Ask the engine for the vendor's billed figures of the run's billing window and store
    them (with whether they are complete yet): at the end of a run, and on `whbench cost
    --refresh`. A failure is a note; the run bill then stays modelled."""
    run = store.run(run_id)
    window = billing_for(run, catalog).billed_window(store.attempts(run_id))
    if window is None:
        return
    try:
        usage = engine.billed_usage(*window)
    except Exception as exc:
        engine.notes.append(
            f"billed figures unavailable, the run bill is modelled: {first_line(exc)}"
        )
        return
    if usage is not None:
        store.record_run_usage(run_id, {**usage, "window": [w.isoformat() for w in window]})


class _TaskRun:
    """One task as one run in the store. Entered: the data generated, the engine connected, the
    run started (or reopened), missing tables loaded and, unless only loading, the session
    prepared and the known answers read (`ready`). Left: the run's summaries, the engine's own
    statistics and billed figures, its notes, and how the run ended. A failure fails this run
    only (`summary.error`); Ctrl-C marks it interrupted and stops; a store error stops."""

    def __init__(self, runner: Runner, task: Task, load_only: bool) -> None:
        self.runner, self.task, self.load_only = runner, task, load_only
        self.store = runner.store
        self.run_id = task.resume_of or f"{_new_id()}-{task.engine}-{task.workload.name}"
        self.summary = RunSummary(
            self.run_id, task.engine, task.workload.name, task.scale, "running"
        )
        self.engine: Any = None
        self.expected: dict[str, Expected] = {}
        self.ran: set[str] = set()
        self.ready = False
        # the run is in the store: started here, or the run a --resume continues
        self.run_started = task.resume_of is not None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _TaskRun:
        try:
            self._open()
            self.ready = True
        except BaseException as exc:
            if not self._end(exc):
                raise
        return self

    def _open(self) -> None:
        runner, task, run_id = self.runner, self.task, self.run_id
        data = runner.generate(task.workload, task.scale, task.options)
        self.engine = engine = self._stack.enter_context(connected(task.engine, task.settings))
        runner.stop.engines = [engine]
        if task.resume_of:
            self.store.reopen_run(run_id)
            if not self.store.query_ids(run_id):  # the store failed as the run started
                self.store.record_queries(
                    run_id, [(q.id, q.title, q.ordered, q.sql) for q in task.queries]
                )
        else:
            runner._start_run(run_id, task, engine)
        self.run_started = True
        runner.started_runs.append(run_id)
        if runner.budget:
            runner.budget.start(task.engine, engine.describe(), task.workload.name, task.scale)
        namespace = task.namespace
        runner._load_missing(run_id, task, engine, data, namespace)
        if not self.load_only:
            engine.prepare_session(namespace, run_id, runner.config.timeout_seconds)
            self.store.record_result_cache(run_id, engine.result_cache)
            # The session's round-trip floor, once, before its first query: what client time
            # costs when the query does nothing (the report weighs margins against it).
            try:
                floor = engine.measure_round_trip(runner.config.timeout_seconds)
            except QueryCancelled:  # Ctrl-C: the run is interrupted, as in an attempt
                raise KeyboardInterrupt from None
            self.store.record_round_trip(run_id, floor)
            self.expected = mirrored_answers(
                expected_answers(
                    task.workload.answer_folder(task.scale),
                    task.workload.answers,
                    data.expected_answers(task.workload),
                ),
                task.workload,
            )

    def __exit__(self, kind: Any, exc: BaseException | None, traceback: Any) -> bool:
        if exc is None and self.ready:
            try:
                self._finish()
            except BaseException as failure:
                if not self._end(failure):
                    raise
            return False
        return exc is not None and self._end(exc)

    def _finish(self) -> None:
        runner, task, run_id, summary = self.runner, self.task, self.run_id, self.summary
        if not self.load_only:
            summary.queries = _query_summaries(self.store, run_id, self.ran)
            if any(q.id in self.expected for q in task.queries):
                summary.answers_from = task.workload.answers.source
            runner._record_history(run_id, self.engine)
            if facts := self.engine.end_of_run():
                self.store.record_after_run(run_id, facts)
            fetch_billed_usage(self.store, run_id, self.engine, runner.catalog)
        self._close_engine()
        if task.load and not self.load_only:
            summary.load = load_summary(
                self.store.run(run_id),
                self.store.attempts(run_id),
                self.store.levels(run_id),
                task.workload,
                runner.catalog,
            )
        untranslated = {q.id for q in task.queries if q.skipped}
        failed = any(
            q["status"] != "ok" and q["query_id"] not in untranslated for q in summary.queries
        )
        wrong = [q["query_id"] for q in summary.queries if q["answer"] == "wrong"]
        summary.status = "finished"
        self.store.finish_run(run_id, "finished")
        if failed:
            summary.error = "some queries failed"
        elif wrong:
            summary.error = f"wrong answers: {', '.join(wrong)}"

    def _close_engine(self, keep_notes: bool = True) -> None:
        """Keep what the engine could not do (however the run ends, unless the store failed),
        then close it."""
        if keep_notes and self.engine is not None and self.engine.notes:
            self.store.record_notes(self.run_id, self.engine.notes)
        self._stack.close()

    def _end(self, exc: BaseException) -> bool:
        """A run that did not finish: close the engine and record why. True when the other
        tasks can go on (this run failed); False to stop (a store error, or Ctrl-C before the
        run began); Ctrl-C after it began marks it interrupted and raises RunInterrupted."""
        store_failed = isinstance(exc, StoreError)
        self._close_engine(keep_notes=not store_failed)
        summary = self.summary
        if store_failed:
            # Without a store nothing more can be recorded: stop. After a full disk, say which
            # run to resume once there is space (the store resumes all of its invocation).
            if isinstance(exc, StoreFull) and self.runner.started_runs:
                exc.resume_command = f"whbench run --resume {self.runner.started_runs[-1]}"
            return False
        if isinstance(exc, KeyboardInterrupt):
            if not self.run_started:
                return False
            self.store.finish_run(self.run_id, "interrupted", "interrupted by the user")
            raise RunInterrupted(self.run_id) from None
        if isinstance(exc, HarnessError):
            summary.status, summary.error = "failed", str(exc)
        elif isinstance(exc, Exception):
            # An engine's client failed in a way not caught closer (a dropped connection, a
            # refused statement): this engine's run fails, the others go on.
            summary.status, summary.error = "failed", f"{self.task.engine}: {_one_line(exc)}"
        else:
            return False
        if self.run_started:
            self.store.finish_run(self.run_id, "failed", summary.error)
        return True


def _query_summaries(store: Store, run_id: str, queries: set[str]) -> list[dict[str, Any]]:
    """Per query of `queries` (a resumed run: those it ran now), as stored: its status,
    first-run and best hot time (stats.timing: cache-suspect times left out), rows,
    fingerprint, answer and what made it wrong."""
    kept = store.results(run_id, with_rows=False)
    by_query: dict[str, list[StoredAttempt]] = {}
    for attempt in store.attempts(run_id):
        if attempt.query_id in queries:
            by_query.setdefault(attempt.query_id, []).append(attempt)
    summaries = []
    for query_id, attempts in by_query.items():
        ok = [a for a in attempts if a.status == "ok"]
        times = timing(attempts)
        worst = next((a for a in attempts if a.status != "ok"), None)
        answers = {a.answer for a in ok}
        difference = kept[query_id].difference if query_id in kept else None
        summaries.append(
            {
                "query_id": query_id,
                "status": worst.status if worst else "ok",
                "first_run": times.first_kind,
                "first_seconds": times.first,
                "hot_seconds": times.best_hot,
                "rows": ok[0].rows if ok else None,
                "checksum": ok[0].checksum if ok else None,
                "answer": next(
                    (a for a in ("wrong", "correct", "unchecked") if a in answers), None
                ),
                "difference": difference.rule if difference else None,
                "error": worst.error if worst else None,
            }
        )
    return summaries


def mirrored_answers(expected: dict[str, Expected], workload: Workload) -> dict[str, Expected]:
    """The known answers, with each query that is another form of one (workload.yaml
    `same_answer_as: t01`: t12 finds t01's documents with a search function instead of a regex)
    given that query's answer."""
    for query in workload.queries:
        if query.same_answer_as in expected and query.id not in expected:
            expected[query.id] = expected[query.same_answer_as]
    return expected


def _features_of(task: Task, engine: Engine) -> dict[str, Any]:
    """{"features": {name: {level, note, source}}} for the features the task's queries name
    (the report reads emulations from it); nothing when they name none."""
    chosen = {q.id for q in task.queries}
    names = tuple(f for q in task.workload.queries if q.id in chosen for f in q.features)
    return {"features": run_record(engine.features(), names)} if names else {}


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {first_line(exc)}"


def _new_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


@functools.cache  # one look-up per invocation, however many runs it starts
def _git_commit() -> str | None:
    """The commit of the harness source, when it runs from a git checkout."""
    source = Path(__file__).resolve().parent.parent
    if not (source / ".git").exists():
        return None
    try:
        result = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None
