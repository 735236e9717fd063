"""The report's first screen, which the terminal summary of `whbench run` and the Markdown
summary repeat: what was measured (each engine, its version, where it ran, at which scales and
when), what was not, and per data type one sentence naming the winner on time, on cost and on
value, by how much and how surely (the margins and intervals are the matrix's)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.engines import all_engines
from harness.engines.where import where_kind, where_text
from harness.report.intervals import Interval
from harness.report.matrix import Margin, Matrix, MatrixCell
from harness.report.order import engine_order, group_by
from harness.report.under_load import UnderLoad
from harness.scale import Scale
from harness.store.rows import StoredRun
from harness.units import dollars, moment, seconds
from harness.workloads import DATA_TYPES

__all__ = ["FirstScreen", "Interval", "Margin", "MeasuredEngine", "TypeVerdict", "first_screen"]


def _add_an_engine(ran: list[str]) -> str:
    """How to add an engine to a report of one: an embedded one first (no account needed)."""
    embedded = [e for e, cls in sorted(all_engines().items()) if cls.on_this_machine]
    local = [f"`whbench run -e {e}`" for e in embedded if e not in ran]
    cloud = "a cloud warehouse in your config (README: cloud config)"
    return (
        f"add {' or '.join(local)} (embedded, no account needed) or {cloud}"
        if local
        else (f"add {cloud}")
    )


@dataclass
class MeasuredEngine:
    """One engine as the first screen names it."""

    engine: str
    versions: list[str]
    where: str  # in words, from the endpoint each run recorded
    where_kind: str  # embedded, service, local, other, unknown (not recorded) or mixed
    scales: list[str]  # "tpch at scale 1"
    when: str  # "2026-12-06 12:30 UTC", or the first and last start


@dataclass
class TypeVerdict:
    """A data type's verdict in one sentence, from its matrix row."""

    data_type: str
    workloads: list[str]
    margins: list[Margin]  # fastest, cheapest, best value
    sentence: str
    flags: list[str]


@dataclass
class FirstScreen:
    measured: list[MeasuredEngine]  # the baseline first
    not_run: list[str]  # engines whbench knows that no run here used
    types_not_run: list[str]  # data types whbench has workloads for that no run here measured
    nothing_to_compare: str | None  # said once when fewer than two engines ran
    verdicts: list[TypeVerdict]  # one per data type in the matrix
    under_load: list[str]  # one line per engine run under load

    def lines(self) -> list[str]:
        """The one-line verdicts, for the end of `whbench run`'s terminal output."""
        said = [v.sentence for v in self.verdicts] + self.under_load
        return said + ([self.nothing_to_compare] if self.nothing_to_compare else [])


def first_screen(runs: list[StoredRun], matrix: Matrix, under_load: UnderLoad) -> FirstScreen:
    """`runs`: every run in the report, runs under load included."""
    engines = engine_order(r.engine for r in runs)
    measured = [_measured(engine, group) for engine, group in _by_engine(runs, engines)]
    return FirstScreen(
        measured=measured,
        not_run=sorted(set(all_engines()) - set(engines)),
        types_not_run=[t for t in DATA_TYPES if t not in {r.data_type for r in runs}],
        nothing_to_compare=(
            f"Only {engines[0]} ran, so there is nothing to compare it with: "
            f"{_add_an_engine(engines)}."
            if len(engines) == 1
            else None
        ),
        verdicts=[
            TypeVerdict(
                data_type=row.data_type,
                workloads=row.workloads,
                margins=row.margins,
                sentence=_sentence(row.data_type, row.workloads, row.margins, row.cells),
                flags=row.flags,
            )
            for row in matrix.rows
        ],
        under_load=[e.verdict for group in under_load.groups for e in group.engines],
    )


def _by_engine(runs: list[StoredRun], engines: list[str]) -> list[tuple[str, list[StoredRun]]]:
    grouped = group_by(runs, lambda r: r.engine)
    return [(engine, grouped[engine]) for engine in engines]


def _measured(engine: str, runs: list[StoredRun]) -> MeasuredEngine:
    # A run stored before whbench recorded where it ran has no endpoint: "not recorded".
    endpoints = [r.endpoint for r in runs]
    places = list(dict.fromkeys(where_text(engine, e) for e in endpoints))
    kinds = {where_kind(e) for e in endpoints}
    starts = sorted(r.started_at for r in runs)
    first, last = moment(starts[0]), moment(starts[-1])
    scales = {(r.workload, r.scale): f"{r.workload} at {Scale.named(r.scale)}" for r in runs}
    return MeasuredEngine(
        engine=engine,
        versions=sorted({r.engine_version for r in runs if r.engine_version}),
        where="; ".join(places),
        where_kind=kinds.pop() if len(kinds) == 1 else "mixed",
        scales=[scales[key] for key in sorted(scales)],
        when=first if first == last else f"{first.removesuffix(' UTC')} – {last}",
    )


def _sentence(
    data_type: str, workloads: list[str], margins: list[Margin], cells: dict[str, MatrixCell]
) -> str:
    """The data type's verdict in one sentence: the three margins, or, where one engine ran
    it, its figures (the first screen says once when there is nothing to compare at all)."""
    head = f"{data_type.capitalize()} ({'; '.join(workloads)})"
    if len(cells) < 2:
        ((engine, cell),) = cells.items()
        return (
            f"{head}: {engine} alone — one pass {seconds(cell.seconds)}, run bill "
            f"{dollars(cell.cost.dollars)}."
        )
    return f"{head}: {'; '.join(m.clause for m in margins)}."
