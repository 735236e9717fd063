"""Capabilities as data: every engine declares every feature, bad names are one-line errors, and
a query needing a feature the engine lacks is recorded as `unsupported` — not a failure, not a
silent skip — in the run's summary, `whbench results show` and the export."""

from __future__ import annotations

import inspect
import json
import shutil
from pathlib import Path

import pytest
import yaml

from harness.capabilities import (
    EMULATED,
    LEVELS,
    NATIVE,
    UNSUPPORTED,
    read_declarations,
    unsupported_reason,
    vocabulary,
)
from harness.engines import REGISTRY, engine_class
from harness.errors import ConfigError, WorkloadError
from harness.paths import bundled
from harness.workloads import read_workload


@pytest.mark.parametrize("engine", sorted(REGISTRY))
def test_every_engine_declares_every_feature_with_a_reason(engine):
    declared = engine_class(engine).features()
    assert sorted(declared) == sorted(vocabulary())
    for name, support in declared.items():
        assert support.level in LEVELS, name
        if support.level != NATIVE:  # how it is emulated, or why not: said in words
            assert support.note.strip(), f"{engine} {name}"
        assert (support.source or "").startswith("https://"), f"{engine} {name} has no source"


def test_a_subclass_inherits_its_base_engines_declarations():
    # MotherDuck has no features.yaml of its own: it runs DuckDB's SQL, so DuckDB's file holds.
    package = Path(inspect.getfile(engine_class("motherduck"))).parent
    assert not (package / "features.yaml").exists()
    assert engine_class("motherduck").features() == engine_class("duckdb").features()


def test_what_the_issue_names_is_declared_as_the_vendors_say():
    level = {name: engine_class(name).features() for name in REGISTRY}
    assert level["redshift"]["vector_type"].level == UNSUPPORTED
    assert level["bigquery"]["asof_join"].level in (UNSUPPORTED, EMULATED)
    for engine in ("duckdb", "clickhouse", "snowflake"):
        assert level[engine]["asof_join"].level == NATIVE
    assert level["bigquery"]["ann_index"].level == NATIVE
    assert level["clickhouse"]["ann_index"].level == NATIVE
    assert level["databricks"]["ann_index"].level == UNSUPPORTED


def test_an_unknown_feature_in_a_declaration_is_one_line(tmp_path):
    file = tmp_path / "features.yaml"
    file.write_text("regex: native\nvector_serch: {unsupported: no}\n")
    with pytest.raises(ConfigError) as raised:
        read_declarations(file)
    message = str(raised.value)
    assert "vector_serch" in message and "\n" not in message


def test_an_unsupported_declaration_without_a_reason_is_refused(tmp_path):
    file = tmp_path / "features.yaml"
    file.write_text("regex: {unsupported: ''}\n")
    with pytest.raises(ConfigError, match="regex"):
        read_declarations(file)


