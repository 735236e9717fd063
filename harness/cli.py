"""The `whbench` command line: thin Click commands over the modules that do the work."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from harness import __version__
from harness.config import Config, load_config
from harness.engines import ENGINES, driver_version, engine_class, require_driver
from harness.errors import HarnessError, RunInterrupted, UsageError, first_line
from harness.paths import default_config_file
from harness.runner import Runner, RunSummary, plan
from harness.store import EXPORT_FORMATS, Store, open_store
from harness.workloads import DIALECTS, Renderer, Scale, discover, get_workload


def main() -> None:
    """Entry point: run the CLI and turn expected failures into one line and an exit code."""
    debug = "--debug" in sys.argv[1:]
    try:
        cli.main(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:  # Click: Ctrl-C becomes Abort
        stop = exc.__cause__ if isinstance(exc, click.exceptions.Abort) else exc
        resume = getattr(stop, "resume_command", None)
        click.echo(
            "interrupted: every finished attempt is in the results store; the run is marked "
            "interrupted" + (f"; to finish it: {resume}" if resume else ""),
            err=True,
        )
        sys.exit(130)
    except click.ClickException as exc:  # bad arguments: Click's message, on one line, exit 2
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f"; see '{exc.ctx.command_path} --help'"
        click.echo(f"error: {exc.format_message().rstrip('.')}{hint}", err=True)
        sys.exit(exc.exit_code)
    except HarnessError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {first_line(exc)} (run again with --debug "
            "for the traceback, and please report it)",
            err=True,
        )
        sys.exit(1)


def common_options(command: Callable) -> Callable:
    """--config, --results-dir and --debug, on every command that reads the config."""

    @click.option(
        "--config",
        "-c",
        "config_file",
        type=click.Path(path_type=Path),
        help="Config file (default: the bundled configs/default.yaml).",
    )
    @click.option(
        "--results-dir",
        type=click.Path(path_type=Path),
        help="Where the store, data and report go (overrides results_dir).",
    )
    @click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
    @functools.wraps(command)
    def wrapper(config_file: Path | None, results_dir: Path | None, debug: bool, **kwargs: Any):
        config = load_config(config_file)
        if results_dir is not None:
            config.results_dir = results_dir
        return command(config, **kwargs)

    return wrapper


def _print(*renderables: Any) -> None:
    """Print text or rich tables to stdout (rich is imported only when something is shown)."""
    from rich.console import Console

    # Piped output keeps whole rows rather than wrapping them to 80 columns.
    Console(highlight=False, width=None if sys.stdout.isatty() else 200).print(*renderables)


def _table(*columns: str, **options: Any) -> Any:
    from rich.table import Table

    return Table(*columns, title_justify="left", **options)


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _positive(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise click.BadParameter("must be a positive number")
    return value


# Commands that take a workload's own parameters (`--gap-minutes 5`) accept unknown options;
# _workload_parameters() hands them to the workload, which rejects any it does not declare.
WORKLOAD_PARAMETERS = {"ignore_unknown_options": True, "allow_extra_args": True}


def _workload_parameters() -> dict[str, str]:
    """`--gap-minutes 5` or `--gap-minutes=5` after the command -> {"gap_minutes": "5"}."""
    args = list(click.get_current_context().args)
    parameters = {}
    while args:
        token = args.pop(0)
        if not token.startswith("--"):
            raise UsageError(f"unexpected argument {token!r}; see --help")
        name, has_value, value = token[2:].partition("=")
        if not has_value:
            if not args or args[0].startswith("--"):
                raise UsageError(f"workload parameter {token} needs a value")
            value = args.pop(0)
        parameters[name.replace("-", "_")] = value
    return parameters


ENGINES_OPTION = click.option(
    "--engine",
    "-e",
    "engines",
    multiple=True,
    help="Engine (repeatable; default: every configured engine).",
)
WORKLOADS_OPTION = click.option(
    "--workload", "-w", "workloads", multiple=True, help="Workload (repeatable)."
)
PRICING_OPTION = click.option(
    "--pricing",
    type=click.Path(path_type=Path),
    help="Price catalog (default: the bundled configs/pricing.yaml).",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
SCALE = click.option(
    "--scale",
    "-s",
    type=float,
    callback=_positive,
    help="Scale (TPC-H scale factor; events: number of events).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="whbench")
def cli() -> None:
    """Benchmark warehouses on your kind of data: time, cost and correctness.

    \b
    Example:
      whbench run                      # the default DuckDB benchmark
      whbench report                   # results/report.html
    """


@cli.command(context_settings=WORKLOAD_PARAMETERS)
@common_options
@WORKLOADS_OPTION
@SCALE
@click.option("--force", is_flag=True, help="Generate again even when cached.")
def generate(config: Config, workloads: tuple[str, ...], scale: float | None, force: bool) -> None:
    """Generate workload data (cached under data_dir and reused).

    A workload's own parameters follow as --name value (events: --gap-minutes 5).

    \b
    Example:
      whbench generate -w tpch --scale 1
      whbench generate -w events --scale 1000000 --gap-minutes 5
    """
    tasks = plan(
        config, workloads=list(workloads) or None, scale=scale, options=_workload_parameters()
    )
    runner = Runner(config, store=None)
    seen = set()
    with runner.progress:
        for task in tasks:
            variant = task.workload.variant(task.scale, task.options)
            if (task.workload.name, variant) in seen:
                continue
            seen.add((task.workload.name, variant))
            data = runner.generate(task.workload, task.scale, task.options, force=force)
            how = "cached" if data.generated_seconds is None else f"{data.generated_seconds:.1f} s"
            _print(f"{task.workload.name} {variant}: {data.folder} ({how})")


@cli.command(context_settings=WORKLOAD_PARAMETERS)
@common_options
@ENGINES_OPTION
@WORKLOADS_OPTION
@SCALE
def load(
    config: Config, engines: tuple[str, ...], workloads: tuple[str, ...], scale: float | None
) -> None:
    """Generate what is missing and load it into each engine (tables already there are kept).

    \b
    Example:
      whbench load -e duckdb -w tpch --scale 1
    """
    tasks = plan(
        config,
        list(engines) or None,
        list(workloads) or None,
        scale,
        options=_workload_parameters(),
    )
    summaries = _execute(config, tasks, load_only=True, quiet=False)
    _finish(summaries, as_json=False, show_queries=False)


@cli.command(context_settings=WORKLOAD_PARAMETERS)
@common_options
@ENGINES_OPTION
@WORKLOADS_OPTION
@SCALE
@click.option("--query", "-q", "queries", multiple=True, help="Query id (repeatable).")
@click.option("--runs", "-n", type=click.IntRange(min=1), help="Attempts per query (default 3).")
@click.option("--timeout", type=float, callback=_positive, help="Per-query time limit, seconds.")
@click.option(
    "--max-cost",
    type=float,
    callback=_positive,
    help="USD: stop before the run would spend more (estimates and engine limits).",
)
@PRICING_OPTION
@click.option(
    "--resume",
    "resume_run",
    metavar="RUN",
    help="Run only what an interrupted run is missing, into that same run.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def run(
    config: Config,
    engines: tuple[str, ...],
    workloads: tuple[str, ...],
    scale: float | None,
    queries: tuple[str, ...],
    runs: int | None,
    timeout: float | None,
    max_cost: float | None,
    pricing: Path | None,
    resume_run: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run workloads: generate and load what is missing, time every query, store everything.

    Attempt 1 of each query is its first run (cold where the engine can empty its caches,
    else lukewarm), the others hot. Answers are checked against the workload's known answers
    where it has them. Exit status 1 when any query failed, timed out, was skipped for the
    budget or gave a wrong answer (what finished is stored regardless).

    \b
    Example:
      whbench run -e duckdb -w tpch --scale 1 --runs 5
      whbench run -e bigquery --max-cost 5
      whbench run --resume 20261125-1803
    """
    if resume_run:
        if engines or workloads or scale is not None or queries or runs or timeout:
            raise UsageError(
                "--resume continues a run with its own engine, workload, scale, queries, "
                "attempts and time limit: give none of -e, -w, --scale, -q, --runs, --timeout"
            )
        tasks = _resumed(config, resume_run)
    else:
        tasks = None
    if runs is not None:
        config.runs = runs
    if max_cost is not None:
        config.max_cost = max_cost
    if pricing is not None:
        config.pricing = pricing
    if timeout is not None:
        config.timeout_seconds = timeout
    tasks = tasks or plan(
        config,
        list(engines) or None,
        list(workloads) or None,
        scale,
        list(queries) or None,
        _workload_parameters(),
    )
    try:
        summaries = _execute(config, tasks, load_only=False, quiet=quiet)
    except RunInterrupted as stop:  # say how to pick it up again, with the same files
        if Path(config.source) != default_config_file():
            stop.resume_command += f" --config {config.source}"
        stop.resume_command += f" --results-dir {config.results_dir}"
        raise
    _finish(summaries, as_json, show_queries=True)


