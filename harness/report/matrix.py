"""Choose by data type: the report's headline. One row per data type, one cell per engine
(relative first and hot time, one pass's time, run bill and marginal cost), and in words who
is fastest, cheapest and best value, and by how much."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from harness.pricing import Cost
from harness.report import intervals
from harness.report.capabilities import capability_verdicts
from harness.report.intervals import Interval
from harness.report.queries import MIN_HOT_ATTEMPTS, SMALL_SECONDS, WIDE_SPREAD, QueryTable
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
    # What the intervals resample, by "workload/query": the times each query's hot score was
    # charged, and each answered attempt's marginal dollars (queries with an unpriced one out)
    hot_samples: dict[str, list[float]] = field(default_factory=dict)
    cost_samples: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class MatrixRow:
    data_type: str
    workloads: list[str]  # "tpch at scale 1", each workload compared
    cells: dict[str, MatrixCell]  # engine -> its cell; an engine that did not run: absent
    margins: list[Margin]  # fastest, cheapest, best value
    verdicts: list[str]  # the margins in full sentences, then what the capabilities add
    flags: list[str]  # what weakens the row's margins: noisy or too few attempts


@dataclass
class Matrix:
    rows: list[MatrixRow]
    cost_basis: str = COST_BASIS
    small_ms: float = SMALL_SECONDS * 1000  # added to both sides of each ratio


def matrix(tables: list[QueryTable], engines: list[str]) -> Matrix:
    """A row per data type that ran, from the tables `matrix_tables` chooses."""
    rows = []
    for data_type in DATA_TYPES:
        chosen = matrix_tables([t for t in tables if t.data_type == data_type and t.answered])
        if not chosen:
            continue
        cells = {}
        for engine in engines:
            present = [t for t in chosen if engine in t.engines]
            if present:
                cells[engine] = _cell(engine, present)
        said = margins(cells)  # gives the winners their badges
        winners = [e for e, c in cells.items() if c.badges]
        rows.append(
            MatrixRow(
                data_type=data_type,
                workloads=[f"{t.workload} at {Scale.named(t.scale)}" for t in chosen],
                cells=cells,
                margins=said,
                verdicts=[m.sentence for m in said] + capability_verdicts(chosen, winners),
                flags=_flags(chosen, list(cells)),
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
        hot_samples={
            f"{t.workload}/{q}": times
            for t in present
            for q, times in t.charged.get((engine, "hot"), {}).items()
        },
        cost_samples={
            f"{t.workload}/{q}": c.costs
            for t in present
            for (q, e), c in t.cells.items()
            if e == engine and c.costs
        },
    )


def _flags(tables: list[QueryTable], engines: list[str]) -> list[str]:
    """What weakens a row's margins, said once: query times whose hot attempts spread wide,
    and hot attempts too few to say much about the noise."""
    cells = [c for t in tables for (_, e), c in t.cells.items() if e in engines and c.hot_times]
    flags = []
    wide = [c for c in cells if "wide spread" in c.flags]
    if wide:
        worst = max(c.spread or 1.0 for c in wide)
        flags.append(
            f"{len(wide)} of {len(cells)} query times spread wide between hot attempts (more "
            f"than {WIDE_SPREAD - 1:.0%}, up to {worst:.1f}×; marked in the per-query tables)"
        )
    few = [c for c in cells if "few hot attempts" in c.flags]
    if few:
        counts = sorted({c.hot_attempts for c in few})
        which = "every" if len(few) == len(cells) else f"{len(few)} of {len(cells)}"
        flags.append(
            f"{' or '.join(map(str, counts))} hot attempt{'s' if counts != [1] else ''} for "
            f"{which} query time: too few to judge the noise (`--runs "
            f"{MIN_HOT_ATTEMPTS + 2}` gives {MIN_HOT_ATTEMPTS + 1})"
        )
    return flags


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
    """One of the matrix's verdicts: which figure it ranks (lower wins), how it reads, and what
    its interval resamples."""

    badge: str
    figure: Callable[[MatrixCell], float | None]
    shown: str  # the winner's figure
    ahead: str  # the lead's words: "faster than"
    money: bool  # the figure is dollars
    # query -> the samples behind the figure, per engine cell, and each query's figure of them
    samples: Callable[[MatrixCell], dict[str, list[float]]]
    per_query: Callable[[Sequence[float]], float]
    ratio: Callable[[list[tuple[float, float]]], float | None]

    def text(self, value: float) -> str:
        return self.shown.format(value=dollars(value) if self.money else value)


VERDICTS = (
    Verdict(
        "fastest",
        lambda c: c.hot,
        "relative hot time {value:.2f}",
        "faster than",
        money=False,
        samples=lambda c: c.hot_samples,
        per_query=intervals.best,
        ratio=intervals.time_ratio(SMALL_SECONDS),
    ),
    # The run bill is one bill, not a sample: its noise is taken as that of the work it bills,
    # the queries' marginal costs resampled (a bill fixed by a minimum is, if anything, surer).
    Verdict(
        "cheapest",
        lambda c: c.cost.dollars,
        "run bill {value}",
        "cheaper than",
        money=True,
        samples=lambda c: c.cost_samples,
        per_query=intervals.typical,
        ratio=intervals.sum_ratio,
    ),
    Verdict(
        "best value",
        lambda c: c.value,
        "{value} a pass when busy",
        "less per pass than",
        money=True,
        samples=lambda c: c.cost_samples,
        per_query=intervals.typical,
        ratio=intervals.sum_ratio,
    ),
)


@dataclass
class Margin:
    """One verdict of one data type: who wins, by how much, and how sure that is."""

    badge: str  # fastest, cheapest, best value
    winner: str | None  # None: nobody wins (within noise, or no figures)
    level: list[str]  # engines the data cannot tell apart, when nobody wins
    runner_up: str | None
    ratio: float | None  # the runner-up's figure over the winner's
    interval: Interval | None  # None: nothing to resample, or no figures
    # clear | within noise | unsure (too few queries and attempts for an interval) |
    # unknown (no engine has the figure) | only engine
    certainty: str
    clause: str  # for the one-sentence verdict: "duckdb fastest by 2.4 times over chdb (…)"
    sentence: str  # for the matrix: "Fastest: duckdb (relative hot time 1.00), 2.4x …"


def margins(cells: dict[str, MatrixCell]) -> list[Margin]:
    """Who wins each figure, by how much and how surely; each winner's cell gets the verdict's
    badge. An engine that gave a wrong answer is never ranked: being fast or cheap at the wrong
    answer is no win. Where the interval of the lead includes 1, nobody wins."""
    disqualified = {e: c.wrong for e, c in cells.items() if c.wrong}
    lost = "".join(
        f"; {e} not ranked: {n} wrong answer{'s' if n > 1 else ''}"
        for e, n in sorted(disqualified.items())
    )
    found = []
    for verdict in VERDICTS:
        ranked = sorted(
            (value, engine)
            for engine, cell in cells.items()
            if engine not in disqualified and (value := verdict.figure(cell)) is not None
        )
        unknown = [
            e for e in sorted(cells) if e not in disqualified and e not in {e for _, e in ranked}
        ]
        unknown_part = f"; unknown for {', '.join(unknown)}" if unknown else ""
        found.append(_margin(verdict, cells, ranked, unknown, unknown_part, lost))
    return found


def _margin(
    verdict: Verdict,
    cells: dict[str, MatrixCell],
    ranked: list[tuple[float, str]],
    unknown: list[str],
    unknown_part: str,
    lost: str,
) -> Margin:
    title, badge = verdict.badge.capitalize(), verdict.badge
    if not ranked:
        return Margin(
            badge, None, [], None, None, None, "unknown",
            f"{badge}: unknown (no engine has the figure)",
            f"{title}: cannot say — no engine has the figures{lost}.",
        )  # fmt: skip
    value, winner = ranked[0]
    shown = f"{winner} ({verdict.text(value)})"
    if len(ranked) == 1:
        alone = " — the only engine with this figure" if unknown else " — the only engine"
        return Margin(
            badge, winner, [], None, None, None, "only engine",
            f"{winner} {badge} (no other engine has the figure)",
            f"{title}: {shown}{alone}{unknown_part}{lost}.",
        )  # fmt: skip
    runner_value, runner = ranked[1]
    ratio = runner_value / value if value > 0 else None
    interval = (
        intervals.bootstrap(
            verdict.samples(cells[winner]),
            verdict.samples(cells[runner]),
            verdict.per_query,
            verdict.ratio,
            ratio,
        )
        if ratio is not None
        else None
    )
    # Equal figures (two bills inside the same minimum) are a tie, whatever the interval.
    if runner_value == value or (interval and interval.includes_one()):
        tie = runner_value == value
        level = [e for v, e in ranked if v <= (value if tie else interval.high * value)]
        names = " and ".join(level)
        noise = "" if tie else f"; {interval.text()} includes 1"
        figures = "; ".join(f"{e} {verdict.text(v)}" for v, e in ranked if e in level)
        return Margin(
            badge, None, level, runner, ratio, interval, "within noise",
            f"{badge}: {names} " + ("equal" if tie else f"within noise ({_span(interval)})"),
            f"{title}: {names} " + ("equal" if tie else "within noise")
            + f" ({figures}{noise}){unknown_part}{lost}.",
        )  # fmt: skip
    cells[winner].badges.append(badge)
    how_sure = interval.text() if interval else "too few queries and attempts for an interval"
    by = f"by {ratio:.1f}× over {runner}" if ratio is not None else f"ahead of {runner}"
    within = verdict.badge == "fastest" and _within_round_trip(cells[winner], cells[runner], runner)
    lead = f"{ratio:.1f}× {verdict.ahead} {runner}" if ratio is not None else f"ahead of {runner}"
    sentence = f"{title}: {shown}, {within or f'{lead} ({how_sure})'}{unknown_part}{lost}."
    if within:
        said = "within the round-trip floor: may be the network"
    else:
        said = _span(interval, "95% interval ") if interval else "too few to say how sure"
    return Margin(
        badge, winner, [], runner, ratio, interval,
        "clear" if interval and not within else "unsure",
        f"{winner} {badge} {by} ({said})", sentence,
    )  # fmt: skip


def _span(interval: Interval, label: str = "") -> str:
    return f"{label}{interval.low:.2f}–{interval.high:.2f}×"


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
