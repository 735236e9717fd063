"""The report as a page: model.build's Report through the Jinja template, written whole."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from harness import __version__, units
from harness.errors import UsageError
from harness.pricing import Catalog, load_catalog
from harness.report.model import Report, build
from harness.report.queries import MIN_HOT_ATTEMPTS, WIDE_SPREAD
from harness.scale import Scale
from harness.settings import Pattern
from harness.stats import geometric_mean
from harness.store import Store, output_file
from harness.workloads import Workload


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
                wide_spread=WIDE_SPREAD,
                min_hot_attempts=MIN_HOT_ATTEMPTS,
                generated_at=units.moment(datetime.now(UTC)),
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
        when=units.moment,
        price=price,
        inline_code=inline_code,
        answer_value=answer_value,
        shared_flags=shared_flags,
    )
    return env


def inline_code(text: str) -> markupsafe.Markup:
    """A sentence shared with the terminal and the Markdown summary, where `--runs 5` marks a
    command: escaped, with each back-quoted span set as <code> instead of showing the quotes."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired back quote: no code span, the text as it is
        return markupsafe.escape(text)
    return markupsafe.Markup("").join(
        markupsafe.Markup("<code>%s</code>") % part if odd else markupsafe.escape(part)
        for odd, part in ((i % 2 == 1, p) for i, p in enumerate(parts))
    )


def answer_value(value: Any) -> str:
    """A value of an engine's answer, as it came back (a wrong answer's rows are shown to be
    compared digit by digit): NULL for None, a float in plain decimals, never "1e-05"."""
    if value is None:
        return "NULL"
    if isinstance(value, float) and math.isfinite(value) and "e" in repr(value):
        return _decimal(value)
    return str(value)


def shared_flags(verdicts: list[Any]) -> list[str]:
    """The flags every data type's verdict carries (as "2 hot attempts for every query time"
    after a default run): said once under the verdicts, not once per line. None with a single
    verdict, whose flags stand with it."""
    if len(verdicts) < 2:
        return []
    return [f for f in verdicts[0].flags if all(f in v.flags for v in verdicts[1:])]


def price(value: Any) -> str:
    """A catalog price exactly as the catalog holds it, in plain decimals: a unit price is a
    rate to multiply, so it keeps every digit ("0.0000125", never "1.25e-05" nor rounded away
    as "< $0.0001")."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return str(value)
    whole, dot, fraction = _decimal(abs(value)).partition(".")
    return f"{'-' if value < 0 else ''}{int(whole):,}{dot}{fraction}"


def _decimal(value: float) -> str:
    """Every digit of a number in plain decimals: 1.25e-05 -> "0.0000125"."""
    return format(Decimal(repr(value)), "f")
