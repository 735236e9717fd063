"""One conformance suite for every engine in harness.engines.REGISTRY, each on its local
stand-in (tests/engines/<engine>/standin.py): DuckDB itself, Snowflake on fakesnow, BigQuery on
bqemulator, Redshift on PostgreSQL behind a protocol shim. The same tests run on each: answers
(every query of every bundled workload, value by value against the DuckDB baseline), loading,
the time limit, cancelling, the session settings and clean-up.

What a stand-in cannot do that the real engine can is one of its `gaps`, named by the error it
gives. Such a test checks that the gap is still there, then reports an expected failure; once the
stand-in closes the gap, the test fails, so the gap goes.

An engine in the registry without a stand-in, or a bundled workload without a conformance data
set here, fails the suite's collection by name: nothing is skipped or tested in its place.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import standins
from conftest import at_once, run_engines
from standins import StandIn, expect

from harness.config import parse_config
from harness.datagen import ensure_data
from harness.engines import engine_class
from harness.engines.base import QueryCancelled, QueryTimeout, TableData
from harness.workloads import Renderer, Workload, discover, get_workload

BASELINE = "duckdb"  # every answer is compared with DuckDB's; DuckDB's with the known answers

# Each bundled workload's small data set for the suite (its `workloads:` entry in a config). A
# workload bundled in workloads/ must have one: the suite fails naming it otherwise.
CONFORMANCE = {
    "tpch": {"scale": 0.01},
    "events": {"scale": 25000, "options": {"days": 1}},
    "text": {"scale": 3000},
    "timeseries": {"scale": 6000, "options": {"days": 2}},  # the least scale two days allow
    "vectors": {"scale": 2000},  # 2,000 embeddings of 128 floats
    "shop": {},  # your data: shipped files, Snowflake SQL translated for each engine
}


def conformance_workloads(
    bundled: dict[str, Workload], declared: dict[str, dict]
) -> dict[str, Workload]:
    """The bundled workloads the suite runs, each with a conformance data set declared."""
    if missing := sorted(set(bundled) - set(declared)):
        raise standins.MissingStandIn(
            f"workload {missing[0]!r} is bundled ({bundled[missing[0]].path}) but has no "
            "conformance data set in tests/engines/test_conformance.py: add a small scale (and "
            "options) to CONFORMANCE"
        )
    if stale := sorted(set(declared) - set(bundled)):
        raise standins.MissingStandIn(
            f"CONFORMANCE in tests/engines/test_conformance.py names workload {stale[0]!r}, "
            "which is not bundled: remove it"
        )
    return bundled


def collect() -> tuple[dict[str, StandIn], dict[str, Workload]]:
    """The engines (from the registry, each with its stand-in) and workloads the suite runs."""
    engines = standins.for_registry()
    workloads = conformance_workloads(discover(), CONFORMANCE)
    subjects = {*workloads, *(q.id for w in workloads.values() for q in w.queries)}
    for stand_in in engines.values():
        standins.check_gaps(stand_in, subjects)
    return engines, workloads


STAND_INS, WORKLOADS = standins.at_collection(collect)


# -- answers ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, data_dir):
    """(engine, workload) -> query id -> what is wrong with the engine's answer (None: right),
    from one `whbench run` of DuckDB and a stand-in, compared value by value from the store.
    DuckDB's own answers come from the same runs (checked against the known answers)."""
    import subprocess

    import yaml
    from conftest import WHBENCH, Result

    runs_done: dict[tuple[str, str], tuple] = {}

    def run(engine: str, workload: str, stand_in) -> tuple:
        if (engine, workload) in runs_done:
            return runs_done[engine, workload]
        root = tmp_path_factory.mktemp(f"{engine}-{workload}")
        engines = {BASELINE: {"database": ":memory:"}}
        if engine != BASELINE:
            engines[engine] = stand_in(engine)
        config = root / "config.yaml"
        chosen = {workload: CONFORMANCE[workload]}
        settings = {"runs": 1, "results_dir": "results", "data_dir": str(data_dir)}
        config.write_text(yaml.safe_dump({**settings, "engines": engines, "workloads": chosen}))

        def whbench(*args, env=None):
            done = subprocess.run([*WHBENCH, *args], cwd=root, capture_output=True, text=True)
            return Result(done.returncode, done.stdout, done.stderr)

        if tuning := STAND_INS[engine].after_load.get(workload):  # the stand-in's own
            whbench("load", "--config", config, "-e", engine)
            run_statements(engine, stand_in(engine), tuning)
        runs_done[engine, workload] = (root, *run_engines(whbench, config))
        return runs_done[engine, workload]

    problems: dict[tuple[str, str], dict[str, str | None]] = {}

    def outcome(engine: str, workload: str, stand_in) -> dict[str, str | None]:
        if (engine, workload) not in problems:
            root, by_query, runs = run(engine, workload, stand_in)  # the baseline beside it
            problems[engine, workload] = answer_problems(root, engine, workload, by_query, runs)
        return problems[engine, workload]

    outcome.run = run  # (root, by_query, runs) of the same runs: test_a_run_records_where_it_ran
    return outcome


