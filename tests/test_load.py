"""Under load (`whbench run --streams`): streams on sessions of their own, in the TPC-H
specification's orders, per-level throughput and latency, TPC-H's own metrics, the open loop,
a level bounded by time, refused sessions, Ctrl-C and --resume."""

from __future__ import annotations

import dataclasses
import json
import math
import signal
import time
from datetime import datetime

import duckdb
import pytest
from test_cli_errors import SLOW, broken_workload, run_in_background

from harness.engines.duckdb import DuckDBEngine
from harness.levels import tpch_metrics
from harness.plan import LoadPlan
from harness.stats import percentile
from harness.store.rows import StoredAttempt
from harness.workloads import get_workload

TPCH = get_workload("tpch")
APPENDIX_A_STREAM_0 = [
    14,
    2,
    9,
    20,
    6,
    17,
    18,
    8,
    21,
    13,
    3,
    22,
    16,
    4,
    11,
    15,
    1,
    10,
    19,
    5,
    7,
    12,
]
APPENDIX_A_STREAM_1 = [
    21,
    3,
    18,
    5,
    11,
    7,
    6,
    20,
    17,
    12,
    16,
    15,
    13,
    10,
    2,
    8,
    14,
    19,
    9,
    22,
    1,
    4,
]


def _ids(numbers: list[int]) -> list[str]:
    return [f"q{n:02d}" for n in numbers]


def _attempt(**given) -> StoredAttempt:
    """A stored attempt with `given` fields and None for every other."""
    return StoredAttempt(**{f.name: None for f in dataclasses.fields(StoredAttempt)} | given)


def test_tpch_streams_follow_appendix_a():
    """TPC-H 3.0.1 Appendix A: 41 orders, each of the 22 queries once; stream 0 is the power
    test's order, stream 1 the first throughput stream's; stream 41 wraps to stream 0."""
    all_ids = [q.id for q in TPCH.queries]
    orders = TPCH.streams.orders
    assert len(orders) == 41 and all(sorted(order) == all_ids for order in orders)
    assert TPCH.streams.order(0, all_ids, "tpch") == _ids(APPENDIX_A_STREAM_0)
    assert TPCH.streams.order(1, all_ids, "tpch") == _ids(APPENDIX_A_STREAM_1)
    assert TPCH.streams.order(41, all_ids, "tpch") == _ids(APPENDIX_A_STREAM_0)
    assert TPCH.streams.order(1, ["q01", "q03", "q21"], "tpch") == ["q21", "q03", "q01"]
    # Clause 5.3.4: at least 2 throughput streams at SF 1, 5 at SF 100; none defined below SF 1.
    assert [TPCH.streams.least_streams(sf) for sf in (0.1, 1, 100, 150)] == [None, 2, 5, 5]


def test_other_workloads_shuffle_each_stream_with_a_seed_of_its_own():
    events = get_workload("events")
    ids = [q.id for q in events.queries]
    assert events.streams.order(0, ids, "events") == ids
    one, two = events.streams.order(1, ids, "events"), events.streams.order(2, ids, "events")
    assert sorted(one) == sorted(ids) and one != ids and one != two
    assert one == events.streams.order(1, ids, "events")  # the same every run