def _resumed(config: Config, run: str) -> list:
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
        queries = [
            r["query_id"]
            for r in store.rows(
                "SELECT query_id FROM queries WHERE run_id = ? ORDER BY query_id", [run_id]
            )
        ]
        done = {
            (r["query_id"], r["attempt"])
            for r in store.rows("SELECT query_id, attempt FROM attempts WHERE run_id = ?", [run_id])
        }
    config.runs = stored["runs_per_query"]
    config.timeout_seconds = stored["timeout_seconds"]
    (task,) = plan(
        config,
        [stored["engine"]],
        [stored["workload"]],
        stored["scale"],
        queries,
        {k: str(v) for k, v in (stored["workload_options"] or {}).items()},
    )
    task.resume_of, task.done = run_id, frozenset(done)
    return [task]


@cli.command(context_settings=WORKLOAD_PARAMETERS)
@common_options
@ENGINES_OPTION
@WORKLOADS_OPTION
@SCALE
@click.option("--query", "-q", "queries", multiple=True, help="Query id (repeatable).")
@click.option("--runs", "-n", type=click.IntRange(min=1), help="Attempts per query (default 3).")
@PRICING_OPTION
@JSON_OPTION
def estimate(
    config: Config,
    engines: tuple[str, ...],
    workloads: tuple[str, ...],
    scale: float | None,
    queries: tuple[str, ...],
    runs: int | None,
    pricing: Path | None,
    as_json: bool,
) -> None:
    """Estimate what `whbench run` with the same options would cost, before spending.

    BigQuery answers with free dry runs (once its data is loaded); the others from earlier
    stored runs of the same workload and scale, else from the engine's minimum charge. Every
    figure says what it rests on.

    \b
    Example:
      whbench estimate -e bigquery -e snowflake -w tpch --scale 100
    """
    from harness.budget import Budget
    from harness.pricing import dollars, load_catalog

    if runs is not None:
        config.runs = runs
    tasks = plan(
        config,
        list(engines) or None,
        list(workloads) or None,
        scale,
        list(queries) or None,
        _workload_parameters(),
    )
    catalog = load_catalog(pricing or config.pricing)
    store = Store(config.store_path, read_only=True) if config.store_path.exists() else None
    report = []
    try:
        for task in tasks:
            cls = engine_class(task.engine)
            engine = cls(task.settings)
            if cls.supports_dry_run:
                require_driver(cls)
                engine.connect()
                engine.prepare_session(task.namespace, "estimate", config.timeout_seconds)
            guard = Budget(float("inf"), catalog, store)
            guard.start(task.engine, task.settings.__dict__, task.workload.name, task.scale)
            total: float | None = 0.0
            basis = set()
            for query in task.queries:
                each, how = guard.estimate(engine, query.id, query.sql)
                total = None if total is None or each is None else total + each * config.runs
                basis.add(how)
            if cls.supports_dry_run:
                engine.close()
            report.append(
                {
                    "engine": task.engine,
                    "workload": task.workload.name,
                    "scale": task.scale,
                    "queries": len(task.queries),
                    "runs": config.runs,
                    "dollars": total,
                    "from": sorted(basis),
                    "notes": engine.notes,
                }
            )
    finally:
        if store is not None:
            store.close()
    if as_json:
        _emit_json(
            {
                "pricing": catalog.source,
                "estimates": report,
                "engines": _subtotals(report, "engine"),
                "workloads": _subtotals(report, "workload"),
            }
        )
        return
    table = _table("engine", "workload", "scale", "queries x runs", "estimate", "from")
    for item in report:
        table.add_row(
            item["engine"],
            item["workload"],
            Scale.text(item["scale"]),
            f"{item['queries']} x {item['runs']}",
            dollars(item["dollars"]),
            "; ".join(item["from"]),
        )
    for key in ("engine", "workload"):
        for name, total in _subtotals(report, key).items():
            row = [f"all {name}", ""] if key == "engine" else ["all", name]
            table.add_row(*row, "", "", dollars(total), "")
    known = [i["dollars"] for i in report]
    table.add_row("all", "", "", "", dollars(None if None in known else sum(known)), "")
    _print(table)


