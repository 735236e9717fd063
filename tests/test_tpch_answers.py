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
def sf1(make_config, workdir, data_dir):
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
            # One database for both tests: the second finds SF 1 loaded.
            engines={"duckdb": {"database": str(data_dir / "tpch-sf1.duckdb")}},
            workloads={"tpch": {"scale": 1}},
            **({"workload_dirs": ["mine"]} if changed else {}),
        )

    return make


def answers(whbench, run_id: str) -> dict[str, str]:
    whbench("results", "export", run_id, "--format", "json", "-o", "export.json")
    return {a["query_id"]: a["answer"] for a in json.loads(Path("export.json").read_text())}


def test_a_changed_query_is_reported_wrong_and_the_rest_right(whbench, sf1):
    result = whbench("run", "--config", sf1(changed=True), "--quiet")
    assert result.code == 1
    assert result.stderr.strip().splitlines() == [
        "duckdb tpch q01: wrong answer against the TPC-H answer set: column 3 is 37734108.00 "
        "where 37734107.00 was expected (numbers within 0.01 or 0.000000001 relative, looser "
        "for some columns)"
    ]
    assert "answers: 21/22 correct (TPC-H answer set); wrong: q01" in result.stdout
    found = answers(whbench, result.stdout.split()[0])
    assert found.pop("q01") == "wrong"
    assert len(found) == 21 and set(found.values()) == {"correct"}


def test_the_bundled_query_gives_the_answer_set(whbench, sf1):
    # The other 21 bundled queries were shown right above (the copy differs only in q01).
    result = whbench("run", "--config", sf1(changed=False), "--quiet", "-q", "q01")
    assert result.code == 0, result.stderr
    assert "answers: 1/1 correct (TPC-H answer set)" in result.stdout
    assert answers(whbench, result.stdout.split()[0]) == {"q01": "correct"}