def test_worked_tpch_metrics():
    """By hand from clause 5.4: SF 1; the power test's 22 queries took 1 s each except one of
    0.0005 s, which is raised to 1/1000 of the longest (2 s): 0.002 s. Power@Size = 3600 x 1 /
    geomean = 3600 / (2 x 1^20 x 0.002)^(1/22); the throughput test ran 2 x 22 queries in
    30 s: Throughput@Size = 2 x 22 x 3600 / 30 x 1 = 5280; QphH@Size = sqrt(P x T)."""
    start = datetime(2026, 1, 1)
    times = [2.0] + [1.0] * 20 + [0.0005]
    power = [
        _attempt(query_id=q.id, stream=0, status="ok", client_seconds=t, started_at=start)
        for q, t in zip(TPCH.queries, times, strict=True)
    ]
    level_2 = {"level": 2, "queries": 44, "ok": 44, "seconds": 30.0}
    found = tpch_metrics([level_2], {1: power}, 1.0, TPCH)
    expected_power = 3600 / (2 * 0.002) ** (1 / 22)
    assert found["power_at_size"] == pytest.approx(expected_power)
    (throughput,) = found["throughput"]
    assert throughput["throughput_at_size"] == pytest.approx(5280)
    assert throughput["qphh_at_size"] == pytest.approx(math.sqrt(expected_power * 5280))
    assert throughput["streams_check"] == "meets clause 5.3.4's minimum of 2 streams"
    assert "not comparable to published TPC-H results" in found["label"]
    power[3] = dataclasses.replace(power[3], status="timeout")
    failed = tpch_metrics([{**level_2, "ok": 43}], {1: power}, 1.0, TPCH)
    assert failed["power_at_size"] is None and "q04 failed" in failed["power_note"]
    assert failed["throughput"][0]["throughput_at_size"] is None


def test_a_plan_is_checked_and_tpch_gets_its_power_test():
    plan = LoadPlan.parse("4,2, 2")
    assert plan.levels == (2, 4) and plan.iterations == 1
    assert plan.for_workload(TPCH).levels == (1, 2, 4)
    assert plan.for_workload(get_workload("events")).levels == (2, 4)
    assert plan.streams_of(1) == [0] and plan.streams_of(3) == [1, 2, 3]
    for streams, problem in [("a", "as numbers"), ("0", "from 1 to"), ("1,300", "from 1 to")]:
        with pytest.raises(Exception, match=problem):
            LoadPlan.parse(streams)
    with pytest.raises(Exception, match="give one of them"):
        LoadPlan.parse("2", iterations=2, duration_seconds=1)


def exported(whbench, config, run_id: str) -> list[dict]:
    path = whbench("results", "export", run_id, "--config", config, "--format", "json").stdout
    return json.loads(open(path.strip()).read())


def test_tpch_at_two_levels_done_when(whbench, make_config):
    """`--streams 1,2`: every query answered 1 + 2 times, each stream in its Appendix A order on
    its own session, per-level throughput and percentiles, and TPC-H's metrics a reader can
    recompute from the exported attempts."""
    config = make_config(workloads={"tpch": {"scale": 0.1}})
    result = whbench("run", "--config", config, "--streams", "1,2", "--json", "--quiet")
    assert result.code == 0, result.stderr
    (run,) = result.json()
    attempts = exported(whbench, config, run["run_id"])
    assert all(a["phase"] == "load" and a["status"] == "ok" for a in attempts)
    per_query = {}
    for a in attempts:
        per_query.setdefault(a["query_id"], []).append((a["level"], a["stream"]))
    assert all(sorted(v) == [(1, 0), (2, 1), (2, 2)] for v in per_query.values())
    assert len(per_query) == 22
    for level, stream, numbers in [(1, 0, APPENDIX_A_STREAM_0), (2, 1, APPENDIX_A_STREAM_1)]:
        mine = [a for a in attempts if (a["level"], a["stream"]) == (level, stream)]
        ran = [a["query_id"] for a in sorted(mine, key=lambda a: a["started_at"])]
        assert ran == _ids(numbers)
    stream_2 = sorted((a for a in attempts if a["stream"] == 2), key=lambda a: a["started_at"])
    assert [a["query_id"] for a in stream_2] == TPCH.streams.order(2, list(per_query), "tpch")
    # The streams ran at once: level 2's two streams overlap in time.
    spans = {
        s: (
            min(a["started_at"] for a in attempts if a["stream"] == s),
            max(a["ended_at"] for a in attempts if a["stream"] == s),
        )
        for s in (1, 2)
    }
    assert spans[1][0] < spans[2][1] and spans[2][0] < spans[1][1]

    shown = whbench("results", "show", run["run_id"], "--config", config, "--json").json()
    levels = {lv["level"]: lv for lv in shown["load"]["levels"]}
    assert set(levels) == {1, 2}
    for level, figures in levels.items():
        mine = [a for a in attempts if a["level"] == level]
        times = [a["client_seconds"] for a in mine]
        start = min(datetime.fromisoformat(a["started_at"]) for a in mine)
        end = max(datetime.fromisoformat(a["ended_at"]) for a in mine)
        seconds = (end - start).total_seconds()
        assert figures["queries"] == figures["ok"] == 22 * level
        assert figures["seconds"] == pytest.approx(seconds)
        assert figures["queries_per_second"] == pytest.approx(22 * level / seconds)
        for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            assert figures[f"{name}_seconds"] == pytest.approx(percentile(times, fraction))
        assert figures["cost"]["dollars"] > 0
    tpch = shown["load"]["tpch"]
    power_times = [a["client_seconds"] for a in attempts if a["level"] == 1]
    floor = max(power_times) / 1000
    power = 3600 * 0.1 / math.exp(sum(math.log(max(t, floor)) for t in power_times) / 22)
    assert tpch["power_at_size"] == pytest.approx(power)
    (two,) = tpch["throughput"]
    throughput = 44 * 3600 / levels[2]["seconds"] * 0.1
    assert two["throughput_at_size"] == pytest.approx(throughput)
    assert two["qphh_at_size"] == pytest.approx(math.sqrt(power * throughput))
    assert "below TPC-H's smallest scale factor" in two["streams_check"]
    # And the people's version says what the metric is not.
    text = whbench("results", "show", run["run_id"], "--config", config).stdout
    assert "not comparable to published TPC-H results" in text and "p95" in text


