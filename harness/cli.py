"""The `whbench` command line: options parsed here, the work done in harness/commands/, the
printing in harness/console.py. Options shared by commands are declared in harness/options.py.
Each command imports what it uses when it runs, so that every command starts fast."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

import click

from harness import __version__, commands, console
from harness.errors import one_line, scrub
from harness.options import (
    AMOUNT,
    COUNT,
    DOLLARS,
    FACTOR,
    FRACTION,
    HOURS,
    INTO,
    JSON,
    PATH,
    PRICING,
    RUN_IDS,
    RUNS,
    SCALE,
    SECONDS,
    Invocation,
    Number,
    command,
    common,
    failed,
    option,
    selection,
    workload_parameters,
)


def main() -> None:
    """Entry point: run the CLI; a failure ends as one line on stderr and an exit code."""
    invocation = Invocation()  # the command's --debug fills it in (harness/options.py)
    try:
        cli.main(standalone_mode=False, obj=invocation)
    except (Exception, KeyboardInterrupt, click.exceptions.Abort) as exc:
        message, code = one_line(exc)
        if invocation.debug and not isinstance(exc, (KeyboardInterrupt, click.exceptions.Abort)):
            message = debug_traceback(exc)
        console.echo(message, err=True)
        sys.exit(code)
    finally:  # the process ends: its last garbage collection would walk every object of
        gc.freeze()  # DuckDB, Click and the harness (15 ms), for memory the OS takes back


def debug_traceback(exc: BaseException) -> str:
    """--debug: the whole traceback, with the exit code of the one-line error, and scrubbed of
    every secret the config read: a driver's message (or one of ours) may quote a setting."""
    import traceback

    return scrub("".join(traceback.format_exception(exc)).rstrip())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="whbench")
def cli() -> None:
    """Benchmark warehouses on your kind of data: time, cost and correctness."""


@command(cli, "whbench generate -w events --scale 1000000 --gap-minutes 5", parameters=True)
@common
@selection(engines=False, queries=False)
@option("--force", "Generate again even when cached.", is_flag=True)
def generate(config: Any, selection: Any, force: bool) -> None:
    """Generate workload data (cached, reused); a workload's own parameters follow as
    --name value: `whbench generate -w events --gap-minutes 5`."""
    console.generated(commands.run.generate(config, selection, force))


@command(cli, "whbench load -e duckdb -w tpch --scale 1", parameters=True)
@common
@selection(queries=False)
def load(config: Any, selection: Any) -> None:
    """Generate what is missing and load it into each engine (tables already there stay)."""
    summaries = commands.run.execute(config, selection.plan(config), load_only=True)
    console.run_summaries(summaries, as_json=False, show_queries=False)
    failed(any(s.error for s in summaries))


@command(cli, "whbench run -e duckdb -w tpch --scale 1 --runs 5", parameters=True)
@common
@selection()
@RUNS
@option("--timeout", "Per-query time limit, seconds.", type=SECONDS)
@option("--max-cost", "USD: stop before the run would spend more.", type=DOLLARS)
@PRICING
@option("--resume", "Run only what an interrupted run is missing.", metavar="RUN")
@option("--quiet", "No progress bars.", is_flag=True)
@option("--streams", "Under load: concurrency levels, e.g. 1,2,4,8 (a session per stream).")
@option(
    "--iterations",
    "Under load: times each stream runs its queries (default 1).",
    type=Number(int, "ITERATIONS"),
)
@option("--duration", "Under load: seconds per level, instead of --iterations.", type=SECONDS)
@option(
    "--arrival-rate",
    "Under load, open loop: queries/s arriving (Poisson).",
    type=Number(float, "RATE"),
)
@option("--no-report", "Do not write results/report.html after the runs.", is_flag=True)
@JSON
def run(config: Any, selection: Any, as_json: bool, no_report: bool, **options: Any) -> None:
    """Run workloads: generate and load what is missing, time every query, check every answer.

    Attempt 1 of each query is its first run (cold where the engine can empty its caches, else
    lukewarm), the others hot. With --streams, each level runs that many streams at once
    instead, each on its own session and in its own order (TPC-H: the specification's), and
    reports throughput and latency percentiles per level. Exit 1 when a query failed, timed
    out, was skipped by the budget or answered wrong (one that cannot be translated for an
    engine is skipped there, with the reason, and does not fail the run); what finished is
    stored regardless (`--resume RUN` finishes an interrupted run). Then, unless --json or
    --no-report, it writes the report of the latest run of each engine, workload and scale
    (as `whbench report` does) and ends with its verdicts and its path."""
    summaries = commands.run.run(config, selection, **options)
    console.run_summaries(summaries, as_json, show_queries=True)
    if not (as_json or no_report):
        report_after_run(config, options.get("pricing"))
    failed(any(s.error for s in summaries))


