"""`whbench compare`: the statistics on their own, then the gate through the real CLI on two
real DuckDB runs, one with a query made slower on purpose."""

from __future__ import annotations

import json

import pytest
from conftest import assert_one_line_error
from test_cli_errors import broken_workload

from harness.compare import compare
from harness.stats import mann_whitney_p, smallest_p


def attempts(query_id: str, seconds: list[float], status: str = "ok") -> list[dict]:
    return [
        {
            "query_id": query_id,
            "phase": "cold" if i == 0 else "hot",
            "status": status,
            "client_seconds": s if status == "ok" else None,
        }
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


def test_verdicts_need_both_a_big_enough_change_and_significance():
    base = [
        *attempts("q1", [1.0, 1.01, 0.99, 1.0, 1.02]),
        *attempts("q2", [1.0, 1.01, 0.99, 1.0, 1.02]),
        *attempts("q3", [1.0, 1.01, 0.99, 1.0, 1.02]),
        *attempts("q4", [1.0, 1.1, 0.9, 1.0, 1.05]),
        *attempts("q5", [1.0, 1.0]),
    ]
    new = [
        *attempts("q1", [2.0, 2.1, 1.9, 2.0, 2.05]),  # twice as slow, every time
        *attempts("q2", [1.05, 1.06, 1.04, 1.05, 1.07]),  # significant, but under the threshold
        *attempts("q3", [0.5, 0.51, 0.49, 0.5, 0.52]),
        *attempts("q4", [1.3, 0.8, 1.0, 1.4, 0.9]),  # noisy: not significant
        *attempts("q5", [0, 0], status="error"),
    ]
    verdicts = {c.query_id: c.verdict for c in compare(base, new, threshold=1.1, alpha=0.05)}
    assert verdicts == {
        "q1": "slower",
        "q2": "unchanged",
        "q3": "faster",
        "q4": "unchanged",
        "q5": "failed",
    }


def test_the_gate_fails_on_a_real_slowdown_and_passes_on_the_same_code(
    whbench, make_config, workdir
):
    fast = make_config(
        "fast.yaml", runs=6, workloads={"tpch": {"scale": 0.01, "queries": ["q01", "q06"]}}
    )
    slow_sql = (
        "SELECT sum(l_extendedprice * l_discount) AS revenue FROM lineitem, "
        "(SELECT range FROM range(300)) AS slower"
    )
    root = broken_workload(workdir, "q06", slow_sql)
    slow = make_config(
        "slow.yaml",
        runs=6,
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
    assert changes["q06"]["p_value"] < 0.05


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
