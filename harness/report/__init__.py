"""The HTML report: one self-contained file rendered from the results store.

This first page shows, per workload and scale, the median cold and hot time of every query on
every engine, with failures shown as such. Styles are inline; the page loads nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

import jinja2

from harness import __version__
from harness.errors import HarnessError, UsageError
from harness.pricing import Catalog, dollars, load_catalog, price_performance, price_run
from harness.store import Store


def latest_run_ids(store: Store) -> list[str]:
    """The newest run of each engine, workload and scale that recorded any attempt."""
    return [
        r
        for (r,) in store.con.execute(
            """SELECT arg_max(run_id, started_at) FROM runs
               WHERE run_id IN (SELECT run_id FROM attempts)
               GROUP BY engine, workload, scale ORDER BY 1"""
        ).fetchall()
    ]


def build_report_data(store: Store, run_ids: list[str], catalog: Catalog) -> dict[str, Any]:
    placeholders = ", ".join("?" * len(run_ids))
    runs = store.runs(run_ids)
    attempts = store.rows(
        f"SELECT * FROM attempt_details WHERE run_id IN ({placeholders})", run_ids
    )
    engines = sorted({r["engine"] for r in runs})
    cells: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    titles: dict[tuple, str] = {}
    for a in attempts:
        key = (a["workload"], a["scale"], a["query_id"], a["engine"])
        titles[(a["workload"], a["scale"], a["query_id"])] = a["title"]
        cells[key][a["phase"] if a["status"] == "ok" else "failed"].append(
            a["client_seconds"] if a["status"] == "ok" else a["status"]
        )
    sections = []
    for workload, scale in sorted({(r["workload"], r["scale"]) for r in runs}):
        rows = []
        for (w, s, query_id), title in sorted(titles.items()):
            if (w, s) != (workload, scale):
                continue
            row = {"query_id": query_id, "title": title, "engines": {}}
            for engine in engines:
                cell = cells.get((w, s, query_id, engine))
                if cell is None:
                    continue
                row["engines"][engine] = {
                    "cold": median(cell["cold"]) if cell["cold"] else None,
                    "hot": median(cell["hot"]) if cell["hot"] else None,
                    "failed": sorted(set(cell["failed"])),
                }
            rows.append(row)
        data_type = next(r["data_type"] for r in runs if r["workload"] == workload)
        sections.append(
            {"workload": workload, "scale": scale, "data_type": data_type, "rows": rows}
        )
    costs = []
    for run in runs:
        own = [a for a in attempts if a["run_id"] == run["run_id"]]
        value = price_performance(run, own, catalog)
        costs.append({"run": run, "value": value, "total": price_run(run, own, catalog).total})
    return {
        "runs": runs,
        "costs": costs,
        "pricing": catalog.source,
        "engines": engines,
        "sections": sections,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "harness_version": __version__,
    }


def write_report(
    store: Store, run_ids: list[str] | None, output: Path, catalog: Catalog | None = None
) -> Path:
    run_ids = [store.resolve_run(r) for r in run_ids] if run_ids else latest_run_ids(store)
    if not run_ids:
        raise UsageError(f"{store.path} holds no run with results; run `whbench run` first")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["seconds"] = _seconds
    env.filters["dollars"] = dollars
    data = build_report_data(store, run_ids, catalog or load_catalog())
    html = env.get_template("basic.html.j2").render(data)
    partial = output.with_name(output.name + ".partial")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(html)
        partial.replace(output)  # readers never see half a report
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise HarnessError(
            f"cannot write report {output}: {exc.strerror}; choose -o FILE"
        ) from None
    return output


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
