"""The timeseries workload: what the generator plants is in the files, and DuckDB's answers
(ClickHouse's too, through the CLI) equal what the generator computed from its rows."""

from __future__ import annotations

import dataclasses
import filecmp
from datetime import timedelta

import pyarrow.parquet as pq
import pytest
from conftest import known_answer_differences, load_into_duckdb

from harness.answers import check, expected_answers, shape_of
from harness.datagen import ensure_data, known_answers
from harness.datagen import timeseries as generator
from harness.errors import WorkloadError
from harness.workloads import Renderer, get_workload

TIMESERIES = get_workload("timeseries")
SCALE = 9_000  # three days need 8,640 (a reading at least every 30 seconds)
DAYS = 3
OTHER_GAP = {"gap_minutes": 7, "gap_every_minutes": 45}


@pytest.fixture(scope="module")
def hourly(tmp_path_factory):
    """The seed story, ten minutes lost every hour, over three days, loaded into DuckDB."""
    return load_into_duckdb(tmp_path_factory.mktemp("ts"), TIMESERIES, SCALE, {"days": DAYS})


@pytest.fixture(scope="module")
def other_gap(tmp_path_factory):
    options = {"days": DAYS, **OTHER_GAP}
    return load_into_duckdb(tmp_path_factory.mktemp("ts"), TIMESERIES, SCALE, options)


def readings_of(data) -> list[dict]:
    return pq.read_table(data.files["readings"][0]).to_pylist()


