"""The report's capability matrix, and what the verdicts say of emulations and of queries an
engine could not run (harness/report/capabilities.py)."""

from __future__ import annotations

import re
from types import SimpleNamespace

from harness.capabilities import vocabulary
from harness.engines import REGISTRY, engine_class
from harness.report.capabilities import capability_matrix, capability_verdicts
from harness.workloads import DATA_TYPES


def test_the_matrix_has_every_feature_on_every_engine_grouped_by_data_type():
    found = capability_matrix()
    assert sorted(found.engines) == sorted(REGISTRY)
    types = [g.data_type for g in found.groups]
    assert types == sorted(types, key=DATA_TYPES.index)  # the report's data-type order
    rows = {row.feature: row for group in found.groups for row in group.rows}
    assert sorted(rows) == sorted(vocabulary())
    for group in found.groups:
        assert {vocabulary()[row.feature].data_type for row in group.rows} == {group.data_type}
    for feature, row in rows.items():
        for engine in REGISTRY:
            assert row.cells[engine] == engine_class(engine).features()[feature]


def _table(workload, runs, cells):
    return SimpleNamespace(workload=workload, runs=runs, cells=cells)


def _run(features):
    return SimpleNamespace(engine_settings={"threads": 2, "features": features})


def test_a_win_resting_on_an_emulation_says_so_and_how():
    how = "the dialect macro picks the latest row at or before with a window"
    table = _table(
        "timeseries",
        {
            "bigquery": _run({"asof_join": {"level": "emulated", "note": how}}),
            "duckdb": _run({"asof_join": {"level": "native", "note": ""}}),
        },
        {},
    )
    (sentence,) = capability_verdicts([table], winners=["bigquery"])
    assert sentence.startswith("bigquery's win rests partly on emulation")
    assert f"asof_join: {how}" in sentence
    # a native winner: nothing to say
    assert capability_verdicts([table], winners=["duckdb"]) == []


def test_unsupported_queries_are_listed_per_engine_apart_from_failures():
    cells = {
        ("v01", "redshift"): SimpleNamespace(status="unsupported"),
        ("v02", "redshift"): SimpleNamespace(status="unsupported"),
        ("v01", "duckdb"): SimpleNamespace(status="ok"),
        ("v02", "duckdb"): SimpleNamespace(status="error"),  # a failure: not listed here
    }
    (sentence,) = capability_verdicts([_table("vectors", {}, cells)], winners=[])
    assert re.match(
        r"Unsupported on redshift \(.*not failures.*\): vectors v01, vectors v02\.$", sentence
    )
    # an engine that won while leaving queries out: its win is over less work, and it says so
    (sentence,) = capability_verdicts([_table("vectors", {}, cells)], winners=["redshift"])
    assert sentence.endswith("pass and bill leave them out, so its win here is over less work.")


def test_the_report_shows_the_matrix_and_unsupported_cells_as_such(make_config, whbench, workdir):
    config = make_config(workloads={"text": {"scale": 500, "queries": ["t01", "t12"]}})
    assert whbench("run", "--config", config).code == 0
    result = whbench("report", "--config", config)
    assert result.code == 0, result.stderr
    html = (workdir / "results" / "report.html").read_text()
    assert 'id="capabilities"' in html and "What each engine does natively" in html
    # the per-query cell reads "unsupported", muted with the reason, not as a failure
    assert re.search(r'<span class="muted" title="duckdb does not support[^"]*">unsupported<', html)
    assert '<span class="fail" title="duckdb does not support' not in html
    assert "Unsupported on duckdb" in html and "text t12" in html
    assert "http://" not in html and "https://" not in html  # it opens, and stays, offline


def test_an_approximate_querys_recall_stands_beside_its_time(make_config, whbench, workdir):
    # v07 goes through an ANN index: ClickHouse has one (vector_similarity), DuckDB has none
    # here (vss is not bundled), so it is unsupported there.
    config = make_config(
        engines={"duckdb": {"database": ":memory:"}, "clickhouse": {}},
        workloads={"vectors": {"scale": 2000, "queries": ["v01", "v07"]}},
    )
    assert whbench("run", "--config", config).code == 0
    assert whbench("report", "--config", config).code == 0
    html = (workdir / "results" / "report.html").read_text()
    assert re.search(r'title="recall@k[^"]*">recall [01]\.\d\d<', html)
    assert re.search(r'title="duckdb does not support[^"]*">unsupported<', html)
