"""Choose by data type: the report's headline. One row per data type, one cell per engine
(relative first and hot time, one pass's time, run bill and marginal cost), and in words who
is fastest, cheapest and best value, and by how much."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from harness.pricing import Cost
from harness.report.capabilities import capability_verdicts
from harness.report.queries import SMALL_SECONDS, QueryTable
from harness.scale import Scale
from harness.stats import geometric_mean
from harness.units import dollars, seconds
from harness.workloads import DATA_TYPES

# The cost the "cheapest" verdict is decided on; the other stands beside it in the matrix.
COST_BASIS = (
    "the run bill: what each account is charged for the benchmark's queries as they ran, "
    "uptime, minimums and idle tails included (loading and storage apart)"
)


@dataclass(frozen=True)
class RoundTripShare:
    """The round trip one pass pays: each query once x its session's median SELECT 1 (every
    query pays a typical round trip, not the best one)."""

    seconds: float
    queries: int
    per_query: float


@dataclass
class MatrixCell:
    """One engine on one data type, over the workloads the matrix compares."""

    first: float | None  # relative first-attempt time (geometric mean of per-query ratios)
    first_kind: str  # what those first attempts were: cold, lukewarm, or both
    hot: float | None  # relative hot time
    wrong: int  # wrong answers: an engine with any is not ranked
    seconds: float | None  # one pass: every query once at its median time
    round_trip: RoundTripShare | None  # None when a session's floor was not measured
    cost: Cost  # the run bill
    marginal: Cost  # one pass on a warehouse that is running anyway
    # Price-performance: what one pass of the work costs at the measured speed on a warehouse
    # kept busy (the marginal cost), as TPC prices a system per unit of throughput. Time counts
    # once, through each engine's own bill: seconds x rate for a time-billed engine, bytes x
    # price for BigQuery on-demand. (One pass's seconds x the run bill counted time twice for
    # time-billed engines, so the verdict rewarded the billing model rather than the engine.)
    value: float | None
    # what the reader's own setting of the bill's driver would make of it
    sensitivity: list[str] = field(default_factory=list)
    badges: list[str] = field(default_factory=list)  # the verdicts this engine won


@dataclass
class MatrixRow:
    data_type: str
    workloads: list[str]  # "tpch at scale 1", each workload compared
    cells: dict[str, MatrixCell]  # engine -> its cell; an engine that did not run: absent
    verdicts: list[str]


@dataclass
class Matrix:
    rows: list[MatrixRow]
    cost_basis: str = COST_BASIS
    small_ms: float = SMALL_SECONDS * 1000  # added to both sides of each ratio


def matrix(tables: list[QueryTable], engines: list[str]) -> Matrix:
    """A row per data type that ran, from the tables `matrix_tables` chooses."""
    rows = []
    for data_type in DATA_TYPES:
        chosen = matrix_tables([t for t in tables if t.data_type == data_type])
        if not chosen:
            continue
        cells = {}
        for engine in engines:
            present = [t for t in chosen if engine in t.engines]
            if present:
                cells[engine] = _cell(engine, present)
        said = verdicts(cells)  # gives the winners their badges
        winners = [e for e, c in cells.items() if c.badges]
        rows.append(
            MatrixRow(
                data_type=data_type,
                workloads=[f"{t.workload} at {Scale.named(t.scale)}" for t in chosen],
                cells=cells,
                verdicts=said + capability_verdicts(chosen, winners),
            )
        )
    return Matrix(rows)


def _cell(engine: str, present: list[QueryTable]) -> MatrixCell:
    """One engine's cell over the tables of the row it ran."""
    pass_seconds = [t.passes[engine].seconds for t in present]
    known_seconds = [s for s in pass_seconds if s is not None]
    marginal = sum((t.passes[engine].cost for t in present), Cost(0.0, "measured"))
    return MatrixCell(
        first=geometric_mean([r for t in present for r in t.ratios.get((engine, "first"), [])]),
        first_kind=" or ".join(
            sorted({k for t in present for k in t.first_kind(engine).split(" or ")})
        ),
        hot=geometric_mean([r for t in present for r in t.ratios.get((engine, "hot"), [])]),
        wrong=sum(1 for t in present for (_, e), c in t.cells.items() if e == engine and c.wrong),
        seconds=sum(known_seconds) if len(known_seconds) == len(pass_seconds) else None,
        round_trip=_round_trip(engine, present),
        cost=sum((t.bills[engine].total for t in present), Cost(0.0, "measured")),
        marginal=marginal,
        value=marginal.dollars,
        sensitivity=[text for t in present if (text := t.bills[engine].sensitivity)],
    )


def _round_trip(engine: str, present: list[QueryTable]) -> RoundTripShare | None:
    """The round trip one pass over these tables pays; None unless every session's floor was
    measured."""
    floors = [(t.round_trips.get(engine), t.passes[engine].queries) for t in present]
    if not all(floor is not None for floor, _ in floors):
        return None
    queries = sum(n for _, n in floors)
    total = sum(floor["median"] * n for floor, n in floors if floor is not None)
    return RoundTripShare(seconds=total, queries=queries, per_query=total / queries)


