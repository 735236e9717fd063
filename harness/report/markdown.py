"""The report's Markdown summary (`whbench report --format md`): the first screen and the
per-data-type table, for a pull-request comment or a CI job summary.

GitHub-flavoured Markdown: a table cell may not hold a `|` (it ends the cell) nor a line
break, so every cell goes through `cell`. Numbers go through harness.units, as on the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from harness import units

if TYPE_CHECKING:
    from harness.report.matrix import Matrix, MatrixCell
    from harness.report.model import Report

TITLE = "Which warehouse for which data"


def summary_markdown(report: Report) -> str:
    """The first screen's content and the per-data-type table, as Markdown."""
    screen = report.first_screen
    parts = [f"## {TITLE}", "", "**Measured**", ""]
    for engine in screen.measured:
        versions = ", ".join(engine.versions)
        said = f"{versions}, " if versions else ""
        said += f"{engine.where}; {', '.join(engine.scales)}; {engine.when}"
        parts.append(f"- **{inline(engine.engine)}** {inline(said)}")
    if screen.not_run:
        parts += ["", inline(f"Not run: {', '.join(screen.not_run)}.")]
    if screen.types_not_run:
        parts += ["", inline(f"Data types not measured: {', '.join(screen.types_not_run)}.")]
    if screen.nothing_to_compare:
        parts += ["", f"> {inline(screen.nothing_to_compare)}"]
    if screen.verdicts:
        parts += ["", "**Verdicts**", ""]
        for verdict in screen.verdicts:
            parts.append(f"- {inline(verdict.sentence)}")
            parts += [f"  - {inline(flag)}" for flag in verdict.flags]
    if screen.under_load:
        parts += ["", "**Under load**", ""]
        parts += [f"- {inline(line)}" for line in screen.under_load]
    if report.matrix.rows:
        parts += ["", "**By data type**", "", matrix_table(report.matrix, report.engines)]
        parts += [
            "",
            inline(
                "Hot time relative to the fastest engine of the data type (1.00×); the "
                f"cheapest is decided on {report.matrix.cost_basis}."
            ),
        ]
    return "\n".join(parts) + "\n"


# What each engine's cell of a data type shows, a row each: (label, the cell's text).
MEASURES: tuple[tuple[str, Any], ...] = (
    ("hot time, relative", lambda c: units.factor(c.hot)),
    ("one pass", lambda c: units.seconds(c.seconds)),
    ("run bill", lambda c: units.dollars(c.cost.dollars)),
    ("marginal, one pass", lambda c: units.dollars(c.marginal.dollars)),
)


def matrix_table(matrix: Matrix, engines: Sequence[str]) -> str:
    """The per-data-type table: a row per data type and measure, a column per engine; an
    engine that did not run a data type shows "not run" there, never a zero."""
    shown = [e for e in engines if any(e in row.cells for row in matrix.rows)]
    rows = []
    for row in matrix.rows:
        name = f"{row.data_type} ({', '.join(row.workloads)})"
        for number, (label, text) in enumerate(MEASURES):
            rows.append(
                [name if number == 0 else "", label]
                + [_cell(row.cells.get(e), text) for e in shown]
            )
        rows.append(["", "verdicts"] + [_badges(row.cells.get(e)) for e in shown])
    return table(["data type", "measure", *shown], rows)


def _cell(cell: MatrixCell | None, text: Any) -> str:
    return "not run" if cell is None else text(cell)


def _badges(cell: MatrixCell | None) -> str:
    if cell is None:
        return "not run"
    said = [f"**{badge}**" for badge in cell.badges]
    if cell.wrong:
        said.append(f"{units.count(cell.wrong)} wrong answer{'' if cell.wrong == 1 else 's'}")
    return ", ".join(said)  # ran, and won nothing: an empty cell


def table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub Markdown table, every cell escaped."""
    lines = [_row(columns), _row(["---"] * len(columns))]
    lines += [_row(row) for row in rows]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def cell(text: str) -> str:
    """Text fit for a table cell: `|` escaped (it would end the cell), line breaks as
    spaces (they would end the row)."""
    return inline(text).replace("|", "\\|")


def inline(text: str) -> str:
    """Text on one Markdown line: line breaks become spaces."""
    return " ".join(str(text).split())