def _subtotals(report: list[dict[str, Any]], key: str) -> dict[str, float | None]:
    """Estimated dollars per engine or per workload (None when any part is unknown)."""
    totals: dict[str, float | None] = {}
    for item in report:
        name = item[key]
        before = totals.get(name, 0.0)
        totals[name] = (
            None if before is None or item["dollars"] is None else (before + item["dollars"])
        )
    return totals


def _execute(config: Config, tasks: list, load_only: bool, quiet: bool) -> list[RunSummary]:
    with open_store(config.store_path) as store:
        return Runner(config, store, quiet=quiet).run(tasks, load_only=load_only)


def _finish(summaries: list[RunSummary], as_json: bool, show_queries: bool) -> None:
    if as_json:
        _emit_json([vars(s) for s in summaries])
    else:
        for s in summaries:
            table = _table(
                title=f"{s.run_id}  ({s.engine} · {s.workload} · scale {Scale.text(s.scale)})",
            )
            if show_queries and s.queries:
                first_runs = sorted({q["first_run"] for q in s.queries})
                columns = ("query", "status", " / ".join(first_runs), "hot (best)", "rows")
                for column in (*columns, "answer", "checksum"):
                    table.add_column(
                        column, justify="left" if column in ("query", "status") else "right"
                    )
                for q in s.queries:
                    table.add_row(
                        q["query_id"],
                        q["status"],
                        _fmt_seconds(q["first_seconds"]),
                        _fmt_seconds(q["hot_seconds"]),
                        _fmt(q["rows"]),
                        _fmt(q["answer"]),
                        q["checksum"] or "–",
                    )
                _print(table)
                if line := s.answers_line():
                    click.echo(line)
            else:
                _print(f"{s.run_id}: {s.status}")
    problems = [s for s in summaries if s.error]
    for s in problems:
        failed = [q for q in s.queries if q["status"] != "ok" or q["answer"] == "wrong"]
        if failed:
            for q in failed:
                what = (
                    f"{q['status']}: {q['error']}"
                    if q["status"] != "ok"
                    else f"wrong answer against the {s.answers_from}: {q['difference']}"
                )
                click.echo(f"{s.engine} {s.workload} {q['query_id']}: {what}", err=True)
        else:
            click.echo(f"error: {s.engine} {s.workload}: {s.error}", err=True)
    if problems:
        sys.exit(1)