def run_statements(name: str, settings: dict, statements: tuple[str, ...]) -> None:
    """Run `statements` on engine `name` with `settings`, through the harness's own engine."""
    engine = engine_class(name)(parse_config({"engines": {name: settings}}).engines[name])
    engine.connect()
    try:
        for statement in statements:
            engine.statement(statement)
    finally:
        engine.close()


def answer_problems(root: Path, engine: str, workload: str, by_query, runs) -> dict:
    """Query id -> its failure, a wrong answer against the known answer, or how its kept
    answer differs from DuckDB's (harness.answers.compare, the report's own rule)."""
    from harness.answers import compare, shape_of
    from harness.store import open_store

    spec = WORKLOADS[workload]
    if runs[engine]["status"] != "finished":
        return {q.id: f"run failed: {runs[engine]['error']}" for q in spec.queries}
    problems: dict[str, str | None] = {}
    with open_store(root / "results" / "results.duckdb", read_only=True) as store:
        kept = {run["engine"]: store.results(run["run_id"]) for run in runs.values()}
        sql = store.query_sql(runs[engine]["run_id"])
    for query in spec.queries:
        mine = by_query[query.id][engine]
        if mine["status"] == "unsupported":  # declared in the engine's features.yaml: expected
            problems[query.id] = None
        elif mine["status"] != "ok":
            problems[query.id] = f"{mine['status']}: {mine['error']}"
        elif mine["answer"] == "wrong":
            problems[query.id] = f"wrong against the known answer: {mine['difference']}"
        elif engine == BASELINE:
            problems[query.id] = None
        elif query.id not in kept[BASELINE]:  # the baseline lacks a feature: the known answer
            problems[query.id] = None if mine["answer"] == "correct" else "no answer to check"
        else:
            difference = compare(
                kept[BASELINE][query.id].rows,
                kept[engine][query.id].rows,
                lambda text=sql[query.id]: shape_of(text, engine_class(engine).dialect),
                spec.answers.tolerance(query.id),
            )
            problems[query.id] = difference and f"differs: {difference.rule}"
    return problems


ANSWER_CASES = [
    pytest.param(engine, workload, query.id, id=f"{engine}-{workload}-{query.id}")
    for engine in STAND_INS
    for workload, spec in WORKLOADS.items()
    for query in spec.queries
]


@pytest.mark.parametrize(("engine", "workload", "query"), ANSWER_CASES)
def test_every_answer_equals_the_baseline(engine, workload, query, outcomes, stand_in):
    problem = outcomes(engine, workload, stand_in)[query]
    declared = STAND_INS[engine]
    expect(declared, workload if workload in declared.gaps else query, problem)


def stored_where(root: Path, runs: dict) -> dict[str, dict | None]:
    """Engine -> the endpoint its run stored (runs.endpoint)."""
    from harness.store import open_store

    with open_store(root / "results" / "results.duckdb", read_only=True) as store:
        return {name: store.run(run["run_id"]).endpoint for name, run in runs.items()}


def stand_in_ports(settings: dict) -> set[str]:
    """The ports a stand-in's settings reach it on: a `port`, or one in a URL."""
    import re

    ports = {str(settings["port"])} if settings.get("port") else set()
    for value in settings.values():
        if isinstance(value, str):
            ports |= set(re.findall(r"//(?:127\.0\.0\.1|localhost):(\d+)", value))
    return ports


def where_problem(stored: dict | None, settings: dict) -> str | None:
    """What is wrong with a stand-in run's recorded endpoint: a server stand-in is "local" at
    the port its settings name; one in whbench's process is "embedded", with no address."""
    ports = stand_in_ports(settings)
    if not ports:
        expected_kind = "embedded"
        right = stored == {"kind": "embedded", "address": None}
    else:
        expected_kind = "local"
        address = (stored or {}).get("address") or ""
        right = (stored or {}).get("kind") == "local" and address.rsplit(":", 1)[-1] in ports
    return None if right else f"recorded {stored!r}, expected {expected_kind} {sorted(ports)}"


@pytest.mark.parametrize("name", list(STAND_INS))
def test_a_run_records_where_it_ran(name, outcomes, stand_in):
    """From the tpch run the answers are checked on (no run of its own): the stand-in's run
    stored the address its client really talked to, and DuckDB's run beside it "embedded"."""
    root, _, runs = outcomes.run(name, "tpch", stand_in)
    assert runs[name]["status"] == "finished", runs[name]["error"]
    stored = stored_where(root, runs)
    assert stored[BASELINE] == {"kind": "embedded", "address": None}
    problem = where_problem(stored[name], stand_in(name))
    assert problem is None, problem


