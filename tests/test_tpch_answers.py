"""TPC-H at SF 1 on DuckDB through `whbench run`: every answer is checked at run time against
the specification's answer set (workloads/tpch/answers/sf1, from the TPC-H 3.0.1 kit), and a
workload whose q01 is changed is caught."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.paths import bundled

pytestmark = pytest.mark.slow


@pytest.fixture
def sf1(make_config, workdir):
    """A config running TPC-H SF 1 once per query, with a copy of the bundled workload whose
    q01 returns sum(l_quantity) + 1 in a workload_dirs folder when `changed`."""

    def make(changed: bool):
        if changed:
            copy = workdir / "mine" / "tpch"
            shutil.copytree(bundled("workloads") / "tpch", copy)
            q01 = copy / "queries" / "q01.sql.j2"
            text = q01.read_text()
            assert "sum(l_quantity) as sum_qty" in text
            q01.write_text(text.replace("sum(l_quantity) as", "sum(l_quantity) + 1 as"))
        return make_config(
            runs=1,
            workloads={"tpch": {"scale": 1}},
            **({"workload_dirs": ["mine"]} if changed else {}),
        )

    return make


def answers(whbench, run_id: str) -> dict[str, str]:
    whbench("results", "export", run_id, "--format", "json", "-o", "export.json")
    return {a["query_id"]: a["answer"] for a in json.loads(Path("export.json").read_text())}


def test_the_bundled_workload_gives_the_answer_set(whbench, sf1):
    result = whbench("run", "--config", sf1(changed=False), "--quiet")
    assert result.code == 0, result.stderr
    assert "answers: 22/22 correct (TPC-H answer set)" in result.stdout
    run_id = result.stdout.split()[0]
    assert set(answers(whbench, run_id).values()) == {"correct"}


def test_a_changed_query_is_reported_wrong_and_fails_the_run(whbench, sf1):
    result = whbench("run", "--config", sf1(changed=True), "--quiet")
    assert result.code == 1
    assert result.stderr.strip().splitlines() == [
        "duckdb tpch q01: wrong answer against the TPC-H answer set: column 3 is 37734108.00 "
        "where 37734107.00 was expected (numbers within 0.01 or 1e-09 relative, looser for "
        "some columns)"
    ]
    assert "answers: 21/22 correct (TPC-H answer set); wrong: q01" in result.stdout
    found = answers(whbench, result.stdout.split()[0])
    assert found.pop("q01") == "wrong"
    assert len(found) == 21 and set(found.values()) == {"correct"}
