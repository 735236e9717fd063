"""The report's verdicts: who wins each figure of a data type, by how much, and how surely (a
bootstrap interval over queries and attempts, harness/report/intervals.py); the noise flags on
query times; and the first screen's one-sentence verdicts. Pure logic on stored rows: the
report as a page is tests/test_report.py's and tests/test_report_browser.py's."""

from __future__ import annotations

from datetime import UTC, datetime

from stored_rows import attempt, run

from harness.pricing import Cost
from harness.report import intervals
from harness.report.first_screen import first_screen
from harness.report.matrix import Matrix, MatrixCell, MatrixRow, margins
from harness.report.queries import _cell
from harness.report.under_load import UnderLoad


def cell(hot: float, bill: float, value: float, **samples) -> MatrixCell:
    return MatrixCell(
        first=hot, first_kind="lukewarm", hot=hot, wrong=0, seconds=None, round_trip=None,
        cost=Cost(bill, "modelled"), marginal=Cost(value, "modelled"), value=value, **samples,
    )  # fmt: skip


def by_badge(found):
    return {m.badge: m for m in found}


def test_best_value_counts_time_once_whatever_the_billing_model():
    """Best value ranks one pass's marginal cost (price-performance as TPC prices a system per
    unit of throughput): for an engine billed by time that is its rate x the pass's seconds, for
    one billed by bytes the bytes' price. Worked example: a warehouse at $0.0008 a second (2
    credits an hour at $1.44, say) takes 10 s a pass, $0.008; BigQuery on-demand scans 2 GiB,
    $0.0122 (at $6.25 a TiB), in 40 s. The time-billed engine is the better value, 1.5x; had it
    taken twice as long it would cost twice as much a pass ($0.016) and lose by 1.3x, not by the
    factor of four that seconds x the run bill (time squared) would have given."""
    bytes_pass = 2 / 1024 * 6.25
    fast = {"warehouse": cell(10, 0.48, 0.008), "bigquery": cell(40, 0.0122, bytes_pass)}
    value = by_badge(margins(fast))["best value"]
    assert value.sentence.startswith("Best value: warehouse ($0.008")
    assert "1.5× less per pass than bigquery" in value.sentence
    slow = {"warehouse": cell(20, 0.48, 0.016), "bigquery": cell(40, 0.0122, bytes_pass)}
    value = by_badge(margins(slow))["best value"]
    assert value.winner == "bigquery" and "1.3× less per pass" in value.sentence
    # no samples to resample here: a winner, but not a sure one
    assert value.interval is None and value.certainty == "unsure"


def test_equal_figures_are_a_tie_not_a_win():
    """Two engines billed the same (both inside the same VM minimum) have no cheapest: "1.0x
    cheaper" would name a winner the figures do not have. A real lead still wins its badge."""
    cells = {"duckdb": cell(1.0, 0.0064, 0.0001), "clickhouse": cell(4.9, 0.0064, 0.00103)}
    fastest, cheapest, value = margins(cells)
    assert fastest.sentence.startswith("Fastest: duckdb (relative hot time 1.00), 4.9× faster")
    assert cheapest.winner is None and cheapest.certainty == "within noise"
    assert cheapest.level == ["clickhouse", "duckdb"]
    assert cheapest.clause == "cheapest: clickhouse and duckdb equal"
    assert value.winner == "duckdb"
    assert cells["duckdb"].badges == ["fastest", "best value"] and cells["clickhouse"].badges == []


def hot_samples(times: dict[str, list[float]]) -> dict[str, list[float]]:
    return {f"tpch/{q}": t for q, t in times.items()}


def test_a_lead_the_attempts_bear_out_wins_with_its_interval():
    """Worked example: over eight queries engine A takes 100 ms and B 200-240 ms, each with
    three hot attempts a few percent apart. Relative to A (+10 ms on both sides), B is about
    2.1x slower on every query; resampling queries and attempts moves that only a little, so
    the interval stays well above 1 and A is fastest, surely."""
    a = hot_samples({f"q{i}": [0.100, 0.102, 0.104] for i in range(8)})
    b = hot_samples({f"q{i}": [0.200 + 0.005 * i, 0.204 + 0.005 * i, 0.21] for i in range(8)})
    ratio = 2.1  # what the matrix would print: the runner-up's relative time over the winner's
    cells = {"a": cell(1.0, 1.0, 1.0, hot_samples=a), "b": cell(ratio, 1.0, 1.0, hot_samples=b)}
    fastest = by_badge(margins(cells))["fastest"]
    assert fastest.winner == "a" and fastest.certainty == "clear"
    assert 1.5 < fastest.interval.low < ratio < fastest.interval.high < 2.5
    assert fastest.clause.startswith("a fastest by 2.1× over b (95% interval ")
    assert "95% interval" in fastest.sentence
    # seeded: the same store renders the same interval
    assert by_badge(margins(cells))["fastest"].interval == fastest.interval


