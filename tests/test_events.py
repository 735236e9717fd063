"""The events workload: DuckDB's answers must equal what the generator recorded it put in."""

from __future__ import annotations

import filecmp

import pytest
from conftest import known_answer_differences, load_into_duckdb

from harness.datagen import ensure_data
from harness.errors import WorkloadError
from harness.workloads import get_workload

EVENTS = get_workload("events")
SCALE = 60_000


def loaded(data_dir, **options):
    """(truth, run query id -> rows) for events generated with `options`, loaded into DuckDB."""
    workload = load_into_duckdb(data_dir, EVENTS, SCALE, options)
    return workload.truth, workload.run, workload


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    return loaded(tmp_path_factory.mktemp("events"))


@pytest.fixture(scope="module")
def gappy(tmp_path_factory):
    return loaded(tmp_path_factory.mktemp("events"), gap_minutes=7)


def test_events_by_type_add_up_to_what_was_generated(healthy):
    truth, run, _ = healthy
    by_type: dict[str, int] = {}
    for _day, event_type, count in run("e02"):
        by_type[event_type] = by_type.get(event_type, 0) + count
    assert by_type == truth["events_by_type"]
    assert sum(by_type.values()) == truth["events"] == SCALE
    assert truth["events_by_type"]["product_view"] > truth["events_by_type"]["add_to_cart"]
    assert truth["events_by_type"]["add_to_cart"] > truth["purchases"] > 0  # skewed


def test_nested_path_filter_counts_match(healthy):
    truth, run, _ = healthy
    counts = {category: views for category, views, _avg in run("e03")}
    assert counts == truth["expensive_product_views_by_category"]
    assert all(avg > 50 for _c, _v, avg in run("e03"))


def test_revenue_from_unnested_cart_items_matches(healthy):
    truth, run, _ = healthy
    ((orders, items, revenue),) = run("e04")
    assert orders == truth["purchases"]
    assert items == truth["items_sold"]
    assert revenue == pytest.approx(truth["revenue"], abs=0.005)


def test_top_search_queries_match(healthy):
    truth, run, _ = healthy
    expected = sorted(truth["searches_by_query"].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert run("e07") == expected


def test_schema_drift_query_finds_every_key_of_every_type(healthy):
    truth, run, _ = healthy
    found: dict[str, list[str]] = {}
    for event_type, key, count in run("e09"):
        found.setdefault(event_type, []).append(key)
        assert count == truth["events_by_type"][event_type]
    assert found == truth["property_keys"]


def test_purchases_by_country_and_plan_add_up(healthy):
    truth, run, _ = healthy
    assert sum(count for _c, _p, count in run("e13")) == truth["purchases"]


def test_funnel_narrows(healthy):
    _, run, _ = healthy
    ((sessions, viewed, carted, purchased),) = run("e05")
    assert sessions > viewed > carted > purchased > 0


def test_healthy_pipeline_reports_no_gap(healthy):
    truth, run, _ = healthy
    assert truth["late_hours"] == {}
    assert run("e11") == []
    hourly = run("e12")
    assert len(hourly) == truth["hours"] == 14 * 24
    assert sum(count for _hour, count in hourly) == truth["events"]


def test_injected_gap_is_reported_exactly(gappy):
    truth, run, _ = gappy
    late = {hour.strftime("%Y-%m-%d %H:00"): minutes for hour, _events, minutes in run("e11")}
    assert late == truth["late_hours"]
    assert len(late) == 14 * 24 and set(late.values()) == {7}


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path):
    first = ensure_data(tmp_path / "a", EVENTS, 25_000, {"days": 1})
    again = ensure_data(tmp_path / "b", EVENTS, 25_000, {"days": 1})
    other = ensure_data(tmp_path / "c", EVENTS, 25_000, {"days": 1, "seed": 7})
    for name in ("events.0001.parquet", "events.0001.ndjson"):
        a, b, c = (d.folder / "events" / name for d in (first, again, other))
        assert filecmp.cmp(a, b, shallow=False)
        assert not filecmp.cmp(a, c, shallow=False)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"gap_minutes": 75}, r"gap_minutes 75 is out of range; choose 0 to 59"),
        ({"gap_minutes": -1}, r"gap_minutes -1 is out of range"),
        ({"gap": 5}, r"no parameter 'gap'; its parameters: --days, --gap-minutes, --seed"),
        ({"days": "many"}, r"days must be a whole number"),
    ],
)
def test_bad_parameters_are_refused(options, message):
    with pytest.raises(WorkloadError, match=message):
        EVENTS.check_options(options)


def test_scale_too_small_for_the_days_is_refused(tmp_path):
    with pytest.raises(WorkloadError, match=r"too small for 14 days"):
        ensure_data(tmp_path, EVENTS, 5_000)
    assert list(tmp_path.glob("events/*")) == []  # nothing half-written left behind


def test_gap_through_the_cli(whbench, make_config, data_dir):
    config = make_config(workloads={"events": {"scale": 25000, "options": {"days": 1}}})
    result = whbench(
        "run", "--config", config, "--json", "--quiet", "-q", "e11", "--gap-minutes", "5"
    )
    assert result.code == 0, result.stderr
    (run,) = result.json()
    assert run["queries"][0]["rows"] == 24
    assert (data_dir / "events" / "sf25000__days1__gap_minutes5").is_dir()  # its own data set
    bad = whbench("run", "--config", config, "--gap-minutes", "90")
    assert bad.code == 2 and "gap_minutes 90 is out of range" in bad.stderr


def test_a_partial_data_folder_is_regenerated_not_loaded(tmp_path):
    folder = tmp_path / "events" / "sf25000__days1"
    (folder / "events").mkdir(parents=True)
    (folder / "events" / "events.0001.parquet").write_bytes(b"cut short")  # no manifest
    data = ensure_data(tmp_path, EVENTS, 25_000, {"days": 1})
    assert data.generated_seconds is not None  # generated again, not taken from the cache
    assert data.truth["events"] == 25_000
    assert (folder / "manifest.json").exists()
    assert (folder / "events" / "events.0001.parquet").read_bytes()[:4] == b"PAR1"


def test_unwritable_data_folder_is_a_clear_error(whbench, make_config, workdir):
    (workdir / "blocker").write_text("a file where a folder should be")
    config = make_config(data_dir="blocker/data", workloads={"events": {"scale": 25000}})
    result = whbench("generate", "--config", config)
    assert result.code == 1 and "Traceback" not in result.stderr
    assert "cannot write generated data under blocker/data" in result.stderr


def test_unknown_workload_parameter_on_the_command_line(whbench, make_config):
    result = whbench("run", "--config", make_config(), "--gap-minutes", "5")
    assert result.code == 2
    assert "workload tpch has no parameter 'gap_minutes'; its parameters: none" in result.stderr


def test_the_answers_checked_at_run_time_match_and_a_wrong_truth_is_caught(healthy, gappy):
    # What `whbench run` checks every events run against: the generator's record.
    for truth, _, workload in (healthy, gappy):
        assert known_answer_differences(EVENTS, workload, truth) == {}
    truth, _, workload = healthy
    tampered = {**truth, "items_sold": truth["items_sold"] + 1}
    assert set(known_answer_differences(EVENTS, workload, tampered)) == {"e04"}