def _fmt(value: Any) -> str:
    return "–" if value is None else str(value)


def _fmt_seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f} s"


@cli.command(context_settings=WORKLOAD_PARAMETERS)
@common_options
@click.argument("workload")
@click.argument("query")
@click.option("--engine", "-e", help="Render for this engine's dialect.")
@click.option("--dialect", type=click.Choice(DIALECTS), help="Render for a dialect directly.")
@SCALE
def render(
    config: Config,
    workload: str,
    query: str,
    engine: str | None,
    dialect: str | None,
    scale: float | None,
) -> None:
    """Print exactly the SQL an engine will receive for one query.

    \b
    Example:
      whbench render tpch q01 --engine duckdb
      whbench render tpch q01 --dialect bigquery
    """
    if not engine and not dialect:
        raise UsageError("say which SQL to render: --engine NAME or --dialect NAME")
    spec = get_workload(workload, config.workload_dirs)
    chosen_scale = spec.scale.check(scale if scale is not None else spec.scale.default, spec.name)
    target = dialect or engine_class(engine).dialect
    renderer = Renderer(spec, target, chosen_scale, _workload_parameters())
    click.echo(renderer.query(query))


@cli.command()
@common_options
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def validate(config: Config, as_json: bool) -> None:
    """Check the config, render every workload for every dialect and parse it with sqlglot.

    \b
    Example:
      whbench validate --config configs/cloud.yaml
    """
    from harness.validate import validate_workload

    plan(config)  # the config's engines, workloads and scales are all usable
    report = []
    for workload in discover(config.workload_dirs).values():
        checked, problems = validate_workload(workload)
        report.append(
            {
                "workload": workload.name,
                "statements": checked,
                "problems": [vars(p) for p in problems],
            }
        )
    if as_json:
        _emit_json({"config": config.source, "workloads": report})
    else:
        _print(f"config {config.source}: ok")
        for item in report:
            verdict = "ok" if not item["problems"] else f"{len(item['problems'])} problem(s)"
            _print(
                f"{item['workload']}: {item['statements']} statements in "
                f"{len(DIALECTS)} dialects parsed: {verdict}"
            )
            for p in item["problems"]:
                _print(f"  {p['dialect']} {p['item']}: {p['message']}")
    if any(item["problems"] for item in report):
        sys.exit(1)


