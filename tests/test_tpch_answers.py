"""TPC-H at SF 1 on DuckDB through the harness's own engine, renderer and generator must give
the specification's answer set (tests/data/tpch-answers-sf1, from the TPC-H 3.0.1 kit)."""

from __future__ import annotations

import pytest
from tpch_answers import differences

from harness.datagen import ensure_data
from harness.engines.duckdb import DuckDBEngine, DuckDBSettings
from harness.workloads import Renderer, get_workload

pytestmark = pytest.mark.slow
TPCH = get_workload("tpch")


@pytest.fixture(scope="module")
def loaded_engine(data_dir):
    data = ensure_data(data_dir, TPCH, 1.0)
    engine = DuckDBEngine(DuckDBSettings(database=":memory:"))
    engine.connect()
    renderer = Renderer(TPCH, engine.dialect, 1.0)
    namespace = TPCH.namespace(1.0)
    for table in TPCH.tables:
        files = data.table_files(table.name)
        engine.load(
            namespace,
            table.name,
            files,
            renderer.table_statements(table, engine.source_uris(table.name, files)),
        )
    engine.prepare_session(namespace, "answers-test", 300)
    yield engine, renderer
    engine.close()


@pytest.mark.parametrize("query", TPCH.queries, ids=lambda q: q.id)
def test_sf1_answer_matches_the_specification(loaded_engine, query):
    engine, renderer = loaded_engine
    result = engine.execute(renderer.query(query.id), timeout_seconds=300)
    assert differences(int(query.id[1:]), result.rows) == []
