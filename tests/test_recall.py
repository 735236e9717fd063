"""recall@k: how an approximate query's answer is scored, and where its recall is kept (the
store's attempts, a schema 13 store upgraded, the export)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import duckdb

from harness.answers import AnswerRules, Expected, Shape, Tolerance, check, recall_of
from harness.answers import expected_answers as read_expected
from harness.capabilities import Approximate
from harness.store import SCHEMA_VERSION, Attempt, Store, open_store

EXACT = [(11,), (12,), (13,), (14,), (15,), (16,), (17,), (18,), (19,), (20,)]


def approximate(min_recall: float = 0.9) -> Expected:
    return Expected(EXACT, "vectors generator's truth", approximate=Approximate(10, min_recall))


def test_recall_is_the_share_of_the_exact_neighbours_among_the_first_k_ids():
    nine = [(i,) for i in (11, 12, 13, 14, 15, 16, 17, 18, 19, 99)]
    assert recall_of(approximate(), nine) == 0.9
    # order and extra columns (a distance) do not matter; rows past k do not count
    shuffled = [(i, 0.5) for i in (20, 19, 18, 17, 16, 15, 14, 13, 12, 11)] + [(7, 0.9)]
    assert recall_of(approximate(), shuffled) == 1.0
    past_k = [(i,) for i in range(100, 110)] + EXACT
    assert recall_of(approximate(), past_k) == 0.0
    # an id as text or a decimal (answer files, some drivers) is the same id
    assert recall_of(approximate(), [(str(i),) for (i,) in EXACT[:5]]) == 0.5
    assert recall_of(approximate(), [(Decimal(i),) for (i,) in EXACT]) == 1.0


def test_an_exact_query_has_no_recall():
    assert recall_of(Expected(EXACT, "truth"), EXACT) is None
    assert recall_of(None, EXACT) is None


def test_an_approximate_answer_is_right_at_min_recall_and_wrong_below_it():
    at_minimum = [(i,) for i in (11, 12, 13, 14, 15, 16, 17, 18, 19, 99)]
    assert check(approximate(0.9), at_minimum, Shape, Tolerance()) is None
    below = [(i,) for i in (11, 12, 13, 14, 15, 16, 17, 18, 98, 99)]
    difference = check(approximate(0.9), below, Shape, Tolerance())
    assert difference is not None
    assert "recall@10 is 0.80, below the 0.9" in difference.rule
    assert "8 of the 10" in difference.rule
    assert difference.expected == [(19,), (20,)] and difference.actual == [(98,), (99,)]
    assert difference.against == "the vectors generator's truth"


def test_the_generators_approximate_rule_reaches_the_known_answer():
    rule = Approximate(10, 0.9)  # the query's, from workload.yaml
    generated = {"v07": {"rows": [[i] for (i,) in EXACT], "approximate": rule}}
    known = read_expected(None, AnswerRules(), generated)
    assert known["v07"].approximate == Approximate(10, 0.9)
    assert read_expected(None, AnswerRules(), {"v01": {"rows": [[1]]}})["v01"].approximate is None


def start(store: Store, run_id: str) -> None:
    store.start_run(
        run_id=run_id,
        engine="clickhouse",
        workload="vectors",
        scale=1000,
        engine_settings={},
        config={},
    )


def attempt(query_id: str, recall: float | None) -> Attempt:
    return Attempt(query_id, 1, "cold", "ok", datetime.now(UTC), 0.5, recall=recall)


def test_recall_is_kept_per_attempt_exported_and_none_for_exact_queries(tmp_path):
    path = tmp_path / "r.duckdb"
    with open_store(path) as store:
        start(store, "run-1")
        store.record_attempt("run-1", attempt("v01", None))
        store.record_attempt("run-1", attempt("v07", 0.8))
        store.record_attempt("run-1", attempt("v08", 0.0))  # none found: 0, not unknown
        exact, approx, missed = store.attempts("run-1")
        store.export("run-1", "json", tmp_path / "attempts.json")
        store.export("run-1", "csv", tmp_path / "attempts.csv")
    assert (exact.recall, approx.recall, missed.recall) == (None, 0.8, 0.0)
    exported = json.loads((tmp_path / "attempts.json").read_text())
    assert [(a["query_id"], a["recall"]) for a in exported] == [
        ("v01", None),
        ("v07", 0.8),
        ("v08", 0.0),
    ]
    header = (tmp_path / "attempts.csv").read_text().splitlines()[0].split(",")
    assert "recall" in header


def test_a_schema_13_store_and_its_journal_open_without_recall(tmp_path):
    path = tmp_path / "r.duckdb"
    with open_store(path) as store:
        start(store, "run-1")
        store.record_attempt("run-1", attempt("v01", None))
    # Back to schema 13, as whbench wrote it before the recall column.
    con = duckdb.connect(str(path))
    con.execute("DROP VIEW attempt_details")
    con.execute("ALTER TABLE attempts DROP COLUMN recall")
    con.execute("CREATE VIEW attempt_details AS SELECT a.*, NULL AS excluded FROM attempts a")
    con.execute("UPDATE meta SET value = '13' WHERE key = 'schema_version'")
    con.close()
    old_line = {  # a journal line an older whbench left, without recall
        "run_id": "run-1",
        "query_id": "v02",
        "attempt": 1,
        "phase": "hot",
        "status": "ok",
        "started_at": datetime.now(UTC).isoformat(),
    }
    path.with_name(path.name + ".journal").write_text(json.dumps(old_line) + "\n")
    with open_store(path, read_only=True) as store:  # a reader upgrades it first
        first, second = store.attempts("run-1")
        (version,) = store.con.execute("SELECT value FROM meta").fetchone()
    assert int(version) == SCHEMA_VERSION == 15
    assert (first.recall, second.recall) == (None, None)
    assert first.title is None and first.excluded is None  # the view is whole again
    with open_store(path) as store:  # and keeps recall from then on
        store.record_attempt("run-1", attempt("v07", 1.0))
        assert store.attempts("run-1")[-1].recall == 1.0


def test_the_run_listing_counts_unsupported_attempts_apart_from_failures(tmp_path):
    with open_store(tmp_path / "r.duckdb") as store:
        start(store, "run-1")
        store.record_attempt("run-1", attempt("v01", None))
        unsupported = Attempt("v07", 1, "cold", "unsupported", datetime.now(UTC), error="no index")
        store.record_attempt("run-1", unsupported)
        store.record_attempt("run-1", Attempt("v02", 1, "cold", "error", datetime.now(UTC)))
        (listed,) = store.list_runs()
    assert (listed.attempts, listed.failed) == (3, 1)  # the error, not the unsupported query


def test_the_judge_gives_each_attempt_its_recall_and_exact_queries_none():
    from harness.measure import Judge
    from harness.plan import PlannedQuery

    query = PlannedQuery("v07", "index search", "select id from ann_items", False, "duckdb")
    judge = Judge(query, 3, Tolerance(3), approximate(0.9))
    nine = [(i,) for i in (11, 12, 13, 14, 15, 16, 17, 18, 19, 99)]
    assert judge.of(nine, ("id",))[1] == "correct" and judge.recall == 0.9
    assert judge.of(nine[:5], ("id",))[1] == "wrong" and judge.recall == 0.5
    exact = Judge(query, 3, Tolerance(3), Expected(EXACT, "truth"))
    assert exact.of(EXACT, ("id",))[1] == "correct" and exact.recall is None
