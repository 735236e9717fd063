"""What the decision report says, computed from the store; the template only lays it out, and
every number and every sentence of a verdict is made here or in the section modules:

    first_screen.py what was measured, where and when, and per data type one sentence
    matrix.py       choose by data type: the matrix and its verdicts (intervals.py: how sure)
    capabilities.py what each engine does natively, per data type (and the verdicts' words
                    on emulations and unsupported queries)
    queries.py      per query: a table per workload and scale, the relative scores
    under_load.py   runs under load: levels, knee, verdicts
    month.py        what a month of the user's pattern would cost
    provenance.py   runs, settings, loads, prices, each workload's pass over time
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.engines import engine_class
from harness.engines.where import where_kind
from harness.pricing import Catalog
from harness.report.capabilities import CapabilityMatrix, capability_matrix
from harness.report.charts import Chart
from harness.report.first_screen import FirstScreen, first_screen
from harness.report.matrix import Matrix, matrix, matrix_tables
from harness.report.matrix_charts import matrix_charts
from harness.report.month import Month, month
from harness.report.order import engine_order, group_by
from harness.report.provenance import Provenance, provenance, trend_charts
from harness.report.queries import QueryTable, query_tables, scale_charts
from harness.report.under_load import UnderLoad, under_load
from harness.scale import Scale
from harness.settings import Pattern
from harness.store import Store
from harness.store.rows import StoredRun
from harness.workloads import Workload


@dataclass
class Report:
    """The report, section by section, in the order the page shows them."""

    first_screen: FirstScreen  # what was measured, and per data type the verdict
    engines: list[str]  # the baseline first
    baseline: str  # the engine answers are checked against
    cannot_show: list[str]  # what the report cannot show, said plainly
    matrix: Matrix
    capabilities: CapabilityMatrix
    month: Month
    under_load: UnderLoad
    charts: list[Chart]
    queries: list[QueryTable]  # one per workload and scale
    provenance: Provenance


def build(
    store: Store,
    runs: list[StoredRun],
    catalog: Catalog,
    pattern: Pattern | None = None,
    workloads: dict[str, Workload] | None = None,
) -> Report:
    """The report of these runs: runs under load (`--streams`) have a section of their own,
    the others make up the matrix and the per-query tables."""
    workloads = workloads or {}
    busy = [r for r in runs if r.load]  # runs under load
    runs = [r for r in runs if not r.load]
    by_run = group_by(store.attempts_of([r.run_id for r in runs + busy]), lambda a: a.run_id)
    attempts = {r.run_id: by_run.get(r.run_id, []) for r in runs + busy}  # run id -> attempts
    engines = engine_order(r.engine for r in runs + busy)
    tables = query_tables(store, runs, attempts, catalog, workloads)
    headline = matrix(tables, engines)
    loaded = under_load(store, busy, catalog, workloads)
    charts = (
        matrix_charts(headline.rows, engines) + scale_charts(tables) + trend_charts(store, tables)
    )
    return Report(
        first_screen=first_screen(runs + busy, headline, loaded),
        engines=engines,
        baseline=engines[0],
        cannot_show=_cannot_show(runs, tables, engines),
        matrix=headline,
        capabilities=capability_matrix(),
        month=month(store, tables, attempts, catalog, pattern or Pattern()),
        under_load=loaded,
        charts=[c for c in charts if c.svg],
        queries=tables,
        provenance=provenance(store, runs + busy, attempts, tables, engines, catalog),
    )


def _cannot_show(runs: list[StoredRun], tables: list[QueryTable], engines: list[str]) -> list[str]:
    """What the report cannot show, said plainly."""
    notes = []
    # Where each run recorded it ran; a run from before whbench recorded it: its engine's kind.
    if runs and all(
        where_kind(r.endpoint) == "embedded"
        if r.endpoint
        else engine_class(r.engine).on_this_machine
        for r in runs
    ):
        notes.append(
            f"Every engine here ran on this machine, inside whbench's own process "
            f"({', '.join(engines)}): the comparison says which is faster and cheaper on this "
            "hardware with this data, not which cloud service would be. A service adds network "
            "round trips, waiting for capacity, its own hardware and its own bill; add one to "
            "your config (the README's cloud config) to compare services."
        )
    for t in tables:
        absent = [e for e in engines if e not in t.engines]
        if absent:
            notes.append(
                f"{t.workload} at {Scale.named(t.scale)} was not run on {', '.join(absent)}."
            )
        for engine in t.engines:
            cells = [c for (_, e), c in t.cells.items() if e == engine]
            if cells and all(c.status == "unsupported" for c in cells):
                notes.append(
                    f"{engine} lacks a feature every query of {t.workload} needs: each is "
                    "unsupported there (see the capability matrix), not failed."
                )
            elif t.answered and all(c.status not in ("ok", "partly failed") for c in cells):
                notes.append(f"Every query of {t.workload} failed on {engine}.")
        if not t.answered:
            notes.append(
                f"No engine answered any query of {t.workload} at {Scale.named(t.scale)}: it "
                f"is left out of the {t.data_type} verdict."
            )
        elif t.unanswered:
            notes.append(
                f"No engine answered {', '.join(t.unanswered)} of {t.workload}: left out of "
                "the scores."
            )
    for t in matrix_tables(tables):
        distinct = sorted({x.scale for x in tables if x.workload == t.workload})
        if len(distinct) > 1:
            notes.append(
                f"{t.workload} ran at several scales ({', '.join(map(Scale.readable, distinct))}): "
                f"the matrix uses {Scale.readable(t.scale)}, the largest run on the most engines; "
                "every scale has its own table."
            )
    for t in tables:
        for engine in t.engines:
            left_out = sum(c.excluded for (_, e), c in t.cells.items() if e == engine)
            if left_out:
                notes.append(
                    f"{left_out} attempts of {t.workload} on {engine} are left out of times and "
                    "verdicts: they hit a result cache, or the session could not turn it off."
                )
            wrong = sorted(q for (q, e), c in t.cells.items() if e == engine and c.wrong)
            if wrong:
                notes.append(
                    f"{engine} gave wrong answers to {', '.join(wrong)} of {t.workload}: charged "
                    "as failures, and never fastest or cheapest."
                )
    for run in runs:
        if run.status != "finished":
            notes.append(f"Run {run.run_id} ({run.engine}) ended {run.status}.")
    return notes