@cli.command()
@common_options
@JSON_OPTION
def engines(config: Config, as_json: bool) -> None:
    """List engines: dialect, whether the driver is installed, whether configured.

    \b
    Example:
      whbench engines --json
    """
    rows = [
        {
            "engine": name,
            "dialect": cls.dialect,
            "driver": cls.driver_package,
            "driver_version": driver_version(cls),
            "configured": name in config.engines,
            "auth": cls(config.engines[name]).auth_method() if name in config.engines else None,
            "install": f"pip install 'warehouse-bench[{cls.extra}]'" if cls.extra else None,
            "cost_basis": cls.cost_basis,
            "reports_engine_time": cls.reports_engine_time,
            "supports_dry_run": cls.supports_dry_run,
        }
        for name, cls in sorted(ENGINES.items())
    ]
    if as_json:
        _emit_json(rows)
        return
    table = _table("engine", "driver", "version", "configured", "sign-in", "cost basis")
    for r in rows:
        table.add_row(
            r["engine"],
            r["driver"],
            r["driver_version"] or f"not installed: {r['install']}",
            _yes(r["configured"]),
            r["auth"] or "–",
            r["cost_basis"],
        )
    _print(table)


@cli.command()
@common_options
@click.option("--engine", "-e", "engine_name", required=True, help="Engine to clean up.")
@click.option("--run", "run_id", help="Only the data set this run used.")
@click.option("--yes", is_flag=True, help="Drop them (without it, only list).")
def clean(config: Config, engine_name: str, run_id: str | None, yes: bool) -> None:
    """List, and with --yes drop, the schemas or datasets whbench created (prefix whb_).

    Nothing without the harness prefix is ever listed or dropped.

    \b
    Example:
      whbench clean -e snowflake            # list
      whbench clean -e snowflake --yes      # drop them all
    """
    cls = engine_class(engine_name)
    require_driver(cls)
    engine = cls(config.engines.get(engine_name) or cls.settings_class())
    engine.connect()
    try:
        if run_id:
            with open_store(config.store_path, read_only=True) as store:
                run = store.run(store.resolve_run(run_id))
            found = [n for n in engine.namespaces() if n == run["namespace"]]
        else:
            found = engine.namespaces()
        if not found:
            click.echo(f"{engine_name}: nothing whbench created")
        for namespace in found:
            if yes:
                engine.drop(namespace)
            click.echo(f"{'dropped' if yes else 'would drop'} {engine_name} {namespace}")
        if found and not yes:
            click.echo("run again with --yes to drop these")
    finally:
        engine.close()


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


@cli.group()
def results() -> None:
    """Inspect and export stored runs."""


@results.command("list")
@common_options
@JSON_OPTION
def results_list(config: Config, as_json: bool) -> None:
    """List stored runs.

    \b
    Example:
      whbench results list --json
    """
    with open_store(config.store_path, read_only=True) as store:
        runs = store.list_runs()
    if as_json:
        _emit_json(runs)
        return
    table = _table("run", "started", "status", "engine", "workload", "scale", "attempts", "failed")
    for r in runs:
        table.add_row(
            r["run_id"],
            f"{r['started_at']:%Y-%m-%d %H:%M:%S}",
            r["status"],
            r["engine"],
            r["workload"],
            Scale.text(r["scale"]),
            str(r["attempts"]),
            str(r["failed"]),
        )
    _print(table)


