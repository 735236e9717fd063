"""The vectors workload: the generator's truth is exact and unambiguous, DuckDB's answers equal
it, and the index query is scored by recall@k (on ClickHouse, which has an index) or recorded as
unsupported (on DuckDB, which has none here)."""

from __future__ import annotations

import dataclasses
import filecmp
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import known_answer_differences, load_into_duckdb

from harness.capabilities import Approximate
from harness.datagen import check_generation, ensure_data, vectors
from harness.errors import WorkloadError
from harness.workloads import get_workload

VECTORS = get_workload("vectors")
SCALE = 5_000


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    workload = load_into_duckdb(tmp_path_factory.mktemp("vectors"), VECTORS, SCALE)
    yield workload
    workload.engine.close()


def _read(folder, table: str) -> dict[str, np.ndarray]:
    """A table's Parquet files as numpy columns, the embeddings as a float64 matrix."""
    parts = [pq.read_table(f) for f in sorted((folder / table).glob("*.parquet"))]
    columns: dict[str, list] = {}
    for part in parts:
        for name in part.column_names:
            columns.setdefault(name, []).extend(part.column(name).to_pylist())
    found = {name: np.array(values, dtype=object) for name, values in columns.items()}
    found["embedding"] = np.array(columns["embedding"], dtype=np.float64)
    return found


def test_every_exact_answer_on_duckdb_is_the_generators(loaded):
    differences = known_answer_differences(VECTORS, loaded, loaded.truth)
    # v07 is the index query: DuckDB has no index here, so ann_items is left empty and the run
    # never sends v07 (unsupported); its known answer is the exact neighbours, scored by recall.
    assert set(differences) == {"v07"}
    assert "recall@10 is 0.00" in differences["v07"]


def test_the_truth_is_the_brute_force_answer_and_clear_of_float_noise(tmp_path):
    data = ensure_data(tmp_path, VECTORS, SCALE)
    items, probes = _read(data.folder, "items"), _read(data.folder, "probes")
    truth, k = data.truth, vectors.K
    x = items["embedding"]
    for probe, vector in zip(probes["probe_id"], probes["embedding"], strict=True):
        cosine = 1 - (x @ vector) / (np.linalg.norm(x, axis=1) * np.linalg.norm(vector))
        l2 = np.linalg.norm(x - vector, axis=1)
        for distances, key in ((cosine, "cosine_top"), (l2, "l2_top")):
            order = np.argsort(distances)
            assert [row[0] for row in truth[key][str(probe)]] == list(items["id"][order[:k]])
            kth, next_one = distances[order[k - 1]], distances[order[k]]
            assert next_one - kth >= vectors.MARGIN * (1 + kth)  # no tie can cut the answer
        kept = (items["category"] == "books") & (items["tenant"] == 3)
        filtered = np.argsort(np.where(kept, cosine, np.inf))[:k]
        assert [row[0] for row in truth["filtered_top"][str(probe)]] == list(items["id"][filtered])
        assert truth["within_threshold"][str(probe)] == int((cosine < vectors.THRESHOLD).sum())
        assert np.abs(cosine - vectors.THRESHOLD).min() >= vectors.MARGIN
    books = items["category"] == "books"
    assert truth["centroids"]["books"]["items"] == int(books.sum())
    assert truth["centroids"]["books"]["mean"] == pytest.approx(x[books].mean(axis=0), abs=1e-12)


def test_the_same_seed_writes_the_same_files_and_another_seed_others(tmp_path):
    first = ensure_data(tmp_path / "a", VECTORS, 2_000)
    again = ensure_data(tmp_path / "b", VECTORS, 2_000)
    other = ensure_data(tmp_path / "c", VECTORS, 2_000, {"seed": 7})
    for table, names in first.files.items():
        for path, twin in zip(names, again.files[table], strict=True):
            assert filecmp.cmp(path, twin, shallow=False), path.name
    assert first.truth == again.truth
    assert other.truth["cosine_top"] != first.truth["cosine_top"]


