"""The HTML report: one self-contained file, rendered from the results store, that says for each
kind of data which warehouse is fastest, cheapest and best value, and shows everything needed to
trust that (per-query times and answers, loads, charts, provenance, prices, the SQL).

Styles, the filter script and the SVG charts are inline; the page requests nothing, so it opens
offline. Without scripts every table still shows.

Top down: render.py writes the page (or markdown.py its Markdown summary); model.py builds the
typed Report from its sections (first_screen.py, matrix.py with intervals.py, queries.py,
under_load.py, month.py, provenance.py); charts.py and matrix_charts.py draw the SVG;
templates/report.html.j2 lays it out. This file only names what the rest of whbench uses.
"""

from __future__ import annotations

from harness.report.render import write_report

__all__ = ["write_report"]