@results.command("show")
@common_options
@click.argument("run_id")
@JSON_OPTION
def results_show(config: Config, run_id: str, as_json: bool) -> None:
    """Show one run: provenance, loads and every attempt.

    \b
    Example:
      whbench results show 20261125-1803
    """
    with open_store(config.store_path, read_only=True) as store:
        run_id = store.resolve_run(run_id)
        run, loads, attempts = store.run(run_id), store.loads(run_id), store.attempts(run_id)
        results = store.results(run_id)
    if as_json:
        _emit_json({"run": run, "loads": loads, "attempts": attempts})
        return
    for key in (
        "run_id",
        "status",
        "engine",
        "engine_version",
        "workload",
        "data_type",
        "scale",
        "started_at",
        "ended_at",
        "harness_version",
        "git_commit",
        "host",
        "error",
    ):
        _print(f"{key:>16}: {_fmt(run[key])}")
    for note in run["notes"] or []:  # what the engine could not do as asked
        _print(f"{'note':>16}: {note}")
    if loads:
        table = _table(
            "table",
            "status",
            "rows",
            "bytes stored",
            "seconds",
            title="loads",
        )
        for ld in loads:
            seconds = "–" if ld["seconds"] is None else f"{ld['seconds']:.2f}"
            table.add_row(
                ld["table_name"], ld["status"], _fmt(ld["rows"]), _fmt(ld["bytes_stored"]), seconds
            )
        _print(table)
    table = _table(
        "query",
        "attempt",
        "phase",
        "status",
        "client s",
        "engine s",
        "rows",
        "answer",
        "checksum",
        "error / left out",
        title="attempts",
    )
    for a in attempts:
        table.add_row(
            a["query_id"],
            str(a["attempt"]),
            a["phase"],
            a["status"],
            _fmt_seconds(a["client_seconds"]),
            _fmt_seconds(a["engine_seconds"]),
            _fmt(a["rows"]),
            _fmt(a["answer"]),
            _fmt(a["checksum"]),
            a["error"] or a["excluded"] or "",
        )
    _print(table)
    for query_id, kept in results.items():  # what a wrong answer got wrong
        if kept["difference"] is not None:
            difference = kept["difference"]
            click.echo(f"{query_id}: wrong against {difference.against}: {difference.rule}")


@results.command("export")
@common_options
@click.argument("run_id")
@click.option(
    "--format", "fmt", type=click.Choice(sorted(EXPORT_FORMATS)), default="json", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="File to write (default: results/<run>.<format>).",
)
def results_export(config: Config, run_id: str, fmt: str, output: Path | None) -> None:
    """Export one run's attempts (with engine, workload and SQL) as JSON, CSV or Parquet.

    \b
    Example:
      whbench results export 20261125-1803 --format parquet -o run.parquet
    """
    with open_store(config.store_path, read_only=True) as store:
        run_id = store.resolve_run(run_id)
        destination = output or config.results_dir / f"{run_id}.{fmt}"
        store.export(run_id, fmt, destination)
    click.echo(str(destination))


@cli.command()
@common_options
@click.argument("runs", nargs=-1)
@click.option(
    "--baseline",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The base side from a file of `whbench results export RUN --format json`.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(min=1.0),
    default=1.10,
    show_default=True,
    help="A query counts as slower only when its median grew by more than this factor.",
)
@click.option(
    "--alpha",
    type=click.FloatRange(min=0.0, max=1.0, min_open=True),
    default=0.05,
    show_default=True,
    help="Significance level of the Mann-Whitney test.",
)
@JSON_OPTION
def compare(
    config: Config,
    runs: tuple[str, ...],
    baseline: Path | None,
    threshold: float,
    alpha: float,
    as_json: bool,
) -> None:
    """Compare two runs query by query; exit 1 on a significant slowdown.

    A query is slower when its median time grew by more than --threshold and a Mann-Whitney
    test over the attempts says the change is not noise (p < --alpha); a query that failed now
    but not before is a regression too. Give two run ids, or one with --baseline FILE.

    \b
    Example:
      whbench compare 20261124-0900 20261125-0900 --threshold 1.2
      whbench compare --baseline main.json 20261125-0900
    """
    from harness import compare as comparing

    expected = 1 if baseline else 2
    if len(runs) != expected:
        raise UsageError(
            "give BASE and NEW run ids, or --baseline FILE and the NEW run id"
            if not baseline
            else "with --baseline, give only the NEW run id"
        )
    store = Store(config.store_path, read_only=True) if config.store_path.exists() else None
    try:
        base_name, base = comparing.attempts_of(store, str(baseline) if baseline else runs[0])
        new_name, new = comparing.attempts_of(store, runs[-1])
    finally:
        if store is not None:
            store.close()
    changes = comparing.compare(base, new, threshold, alpha)
    result = {"base": base_name, "new": new_name, **comparing.summary(changes, threshold, alpha)}
    if as_json:
        _emit_json(result)
    else:
        table = _table(
            "query", "base", "new", "factor", "p", "verdict", title=f"{base_name} → {new_name}"
        )
        for c in changes:
            table.add_row(
                c.query_id,
                _fmt_seconds(c.base_seconds),
                _fmt_seconds(c.new_seconds),
                "–" if c.factor is None else f"{c.factor:.2f}×",
                "–" if c.p_value is None else f"{c.p_value:.3f}",
                c.verdict,
            )
        _print(table)
        mean = result["geometric_mean_factor"]
        counts = ", ".join(f"{n} {v}" for v, n in sorted(result["verdicts"].items()))
        _print(
            f"{result['queries']} queries: {counts}; geometric mean factor "
            f"{'–' if mean is None else f'{mean:.3f}'}"
        )
    sides = [{(a.get("engine"), a.get("workload"), a.get("scale")) for a in x} for x in (base, new)]
    if sides[0] != sides[1]:
        click.echo(
            "warning: the two sides ran different engines, workloads or scales: "
            f"{sorted(map(str, sides[0]))} against {sorted(map(str, sides[1]))}",
            err=True,
        )
    if result["too_few_attempts"]:
        click.echo(
            f"warning: with so few attempts no change can reach p < {alpha:g}; "
            "run with --runs 6 or more on both sides",
            err=True,
        )
    if result["regressed"]:
        raise SystemExit(1)


