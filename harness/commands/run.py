"""generate, load, run and resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.commands.selection import Selection
from harness.config import Config
from harness.errors import HarnessError, RunInterrupted, UsageError
from harness.load import LoadPlan
from harness.paths import default_config_file
from harness.runner import Runner, RunSummary, Task, plan
from harness.store import open_store


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
    config: Config, tasks: list[Task], load_only: bool = False, quiet: bool = False
) -> list[RunSummary]:
    with open_store(config.store_path) as store:
        return Runner(config, store, quiet=quiet).run(tasks, load_only=load_only)


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
    for key, value in {
        "runs": runs,
        "timeout_seconds": timeout,
        "max_cost": max_cost,
        "pricing": pricing,
    }.items():
        if value is not None:
            setattr(config, key, value)
    tasks = resumed(config, resume) if resume else selection.plan(config, load)
    try:
        return execute(config, tasks, quiet=quiet)
    except RunInterrupted as stop:
        if Path(config.source) != default_config_file():
            stop.resume_command += f" --config {config.source}"
        stop.resume_command += f" --results-dir {config.results_dir}"
        raise


def resumed(config: Config, run: str) -> list[Task]:
    """The task that finishes an interrupted run: its engine, workload, scale, options and
    queries as stored, the attempts it already has left out. Engine settings (and secrets)
    come from the config given now."""
    if not config.store_path.exists():
        raise UsageError(f"no results store at {config.store_path}; nothing to resume")
    with open_store(config.store_path, read_only=True) as store:
        run_id = store.resolve_run(run)
        stored = store.run(run_id)
        if stored["status"] == "finished":
            raise UsageError(f"run {run_id} finished; there is nothing to resume")
        queries = store.query_ids(run_id)
        done = store.attempted(run_id)
    config.runs = stored["runs_per_query"]
    config.timeout_seconds = stored["timeout_seconds"]
    (task,) = plan(
        config,
        [stored["engine"]],
        [stored["workload"]],
        stored["scale"],
        queries,
        {k: str(v) for k, v in (stored["workload_options"] or {}).items()},
        LoadPlan(**{**stored["load"], "levels": tuple(stored["load"]["levels"])})
        if stored["load"]
        else None,
    )
    task.resume_of, task.done = run_id, frozenset(done)
    return [task]


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
    if runs:
        a.runs = runs
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
            f"{task_a.scale:g} but {configs[1]} plans {task_b.engine} {task_b.workload.name} at "
            f"{task_b.scale:g}; choose one with -e, -w and --scale"
        )
    with open_store(a.store_path) as store:
        first, second = Runner(a, store).interleave(task_a, task_b)
    for summary in (first, second):
        if summary.status != "finished":
            raise HarnessError(
                f"--interleave: run {summary.run_id} {summary.status}: {summary.error}"
            )
    return a, (first.run_id, second.run_id)