# -- one engine, directly -------------------------------------------------------------------------
@pytest.fixture(params=list(STAND_INS))
def engine(request, stand_in):
    name = request.param
    settings = parse_config({"engines": {name: stand_in(name)}}).engines[name]
    engine = engine_class(name)(settings)
    engine.connect()
    yield engine
    engine.close()


def load_region(engine, data_dir, namespace: str, files=None):
    tpch = get_workload("tpch")
    data = ensure_data(data_dir, tpch, 0.01)
    region = next(t for t in tpch.tables if t.name == "region")
    table = data.table_data("region")
    if files is not None:
        table = TableData(table.data_set, "region", files)
    renderer = Renderer(tpch, engine.dialect, 0.01)
    statements = renderer.table_statements(region, engine.source_uris(table))
    return engine.load(namespace, table, statements)


def test_a_table_loads_whole_or_not_at_all(engine, data_dir):
    engine.drop("whb_conformance")
    loaded = load_region(engine, data_dir, "whb_conformance")
    assert (loaded.table, loaded.rows) == ("region", 5) and loaded.seconds > 0
    assert engine.existing_tables("whb_conformance") == {"region"}
    engine.drop("whb_conformance")
    with pytest.raises(Exception):  # noqa: B017 (each driver raises its own)
        load_region(engine, data_dir, "whb_conformance", (Path("missing.parquet"),))
    assert "region" not in engine.existing_tables("whb_conformance")
    engine.drop("whb_conformance")


def test_a_query_returns_rows_columns_and_a_time(engine):
    result = engine.execute("SELECT 1 AS one, 'a' AS letter", 60)
    assert result.rows == [(1, "a")] and result.client_seconds > 0
    assert [c.lower() for c in result.columns] == ["one", "letter"]


def stop_problem(engine, timeout_seconds: float, stopped_by: type, failure: str) -> str | None:
    """Run the engine's slow query: None when `stopped_by` ended it within 30 s (and the
    connection still works), else `failure` and what happened instead."""
    started = time.monotonic()
    try:
        engine.execute(STAND_INS[engine.name].slow_sql, timeout_seconds)
        return failure
    except stopped_by:
        assert time.monotonic() - started < 30
        assert engine.execute("SELECT 1", 60).rows == [(1,)]  # still usable
        return None
    except Exception as exc:  # the stand-in cannot run the slow query at all
        return f"{failure}: {type(exc).__name__}: {exc}"


def test_the_time_limit_stops_a_query(engine):
    expect(STAND_INS[engine.name], "timeout", stop_problem(engine, 1, QueryTimeout, "no timeout"))


def test_cancel_stops_the_query_in_flight(engine):
    threading.Timer(1.0, engine.cancel).start()
    expect(
        STAND_INS[engine.name], "cancel", stop_problem(engine, 60, QueryCancelled, "not cancelled")
    )


def test_session_settings_turn_the_result_cache_off_or_say_why_not(engine, data_dir):
    engine.drop("whb_conformance")
    load_region(engine, data_dir, "whb_conformance")
    engine.prepare_session("whb_conformance", "conformance-run", 60)
    assert engine.execute("SELECT count(*) FROM region", 60).rows == [(5,)]
    refused = [n for n in engine.notes if n.startswith("could not turn the result cache off")]
    assert (engine.result_cache == "not turned off") == bool(refused)
    engine.drop("whb_conformance")
    problem = None if engine.result_cache in ("off", "none") else engine.result_cache
    expect(STAND_INS[engine.name], "result cache", problem)


def test_clean_lists_and_drops_only_what_whbench_created(engine, data_dir):
    for namespace in ("whb_conformance_a", "whb_conformance_b"):
        engine.drop(namespace)
        load_region(engine, data_dir, namespace)
    assert {"whb_conformance_a", "whb_conformance_b"} <= set(engine.namespaces())
    engine.drop("whb_conformance_a")
    assert "whb_conformance_a" not in engine.namespaces()
    assert engine.existing_tables("whb_conformance_b") == {"region"}
    engine.drop("whb_conformance_b")
    for foreign in ("main", "public", "analytics", "whb_x; DROP SCHEMA main"):
        with pytest.raises(Exception, match="refusing to touch"):
            engine.drop(foreign)


def test_sessions_of_their_own_run_queries_at_once(engine, data_dir):
    """Under load each stream has a session of its own (`open_session`): two run a query at
    the same time, each with its settings, and closing them leaves the first one working."""
    engine.drop("whb_conformance")
    load_region(engine, data_dir, "whb_conformance")
    results = at_once(engine, "whb_conformance", "SELECT count(*) FROM region")
    assert [r.rows for r in results] == [[(5,)], [(5,)]]
    assert engine.execute("SELECT 1", 60).rows == [(1,)]
    engine.drop("whb_conformance")
