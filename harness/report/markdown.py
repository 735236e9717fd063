"""The report's Markdown summary (`whbench report --format md`): the first screen and the
per-data-type table, for a pull-request comment or a CI job summary."""

from __future__ import annotations

from harness.report.model import Report


def summary_markdown(report: Report) -> str:
    """The first screen's content and the per-data-type table, as Markdown."""
    raise NotImplementedError("helper CLI writes this (issue 29)")
