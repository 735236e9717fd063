"""The HTML report: one self-contained file, rendered from the results store, that says for each
kind of data which warehouse is fastest, cheapest and best value, and shows everything needed to
trust that (per-query times and answers, loads, charts, provenance, prices, the SQL).

Styles, the filter script and the SVG charts are inline; the page requests nothing, so it opens
offline. Without scripts every table still shows. The numbers come from `model.build`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from harness import __version__
from harness.errors import UsageError
from harness.pricing import Catalog, dollars, dollars_per_query, load_catalog
from harness.report import model
from harness.scale import Scale
from harness.settings import Pattern
from harness.stats import geometric_mean
from harness.store import Store, output_file
from harness.workloads import Workload

# What the folded detail of each query shows per engine.
DETAILS = ("status", "median", "spread", "rows", "scanned", "cost")


def latest_run_ids(store: Store) -> list[str]:
    """The newest run of each engine, workload and scale that recorded any attempt, and
    apart from it the newest run under load (`--streams`) of each."""
    return [
        row["run_id"]
        for row in store.rows(
            """SELECT arg_max(run_id, started_at) AS run_id FROM runs
               WHERE run_id IN (SELECT run_id FROM attempts)
               GROUP BY engine, workload, scale, coalesce(load, 'null') = 'null' ORDER BY 1"""
        )
    ]


def write_report(
    store: Store,
    run_ids: list[str] | None,
    output: Path,
    catalog: Catalog | None = None,
    pattern: Pattern | None = None,
    workloads: dict[str, Workload] | None = None,
) -> Path:
    run_ids = [store.resolve_run(r) for r in run_ids] if run_ids else latest_run_ids(store)
    if not run_ids:
        raise UsageError(f"{store.path} holds no run with results; run `whbench run` first")
    data = model.build(store, store.runs(run_ids), catalog or load_catalog(), pattern, workloads)
    html = (
        _environment()
        .get_template("report.html.j2")
        .render(
            **data,
            details=DETAILS,
            generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            harness_version=__version__,
        )
    )
    # A regular file (or - for stdout), replaced whole: readers never see half a report, and
    # a device node or symbolic link given as -o is refused, not replaced.
    with output_file(output, "report") as partial:
        partial.write_text(html, encoding="utf-8")
    return output


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        seconds=_seconds,
        dollars=dollars,
        dollars_per_query=dollars_per_query,
        ratio=lambda v: "–" if v is None else f"{v:.2f}×",
        sig=lambda v: "–" if v is None else f"{v:.3g}",
        count_=lambda v: "–" if v is None else f"{v:,}",
        size=_size,
        scale=lambda v: Scale.named(v).removeprefix("scale "),  # a table cell: "0.1", "your data"
        scale_named=Scale.named,
        geomean=geometric_mean,
        groupby_table=_by_table,
    )
    return env


def _by_table(loads: list[dict]) -> list[tuple[tuple, dict[str, dict]]]:
    """Load rows as (workload, scale, table) -> engine -> load."""
    grouped: dict[tuple, dict[str, dict]] = {}
    for row in loads:
        grouped.setdefault((row["workload"], row["scale"], row["table_name"]), {})[
            row["engine"]
        ] = row
    return list(grouped.items())


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _size(value: Any) -> str:
    if value is None:
        return "–"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return "–"