def _text_workload(folder: Path, name: str, features: dict[str, list[str]]) -> Path:
    """A copy of the bundled text workload named `name`, its queries given `features`."""
    target = folder / name
    shutil.copytree(bundled("workloads") / "text", target)
    spec = yaml.safe_load((target / "workload.yaml").read_text())
    spec["name"] = name
    for query in spec["queries"]:
        if query["id"] in features:
            query["features"] = features[query["id"]]
    (target / "workload.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return target


def test_an_unknown_feature_in_a_workload_is_one_line(tmp_path):
    folder = _text_workload(tmp_path, "textf", {"t01": ["regex", "serch_function"]})
    with pytest.raises(WorkloadError) as raised:
        read_workload(folder)
    message = str(raised.value)
    assert "serch_function" in message and "t01" in message and "\n" not in message


def test_approximate_is_parsed_and_checked(tmp_path):
    folder = _text_workload(tmp_path, "textf", {})
    spec = yaml.safe_load((folder / "workload.yaml").read_text())
    spec["queries"][0]["approximate"] = {"k": 10, "min_recall": 0.9}
    (folder / "workload.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    query = read_workload(folder).query("t01")
    assert (query.approximate.k, query.approximate.min_recall) == (10, 0.9)
    spec["queries"][0]["approximate"] = {"k": 10, "min_recall": 1.5}
    (folder / "workload.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    with pytest.raises(WorkloadError, match="min_recall"):
        read_workload(folder)


def test_the_reason_names_the_engine_the_feature_and_why():
    declared = engine_class("redshift").features()
    reason = unsupported_reason("redshift", declared, ("vector_distance", "knn_join"))
    assert reason.startswith("redshift does not support")
    assert "vector_distance" in reason and declared["vector_distance"].note in reason
    assert unsupported_reason("redshift", declared, ("regex",)) is None


@pytest.fixture
def unsupported_run(tmp_path, make_config, whbench):
    """A DuckDB run of two text queries: t01 needs DuckDB's missing search function, t10 needs
    nothing; gap_fill (emulated on DuckDB) is named on t10 so the run records the emulation."""
    folder = _text_workload(
        tmp_path / "mine", "textf", {"t01": ["search_function"], "t10": ["gap_fill"]}
    )
    config = make_config(
        workload_dirs=[str(folder.parent)],
        workloads={"textf": {"scale": 200, "queries": ["t01", "t10"]}},
    )
    result = whbench("run", "--config", config)
    return config, result


def test_an_unsupported_query_is_a_result_not_a_failure(unsupported_run, whbench, workdir):
    config, result = unsupported_run
    assert result.code == 0, result.stderr  # not a failure: the run's exit status says so
    assert "1 unsupported on duckdb: t01" in result.stdout
    assert "t01" not in result.stderr  # not listed among problems
    (run,) = whbench("results", "list", "--config", config, "--json").json()
    shown = whbench("results", "show", run["run_id"], "--config", config, "--json").json()
    t01 = [a for a in shown["attempts"] if a["query_id"] == "t01"]
    assert t01 and {a["status"] for a in t01} == {"unsupported"}
    assert all("duckdb does not support" in a["error"] for a in t01)
    assert {a["status"] for a in shown["attempts"] if a["query_id"] == "t10"} == {"ok"}
    # what the engine emulated is kept with the run, as declared when it ran
    recorded = shown["run"]["engine_settings"]["features"]
    assert recorded["gap_fill"]["level"] == EMULATED
    assert recorded["search_function"]["level"] == UNSUPPORTED
    text = whbench("results", "show", run["run_id"], "--config", config).stdout
    assert "t01 unsupported: duckdb does not support" in text
    assert "gap_fill emulated:" in text
    out = workdir / "export.json"
    exported = whbench("results", "export", run["run_id"], "-o", out, "--config", config)
    assert exported.code == 0, exported.stderr
    statuses = {(r["query_id"], r["status"]) for r in json.loads(out.read_text())}
    assert statuses == {("t01", "unsupported"), ("t10", "ok")}


def test_same_answer_as_must_name_a_query_of_the_workload(tmp_path):
    folder = _text_workload(tmp_path, "textf", {})
    spec = yaml.safe_load((folder / "workload.yaml").read_text())
    spec["queries"][0]["same_answer_as"] = "t99"
    (folder / "workload.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    with pytest.raises(WorkloadError, match="same_answer_as"):
        read_workload(folder)


def test_native_search_queries_carry_the_answers_of_the_regex_forms_they_mirror():
    from harness.answers import Expected
    from harness.runner import mirrored_answers
    from harness.workloads import get_workload

    text = get_workload("text")
    for native, regex in (("t12", "t01"), ("t13", "t02")):
        query = text.query(native)
        assert query.features == ("search_function",) and query.same_answer_as == regex
        assert query.title.endswith("(native search)")
    known = {"t01": Expected([(7,)], "truth"), "t02": Expected([(9,)], "truth")}
    mirrored = mirrored_answers(dict(known), text)
    assert mirrored["t12"] is known["t01"] and mirrored["t13"] is known["t02"]


def test_native_search_finds_the_regex_forms_documents_where_there_is_one(make_config, whbench):
    # ClickHouse (chDB) has hasTokenCaseInsensitive: t12/t13 are checked against t01/t02's
    # known answers. DuckDB has no search function here (fts is not bundled): unsupported.
    config = make_config(
        engines={"duckdb": {"database": ":memory:"}, "clickhouse": {}},
        workloads={"text": {"scale": 3000, "queries": ["t01", "t02", "t12", "t13"]}},
    )
    result = whbench("run", "--config", config, "--json")
    assert result.code == 0, result.stderr
    by_engine = {run["engine"]: {q["query_id"]: q for q in run["queries"]} for run in result.json()}
    for query in ("t01", "t02", "t12", "t13"):
        assert by_engine["clickhouse"][query]["answer"] == "correct", query
    for query in ("t12", "t13"):
        assert by_engine["duckdb"][query]["status"] == "unsupported"
    assert by_engine["clickhouse"]["t12"]["checksum"] == by_engine["duckdb"]["t01"]["checksum"]


def test_an_unsupported_query_is_not_part_of_a_pass_nor_of_the_bill(unsupported_run):
    # One pass is every query the engine can run, once: t01 is left out because DuckDB cannot
    # run it (no search function), so the pass keeps a time and a cost; the unsupported
    # attempts held the engine for no time at all.
    from harness.config import load_config
    from harness.engines import billing_for
    from harness.pricing import attempt_span, load_catalog
    from harness.store import open_store

    config, result = unsupported_run
    assert result.code == 0, result.stderr
    settings = load_config(config)
    with open_store(settings.store_path, read_only=True) as store:
        (run,) = store.runs(store.latest_run_ids())
        attempts = store.attempts(run.run_id)
    assert {a.status for a in attempts if a.query_id == "t01"} == {"unsupported"}
    assert all(attempt_span(a) is None for a in attempts if a.status == "unsupported")
    one_pass = billing_for(run, load_catalog()).price_performance(attempts)
    assert one_pass.queries == 1  # t10 only
    assert one_pass.seconds is not None and one_pass.cost.dollars is not None