def matrix_tables(tables: list[QueryTable]) -> list[QueryTable]:
    """Per workload, the scale run on the most engines, the largest of those: a comparison
    needs the engines side by side more than it needs the biggest data."""
    chosen: dict[str, QueryTable] = {}
    for t in tables:
        best = chosen.get(t.workload)
        if best is None or (len(t.engines), t.scale) > (len(best.engines), best.scale):
            chosen[t.workload] = t
    return list(chosen.values())


@dataclass(frozen=True)
class Verdict:
    """One of the matrix's verdicts: which figure it ranks (lower wins) and how it reads."""

    badge: str
    figure: Callable[[MatrixCell], float | None]
    shown: str  # the winner's figure
    margin: str  # its lead over the runner-up
    money: bool  # the figure is dollars

    def text(self, value: float) -> str:
        return self.shown.format(value=dollars(value) if self.money else value)


VERDICTS = (
    Verdict(
        "fastest",
        lambda c: c.hot,
        "relative hot time {value:.2f}",
        "{ratio:.1f}x faster than {other}",
        money=False,
    ),
    Verdict(
        "cheapest",
        lambda c: c.cost.dollars,
        "run bill {value}",
        "{ratio:.1f}x cheaper than {other}",
        money=True,
    ),
    Verdict(
        "best value",
        lambda c: c.value,
        "{value} a pass when busy",
        "{ratio:.1f}x less per pass than {other}",
        money=True,
    ),
)


# Figures closer than this factor are level: no winner, no badge. A margin the report would
# print as "1.0x" is no lead (issue 29 replaces this with an interval from the attempts' noise).
LEVEL = 1.05


def verdicts(cells: dict[str, MatrixCell]) -> list[str]:
    """Who wins each figure, by how much; each winner's cell gets the verdict's badge. An
    engine that gave a wrong answer is never ranked: being fast or cheap at the wrong answer
    is no win."""
    sentences = []
    disqualified = {e: c.wrong for e, c in cells.items() if c.wrong}
    lost = "".join(
        f"; {e} not ranked: {n} wrong answer{'s' if n > 1 else ''}"
        for e, n in sorted(disqualified.items())
    )
    for verdict in VERDICTS:
        ranked = sorted(
            (value, engine)
            for engine, cell in cells.items()
            if engine not in disqualified and (value := verdict.figure(cell)) is not None
        )
        unknown = sorted(
            e for e in cells if e not in disqualified and e not in {engine for _, engine in ranked}
        )
        title = verdict.badge.capitalize()
        if not ranked:
            sentences.append(f"{title}: cannot say — no engine has the figures{lost}.")
            continue
        value, winner = ranked[0]

        level = [(v, e) for v, e in ranked if v <= value * LEVEL]
        if len(level) > 1:  # "1.0x cheaper" would name a winner the figures do not have
            names = " and ".join(e for _, e in level)
            figures = "; ".join(f"{e} {verdict.text(v)}" for v, e in level)
            unknown_part = f"; unknown for {', '.join(unknown)}" if unknown else ""
            sentences.append(
                f"{title}: {names} level, within {LEVEL - 1:.0%} ({figures}){unknown_part}{lost}."
            )
            continue
        cells[winner].badges.append(verdict.badge)
        figure = verdict.text(value)
        sentence = f"{title}: {winner} ({figure})"
        if len(ranked) > 1:
            runner_value, runner = ranked[1]
            # a time margin inside the round trip may be the network: no factor claimed
            within = verdict.badge == "fastest" and _within_round_trip(
                cells[winner], cells[runner], runner
            )
            if within:
                sentence += ", " + within
            elif value > 0:
                sentence += ", " + verdict.margin.format(ratio=runner_value / value, other=runner)
            else:
                sentence += f", ahead of {runner}"
        else:
            sentence += " — the only engine with this figure" if unknown else " — the only engine"
        if unknown:
            sentence += f"; unknown for {', '.join(unknown)}"
        sentences.append(sentence + lost + ".")
    return sentences


def _within_round_trip(winner: MatrixCell, runner_up: MatrixCell, runner: str) -> str | None:
    """When the fastest engine's one pass differs from the runner-up's by no more than the
    round trip one pass pays (its queries x the larger of the two sessions' median SELECT 1),
    the words that say so; else None, and the margin stands. Client time holds the network
    between whbench and each warehouse, so a margin inside it says nothing of the engines."""
    ours, theirs = winner.seconds, runner_up.seconds
    floors = [f for f in (winner.round_trip, runner_up.round_trip) if f]
    if ours is None or theirs is None or not floors:
        return None
    floor = max(floors, key=lambda f: f.seconds)
    gap = abs(theirs - ours)
    if gap > floor.seconds:
        return None
    return (
        f"within the round-trip floor (one pass differs from {runner}'s by {seconds(gap)}, "
        f"inside {floor.queries} queries x {seconds(floor.per_query)} median SELECT 1 round "
        f"trip = {seconds(floor.seconds)}): the margin may be the network, not the engine"
    )
