"""`whbench compare`: the statistics on their own, then the gate through the real CLI on two
real DuckDB runs, one with a query made slower on purpose."""

from __future__ import annotations

import json
import math
import random

import duckdb
import pytest
import stored_rows
from conftest import assert_one_line_error
from test_cli_errors import broken_workload

from harness.compare import compare, summary
from harness.stats import holm, mann_whitney_p, smallest_p
from harness.store.rows import StoredAttempt


def attempts(query_id: str, seconds: list[float], status: str = "ok") -> list[StoredAttempt]:
    return [
        stored_rows.attempt(
            run_id=None,  # synthetic: a run the gate knows nothing about
            workload=None,
            scale=None,
            query_id=query_id,
            attempt=i + 1,
            phase="cold" if i == 0 else "hot",
            status=status,
            client_seconds=s if status == "ok" else None,
        )
        for i, s in enumerate([1.0, *seconds])  # a cold attempt, which is left out
    ]


def test_mann_whitney_exact_values():
    assert mann_whitney_p([1, 2, 3, 4], [5, 6, 7, 8]) == pytest.approx(2 / 70)  # full separation
    assert mann_whitney_p([1, 2, 3], [4, 5, 6]) == pytest.approx(0.1)  # the best 3 vs 3 can do
    assert mann_whitney_p([1, 1, 1], [1, 1, 1]) == 1.0
    assert mann_whitney_p([1, 3, 5, 7], [2, 4, 6, 8]) > 0.5  # interleaved: no evidence
    assert smallest_p(3, 3) == pytest.approx(0.1)


def test_large_samples_use_the_normal_approximation_and_still_separate():
    assert mann_whitney_p(list(range(40)), [x + 30 for x in range(40)]) < 1e-6
    assert mann_whitney_p(list(range(40)), list(range(40))) > 0.9


def test_holm_by_hand():
    # Sorted: 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04, but never below the one before.
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([]) == []


def noisy(centre: float, n: int = 10, seed: int = 0) -> list[float]:
    """n times around `centre` with 2% noise, the same for a given seed."""
    rng = random.Random(seed)
    return [centre * math.exp(rng.gauss(0, 0.02)) for _ in range(n)]


def test_a_whole_process_running_slower_is_drift_not_eight_regressions():
    """The new process runs every query 12% slower (the machine, not the code); on top of that
    one query is 1.5x slower and one twice as fast, and one fails. Beyond the drift only
    those are changes; the old per-query test would have called all eight 'slower'."""
    base, new = [], []
    for q in range(8):
        base += attempts(f"q{q}", noisy(1.0, seed=q))
        new += attempts(f"q{q}", noisy(1.12, seed=100 + q))
    base += attempts("slow", noisy(1.0, seed=20)) + attempts("fast", noisy(1.0, seed=21))
    new += attempts("slow", noisy(1.12 * 1.5, seed=22)) + attempts("fast", noisy(0.56, seed=23))
    base += attempts("broken", noisy(1.0, seed=24))
    new += attempts("broken", [0] * 10, status="error")
    changes, drift = compare([base], [new])
    verdicts = {c.query_id: c.verdict for c in changes}
    assert verdicts == {
        **{f"q{q}": "unchanged" for q in range(8)},
        "slow": "slower",
        "fast": "faster",
        "broken": "failed",
    }
    assert drift.factor == pytest.approx(1.12, rel=0.03) and drift.low < 1.12 < drift.high
    by_id = {c.query_id: c for c in changes}
    assert by_id["slow"].adjusted_factor == pytest.approx(1.5, rel=0.05)
    assert by_id["q0"].factor > 1.10 and by_id["q0"].holm_p >= 0.01
    assert by_id["slow"].detectable < 1.1  # 2% noise, 9 attempts a side
    result = summary(changes, drift)
    assert result["regressed"] and not result["workload"]["slower"]


def test_the_whole_workload_slower_beyond_doubt_fails_the_gate():
    base, new = [], []
    for q in range(10):
        base += attempts(f"q{q}", noisy(1.0, seed=q))
        new += attempts(f"q{q}", noisy(1.6, seed=50 + q))
    changes, drift = compare([base], [new])
    assert {c.verdict for c in changes} == {"unchanged"}  # every query moved alike
    result = summary(changes, drift)
    assert result["workload"]["slower"] and result["regressed"]


def test_too_few_attempts_to_see_anything_is_said():
    base = [a for q in range(4) for a in attempts(f"q{q}", noisy(1.0, n=3, seed=q))]
    new = [a for q in range(4) for a in attempts(f"q{q}", noisy(2.0, n=3, seed=9 + q))]
    result = summary(*compare([base], [new]))
    assert result["too_few_attempts"]


