"""The charts of the headline: relative first and hot time and the cost of one pass by data
type, and time against cost (harness/report/charts.py draws them)."""

from __future__ import annotations

from harness.report.charts import Chart, grouped_bars, scatter_log
from harness.report.matrix import MatrixRow
from harness.report.queries import PHASES


def matrix_charts(rows: list[MatrixRow], engines: list[str]) -> list[Chart]:
    """Relative first and hot time and the cost of one pass by data type, and time against
    cost."""
    groups = [row.data_type for row in rows]
    charts = []
    for phase in PHASES:
        relative = {
            (row.data_type, e): c.first if phase == "first" else c.hot
            for row in rows
            for e, c in row.cells.items()
        }
        what = "first-run (cold or lukewarm: see methodology)" if phase == "first" else phase
        charts.append(
            Chart(
                f"Relative {what} time by data type (1 = fastest on every query)",
                grouped_bars(groups, engines, relative, "x best", f"relative {phase} time"),
            )
        )
    costs = {(row.data_type, e): c.cost.dollars for row in rows for e, c in row.cells.items()}
    charts.append(
        Chart(
            "Cost of one pass by data type (n/a: cost unknown)",
            grouped_bars(groups, engines, costs, "USD", "cost of one pass"),
        )
    )
    points = [
        (e, row.data_type, c.seconds, c.cost.dollars)
        for row in rows
        for e, c in row.cells.items()
        if c.seconds is not None and c.cost.dollars is not None
    ]
    if points:
        charts.append(
            Chart(
                "Time against cost of one pass (lower left is better)",
                scatter_log(points, "seconds", "USD", "time against cost"),
            )
        )
    return charts
