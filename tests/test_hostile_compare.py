"""`whbench compare` as a CI gate given the wrong runs: each case must stop the gate with exit 2
and one line naming the cause (a run compared with itself, runs of different workloads,
scales, workload options or data), never pass it with a verdict on times that measured
different work. Through the real CLI, on real DuckDB runs in one store."""

from __future__ import annotations

import pytest
import stored_rows
from conftest import assert_one_line_error

from harness.compare import RunAttempts, check_comparable
from harness.errors import UsageError

TPCH = {"scale": 0.01, "queries": ["q01", "q06"]}


def test_a_gate_given_the_wrong_runs_stops_with_one_line(whbench, make_config, workdir):
    def run(name: str, **workloads) -> str:
        config = make_config(name, workloads=workloads)
        result = whbench("run", "--config", config, "--quiet", "--json")
        assert result.code == 0, result.stderr
        return result.json()[0]["run_id"]

    tpch, tpch_again = run("tpch.yaml", tpch=TPCH), run("tpch.yaml", tpch=TPCH)
    bigger = run("bigger.yaml", tpch={**TPCH, "scale": 0.02})
    text = run("text.yaml", text={"scale": 100, "queries": ["t01", "t02"]})
    fewer_days = run(
        "days.yaml", text={"scale": 100, "queries": ["t01", "t02"], "options": {"days": 10}}
    )
    config = workdir / "tpch.yaml"
    exports = {}
    for run_id in (tpch, bigger):
        exports[run_id] = workdir / f"{run_id}.json"
        exported = whbench("results", "export", run_id, "--config", config, "-o", exports[run_id])
        assert exported.code == 0, exported.stderr

    # (case, compare's arguments, what the one line must say)
    table = [
        ("the same run twice", [tpch, tpch], [f"run {tpch} is on both sides"]),
        ("a run and its own export", ["--baseline", exports[tpch], tpch], ["on both sides"]),
        ("a run twice on one side", [f"{tpch},{tpch}", tpch_again], ["twice on the base side"]),
        ("different workloads", [tpch, text], ["different workloads", "tpch", "text"]),
        ("different scales", [tpch, bigger], ["different scales", "scale 0.01", "scale 0.02"]),
        ("different scales, base exported", ["--baseline", exports[bigger], tpch], ["scales"]),
        ("different scales on one side", [f"{tpch},{bigger}", tpch_again], ["scales"]),
        ("different workload options", [text, fewer_days], ["workload options", '"days": 10']),
    ]
    for case, arguments, fragments in table:
        result = whbench("compare", *arguments, "--config", config, "--json")
        try:
            assert_one_line_error(result, *fragments, code=2)
        except AssertionError as exc:
            raise AssertionError(f"{case}: {exc}") from None
        assert not result.stdout, f"{case}: a refused gate prints no verdict"

    # The control: two runs of the same workload, scale and data are compared (exit 0 or 1).
    fair = whbench("compare", tpch, tpch_again, "--config", config, "--json")
    assert fair.code in (0, 1) and "Traceback" not in fair.stderr, fair.stderr
    assert {c["query_id"] for c in fair.json()["changes"]} == {"q01", "q06"}


def store_run(run_id: str, **run) -> RunAttempts:
    """A run as the store gives it: its attempts (with the view's workload and scale) and its
    row of the runs table."""
    row = stored_rows.run(
        **{"run_id": run_id, "workload": "mine", "scale": 1.0, "workload_options": {}, **run}
    )
    attempt = stored_rows.attempt(run_id=run_id, workload=row.workload, scale=row.scale)
    return RunAttempts([attempt], row)


@pytest.mark.parametrize(
    ("base", "new", "message"),
    [
        (
            store_run("a", namespace="whb_mine_data_0badc0de"),
            store_run("b", namespace="whb_mine_data_5ca1ab1e"),
            "different data (your data's files changed): data 0badc0de (a) against data "
            "5ca1ab1e (b)",
        ),
        (
            store_run("a", workload_options={"seed": 1}),
            store_run("b", workload_options={"seed": 2}),
            'different workload options: {"seed": 1} (a) against {"seed": 2} (b)',
        ),
        (store_run("a"), store_run("a"), "run a is on both sides"),
    ],
    ids=["your data changed", "options", "same run"],
)
def test_runs_that_measured_different_work_are_refused(base, new, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_comparable([base], [new])


def test_what_is_not_known_is_not_held_against_a_run():
    """An exported file knows workload and scale, not options or data; synthetic attempts
    (the statistics' own tests) know nothing: neither is refused for what it cannot say."""
    exported = RunAttempts([stored_rows.attempt(run_id="x", workload="mine", scale=1.0)])
    check_comparable([exported], [store_run("y", workload_options={"seed": 3})])
    unknown = stored_rows.attempt(run_id=None, workload=None, scale=None)
    check_comparable([[unknown]], [[unknown]])
