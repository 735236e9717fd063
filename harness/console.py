"""What the commands print: tables and summaries for people, JSON for scripts.

Every function takes what a command returned (harness/commands/) and writes it to stdout (or a
warning to stderr); nothing here decides anything.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.scale import Scale
from harness.units import (
    count,
    data_size,
    dollars,
    dollars_per_query,
    factor,
    figure,
    p_value,
    scale,
    seconds,
)

if TYPE_CHECKING:
    from harness.report.model import Report
    from harness.store import RunListing, StoredRun


def echo(text: str = "", err: bool = False) -> None:
    print(text, file=sys.stderr if err else sys.stdout, flush=True)


def emit_json(data: Any) -> None:
    echo(json.dumps(data, indent=2, default=_as_json))


def _as_json(value: Any) -> Any:
    """A stored row (a dataclass) as its fields, in their order; anything else (a time) as
    text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return str(value)


def show(*items: Any) -> None:
    """Print text or tables."""
    for item in items:
        echo(str(item))


class Table:
    """A plain table: an optional title, a header, then rows in aligned columns. No box
    drawing and no wrapping, so rows stay whole when piped into grep, cut or a file; plain,
    so that a command which prints one does not pay for importing a rendering library."""

    def __init__(self, *columns: str, title: str | None = None) -> None:
        self.columns, self.title, self.rows = columns, title, []

    def add_row(self, *cells: str) -> None:
        self.rows.append(cells)

    def __str__(self) -> str:
        widths = [max(map(len, column)) for column in zip(self.columns, *self.rows, strict=True)]
        lines = [self.title] if self.title else []
        for row in (self.columns, *self.rows):
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)


def table(*columns: str, title: str | None = None) -> Table:
    return Table(*columns, title=title)


def lines(items: list[str]) -> str:
    return "\n".join(f"  · {line}" for line in items)


def fmt(value: Any) -> str:
    return "–" if value is None else str(value)


def round_trip(floor: dict[str, Any] | None) -> str:
    """A session's round-trip floor in words: "SELECT 1 x 5: min 0.146 ms, median 0.177 ms",
    or why there is none (never "0")."""
    if not floor:
        return "not measured (see the notes; a run before whbench measured it has none)"
    return (
        f"{floor.get('sql', 'SELECT 1')} x {floor['n']}: min {seconds(floor['min'])}, "
        f"median {seconds(floor['median'])} (client time every query pays at least)"
    )


def title(item: dict[str, Any]) -> str:
    where = f"{item['engine']} · {item['workload']} · {Scale.named(item['scale'])}"
    return f"{item['run_id']}  ({where})"


# -- run and load --------------------------------------------------------------------------------
def run_summaries(summaries: list[Any], as_json: bool, show_queries: bool) -> None:
    """The runs' summaries, then one line per problem on stderr."""
    if as_json:
        emit_json([vars(s) for s in summaries])
    else:
        for s in summaries:
            _summary(s, show_queries)
    _problems(summaries)


def _summary(s: Any, show_queries: bool) -> None:
    if not (show_queries and s.queries):
        show(f"{s.run_id}: {s.status}")
        if line := s.unsupported_line():
            echo(f"  {line}")
        return
    if s.load is not None:
        load_levels(s.load, title(vars(s)))
        for line in (s.answers_line(), s.unsupported_line()):
            if line:
                echo(line)
        return
    first_runs = " / ".join(sorted({q["first_run"] for q in s.queries if q["first_run"]}))
    columns = ("query", "status", first_runs or "first", "hot (best)", "rows", "answer")
    grid = table(*columns, "checksum", title=title(vars(s)))
    for q in s.queries:
        grid.add_row(
            q["query_id"],
            q["status"],
            seconds(q["first_seconds"]),
            seconds(q["hot_seconds"]),
            count(q["rows"]),
            fmt(q["answer"]),
            q["checksum"] or "–",
        )
    show(grid)
    for line in (s.answers_line(), s.unsupported_line()):
        if line:
            echo(line)


def load_levels(load: dict[str, Any], heading: str) -> None:
    """Per concurrency level: throughput, latency percentiles, errors and cost; then the
    workload's own metric (TPC-H's QphH@Size) with what it is not."""
    columns = ("level", "queries", "q/s", "p50", "p95", "p99", "max", "errors", "$ / 1,000 q")
    grid = table(*columns, title=heading)
    for level in load["levels"]:
        qps = level["queries_per_second"]
        grid.add_row(
            str(level["level"]),
            f"{count(level['ok'])}/{count(level['queries'])}",
            figure(qps),
            *(seconds(level[f"{p}_seconds"]) for p in ("p50", "p95", "p99", "max")),
            count(level["errors"] + level["timeouts"]),
            dollars(level["cost_per_1000_queries"]),
        )
    show(grid)
    if tpch := load.get("tpch"):
        power = tpch["power_at_size"]
        echo(f"{tpch['label']}:")
        why = f" ({tpch['power_note']})" if power is None else ""
        echo(f"  Power@Size {figure(power)}{why}")
        for entry in tpch["throughput"]:
            echo(
                f"  {entry['streams']} streams: Throughput@Size "
                f"{figure(entry['throughput_at_size'])}, QphH@Size "
                f"{figure(entry['qphh_at_size'])}; {entry.get('note') or entry['streams_check']}"
            )


