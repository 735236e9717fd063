"""The round-trip floor (issue 25 item 9): client time includes the network between whbench
and the warehouse, so each session times `SELECT 1` a few times before its first query, the
run records it (None when it could not be measured, never 0), the report and `results show`
show it with engine time beside client time, and a "fastest" verdict whose margin is inside it
says so instead of claiming the margin."""

from __future__ import annotations

import json
import math

import duckdb
import pytest

from harness.engines import connected, engine_class
from harness.engines.base import ROUND_TRIP_TRIES
from harness.pricing import Cost
from harness.report import model
from harness.report.matrix import MatrixCell, RoundTripShare, margins
from harness.store import SCHEMA_VERSION, open_store


def test_a_duckdb_run_records_its_round_trip_floor_and_shows_it(whbench, make_config, workdir):
    config = make_config(workloads={"tpch": {"scale": 0.01, "queries": ["q01", "q06"]}})
    result = whbench("run", "--config", config, "--json", "--quiet")
    assert result.code == 0, result.stderr
    (summary,) = result.json()
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    (stored,) = con.execute("SELECT round_trip_seconds FROM runs").fetchone()
    # The floor is not an attempt: the two queries' attempts only, and their times unchanged.
    assert con.execute("SELECT DISTINCT query_id FROM attempts ORDER BY 1").fetchall() == [
        ("q01",),
        ("q06",),
    ]
    con.close()
    floor = json.loads(stored)
    assert floor["n"] == ROUND_TRIP_TRIES == 5 and floor["sql"] == "SELECT 1"
    assert 0 < floor["min"] <= floor["median"] and math.isfinite(floor["median"])
    assert floor["median"] < 1  # a local engine: well under a second

    shown = whbench("results", "show", summary["run_id"], "--config", config)
    assert shown.code == 0, shown.stderr
    (line,) = [ln for ln in shown.stdout.splitlines() if "round trip:" in ln]
    assert "SELECT 1 x 5: min " in line and " ms, median " in line
    assert "client s" in shown.stdout and "engine s" in shown.stdout  # side by side
    as_json = whbench("results", "show", summary["run_id"], "--config", config, "--json")
    assert as_json.json()["run"]["round_trip_seconds"]["n"] == 5

    report = whbench("report", "--config", config, "-o", "r.html")
    assert report.code == 0, report.stderr
    html = (workdir / "r.html").read_text()
    assert "Round-trip floor:" in html
    assert "<b>duckdb</b> SELECT 1 x 5, min " in html
    assert "(round trip " in html  # one pass's round trip in the matrix
    assert "round trip (min / median)" in html  # and per run, with the provenance


def test_the_floor_goes_through_execute_and_is_none_when_it_cannot_be_measured():
    cls = engine_class("duckdb")
    with connected("duckdb", cls.settings_class(database=":memory:")) as engine:
        sent: list[str] = []
        run = engine.run

        def spy(sql, timeout_seconds, query_label):
            sent.append(sql)
            return run(sql, timeout_seconds, query_label)

        engine.run = spy
        floor = engine.measure_round_trip(10)
        assert sent == ["SELECT 1"] * 5  # the driver call every query makes, five times
        assert floor is not None and floor["n"] == 5 and floor["min"] > 0

        def refuse(sql, timeout_seconds, query_label):
            raise RuntimeError("connection reset")

        engine.run = refuse
        assert engine.measure_round_trip(10) is None  # unknown, never 0
        assert engine.notes[-1] == "round-trip floor not measured: connection reset"

        # An engine billed per query by the bytes read (it offers a dry run) may bill a
        # minimum even for SELECT 1: nothing is sent, the floor is None and the notes say why.
        sent.clear()
        engine.run = spy
        engine.supports_dry_run = True
        assert engine.measure_round_trip(10) is None and sent == []
        assert "per-query minimum" in engine.notes[-1]


def _cell(hot: float, seconds: float | None, round_trip: RoundTripShare | None) -> MatrixCell:
    return MatrixCell(
        first=None,
        first_kind="lukewarm",
        hot=hot,
        wrong=0,
        seconds=seconds,
        round_trip=round_trip,
        cost=Cost(0.01, "modelled"),
        marginal=Cost(0.001, "modelled"),
        value=0.001,
    )


def verdicts(cells: dict[str, MatrixCell]) -> list[str]:
    return [m.sentence for m in margins(cells)]


def _floor(queries: int, median: float) -> RoundTripShare:
    return RoundTripShare(seconds=queries * median, queries=queries, per_query=median)


def test_a_fastest_verdict_inside_the_round_trip_floor_says_so():
    """Worked example: two queries a pass; the local engine's SELECT 1 takes 0.2 ms, the remote
    one's 80 ms, so one pass carries up to 2 x 80 ms = 160 ms of round trip. A pass 100 ms
    quicker is inside it: the verdict names the floor and claims no factor. A pass 1 s quicker
    is outside it, and the margin stands. Without a measured floor, the margin stands too."""
    near = {
        "local": _cell(1.0, 0.50, _floor(2, 0.0002)),
        "remote": _cell(1.25, 0.60, _floor(2, 0.080)),
    }
    fastest = verdicts(near)[0]
    assert fastest.startswith("Fastest: local (relative hot time 1.00), within the round-trip")
    assert "one pass differs from remote's by 100 ms" in fastest
    assert "inside 2 queries x 80 ms median SELECT 1 round trip = 160 ms" in fastest
    assert "faster than" not in fastest
    assert near["local"].badges[0] == "fastest"

    far = {
        "local": _cell(1.0, 0.50, _floor(2, 0.0002)),
        "remote": _cell(3.0, 1.50, _floor(2, 0.080)),
    }
    fastest = verdicts(far)[0]
    assert "3.0× faster than remote" in fastest and "round-trip" not in fastest

    unmeasured = {"local": _cell(1.0, 0.50, None), "remote": _cell(1.25, 0.60, None)}
    assert "1.2× faster than remote" in verdicts(unmeasured)[0]
    # Only the time verdict is weighed against the floor: cost verdicts are unchanged.
    assert all("round-trip" not in v for v in verdicts(near)[1:])