def report_after_run(config: Any, pricing: Path | None) -> None:
    """The report of what the store now holds, its verdicts and path printed. The runs are
    stored whatever happens here: a report that cannot be written is one line on stderr and
    leaves the run's exit status as it was."""
    try:
        written = commands.results.report_after_run(config, pricing)
    except Exception as exc:  # whatever it is, the run's own outcome must still show
        message, _ = one_line(exc)
        console.echo(f"report not written: {message.removeprefix('error: ')}", err=True)
        return
    if written is not None:
        console.report_written(written.report, written.path)


@command(cli, "whbench estimate -e bigquery -e snowflake -w tpch --scale 100", parameters=True)
@common
@selection()
@RUNS
@PRICING
@JSON
def estimate(config: Any, selection: Any, as_json: bool, **options: Any) -> None:
    """Estimate what `whbench run` with the same options would cost, before spending."""
    console.estimate(commands.estimate.estimate(config, selection, **options), as_json)


@command(cli, "whbench render tpch q01 --dialect bigquery", parameters=True)
@common
@click.argument("workload")
@click.argument("query")
@option("--engine -e", "Render for this engine's dialect.")
@option("--dialect", "Render for a dialect directly.")
@SCALE
def render(config: Any, workload: str, query: str, **options: Any) -> None:
    """Print exactly the SQL an engine will receive for one query."""
    parameters = workload_parameters()
    console.echo(commands.inspect.render(config, workload, query, parameters=parameters, **options))


@command(cli, "whbench validate --config configs/cloud.yaml")
@common
@JSON
def validate(config: Any, as_json: bool) -> None:
    """Check the config, render every workload for every dialect and parse it with sqlglot."""
    result = commands.inspect.validate(config)
    console.validation(result, as_json)
    failed(any(item["problems"] for item in result["workloads"]))


@command(cli, "whbench engines --json")
@common
@JSON
def engines(config: Any, as_json: bool) -> None:
    """List engines: dialect, whether the driver is installed, whether configured."""
    console.engines(commands.inspect.engines(config), as_json)


@command(cli, "whbench clean -e snowflake (list); whbench clean -e snowflake --yes (drop)")
@common
@option("--engine -e engine", "Engine to clean up.", required=True)
@option("--run", "Only the data set this run used.")
@option("--yes", "Drop them (without it, only list).", is_flag=True)
def clean(config: Any, engine: str, run: str | None, yes: bool) -> None:
    """List, and with --yes drop, the schemas or datasets whbench created (prefix whb_)."""
    console.cleaned(engine, commands.results.clean(config, engine, run, yes), yes)


@cli.group()
def workload() -> None:
    """Make a workload of your own data and queries."""


@command(
    workload,
    "whbench workload init shop --data orders=exports/orders/*.parquet --queries sql/ "
    "--dialect snowflake --into workloads",
    name="init",
)
@common
@click.argument("name")
@option("--data", "A table and its files: TABLE=PATH (a glob; repeat per table).", multiple=True)
@option("--queries", "A folder of .sql files to copy in.", type=PATH)
@option("--dialect", "The dialect the queries are written in.")
@option("--data-type", "structured (default), semi-structured or unstructured.")
@INTO
@JSON
def workload_init(config: Any, as_json: bool, data_type: str | None, **options: Any) -> None:
    """Write a workload folder for your files and SQL: the schema read from the files, the
    queries copied in; then validate it."""
    result = commands.workload.init(config, data_type=data_type or "structured", **options)
    console.workload_written(result, as_json)
    failed(bool(result["problems"]))


@command(
    workload,
    "whbench workload import-history -e snowflake team --since 7d --top 50",
    name="import-history",
)
@common
@click.argument("name")
@option("--engine -e engine", "Engine whose query history to read.", required=True)
@option("--since", "How far back: 7d (default), 24h, 90m.", default="7d")
@option("--top", "Keep this many queries (default 50).", type=COUNT, default=50)
@option("--min-runs", "Only queries run this often (default 2).", type=COUNT, default=2)
@INTO
@JSON
def workload_import_history(config: Any, as_json: bool, **options: Any) -> None:
    """Make a workload of the top SELECTs in an engine's own query history, grouped by their
    sqlglot fingerprint and ranked by time taken in all, with their statistics beside them."""
    console.workload_written(commands.workload.import_history(config, **options), as_json)


@cli.group()
def results() -> None:
    """Inspect and export stored runs."""


@command(results, "whbench results list --json", name="list")
@common
@JSON
def results_list(config: Any, as_json: bool) -> None:
    """List stored runs."""
    console.runs_list(commands.results.list_runs(config), as_json)