def test_every_minute_has_a_reading_except_the_lost_ones(tmp_path):
    options = TIMESERIES.check_options({"days": DAYS, **OTHER_GAP})
    data = ensure_data(tmp_path, TIMESERIES, SCALE, options)
    start = generator.START
    minutes = {(r["reading_time"] - start) // timedelta(minutes=1) for r in readings_of(data)}
    lost = {m for m in range(DAYS * 1440) if generator.lost_minute(m, 7, 45)}
    assert minutes == set(range(DAYS * 1440)) - lost  # so a gap query finds only planted gaps
    assert lost and all(19 <= m % 45 < 26 for m in lost)  # mid-period: (45 - 7) // 2 = 19 on


def test_planted_gaps_are_the_runs_of_lost_minutes_with_a_reading_after_them():
    gaps = generator.planted_gaps(days=1, gap=10, every=60)
    assert gaps == [(25 + 60 * hour, 10) for hour in range(24)]
    # 1440 = 31 * 45 + 45: the last period's gap (minutes 1414..1420) ends inside the range
    assert generator.planted_gaps(days=1, gap=7, every=45)[-1] == (1414, 7)
    # a gap the range's end cuts short has no reading after it: not a gap anyone can see
    assert generator.planted_gaps(days=1, gap=10, every=1430) == [(710, 10)]
    assert generator.planted_gaps(days=1, gap=0, every=60) == []


def test_the_gap_query_finds_exactly_the_planted_gaps(hourly, other_gap):
    for loaded, (gap, every) in ((hourly, (10, 60)), (other_gap, (7, 45))):
        found = [(row[0], row[1]) for row in loaded.run("ts06")]
        planted = [
            (generator.START + timedelta(minutes=start), length)
            for start, length in generator.planted_gaps(DAYS, gap, every)
        ]
        assert found == planted and len(found) == DAYS * 1440 // every


def test_no_gap_option_gives_no_gap(tmp_path):
    loaded = load_into_duckdb(tmp_path, TIMESERIES, SCALE, {"days": DAYS, "gap_minutes": 0})
    assert loaded.run("ts06") == []
    assert loaded.truth["planted_gaps"] == []
    assert known_answer_differences(TIMESERIES, loaded, loaded.truth) == {}


def test_readings_arrive_out_of_order_and_some_hours_late(tmp_path):
    data = ensure_data(tmp_path, TIMESERIES, SCALE, {"days": DAYS})
    rows = readings_of(data)
    taken = [r["reading_time"] for r in rows]
    received = [r["received_time"] for r in rows]
    assert received == sorted(received) and taken != sorted(taken)  # files in arrival order
    late = sum(1 for r in rows if r["received_time"] - r["reading_time"] > timedelta(hours=1))
    assert late == data.truth["late_readings"] > 0
    # the last row of a sensor is often not its latest reading: ts04 must not take it
    last_row = {r["sensor_id"]: r["reading_time"] for r in rows}
    latest = {s: max(r["reading_time"] for r in rows if r["sensor_id"] == s) for s in last_row}
    assert any(last_row[s] != latest[s] for s in latest)


def test_the_quotes_hold_the_cases_an_asof_join_gets_wrong(tmp_path):
    data = ensure_data(tmp_path, TIMESERIES, SCALE, {"days": DAYS})
    quotes = pq.read_table(data.files["quotes"][0]).to_pylist()
    per_symbol: dict[str, list] = {}
    for q in quotes:
        per_symbol.setdefault(q["symbol"], []).append(q["quote_time"])
    assert all(len(set(t)) == len(t) for t in per_symbol.values())  # one match at most
    by_time = [q["quote_id"] for q in sorted(quotes, key=lambda q: q["quote_time"])]
    assert by_time != sorted(by_time)  # the latest quote cannot be found by its number
    asof = {row[0]: row for row in data.truth["answers"]["ts01"]}
    assert asof["JADE"][2] > 0 and asof["HALO"][2] > 0  # trades before their symbol's listing
    assert sum(row[3] for row in asof.values()) > 0  # trades at exactly their quote's time


def test_duckdb_answers_equal_the_generators_truth(hourly, other_gap):
    for loaded in (hourly, other_gap):
        known = known_answers("timeseries")(loaded.truth, TIMESERIES)
        assert sorted(known) == [q.id for q in TIMESERIES.queries]  # every query is known
        assert known_answer_differences(TIMESERIES, loaded, loaded.truth) == {}


def test_a_wrong_truth_is_caught(hourly):
    answers = hourly.truth["answers"]
    tampered_asof = [list(row) for row in answers["ts01"]]
    tampered_asof[0][4] += 1  # one quote number off
    tampered = {**hourly.truth, "answers": {**answers, "ts01": tampered_asof}}
    assert set(known_answer_differences(TIMESERIES, hourly, tampered)) == {"ts01"}


def asof_difference(loaded, sql: str):
    known = expected_answers(
        None, TIMESERIES.answers, known_answers("timeseries")(loaded.truth, TIMESERIES)
    )
    rows = loaded.engine.execute(sql, 300).rows
    return check(
        known["ts01"], rows, lambda: shape_of(sql, "duckdb"), TIMESERIES.answers.tolerance("ts01")
    )


def test_at_or_before_is_what_the_truth_checks(hourly):
    native = hourly.renderer.query("ts01")
    assert "ASOF LEFT JOIN" in native
    assert asof_difference(hourly, native) is None
    # strictly before: the trades at exactly a quote's time get the quote before it
    strictly_before = native.replace("l.trade_time >= r.quote_time", "l.trade_time > r.quote_time")
    assert strictly_before != native
    assert asof_difference(hourly, strictly_before) is not None
    # an inner ASOF join drops the trades that have no quote
    inner = native.replace("ASOF LEFT JOIN", "ASOF JOIN")
    assert asof_difference(hourly, inner) is not None


# How each dialect writes "the last non-NULL value" in the portable form, as DuckDB writes it.
IN_DUCKDB_SPELLING = {
    "bigquery": ("", ""),
    "redshift": ("LAST_VALUE(asof_key) IGNORE NULLS", "last_value(asof_key IGNORE NULLS)"),
    "databricks": ("last_value(asof_key, true)", "last_value(asof_key IGNORE NULLS)"),
}


@pytest.mark.parametrize("dialect", sorted(IN_DUCKDB_SPELLING))
def test_the_portable_asof_form_gives_the_same_answer(hourly, dialect):
    # The fallback the engines without ASOF JOIN get, run on DuckDB: BigQuery's as it is, the
    # others with their spelling of LAST_VALUE … IGNORE NULLS put in DuckDB's.
    portable = Renderer(TIMESERIES, dialect, SCALE, {"days": DAYS}).query("ts01")
    assert "ASOF" not in portable.upper().replace("ASOF_", "")
    theirs, ours = IN_DUCKDB_SPELLING[dialect]
    assert theirs in portable
    assert asof_difference(hourly, portable.replace(theirs, ours) if theirs else portable) is None


def test_nearest_rank_percentiles():
    # ceil(p * n), in exact arithmetic: 0.9 * 70 is 63.00000000000001 as doubles
    day = generator.START
    readings = [("s", 1000 * i, 1000 * i, float(v)) for i, v in enumerate(range(70, 0, -1))]
    ((date, n, p50, p90),) = generator._percentiles(readings, {"levels": [0.5, 0.9]})
    assert (date, n, p50, p90) == (day.date().isoformat(), 70, 35.0, 63.0)


def test_answers_for_changed_parameters_are_not_used(hourly):
    ts03 = TIMESERIES.query("ts03")
    changed = dataclasses.replace(
        TIMESERIES,
        queries=tuple(
            dataclasses.replace(q, params={"readings": 9}) if q is ts03 else q
            for q in TIMESERIES.queries
        ),
    )
    known = known_answers("timeseries")(hourly.truth, changed)
    assert "ts03" not in known and "ts01" in known  # the stale answer is not checked


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path):
    first = ensure_data(tmp_path / "a", TIMESERIES, 6_000, {"days": 2})
    again = ensure_data(tmp_path / "b", TIMESERIES, 6_000, {"days": 2})
    other = ensure_data(tmp_path / "c", TIMESERIES, 6_000, {"days": 2, "seed": 7})
    for table, files in first.files.items():
        assert filecmp.cmp(files[0], again.files[table][0], shallow=False)
        assert not filecmp.cmp(files[0], other.files[table][0], shallow=False)


