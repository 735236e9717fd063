"""TPC-H at SF 1 on DuckDB through the harness's own engine, renderer and generator must give
the specification's answer set (tests/data/tpch-answers-sf1, from the TPC-H 3.0.1 kit)."""

from __future__ import annotations

import pytest
from conftest import load_into_duckdb
from tpch_answers import differences

from harness.workloads import get_workload

pytestmark = pytest.mark.slow
TPCH = get_workload("tpch")


@pytest.fixture(scope="module")
def loaded(data_dir):
    workload = load_into_duckdb(data_dir, TPCH, 1.0)
    yield workload
    workload.engine.close()


@pytest.mark.parametrize("query", TPCH.queries, ids=lambda q: q.id)
def test_sf1_answer_matches_the_specification(loaded, query):
    assert differences(int(query.id[1:]), loaded.run(query.id)) == []