def test_open_loop_records_the_wait_in_the_harness_queue(whbench, make_config):
    config = make_config()
    args = ["--streams", "2", "--arrival-rate", "200", "--iterations", "3", "-q", "q06"]
    result = whbench("run", "--config", config, *args, "-q", "q14", "--json", "--quiet")
    assert result.code == 0, result.stderr
    (run,) = result.json()
    attempts = exported(whbench, config, run["run_id"])
    assert len(attempts) == 6 and {a["level"] for a in attempts} == {2}
    assert {a["stream"] for a in attempts} <= {1, 2}
    assert all(a["harness_queue_seconds"] is not None for a in attempts)
    shown = whbench("results", "show", run["run_id"], "--config", config, "--json").json()
    (level,) = shown["load"]["levels"]
    latencies = [a["client_seconds"] + a["harness_queue_seconds"] for a in attempts]
    assert level["p95_seconds"] == pytest.approx(percentile(latencies, 0.95))
    assert shown["load"]["plan"]["arrival_rate"] == 200


def test_a_level_bounded_by_duration_starts_no_query_after_it(whbench, make_config):
    config = make_config()
    args = ["--streams", "2", "--duration", "0.5", "-q", "q06", "--json", "--quiet"]
    (run,) = whbench("run", "--config", config, *args).json()
    attempts = exported(whbench, config, run["run_id"])
    assert {a["level"] for a in attempts} == {1, 2}  # TPC-H's power test came first
    for level in (1, 2):
        starts = sorted(
            datetime.fromisoformat(a["started_at"]) for a in attempts if a["level"] == level
        )
        assert len(starts) > level  # each stream ran q06 again and again
        assert (starts[-1] - starts[0]).total_seconds() < 0.6


def test_a_refused_session_is_recorded_per_attempt_and_the_level_goes_on(make_config, monkeypatch):
    """The engine refuses the second session it is asked for (level 2's first, after the power
    test's): that stream's queries are recorded as errors naming the refusal; the other runs."""
    from harness import commands
    from harness.commands.selection import Selection
    from harness.config import load_config

    real = DuckDBEngine.open_session
    opened = []

    def limited(engine):
        opened.append(engine)
        if len(opened) == 2:
            raise RuntimeError("too many connections for role bench")
        return real(engine)

    monkeypatch.setattr(DuckDBEngine, "open_session", limited)
    config = load_config(make_config())
    selection = Selection(queries=("q06", "q14"))
    (summary,) = commands.run.run(config, selection, streams="2", quiet=True)
    level = {lv["level"]: lv for lv in summary.load["levels"]}[2]  # level 1: TPC-H's power test
    assert (level["ok"], level["errors"]) == (2, 2)
    errors = [q for q in summary.queries if q["status"] == "error"]
    assert all("session refused" in q["error"] and "too many" in q["error"] for q in errors)