@pytest.mark.parametrize(
    ("scale", "options", "message"),
    [
        (5_000, {"days": 2}, r"scale 5000 is too small for 2 days .* needs 5760"),
        (6_000, {"days": 2, "gap_minutes": 59, "gap_every_minutes": 60}, r"at most .* \(58\)"),
    ],
)
def test_what_cannot_be_generated_is_refused(tmp_path, scale, options, message):
    with pytest.raises(WorkloadError, match=message):
        ensure_data(tmp_path, TIMESERIES, scale, options)
    assert list(tmp_path.glob("timeseries/*")) == []  # nothing half-written left behind


def test_one_day_is_refused_by_the_option_range():
    with pytest.raises(WorkloadError, match=r"days 1 is out of range"):
        TIMESERIES.check_options({"days": 1})


def test_gap_options_through_the_cli_on_duckdb_and_clickhouse(whbench, make_config, workdir):
    config = make_config(
        runs=1,
        engines={
            "duckdb": {"database": "results/bench.duckdb"},
            "clickhouse": {"path": str(workdir / "chdb")},
        },
        workloads={"timeseries": {"scale": 6000, "options": {"days": 2}}},
    )
    gap = ["--gap-minutes", "4", "--gap-every-minutes", "30"]
    result = whbench("run", "--config", config, "--json", "--quiet", *gap)
    assert result.code == 0, result.stderr
    runs = result.json()
    assert sorted(run["engine"] for run in runs) == ["clickhouse", "duckdb"]
    for run in runs:
        answers = {q["query_id"]: q["answer"] for q in run["queries"]}
        assert answers == {q.id: "correct" for q in TIMESERIES.queries}, run["engine"]
        (ts06,) = [q for q in run["queries"] if q["query_id"] == "ts06"]
        assert ts06["rows"] == 2 * 1440 // 30  # one gap every half hour