def test_768_dimensions_load_as_a_768_float_array_with_the_same_answers(tmp_path):
    options = {"dim": 768}
    loaded = load_into_duckdb(tmp_path, VECTORS, 1_000, options)
    try:
        (kind,) = loaded.engine.execute("SELECT typeof(embedding) FROM items LIMIT 1", 60).rows[0]
        assert kind == "FLOAT[768]"
        assert set(known_answer_differences(VECTORS, loaded, loaded.truth)) == {"v07"}
    finally:
        loaded.engine.close()


def test_answers_are_known_only_for_the_parameters_the_truth_was_made_for(loaded):
    asked_more = dataclasses.replace(
        VECTORS,
        queries=tuple(
            dataclasses.replace(q, params={**q.params, "k": 20}) if q.id == "v01" else q
            for q in VECTORS.queries
        ),
    )
    known = vectors.expected_answers(loaded.truth, asked_more)
    assert "v01" not in known and "v02" in known  # a changed k runs unchecked
    assert known["v07"]["approximate"] == Approximate(10, 0.9)
    assert [row[0] for row in known["v07"]["rows"]] == [
        row[0] for row in loaded.truth["cosine_top"]["1"]
    ]


def test_too_few_items_are_refused_before_anything_runs():
    with pytest.raises(WorkloadError, match="at least 1000 items"):
        check_generation(VECTORS, 500, VECTORS.check_options({}))


def test_every_query_names_its_features_and_only_the_index_query_is_approximate():
    for query in VECTORS.queries:
        assert "vector_type" in query.features
        assert (query.approximate is not None) == ("ann_index" in query.features)


def test_duckdb_records_the_index_query_unsupported_and_clickhouse_scores_its_recall(
    whbench, tmp_path
):
    config = tmp_path / "config.yaml"
    config.write_text(
        json.dumps(
            {
                "runs": 2,
                "results_dir": str(tmp_path / "results"),
                "engines": {
                    "duckdb": {"database": str(tmp_path / "duck.duckdb")},
                    "clickhouse": {"path": str(tmp_path / "chdb")},
                },
                "workloads": {"vectors": {"scale": 3000}},
            }
        )
    )
    result = whbench("run", "--config", config, "--json", "--quiet", timeout=600)
    assert result.code == 0, result.stderr
    runs = {run["engine"]: run for run in result.json()}
    answers = {
        engine: {q["query_id"]: q["answer"] for q in run["queries"]} for engine, run in runs.items()
    }
    assert answers["clickhouse"] == {f"v0{n}": "correct" for n in range(1, 8)}
    assert {q: a for q, a in answers["duckdb"].items() if q != "v07"} == {
        f"v0{n}": "correct" for n in range(1, 7)
    }
    exported = tmp_path / "attempts.json"
    for engine, run in runs.items():
        assert whbench("results", "export", run["run_id"], "-o", exported).code == 0
        attempts = json.loads(exported.read_text())
        by_query = {(a["query_id"], a["attempt"]): a for a in attempts}
        v07 = [a for (q, _), a in by_query.items() if q == "v07"]
        exact = [a for (q, _), a in by_query.items() if q != "v07"]
        assert all(a["recall"] is None for a in exact)  # an exact query has no recall
        if engine == "duckdb":
            assert {a["status"] for a in v07} == {"unsupported"}
            assert all(a["recall"] is None for a in v07)
        else:
            assert {a["status"] for a in v07} == {"ok"}
            assert all(0.9 <= a["recall"] <= 1.0 for a in v07)


def test_validate_takes_bigquerys_vector_index_ddl_as_documented_not_as_a_problem():
    from harness.settings import TemplateLimits
    from harness.validate import _documented, validate_workload

    assert _documented("bigquery", "CREATE  VECTOR\nINDEX ann ON t(e) OPTIONS(index_type = 'IVF')")
    assert not _documented("duckdb", "CREATE VECTOR INDEX ann ON t(e)")  # BigQuery's statement
    assert not _documented("bigquery", "CREATE SNAPSHOT TABLE a CLONE b")  # not in the table
    assert validate_workload(VECTORS, TemplateLimits()).problems == []