def test_a_lead_inside_the_noise_is_no_win():
    """Worked example: on half the queries A is 30% faster, on the other half B is; A's
    relative time is a little better (1.00 against 1.04, say), but resampling the queries
    swings the ratio both ways: the interval includes 1, so nobody wins and both are named."""
    a = hot_samples({f"q{i}": [0.100 if i % 2 else 0.130] * 3 for i in range(10)})
    b = hot_samples({f"q{i}": [0.130 if i % 2 else 0.100] * 3 for i in range(10)})
    cells = {"a": cell(1.0, 1.0, 1.0, hot_samples=a), "b": cell(1.04, 1.0, 1.0, hot_samples=b)}
    fastest = by_badge(margins(cells))["fastest"]
    assert fastest.winner is None and fastest.certainty == "within noise"
    assert fastest.interval.includes_one() and fastest.level == ["a", "b"]
    assert "within noise" in fastest.clause and cells["a"].badges == []
    assert "includes 1" in fastest.sentence


def test_one_query_with_one_attempt_each_has_no_interval():
    """Nothing to resample: the interval is None, not a point pretending to be sure."""
    one = intervals.bootstrap(
        {"q": [1.0]}, {"q": [2.0]}, intervals.best, intervals.time_ratio(0.01), 2.0
    )
    assert one is None
    two = intervals.bootstrap(
        {"q": [1.0, 1.1]}, {"q": [2.0, 2.4]}, intervals.best, intervals.time_ratio(0.01), 2.0
    )
    assert two is not None and two.low < two.high


def test_query_times_flag_a_wide_spread_and_too_few_hot_attempts():
    """A query whose hot time moved from 25 s to 37 s between attempts is flagged as spread
    wide (1.48x > 1.25x); two hot attempts are too few (three wanted) whatever their spread."""
    from harness.engines import billing_for
    from harness.pricing import load_catalog

    rules = billing_for(run(), load_catalog())
    tries = [
        attempt(attempt=1, phase="lukewarm", client_seconds=30.0),
        attempt(attempt=2, client_seconds=25.0),
        attempt(attempt=3, client_seconds=37.0),
    ]
    noisy = _cell(tries, rules, None)
    assert noisy.flags == ["wide spread", "few hot attempts"] and noisy.hot_attempts == 2
    assert round(noisy.spread, 2) == round(37.01 / 25.01, 2)
    steady = _cell(
        [
            *tries[:2],
            attempt(attempt=3, client_seconds=25.5),
            attempt(attempt=4, client_seconds=26),
        ],
        rules,
        None,
    )
    assert steady.flags == [] and steady.hot_attempts == 3


def test_the_first_screen_of_one_engine_says_once_there_is_nothing_to_compare():
    started = datetime(2026, 12, 6, 12, 30, tzinfo=UTC)
    runs = [
        run(run_id="a", started_at=started, engine_version="1.4.1", data_type="structured"),
        run(run_id="b", workload="events", scale=2e6, started_at=started, data_type="semi"),
    ]
    row = MatrixRow(
        data_type="structured",
        workloads=["tpch at scale 1"],
        cells={"duckdb": cell(1.0, 0.001, 0.001)},
        margins=margins({"duckdb": cell(1.0, 0.001, 0.001)}),
        verdicts=[],
        flags=[],
    )
    screen = first_screen(runs, Matrix([row]), UnderLoad([], []))
    (duckdb,) = screen.measured
    assert duckdb.versions == ["1.4.1"] and duckdb.when == "2026-12-06 12:30 UTC"
    assert duckdb.scales == ["events at scale 2,000,000", "tpch at scale 1"]
    assert duckdb.where_kind == "unknown" and "not recorded" in duckdb.where
    assert "snowflake" in screen.not_run and "duckdb" not in screen.not_run
    assert "time series" in screen.types_not_run and "structured" not in screen.types_not_run
    assert screen.verdicts[0].sentence == (
        "Structured (tpch at scale 1): duckdb alone — one pass –, run bill $0.0010."
    )
    assert screen.lines()[-1].startswith("Only duckdb ran, so there is nothing to compare")
    assert "`whbench run -e clickhouse` (embedded" in screen.nothing_to_compare
    assert "-e duckdb" not in screen.nothing_to_compare  # it ran