@command(results, "whbench results show 20261125-1803", name="show")
@common
@click.argument("run")
@JSON
def results_show(config: Any, run: str, as_json: bool) -> None:
    """Show one run: provenance, loads, every attempt and what any wrong answer got wrong."""
    console.run_details(commands.results.show(config, run), as_json)


@command(results, "whbench results export RUN --format parquet -o run.parquet", name="export")
@common
@click.argument("run")
@option("--format fmt", "json (default), csv or parquet.", default="json")
@option("--output -o", "File to write (default: results/<run>.<format>).", type=PATH)
def results_export(config: Any, run: str, fmt: str, output: Path | None) -> None:
    """Export one run's attempts (with engine, workload and SQL) as JSON, CSV or Parquet."""
    written_to(commands.results.export(config, run, fmt, output))


@command(
    cli,
    "whbench compare B1,B2,B3 N1,N2,N3; whbench compare --interleave a.yaml b.yaml -e duckdb",
)
@common
@click.argument("refs", nargs=-1)
@option("--baseline", "Base side: `whbench results export` file(s), comma-separated.", type=PATH)
@option(
    "--interleave", "REFS are two config files: run them in turn here, then compare.", is_flag=True
)
@selection()
@RUNS
@option("--threshold", "Slower: a query's median grown by more, beyond drift (1.10).", type=FACTOR)
@option("--alpha", "Chance of any false alarm in the comparison (0.05).", type=FRACTION)
@option("--workload-threshold", "Slower: the whole workload beyond doubt (1.25).", type=FACTOR)
@option(
    "--format fmt",
    "text (default) or md: the verdict table as Markdown, for a pull-request comment.",
    type=click.Choice(["text", "md"]),
    default="text",
)
@JSON
def compare(config: Any, refs: tuple[str, ...], as_json: bool, fmt: str, **options: Any) -> None:
    """Compare two runs (or --baseline FILE and a run; either side may be several runs,
    comma-separated) query by query, beyond the drift common to every query; exit 1 when a
    query got slower by more than --threshold and the noise floor and a Mann-Whitney test,
    corrected for testing every query, says it is not noise; when one failed now but not
    before; or when the whole workload got slower beyond --workload-threshold. With
    --interleave, REFS are two config files (a change in the workload, queries or config):
    both run in this process in turn, attempt by attempt, and are compared."""
    interleave, selection, runs = (options.pop(k) for k in ("interleave", "selection", "runs"))
    if interleave:
        config, refs = commands.run.interleave(refs, selection, runs)
    result = commands.results.compare(config, list(refs), interleaved=interleave, **options)
    console.comparison(result, as_json, fmt)
    failed(result["regressed"])


@command(cli, "whbench cost 20261125-1803 --pricing my-prices.yaml; whbench cost --refresh RUN")
@common
@click.argument("run_ids", nargs=-1, required=True)
@option("--refresh", "First fetch the vendor's billed figures of each run.", is_flag=True)
@PRICING
@JSON
def cost(config: Any, run_ids: tuple[str, ...], as_json: bool, **options: Any) -> None:
    """Price stored runs (nothing runs again): the run bill, marginal cost per query, loading
    and storage, each measured, modelled or unknown."""
    console.cost(commands.cost.cost(config, list(run_ids), **options), as_json)


@command(cli, "whbench project --queries-per-day 1000 --active-hours 8 --data-gb 500")
@common
@RUN_IDS
@option("--queries-per-day", "Default 1000.", type=AMOUNT)
@option("--active-hours", "Hours a day the queries arrive in (default 8).", type=HOURS)
@option("--data-gb", "Stored data (default: the run's).", type=AMOUNT)
@PRICING
@JSON
def project(config: Any, run_ids: tuple[str, ...], as_json: bool, **options: Any) -> None:
    """Estimate a month on each engine for your own activity pattern, from measured runs."""
    console.months(commands.cost.project(config, list(run_ids), **options), as_json)


@command(cli, "whbench report -o report.html; whbench report --format md -o - >> summary.md")
@common
@RUN_IDS
@option(
    "--format fmt",
    "html (default): the page; md: its first screen and table as Markdown.",
    type=click.Choice(["html", "md"]),
    default="html",
)
@option("--output -o", "File to write (default: results/report.html or .md; - stdout).", type=PATH)
@PRICING
def report(
    config: Any, run_ids: tuple[str, ...], fmt: str, output: Path | None, pricing: Any
) -> None:
    """Render the report (default: the latest run of each engine, workload and scale): the HTML
    page, or with --format md its summary for a pull-request comment or a CI job summary."""
    written_to(commands.results.report(config, list(run_ids), output, pricing, fmt).path)


def written_to(path: Path) -> None:
    """Name the file a command wrote; nothing when it went to stdout (`-o -`), where the name
    would end up inside the output."""
    if str(path) != "-":
        console.echo(str(path))
