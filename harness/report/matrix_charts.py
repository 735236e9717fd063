"""The charts of the headline, one idea each: hot time relative to the fastest engine by data
type (first-run time too when it tells another story), the run bill by data type, and time
against the bill (harness/report/charts.py draws them).

They compare engines, so with fewer than two engines in the matrix there is no chart: one
engine's relative times are all 1 and its bill is in the table already.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.report.charts import Chart, grouped_bars, scatter_log
from harness.report.matrix import MatrixCell, MatrixRow

# First-run times earn a chart of their own only where they differ from the hot ones by more
# than this (or rank engines otherwise): the same picture twice says nothing.
FIRST_DIFFERS = 0.10


def matrix_charts(rows: list[MatrixRow], engines: list[str]) -> list[Chart]:
    """Relative hot (and, when it differs, first-run) time by data type, the run bill by data
    type, and time against the bill; none when fewer than two engines are in the matrix."""
    present = [e for e in engines if any(e in row.cells for row in rows)]
    if len(present) < 2:
        return []
    groups = [row.data_type for row in rows]
    hot = _figures(rows, lambda c: c.hot)
    first = _figures(rows, lambda c: c.first)
    bill = _figures(rows, lambda c: c.cost.dollars)
    charts = []
    if _compares(hot):
        charts.append(
            Chart(
                "Hot time relative to the fastest engine, by data type (shorter is better)"
                + _unknown(hot, "no hot time"),
                grouped_bars(groups, present, hot, "x best", "relative hot time"),
            )
        )
    if _compares(first) and _differs(first, hot):
        charts.append(
            Chart(
                "First-run time relative to the fastest engine, by data type (cold or "
                "lukewarm: see methodology; shorter is better)" + _unknown(first, "no time"),
                grouped_bars(groups, present, first, "x best", "relative first-run time"),
            )
        )
    if _compares(bill):
        charts.append(
            Chart(
                "Run bill by data type (lower is better)" + _unknown(bill, "cost unknown"),
                grouped_bars(groups, present, bill, "USD", "run bill by data type"),
            )
        )
    points = [
        (e, row.data_type, c.seconds, c.cost.dollars)
        for row in rows
        for e, c in row.cells.items()
        if c.seconds is not None and c.cost.dollars is not None
    ]
    if len({p[0] for p in points}) >= 2:
        charts.append(
            Chart(
                "Time of one pass against the run bill, per data type (lower left is better)",
                scatter_log(points, "seconds", "USD", "time against run bill"),
            )
        )
    return charts


Figures = dict[tuple[str, str], float | None]


def _figures(rows: list[MatrixRow], figure: Callable[[MatrixCell], float | None]) -> Figures:
    """(data type, engine) -> the figure, for the engines that ran that data type (an engine
    that did not is absent, and its bar reads "not run")."""
    return {(row.data_type, e): figure(c) for row in rows for e, c in row.cells.items()}


def _compares(figures: Figures) -> bool:
    """Some data type has this figure for two engines: there is something to compare."""
    known: dict[str, int] = {}
    for (data_type, _), value in figures.items():
        if value is not None:
            known[data_type] = known.get(data_type, 0) + 1
    return any(n >= 2 for n in known.values())


def _differs(first: Figures, hot: Figures) -> bool:
    """First-run times tell another story than hot ones: a figure only one of them has, one
    that moved by more than FIRST_DIFFERS, or another order of engines in some data type."""
    for key, value in first.items():
        other = hot.get(key)
        if (value is None) != (other is None):
            return True
        if value is not None and other is not None and abs(value / other - 1) > FIRST_DIFFERS:
            return True
    for data_type in {d for d, _ in first}:
        in_first = _ranking(first, data_type)
        if in_first != _ranking(hot, data_type):
            return True
    return False


def _ranking(figures: Figures, data_type: str) -> list[str]:
    known = [(v, e) for (d, e), v in figures.items() if d == data_type and v is not None]
    return [e for _, e in sorted(known)]


def _unknown(figures: Figures, what: str) -> str:
    """The title's note on "n/a", only when some bar reads it."""
    return f" (n/a: {what})" if any(v is None for v in figures.values()) else ""
