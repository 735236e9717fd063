"""Planning: what a `whbench run` will do, decided before anything connects.

`plan` turns the config and what the user chose into tasks (one engine on one workload at one
scale), every query rendered for its engine's dialect, so a template error or an unknown name
costs nothing. A `LoadPlan` says how a task runs under load (`--streams`). The runner
(harness/runner.py) executes tasks; this module only describes them, so the runner, the load
test (harness/load.py) and one attempt (harness/measure.py) all import it and it imports none
of them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.capabilities import Support, unsupported_reason
from harness.config import Config, WorkloadChoice
from harness.datagen import check_generation
from harness.engines import engine_class
from harness.errors import UsageError
from harness.translate import Untranslatable
from harness.workloads import Renderer, Workload, discover, sql_orders_rows

if TYPE_CHECKING:
    from harness.engines.base import EngineSettings

MAX_STREAMS = 256  # the most streams one level of a run under load may run at once


@dataclass(frozen=True)
class PlannedQuery:
    id: str
    title: str
    sql: str
    ordered: bool
    dialect: str
    # Why it is not sent to this engine, and the attempt status that records it: "skipped"
    # (it cannot be translated) or "unsupported" (the engine lacks a feature it needs, as the
    # engine's features.yaml declares): a result of its own, not a failure.
    skipped: str | None = None
    skipped_as: str = "skipped"


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

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> LoadPlan:
        """The plan as `as_json` stored it (JSON has lists where the plan has tuples)."""
        return cls(**{**stored, "levels": tuple(stored["levels"])})

    def for_workload(self, workload: Workload) -> LoadPlan:
        """TPC-H's metric needs its power test (level 1, stream 0): added when not asked for."""
        if workload.streams.metric == "tpch" and 1 not in self.levels and not self.arrival_rate:
            return dataclasses.replace(self, levels=(1, *self.levels))
        return self

    def streams_of(self, level: int) -> list[int]:
        return [0] if level == 1 else list(range(1, level + 1))

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Task:
    """One engine on one workload at one scale: becomes one run in the store."""

    engine: str
    settings: EngineSettings  # the engine's own dataclass (DuckDBSettings …), from the config
    workload: Workload
    scale: float
    options: dict[str, int]
    queries: list[PlannedQuery]
    renderer: Renderer
    # `whbench run --resume`: the run to continue, and the (query, attempt) pairs it has.
    resume_of: str | None = None
    done: frozenset[tuple[str, int]] = frozenset()
    load: LoadPlan | None = None  # `--streams`: a run under load instead of N runs per query

    @property
    def namespace(self) -> str:
        prefix = engine_class(self.engine).namespace_prefix(self.settings)
        return self.workload.namespace(self.scale, self.options, prefix)


def plan(
    config: Config,
    engines: list[str] | None = None,
    workloads: list[str] | None = None,
    scale: float | None = None,
    queries: list[str] | None = None,
    options: dict[str, str] | None = None,
    load: LoadPlan | None = None,
) -> list[Task]:
    """Choose and render everything a run will do, failing early on any bad input."""
    engine_names = engines or list(config.engines)
    if not engine_names:
        raise UsageError(f"{config.source}: no engines configured; add one under `engines:`")
    if load is not None and config.max_cost is not None:
        raise UsageError(
            "max_cost guards one query at a time and cannot guard streams running at once; "
            "remove max_cost from the config for a run with --streams"
        )
    available = discover(config.workload_dirs)
    chosen = (
        config.workloads
        if config.workloads is not None
        else {name: WorkloadChoice() for name in available}
    )
    if workloads:
        chosen = {name: chosen.get(name, WorkloadChoice()) for name in workloads}
    tasks = []
    for engine_name in engine_names:
        cls = engine_class(engine_name)
        settings = config.engines.get(engine_name) or cls.settings_class()
        for workload_name, choice in chosen.items():
            if workload_name not in available:
                known = ", ".join(sorted(available)) or "none"
                raise UsageError(f"unknown workload {workload_name!r}; available: {known}")
            workload = available[workload_name]
            if workload.your_data:
                workload.file_columns  # noqa: B018 - every file checked before anything runs
            workload_scale = workload.scale.check(
                scale if scale is not None else choice.scale or workload.scale.default,
                workload.name,
            )
            workload_options = workload.check_options({**choice.options, **(options or {})})
            # what the generator would refuse after other workloads ran, refused before any
            check_generation(workload, workload_scale, workload_options)
            renderer = Renderer(
                workload, cls.dialect, workload_scale, workload_options, config.templates
            )
            tasks.append(
                Task(
                    engine_name,
                    settings,
                    workload,
                    workload_scale,
                    workload_options,
                    _planned_queries(
                        workload,
                        renderer,
                        cls.dialect,
                        queries or choice.queries,
                        (engine_name, cls.features()),
                    ),
                    renderer,
                    load=load.for_workload(workload) if load else None,
                )
            )
    return tasks


def _planned_queries(
    workload: Workload,
    renderer: Renderer,
    dialect: str,
    chosen: list[str] | None,
    engine: tuple[str, dict[str, Support]],
) -> list[PlannedQuery]:
    """The chosen queries rendered; one that cannot be translated for the dialect is planned
    as skipped, and one needing a feature the engine (name, declarations) lacks as
    unsupported, each with the reason, never sent."""
    planned = []
    for query in workload.select(chosen):
        if reason := unsupported_reason(*engine, query.features):
            planned.append(
                PlannedQuery(query.id, query.title, "", False, dialect, reason, "unsupported")
            )
            continue
        try:
            sql = renderer.query(query.id)
        except Untranslatable as exc:
            planned.append(PlannedQuery(query.id, query.title, "", False, dialect, str(exc)))
            continue
        planned.append(PlannedQuery(query.id, query.title, sql, sql_orders_rows(sql), dialect))
    return planned


def invocation_plan(tasks: list[Task]) -> dict[str, Any]:
    """What a `whbench run` set out to do, kept in the store so that `--resume` finishes all
    of it, also the tasks an interruption kept from starting."""
    return {
        "tasks": [
            {
                "engine": task.engine,
                "workload": task.workload.name,
                "scale": task.scale,
                "options": task.options,
                "queries": [query.id for query in task.queries],
                "load": task.load.as_json() if task.load else None,
            }
            for task in tasks
        ]
    }
