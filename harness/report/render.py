"""The report as a page: model.build's Report through the Jinja template, written whole."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import jinja2

from harness import __version__, units
from harness.errors import UsageError
from harness.pricing import Catalog, load_catalog
from harness.report.model import Report, build
from harness.scale import Scale
from harness.settings import Pattern
from harness.stats import geometric_mean
from harness.store import Store, output_file
from harness.workloads import Workload

# What the folded detail of each query shows per engine.
DETAILS = ("status", "median", "spread", "rows", "scanned", "cost")


def report_of(
    store: Store,
    run_ids: list[str] | None,
    catalog: Catalog | None = None,
    pattern: Pattern | None = None,
    workloads: dict[str, Workload] | None = None,
) -> Report:
    """The report of these runs (default: the newest of each engine, workload and scale)."""
    run_ids = [store.resolve_run(r) for r in run_ids] if run_ids else store.latest_run_ids()
    if not run_ids:
        raise UsageError(f"{store.path} holds no run with results; run `whbench run` first")
    return build(store, store.runs(run_ids), catalog or load_catalog(), pattern, workloads)


def write(report: Report, output: Path, fmt: str = "html") -> Path:
    """The report as a page (html) or as its Markdown summary (md) in `output` (- for
    stdout)."""
    if fmt == "md":
        from harness.report.markdown import summary_markdown

        text = summary_markdown(report)
    else:
        text = (
            _environment()
            .get_template("report.html.j2")
            .render(
                report=report,
                details=DETAILS,
                generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                harness_version=__version__,
            )
        )
    # A regular file (or - for stdout), replaced whole: readers never see half a report, and
    # a device node or symbolic link given as -o is refused, not replaced.
    with output_file(output, "report") as partial:
        partial.write_text(text, encoding="utf-8")
    return output


def write_report(
    store: Store,
    run_ids: list[str] | None,
    output: Path,
    catalog: Catalog | None = None,
    pattern: Pattern | None = None,
    workloads: dict[str, Workload] | None = None,
) -> Path:
    """The HTML report of these runs (default: the newest of each engine, workload and scale)
    in `output` (- for stdout)."""
    return write(report_of(store, run_ids, catalog, pattern, workloads), output)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The units filters are harness.units, as the console shows the same quantities.
    env.filters.update(
        seconds=units.seconds,
        dollars=units.dollars,
        dollars_per_query=units.dollars_per_query,
        data_size=units.data_size,
        count=units.count,
        factor=units.factor,
        figure=units.figure,
        scale=units.scale,  # a table cell: "0.1", "your data"
        scale_named=Scale.named,  # in words: "scale 0.1"
        geomean=geometric_mean,
    )
    return env
