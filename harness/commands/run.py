"""generate, load, run and resume."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import console
from harness.commands.selection import Selection
from harness.config import Config
from harness.errors import HarnessError, RunInterrupted, UsageError
from harness.paths import default_config_file
from harness.plan import LoadPlan, Task, plan
from harness.runner import Runner, RunSummary
from harness.scale import Scale
from harness.store import StoreFull, open_store
from harness.store.rows import StoredRun


def generate(config: Config, selection: Selection, force: bool = False) -> list[dict[str, Any]]:
    """Generate each chosen data set once (cached under data_dir)."""
    runner = Runner(config, store=None)
    done: dict[tuple[str, str], dict[str, Any]] = {}
    with runner.progress:
        for task in selection.plan(config):
            variant = task.workload.variant(task.scale, task.options)
            if (task.workload.name, variant) not in done:
                data = runner.generate(task.workload, task.scale, task.options, force=force)
                done[task.workload.name, variant] = {
                    "workload": task.workload.name,
                    "variant": variant,
                    "folder": str(data.folder),
                    "seconds": data.generated_seconds,
                }
    return list(done.values())


def execute(
    config: Config,
    tasks: list[Task],
    load_only: bool = False,
    quiet: bool = False,
    invocation_id: str | None = None,
) -> list[RunSummary]:
    """Run the tasks into the store (`invocation_id`: the `whbench run` they resume)."""
    check_store_apart(config, tasks)
    with open_store(config.store_path) as store:
        runner = Runner(config, store, quiet=quiet, invocation_id=invocation_id)
        return runner.run(tasks, load_only=load_only)


def check_store_apart(config: Config, tasks: list[Task]) -> None:
    """The results store and a DuckDB engine's database are two files: one file opened as both
    fails with DuckDB's jargon mid-run, or mixes the benchmark's tables with the results."""
    store = config.store_path
    for task in tasks:
        database = getattr(task.settings, "database", None) if task.engine == "duckdb" else None
        if not database or database == ":memory:" or not _same_file(Path(database), store):
            continue
        raise UsageError(
            f"engines.duckdb.database ({database}) is the results store ({store}); give the "
            "engine a file of its own (default: results/duckdb/bench.duckdb)"
        )


def _same_file(a: Path, b: Path) -> bool:
    """The same file, by resolved path (or by inode, through a hard link, when both exist)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist yet
        return os.path.realpath(a) == os.path.realpath(b)


def run(
    config: Config,
    selection: Selection,
    runs: int | None = None,
    timeout: float | None = None,
    max_cost: float | None = None,
    pricing: Path | None = None,
    resume: str | None = None,
    quiet: bool = False,
    streams: str | None = None,
    iterations: int | None = None,
    duration: float | None = None,
    arrival_rate: float | None = None,
) -> list[RunSummary]:
    """Run the selection (or finish the interrupted run `resume`); with `streams`, under load
    at each of those concurrency levels. Ctrl-C keeps what finished and says how to pick it up
    again, with the same files."""
    chosen = selection.engines or selection.workloads or selection.queries
    under_load = streams or iterations or duration or arrival_rate
    if resume and (chosen or selection.scale is not None or runs or timeout or under_load):
        raise UsageError(
            "--resume continues a run with its own engine, workload, scale, queries, attempts, "
            "time limit and levels: give none of -e, -w, --scale, -q, --runs, --timeout, "
            "--streams, --iterations, --duration, --arrival-rate"
        )
    if under_load and not streams:
        raise UsageError("--iterations, --duration and --arrival-rate need --streams")
    load = LoadPlan.parse(streams, iterations, duration, arrival_rate) if streams else None
    # An option given on the command line wins over the config's setting: a config of its
    # own for this run, the caller's left as it was.
    overrides = {
        "runs": runs,
        "timeout_seconds": timeout,
        "max_cost": max_cost,
        "pricing": pricing,
    }
    config = dataclasses.replace(
        config, **{key: value for key, value in overrides.items() if value is not None}
    )
    invocation_id = None
    if resume:
        resumption = resumed(config, resume)
        config, tasks, invocation_id = resumption.config, resumption.tasks, resumption.invocation_id
        console.echo(resumption.told, err=True)
    else:
        tasks = selection.plan(config, load)
    try:
        return execute(config, tasks, quiet=quiet, invocation_id=invocation_id)
    except (RunInterrupted, StoreFull) as stop:
        if stop.resume_command is not None:  # the same files again
            if Path(config.source) != default_config_file():
                stop.resume_command += f" --config {config.source}"
            stop.resume_command += f" --results-dir {config.results_dir}"
        raise


@dataclass(frozen=True)
class Resumption:
    """What finishes an interrupted `whbench run`."""

    config: Config  # the config given now, with the attempts per query and time limit stored
    tasks: list[Task]
    invocation_id: str | None  # the `whbench run` to continue (None: a run from before plans)
    told: str  # a line saying what is resumed