def test_the_gate_fails_on_a_real_slowdown_and_passes_on_the_same_code(
    whbench, make_config, workdir
):
    fast = make_config(
        "fast.yaml", runs=10, workloads={"tpch": {"scale": 0.01, "queries": ["q01", "q06"]}}
    )
    slow_sql = (
        "SELECT sum(l_extendedprice * l_discount) AS revenue FROM lineitem, "
        "(SELECT range FROM range(300)) AS slower"
    )
    root = broken_workload(workdir, "q06", slow_sql)
    slow = make_config(
        "slow.yaml",
        runs=10,
        workload_dirs=[str(root)],
        workloads={"tpch": {"scale": 0.01, "queries": ["q01", "q06"]}},
    )
    run_ids = []
    for config in (fast, fast, slow):
        result = whbench("run", "--config", config, "--quiet", "--json")
        run_ids.append(result.json()[0]["run_id"])

    # Millisecond queries move by tens of percent from one process to the next (the machine,
    # not the code): a gate on them needs a generous threshold.
    same = whbench(
        "compare", run_ids[0], run_ids[1], "--config", fast, "--json", "--threshold", "2"
    )
    assert same.code == 0, same.stdout + same.stderr
    assert json.loads(same.stdout)["verdicts"].get("slower", 0) == 0

    export = workdir / "base.json"
    whbench("results", "export", run_ids[0], "--config", fast, "-o", export)
    gate = whbench("compare", "--baseline", export, run_ids[2], "--config", fast, "--json")
    assert gate.code == 1
    changes = {c["query_id"]: c for c in json.loads(gate.stdout)["changes"]}
    assert changes["q06"]["verdict"] == "slower" and changes["q06"]["factor"] > 2
    assert changes["q06"]["holm_p"] < 0.01


def test_compare_needs_two_runs_or_a_baseline(whbench, make_config):
    config = make_config()
    assert_one_line_error(
        whbench("compare", "abc", "--config", config), "give BASE and NEW", code=2
    )
    assert_one_line_error(
        whbench("compare", "--baseline", "nope.json", "x", "y", "--config", config),
        "with --baseline, give only the NEW run id",
        code=2,
    )


def test_several_processes_a_side_set_each_querys_own_noise_floor():
    """Three processes a side, run in turn. 'wobbly' moves by up to 30% from one process to
    the next: its pooled median moves 1.17x, but not beyond how far it wanders between
    processes. 'steady' moves 1.3x in every new process: slower. Eight others stay put."""

    def side(centres: dict[str, list[float]], seed: int) -> list[list[StoredAttempt]]:
        runs = []
        for process in range(3):
            run = []
            for query, values in centres.items():
                run += attempts(
                    query, noisy(values[process], seed=seed + 10 * process + len(query))
                )
            runs.append(run)
        return runs

    steady = {f"q{q}": [1.0, 1.0, 1.0] for q in range(8)}
    base = side({**steady, "wobbly": [1.0, 1.3, 0.8], "steady": [1.0, 1.0, 1.0]}, seed=1)
    new = side({**steady, "wobbly": [1.25, 1.0, 1.35], "steady": [1.3, 1.3, 1.3]}, seed=2)
    changes, _ = compare(base, new)
    by_id = {c.query_id: c for c in changes}
    assert by_id["steady"].verdict == "slower"
    wobbly = by_id["wobbly"]
    assert wobbly.verdict == "unchanged" and wobbly.adjusted_factor > 1.1
    assert wobbly.detectable > wobbly.adjusted_factor  # its own floor: ~1.4x
    assert {by_id[f"q{q}"].verdict for q in range(8)} == {"unchanged"}


def test_interleaved_sides_run_in_turn_in_one_process_and_are_compared(
    whbench, make_config, workdir
):
    """`--interleave A B`: a change in the workload (q06 made slower in a shadow copy) runs
    beside the original in one process, attempt by attempt, A B then B A; the comparison
    names q06 and nothing else, without the one-run-a-side warning.

    The planted change must be one no noise can hide or fake. q06 over lineitem x range(30)
    was 1.55x slower, and on a loaded 2-core machine the comparison could see changes above
    1.11x to 1.60x only: 2 runs in 9 failed. Over range(1000) q06 is about 20x slower, and the
    threshold is 2x (millisecond queries move by tens of percent under load, as in the test
    above): q06 is slower by an order of magnitude more than any noise, q01 would have to
    double between turns of one process to be named."""
    chosen = {"tpch": {"scale": 0.01, "queries": ["q01", "q06"]}}
    a = make_config("a.yaml", workloads=chosen)
    slow_sql = (
        "SELECT sum(l_extendedprice * l_discount) AS revenue FROM lineitem, "
        "(SELECT range FROM range(1000)) AS slower"
    )
    b = make_config(
        "b.yaml", workloads=chosen, workload_dirs=[str(broken_workload(workdir, "q06", slow_sql))]
    )
    result = whbench("compare", "--interleave", a, b, "--runs", "8", "--threshold", "2", "--json")
    assert result.code == 1, result.stdout + result.stderr
    compared = result.json()
    changes = {c["query_id"]: c for c in compared["changes"]}
    assert {query: c["verdict"] for query, c in changes.items()} == {
        "q01": "unchanged",
        "q06": "slower",
    }, result.stdout
    assert changes["q06"]["factor"] > 2 * compared["threshold"]
    assert not any("one run a side" in w for w in compared["warnings"])
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    order = con.execute(
        "SELECT a.run_id, a.query_id, a.attempt FROM attempts a JOIN runs r USING (run_id) "
        "ORDER BY a.started_at"
    ).fetchall()
    (invocations,) = con.execute("SELECT count(DISTINCT invocation_id) FROM runs").fetchone()
    con.close()
    base, new = compared["base"], compared["new"]
    assert invocations == 1 and len(order) == 2 * 2 * 8
    # Per query, attempt 1: A then B; attempt 2: B then A; and so on.
    q01 = [(run, number) for run, query, number in order if query == "q01"]
    assert q01[:4] == [(base, 1), (new, 1), (new, 2), (base, 2)]