def test_a_schema_11_store_opens_and_gains_the_round_trip_column(tmp_path):
    path = tmp_path / "r.duckdb"
    with open_store(path) as store:
        store.start_run(
            run_id="run-1", engine="duckdb", workload="tpch", scale=0.01, engine_settings={}
        )
    # Back to schema 11, as the whbench before this wrote it.
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE runs DROP COLUMN round_trip_seconds")
    con.execute("UPDATE meta SET value = '11' WHERE key = 'schema_version'")
    con.close()
    with open_store(path, read_only=True) as store:  # even a reader upgrades it first
        assert store.run("run-1").round_trip_seconds is None  # not measured: unknown
    with open_store(path) as store:
        (version,) = store.con.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchone()
        assert int(version) == SCHEMA_VERSION  # every later migration too
        store.record_round_trip("run-1", {"min": 0.01, "median": 0.02, "n": 5, "sql": "SELECT 1"})
        assert store.run("run-1").round_trip_seconds["median"] == pytest.approx(0.02)
        store.record_round_trip("run-1", None)
        assert store.run("run-1").round_trip_seconds is None


def test_the_report_weighs_the_fastest_margin_against_the_recorded_floors(tmp_path):
    """Through the store and the report model: duckdb's pass is 0.5 s, snowflake's 0.6 s, and
    snowflake's session measured an 80 ms round trip, so two queries carry up to 160 ms of
    network: the matrix's fastest verdict says the margin is within the floor. Snowflake's own
    engine time stands beside its client time in the per-query table."""
    from datetime import UTC, datetime

    from harness.pricing import load_catalog
    from harness.report import write_report
    from harness.store import Attempt

    floors = {"duckdb": 0.0002, "snowflake": 0.080}
    times = {"duckdb": (0.2, 0.3), "snowflake": (0.25, 0.35)}
    with open_store(tmp_path / "r.duckdb") as store:
        for engine, (q1, q2) in times.items():
            run_id = f"run-{engine}"
            store.start_run(
                run_id=run_id,
                engine=engine,
                workload="tpch",
                data_type="structured",
                scale=1.0,
                timeout_seconds=60.0,
                runs_per_query=2,
                checksum_decimals=2,
                engine_settings={"threads": 2, "memory_limit": "6 GiB"}
                if engine == "duckdb"
                else {},
                config={},
            )
            median = floors[engine]
            store.record_round_trip(
                run_id, {"min": median / 2, "median": median, "n": 5, "sql": "SELECT 1"}
            )
            for query, seconds in (("q1", q1), ("q2", q2)):
                for attempt in (1, 2):
                    store.record_attempt(
                        run_id,
                        Attempt(
                            query,
                            attempt,
                            "lukewarm" if attempt == 1 else "hot",
                            "ok",
                            datetime.now(UTC),
                            client_seconds=seconds,
                            # DuckDB reports no engine time; Snowflake does (80 ms less)
                            engine_seconds=None if engine == "duckdb" else seconds - 0.08,
                            rows=1,
                            checksum=f"sum-{query}",
                            answer="unchecked",
                        ),
                    )
            store.finish_run(run_id, "finished")
        data = model.build(store, store.runs(["run-duckdb", "run-snowflake"]), load_catalog())
        write_report(store, None, tmp_path / "r.html")
    (section,) = data.queries
    assert section.round_trips["snowflake"]["median"] == 0.080
    assert section.cells["q1", "snowflake"].engine_hot == pytest.approx(0.17)
    assert section.cells["q1", "snowflake"].engine_median == pytest.approx(0.17)
    assert section.cells["q1", "duckdb"].engine_hot is None  # not reported: not 0
    (row,) = data.matrix.rows
    assert row.cells["snowflake"].round_trip.seconds == pytest.approx(0.16)
    fastest = row.verdicts[0]
    assert fastest.startswith("Fastest: duckdb")
    assert "within the round-trip floor" in fastest and "faster than" not in fastest
    html = (tmp_path / "r.html").read_text()
    assert "engine 170 ms" in html  # beside snowflake's client 250 ms (harness.units.seconds)
    assert "<b>snowflake</b> SELECT 1 x 5, min 40 ms, median 80 ms" in html
    assert "within the round-trip floor" in html


def test_snowflake_with_cold_suspend_does_not_measure_the_floor():
    """With `cold: suspend`, SELECT 1 could resume a suspended warehouse just before the first
    query suspends and resumes it again: one billed resume more, so no floor (None, why)."""
    snowflake = engine_class("snowflake")
    settings = snowflake.settings_class(account="a", user="u", warehouse="wh", cold="suspend")
    assert "cold: suspend" in snowflake(settings).round_trip_refusal()
    plain = snowflake.settings_class(account="a", user="u", warehouse="wh")
    assert snowflake(plain).round_trip_refusal() is None