def test_ctrl_c_stops_every_stream_and_resume_runs_the_level_again_whole(
    whbench, make_config, workdir
):
    # Stream 0 (the power test) runs q06 before q01 (Appendix A): q01 is the slow one.
    root = broken_workload(workdir, "q01", SLOW)
    config = make_config(workload_dirs=[str(root)], timeout_seconds=600)
    whbench("load", "--config", config)
    process = run_in_background(
        workdir, "--config", config, "-q", "q01", "-q", "q06", "--streams", "1,2", journaled="q06"
    )
    time.sleep(0.3)  # q01 (minutes of work) is in flight on the power test's stream
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr
    store = workdir / "results" / "results.duckdb"
    con = duckdb.connect(str(store), read_only=True)
    (run_id, status) = con.execute(  # the run under load, not the `whbench load` before it
        "SELECT run_id, status FROM runs ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    levels = con.execute("SELECT level, status FROM levels").fetchall()
    kept = con.execute("SELECT query_id, level, stream FROM attempts").fetchall()
    con.close()
    assert status == "interrupted" and levels == [(1, "interrupted")]
    assert ("q06", 1, 0) in kept and all(q != "q01" for q, _, _ in kept)

    (root / "tpch" / "queries" / "q01.sql.j2").write_text("SELECT 1 AS quick")
    resumed = whbench("run", "--resume", run_id, "--config", config, "--json", "--quiet")
    assert resumed.code == 0, resumed.stderr
    (run,) = resumed.json()
    assert [lv["level"] for lv in run["load"]["levels"]] == [1, 2]
    con = duckdb.connect(str(store), read_only=True)
    counts = con.execute("SELECT level, count(*) FROM attempts GROUP BY 1 ORDER BY 1").fetchall()
    notes = con.execute("SELECT notes FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]
    con.close()
    assert counts == [(1, 2), (2, 4)]  # level 1 ran again whole: q06 is not there twice
    assert "level 1 was cut short" in notes


def test_two_runs_under_load_are_compared_level_by_level(whbench, make_config):
    config = make_config()
    args = ["--streams", "2", "--iterations", "3", "-q", "q06", "--quiet", "--json"]
    runs = [whbench("run", "--config", config, *args).json()[0]["run_id"] for _ in range(2)]
    result = whbench("compare", *runs, "--config", config, "--json")
    compared = {c["query_id"]: c for c in result.json()["changes"]}
    # TPC-H's power test (one stream, 3 iterations) and the 2-stream level, each on its own.
    assert set(compared) == {"q06 at 1 streams", "q06 at 2 streams"}
    assert compared["q06 at 2 streams"]["base_attempts"] == 6


def test_scale_out_keeps_the_peak_the_engine_showed_during_a_level(monkeypatch):
    """Peaks asks the engine every SAMPLE_SECONDS (and once at the end) and keeps the most it
    saw: a multi-cluster warehouse that went 1 -> 3 -> 2 clusters started peaked at 3."""
    from harness import load

    shown = iter([{"clusters_started": 1}, {"clusters_started": 3}, {"clusters_started": 2}])

    class Showing:  # a fake engine: only what Peaks asks of it
        def scale_out_sample(self):
            return next(shown)

    monkeypatch.setattr(load, "SAMPLE_SECONDS", 0.0)
    peaks = load.Peaks(Showing())
    peaks.sample()
    peaks.sample()
    peaks.sample(now=True)
    assert peaks.seen == {"clusters_started_peak": 3}

    class Silent:
        def scale_out_sample(self):
            return None

    quiet = load.Peaks(Silent())
    quiet.sample(now=True)
    assert quiet.seen == {}  # nothing shown: unknown, not 0