def resumed(config: Config, run: str) -> Resumption:
    """What finishes the `whbench run` that made `run`: each of its runs not finished, the
    attempts it has left out, and each task it planned but never started (an interruption
    stops every task after it); with its engines, workloads, scales, options, queries,
    attempts and time limit as stored. Engine settings (and secrets) come from the config
    given now. Also the invocation to continue, and a line saying what is resumed."""
    if not config.store_path.exists():
        raise UsageError(f"no results store at {config.store_path}; nothing to resume")
    with open_store(config.store_path, read_only=True) as store:
        run_id = store.resolve_run(run)
        stored = store.run(run_id)
        invocation_id = stored.invocation_id
        planned = store.invocation(invocation_id)
        if planned is None:  # a run from before plans were kept: that run alone
            others, planned = [stored], {"tasks": [_planned_task(stored, [])]}
        else:
            others = store.runs_of_invocation(invocation_id)
        todo: list[tuple[dict[str, Any], StoredRun | None]] = []
        finished = []
        for want in planned["tasks"]:
            match = [r for r in others if _planned_task(r, want["queries"]) == want]
            found = match[-1] if match else None
            if found is not None and found.status == "finished":
                finished.append(found.run_id)
            else:
                todo.append((want, found))
        if not todo:
            also = " and so did every run started with it" if len(finished) > 1 else ""
            raise UsageError(f"run {run_id} finished{also}; there is nothing to resume")
        progress = {
            found.run_id: (store.query_ids(found.run_id), store.attempted(found.run_id))
            for _, found in todo
            if found is not None
        }
    # The run goes on as it began: its attempts per query and time limit, whatever the config.
    config = dataclasses.replace(
        config, runs=stored.runs_per_query, timeout_seconds=stored.timeout_seconds
    )
    tasks, told = [], []
    for want, found in todo:
        # the plan's queries; a run from before plans were kept has its own
        queries = want["queries"] or (progress[found.run_id][0] if found else [])
        load = want["load"]
        (task,) = plan(
            config,
            [want["engine"]],
            [want["workload"]],
            want["scale"],
            queries or None,
            {k: str(v) for k, v in (want["options"] or {}).items()},
            LoadPlan.from_json(load) if load else None,
        )
        if found is None:
            told.append(f"{want['engine']} {want['workload']} (not started before)")
        else:
            done = progress[found.run_id][1]
            task.resume_of, task.done = found.run_id, frozenset(done)
            told.append(
                f"{found.run_id} ({found.status}, {len(done)} attempt"
                f"{'' if len(done) == 1 else 's'} kept)"
            )
        tasks.append(task)
    line = "resuming " + ", then ".join(told)
    if finished:
        line += f"; finished already: {', '.join(finished)}"
    return Resumption(config, tasks, invocation_id, line)


def _planned_task(run: StoredRun, queries: list[str]) -> dict[str, Any]:
    """A stored run as the task of an invocation's plan it ran (`queries`: the plan's own, as
    a run keeps its queries elsewhere)."""
    return {
        "engine": run.engine,
        "workload": run.workload,
        "scale": run.scale,
        "options": run.workload_options or {},
        "queries": queries,
        "load": run.load,
    }


def interleave(
    configs: tuple[str, ...], selection: Selection, runs: int | None = None
) -> tuple[Config, tuple[str, str]]:
    """Run two configs' one task each (one engine, workload and scale; they differ in the
    workload, its queries or the engine's settings) in this process, in turn attempt by
    attempt, into the store of the first; the config to compare them with and the two runs."""
    from harness.config import load_config

    if len(configs) != 2:
        raise UsageError("--interleave takes two config files: CONFIG_A CONFIG_B")
    a, b = (load_config(Path(path)) for path in configs)
    for side in (a, b):
        side.check_folders()
    if runs:
        a = dataclasses.replace(a, runs=runs)
    tasks = [selection.plan(side) for side in (a, b)]
    if any(len(planned) != 1 for planned in tasks):
        raise UsageError(
            "--interleave compares one engine, workload and scale: choose them with -e, -w "
            "and --scale"
        )
    (task_a,), (task_b,) = tasks
    if (task_a.engine, task_a.workload.name, task_a.scale) != (
        task_b.engine,
        task_b.workload.name,
        task_b.scale,
    ):
        raise UsageError(
            f"--interleave: {configs[0]} plans {task_a.engine} {task_a.workload.name} at "
            f"{Scale.named(task_a.scale)} but {configs[1]} plans {task_b.engine} "
            f"{task_b.workload.name} at {Scale.named(task_b.scale)}; choose one with -e, -w and "
            "--scale"
        )
    check_store_apart(a, [task_a, task_b])
    with open_store(a.store_path) as store:
        first, second = Runner(a, store).interleave(task_a, task_b)
    for summary in (first, second):
        if summary.status != "finished":
            raise HarnessError(
                f"--interleave: run {summary.run_id} {summary.status}: {summary.error}"
            )
    return a, (first.run_id, second.run_id)