@cli.command()
@common_options
@click.argument("run_ids", nargs=-1, required=True)
@click.option(
    "--refresh",
    is_flag=True,
    help="First ask each engine for the vendor's billed figures of the run's window.",
)
@PRICING_OPTION
@JSON_OPTION
def cost(
    config: Config, run_ids: tuple[str, ...], refresh: bool, pricing: Path | None, as_json: bool
) -> None:
    """Price stored runs: the run bill, the marginal cost per query, loading and storage.

    Nothing runs again: another catalog (another region, edition or discount) re-prices the
    same measurements. The run bill is what the account is charged for the queries as they
    ran (uptime, minimums, idle tails); the marginal cost is what each query would cost on a
    warehouse that is running anyway. Each figure says whether it is measured, modelled or
    unknown. --refresh fetches the vendor's own billed figures (Snowflake metering history,
    Redshift SYS_SERVERLESS_USAGE), which lag by minutes to hours; until they cover the run,
    the bill stays modelled and says "pending".

    \b
    Example:
      whbench cost 20261125-1803 --pricing my-prices.yaml
      whbench cost --refresh 20261125-1803
    """
    from harness.pricing import FREE, dollars, dollars_per_query, load_catalog, price_run

    catalog = load_catalog(pricing or config.pricing)
    report = []
    per_engine: dict[str, Any] = {}
    with open_store(config.store_path, read_only=not refresh) as store:
        ids = [store.resolve_run(run_id) for run_id in run_ids]
        if refresh:
            _refresh_bills(config, store, ids, catalog)
        for run_id in ids:
            run = store.run(run_id)
            priced = price_run(run, store.attempts(run_id), catalog, store.loads(run_id))
            per_engine[run["engine"]] = per_engine.get(run["engine"], FREE) + priced.total
            report.append(
                {
                    "run_id": run_id,
                    "engine": run["engine"],
                    "workload": run["workload"],
                    "scale": run["scale"],
                    **priced.as_json(),
                }
            )
    engines_total = {engine: vars(total) for engine, total in sorted(per_engine.items())}
    if as_json:
        _emit_json({"pricing": catalog.source, "runs": report, "engines": engines_total})
        return
    for item in report:
        table = _table(
            "query",
            "marginal cost, all attempts",
            "basis",
            title=(
                f"{item['run_id']}  ({item['engine']} · {item['workload']} · scale "
                f"{Scale.text(item['scale'])})"
            ),
        )
        for query_id, c in item["queries"].items():
            table.add_row(query_id, dollars_per_query(c["dollars"]), c["basis"])
        for label, key in (
            ("all queries, marginal", "marginal"),
            ("run bill (queries as they ran)", "total"),
            ("loading", "load"),
            ("storage per month", "storage_per_month"),
        ):
            c = item[key]
            table.add_row(label, dollars(c["dollars"]), f"{c['basis']}, prices as of {c['as_of']}")
        _print(table)
        _print("\n".join(f"  · {line}" for line in item["explain"]))
    engines_table = _table("engine", "run bill", "basis", title="per engine")
    for engine, total in engines_total.items():
        engines_table.add_row(engine, dollars(total["dollars"]), total["basis"])
    _print(engines_table)


def _refresh_bills(config: Config, store: Store, run_ids: list[str], catalog: Any) -> None:
    """Connect to each run's engine (as configured now) and store the vendor's billed figures
    for the run's window."""
    from harness.runner import fetch_billed_usage

    for run_id in run_ids:
        name = store.run(run_id)["engine"]
        cls = engine_class(name)
        engine = cls(config.engines.get(name) or cls.settings_class())
        require_driver(cls)
        engine.connect()
        try:
            fetch_billed_usage(store, run_id, engine, catalog)
        finally:
            engine.close()
        for note in engine.notes:
            click.echo(f"{name}: {note}", err=True)