def _problems(summaries: list[Any]) -> None:
    for s in summaries:
        if not s.error:
            continue
        # an unsupported query is a result (the engine lacks a feature), not a problem
        failed = [
            q
            for q in s.queries
            if q["status"] not in ("ok", "unsupported") or q["answer"] == "wrong"
        ]
        for q in failed:
            what = (
                f"{q['status']}: {q['error']}"
                if q["status"] != "ok"
                else f"wrong answer against the {s.answers_from}: {q['difference']}"
            )
            echo(f"{s.engine} {s.workload} {q['query_id']}: {what}", err=True)
        if not failed:
            echo(f"error: {s.engine} {s.workload}: {s.error}", err=True)


def report_written(report: Report, path: Path) -> None:
    """After `whbench run`: the report's one-line verdicts, as its first screen says them, and
    where the report is."""
    said = report.first_screen.lines()
    if said:
        echo()
    for line in said:
        echo(line)
    echo(f"report: {path}")


def generated(items: list[dict[str, Any]]) -> None:
    for item in items:
        how = "cached" if item["seconds"] is None else seconds(item["seconds"])
        show(f"{item['workload']} {item['variant']}: {item['folder']} ({how})")


# -- estimate, cost, project ---------------------------------------------------------------------
def estimate(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    grid = table("engine", "workload", "scale", "queries x runs", "estimate", "from")
    for item in result["estimates"]:
        grid.add_row(
            item["engine"],
            item["workload"],
            scale(item["scale"]),
            f"{count(item['queries'])} x {count(item['runs'])}",
            dollars(item["dollars"]),
            "; ".join(item["from"]),
        )
    for key in ("engine", "workload"):
        for name, total in result[f"{key}s"].items():
            row = [f"all {name}", ""] if key == "engine" else ["all", name]
            grid.add_row(*row, "", "", dollars(total), "")
    grid.add_row("all", "", "", "", dollars(result["total"]), "")
    show(grid)


def cost(result: dict[str, Any], as_json: bool) -> None:
    for engine, note in result.pop("notes", []):
        echo(f"{engine}: {note}", err=True)
    if as_json:
        emit_json(result)
        return
    for item in result["runs"]:
        grid = table("query", "marginal cost, all attempts", "basis", title=title(item))
        for query_id, c in item["queries"].items():
            grid.add_row(query_id, dollars_per_query(c["dollars"]), c["basis"])
        for label, key in (
            ("all queries, marginal", "marginal"),
            ("run bill (queries as they ran)", "total"),
            ("loading", "load"),
            ("storage per month", "storage_per_month"),
        ):
            c = item[key]
            as_of = f", prices as of {c['as_of']}" if c["as_of"] else ""  # none: no price used
            grid.add_row(label, dollars(c["dollars"]), f"{c['basis']}{as_of}")
        show(grid)
        show(lines(item["explain"]))
    engines = table("engine", "run bill", "basis", title="per engine")
    for engine, total in result["engines"].items():
        engines.add_row(engine, dollars(total["dollars"]), total["basis"])
    show(engines)


def months(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    grid = table("run", "engine", "workload", "a month", "basis")
    for month in result["months"]:
        grid.add_row(
            month["run_id"],
            month["engine"],
            month["workload"],
            dollars(month["dollars"]),
            month["basis"],
        )
    show(grid)
    for month in result["months"]:
        show(f"{month['engine']} ({month['run_id']}):")
        show(lines(month["explain"]))


# -- compare ---------------------------------------------------------------------------------------
COMPARE_COLUMNS = ("query", "base", "new", "factor", "beyond drift", "p (Holm)", "can see")


def comparison(result: dict[str, Any], as_json: bool, fmt: str = "text") -> None:
    """`whbench compare`: the verdict table and the workload line, as text, as Markdown
    (`fmt` md, for a pull-request comment) or as JSON."""
    if as_json:
        emit_json(result)
    elif fmt == "md":
        from harness.report.markdown import table as md_table

        heading = f"**{result['base']} → {result['new']}**"
        rows = _comparison_rows(result)
        show(heading, "", md_table([*COMPARE_COLUMNS, "verdict"], rows), "")
        show(*_comparison_lines(result))
    else:
        grid = table(*COMPARE_COLUMNS, "verdict", title=f"{result['base']} → {result['new']}")
        for row in _comparison_rows(result):
            grid.add_row(*row)
        show(grid, *_comparison_lines(result))
    for warning in result["warnings"]:
        echo(f"warning: {warning}", err=True)


def _comparison_rows(result: dict[str, Any]) -> list[list[str]]:
    return [
        [
            c["query_id"],
            seconds(c["base_seconds"]),
            seconds(c["new_seconds"]),
            factor(c["factor"], 3),
            factor(c["adjusted_factor"], 3),
            p_value(c["holm_p"]),
            factor(c["detectable"]),
            c["verdict"],
        ]
        for c in result["changes"]
    ]


def _comparison_lines(result: dict[str, Any]) -> list[str]:
    """The whole workload's line, and what the comparison can see."""
    workload = result["workload"]
    low, high = workload["interval_95"]
    counts = ", ".join(f"{count(n)} {v}" for v, n in sorted(result["verdicts"].items()))
    found = [
        f"{count(result['queries'])} queries: {counts}. Whole workload "
        f"{factor(workload['factor'], 3)} (95% interval {factor(low, 3)}–{factor(high, 3)}; "
        f"slower only beyond {factor(workload['threshold'])})"
        f"{': SLOWER' if workload['slower'] else ''}."
    ]
    if result["can_see"] is not None:
        found.append(
            f"This comparison can see changes above {factor(result['can_see'])} (typical query)."
        )
    return found


# -- results, engines, validate --------------------------------------------------------------------
def runs_list(runs: list[RunListing], as_json: bool) -> None:
    if as_json:
        emit_json(runs)
        return
    grid = table("run", "started", "status", "engine", "workload", "scale", "attempts", "failed")
    for r in runs:
        grid.add_row(
            r.run_id,
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            r.status,
            r.engine,
            r.workload,
            scale(r.scale),
            count(r.attempts),
            count(r.failed),
        )
    show(grid)


def _provenance(run: StoredRun) -> list[tuple[str, Any]]:
    """The lines at the top of `whbench results show`, in order: (label, value)."""
    return [
        ("run_id", run.run_id),
        ("status", run.status),
        ("engine", run.engine),
        ("engine_version", run.engine_version),
        ("where", where(run)),
        ("workload", run.workload),
        ("data_type", run.data_type),
        ("scale", scale(run.scale)),
        ("attempts a query", None if run.runs_per_query is None else count(run.runs_per_query)),
        ("time limit", None if run.timeout_seconds is None else seconds(run.timeout_seconds)),
        ("started_at", when(run.started_at)),
        ("ended_at", when(run.ended_at)),
        ("harness_version", run.harness_version),
        ("git_commit", run.git_commit),
        ("host", run.host),
        ("error", run.error),
    ]


def when(moment: Any) -> str | None:
    """A stored time to the second, in UTC as stored: "2026-12-06 12:54:33 UTC"."""
    return None if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def where(run: StoredRun) -> str:
    """Where the run ran, in words: the engine's own service, a local stand-in, this
    machine's process, as recorded with the run (never guessed)."""
    from harness.engines.where import where_text

    return where_text(run.engine, run.endpoint)


def run_details(found: dict[str, Any], as_json: bool) -> None:
    """`whbench results show`: provenance, notes, loads, every attempt, what was wrong."""
    if as_json:
        emit_json({key: found[key] for key in ("run", "loads", "attempts", "load")})
        return
    run = found["run"]
    for label, value in _provenance(run):
        show(f"{label:>16}: {fmt(value)}")
    # Beside the attempts' client and engine seconds: what a query that does nothing cost.
    show(f"{'round trip':>16}: {round_trip(run.round_trip_seconds)}")
    for note in run.notes or []:  # what the engine could not do as asked
        show(f"{'note':>16}: {note}")
    for line in capability_lines(run.engine_settings, found["attempts"]):
        show(f"{'features':>16}: {line}")
    if found["loads"]:
        grid = table("table", "status", "rows", "bytes stored", "seconds", title="loads")
        for ld in found["loads"]:
            grid.add_row(
                ld.table_name,
                ld.status,
                count(ld.rows),
                data_size(ld.bytes_stored),
                seconds(ld.seconds),
            )
        show(grid)
    columns = ("query", "attempt", "phase", "status", "client s", "engine s", "rows", "answer")
    # recall@k only when an approximate query ran (None for every exact one)
    recall = any(getattr(a, "recall", None) is not None for a in found["attempts"])
    extra = ["recall"] if recall else []
    grid = table(*columns, *extra, "checksum", "error / left out", title="attempts")
    for a in found["attempts"]:
        grid.add_row(
            a.query_id,
            str(a.attempt),
            a.phase,
            a.status,
            seconds(a.client_seconds),
            seconds(a.engine_seconds),
            count(a.rows),
            fmt(a.answer),
            *([fmt(None) if a.recall is None else f"{a.recall:.2f}"] if recall else []),
            fmt(a.checksum),
            a.error or a.excluded or "",
        )
    show(grid)
    if found["load"]:
        load_levels(found["load"], "under load")
    for query_id, kept in found["results"].items():  # what a wrong answer got wrong
        if kept.difference is not None:
            difference = kept.difference
            echo(f"{query_id}: wrong against {difference.against}: {difference.rule}")


def capability_lines(engine_settings: dict[str, Any] | None, attempts: list[Any]) -> list[str]:
    """What a run's engine emulated (as recorded with the run) and which queries it could not
    run for want of a feature, with why: one line each."""
    found = []
    features = (engine_settings or {}).get("features") or {}
    for name, support in features.items():
        if support.get("level") == "emulated":
            found.append(f"{name} emulated: {support.get('note')}")
    reasons = {a.query_id: a.error for a in attempts if a.status == "unsupported"}
    found += [f"{query_id} unsupported: {why}" for query_id, why in reasons.items()]
    return found


def engines(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        emit_json(rows)
        return
    grid = table("engine", "driver", "version", "configured", "sign-in", "cost basis")
    for r in rows:
        grid.add_row(
            r["engine"],
            r["driver"],
            r["driver_version"] or f"not installed: {r['install']}",
            "yes" if r["configured"] else "no",
            r["auth"] or "–",
            r["cost_basis"],
        )
    show(grid)


def validation(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    show(f"config {result['config']}: ok")
    for item in result["workloads"]:
        verdict = "ok" if not item["problems"] else f"{len(item['problems'])} problem(s)"
        show(
            f"{item['workload']}: {item['statements']} statements in "
            f"{result['dialects']} dialects parsed: {verdict}"
        )
        counts = item["queries"]
        if item["written_in"] or any(c["ok"] < c["of"] for c in counts.values()):
            show(
                "  queries that translate, parse and are verified: "
                + ", ".join(f"{d} {c['ok']}/{c['of']}" for d, c in counts.items())
            )
        for skipped in item["untranslatable"].values():
            for reason in skipped.values():
                show(f"  skipped: {reason}")
        for p in item["problems"]:
            show(f"  {p['dialect']} {p['item']}: {p['message']}")


def cleaned(engine: str, found: list[str], dropped: bool) -> None:
    if not found:
        echo(f"{engine}: nothing whbench created")
    for namespace in found:
        echo(f"{'dropped' if dropped else 'would drop'} {engine} {namespace}")
    if found and not dropped:
        echo("run again with --yes to drop these")


def workload_written(result: dict[str, Any], as_json: bool) -> None:
    """What `workload init` or `workload import-history` wrote, and what to do next."""
    if as_json:
        emit_json(result)
        return
    show(f"wrote workload {result['workload']} in {result['folder']}")
    if "read" in result:  # import-history
        if result["history_bytes_estimated"] is not None:
            show(
                "  reading the history processed about "
                + data_size(result["history_bytes_estimated"])
            )
        show(
            f"  {count(result['read'])} SELECTs read, {count(result['distinct'])} distinct, "
            f"{count(result['kept'])} kept (queries/, with their statistics in history.yaml)"
        )
        if not result["found_by_config"]:
            show(f"  add {Path(result['folder']).parent} to workload_dirs in your config")
        show(
            "  export these tables into the folders workload.yaml names: "
            + ", ".join(result["tables"])
        )
        return
    tables = ", ".join(f"{t} ({n} columns)" for t, n in result["tables"].items())
    show(f"  tables: {tables}; {result['queries']} queries")
    show(
        "  queries that translate, parse and are verified: "
        + ", ".join(f"{d} {c['ok']}/{c['of']}" for d, c in result["translated"].items())
    )
    for skipped in result["untranslatable"].values():
        for reason in skipped.values():
            show(f"  skipped: {reason}")
    for p in result["problems"]:
        show(f"  {p['dialect']} {p['item']}: {p['message']}")
    next_step = f"whbench run -w {result['workload']}"
    if not result["found_by_config"]:
        parent = str(Path(result["folder"]).parent)
        next_step = f"add {parent} to workload_dirs in your config, then {next_step}"
    show(f"  next: {next_step}")