@cli.command()
@common_options
@click.argument("run_ids", nargs=-1)
@click.option("--queries-per-day", type=click.FloatRange(min=0), help="Default 1000.")
@click.option(
    "--active-hours",
    type=click.FloatRange(min=0.01, max=24),
    help="Hours a day the queries arrive in, evenly (default 8).",
)
@click.option("--data-gb", type=click.FloatRange(min=0), help="Stored data (default: the run's).")
@PRICING_OPTION
@JSON_OPTION
def project(
    config: Config,
    run_ids: tuple[str, ...],
    queries_per_day: float | None,
    active_hours: float | None,
    data_gb: float | None,
    pricing: Path | None,
    as_json: bool,
) -> None:
    """Estimate a month on each engine for your own activity pattern, from measured runs.

    Per run: the query mix's marginal cost x your volume, each engine's uptime model for your
    pattern (a Snowflake warehouse with its AUTO_SUSPEND, Serverless minimums, a provisioned
    cluster's 730 hours, a VM for DuckDB) and storage. Defaults come from the config's
    `projection:` block. Every assumption is printed.

    \b
    Example:
      whbench project --queries-per-day 1000 --active-hours 8 --data-gb 500
    """
    from harness.pricing import dollars, load_catalog

    pattern = _pattern(config, queries_per_day, active_hours, data_gb)
    catalog = load_catalog(pricing or config.pricing)
    with open_store(config.store_path, read_only=True) as store:
        months = _months(store, list(run_ids), catalog, pattern)
    if as_json:
        _emit_json({"pricing": catalog.source, "pattern": vars(pattern), "months": months})
        return
    table = _table("run", "engine", "workload", "a month", "basis")
    for month in months:
        table.add_row(
            month["run_id"],
            month["engine"],
            month["workload"],
            dollars(month["dollars"]),
            month["basis"],
        )
    _print(table)
    for month in months:
        _print(f"{month['engine']} ({month['run_id']}):")
        _print("\n".join(f"  · {line}" for line in month["explain"]))


def _pattern(
    config: Config, queries_per_day: float | None, active_hours: float | None, data_gb: float | None
) -> Any:
    from dataclasses import replace

    return replace(
        config.projection,
        **{
            key: value
            for key, value in {
                "queries_per_day": queries_per_day,
                "active_hours": active_hours,
                "data_gb": data_gb,
            }.items()
            if value is not None
        },
    )


def _months(store: Store, run_ids: list[str], catalog: Any, pattern: Any) -> list[dict]:
    """A month per run: the given runs, else the latest run of each engine and workload."""
    from harness.pricing import project_month
    from harness.report import latest_run_ids

    ids = [store.resolve_run(r) for r in run_ids] or latest_run_ids(store)
    if not ids:
        raise UsageError(f"no runs in {store.path}; run `whbench run` first")
    months = []
    for run_id in ids:
        run = store.run(run_id)
        loads = store.loads(run_id)
        stored = [row["bytes_stored"] for row in loads if row["status"] == "loaded"]
        month = project_month(
            run,
            store.attempts(run_id),
            catalog,
            pattern,
            sum(stored) if stored and None not in stored else None,
        )
        months.append(
            {
                "run_id": run_id,
                "engine": run["engine"],
                "workload": run["workload"],
                "scale": run["scale"],
                **vars(month.cost),
                "explain": month.explain,
            }
        )
    return months


@cli.command()
@common_options
@click.argument("run_ids", nargs=-1)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="HTML file to write (default: results/report.html).",
)
@PRICING_OPTION
def report(
    config: Config, run_ids: tuple[str, ...], output: Path | None, pricing: Path | None
) -> None:
    """Render the HTML report (default: the latest run of each engine and workload).

    \b
    Example:
      whbench report -o report.html
    """
    from harness.pricing import load_catalog
    from harness.report import write_report
    from harness.workloads import discover

    with open_store(config.store_path, read_only=True) as store:
        path = write_report(
            store,
            list(run_ids),
            output or config.results_dir / "report.html",
            load_catalog(pricing or config.pricing),
            config.projection,
            discover(config.workload_dirs),
        )
    click.echo(str(path))


__all__ = ["Store", "cli", "main"]
