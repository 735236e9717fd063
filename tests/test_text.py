"""The text workload: DuckDB's answers must equal what the generator recorded it put in."""

from __future__ import annotations

import filecmp

import pytest
from conftest import known_answer_differences, load_into_duckdb

from harness.datagen import ensure_data
from harness.workloads import get_workload

TEXT = get_workload("text")
SCALE = 20_000


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    workload = load_into_duckdb(tmp_path_factory.mktemp("text"), TEXT, SCALE)
    yield workload.truth, workload.run, workload
    workload.engine.close()


def test_keyword_search_finds_every_inserted_keyword_in_any_case(loaded):
    truth, run, _ = loaded
    assert run("t01") == [(truth["refund_documents"],)]
    assert 0.08 * SCALE < truth["refund_documents"] < 0.12 * SCALE  # the stated rate


def test_and_or_search(loaded):
    truth, run, _ = loaded
    assert run("t02") == [(truth["and_or_documents"],)]


def test_regex_counts_of_emails_phones_order_ids_and_urls(loaded):
    truth, run, _ = loaded
    assert run("t03") == [
        (SCALE, truth["emails"], truth["phones"], truth["order_ids"], truth["urls"])
    ]


def test_email_domains_add_up_to_the_emails(loaded):
    truth, run, _ = loaded
    rows = run("t04")
    assert {domain for domain, _ in rows} == {"example.com", "mail.example.org", "example.net"}
    assert sum(count for _, count in rows) == truth["emails"]


def test_length_distribution_covers_every_document(loaded):
    _, run, _ = loaded
    assert sum(count for _, count in run("t05")) == SCALE


def test_top_words_are_the_zipf_head_with_exact_counts(loaded):
    truth, run, _ = loaded
    assert [list(row) for row in run("t06")] == truth["top_words"]
    assert truth["top_words"][0][0] == "the"


def test_phrase_and_prefix_counts(loaded):
    truth, run, _ = loaded
    assert run("t07") == [(truth["phrase_occurrences"],)]
    assert run("t08") == [(truth["prefix_documents"],)]


def test_sentiment_by_channel(loaded):
    truth, run, _ = loaded
    found = {channel: mean for channel, _docs, mean in run("t09")}
    assert found == pytest.approx(truth["mean_sentiment_by_channel"], abs=1e-9)


def test_documents_by_channel_and_language(loaded):
    truth, run, _ = loaded
    found = {f"{channel}/{language}": n for channel, language, n in run("t10")}
    assert found == truth["documents_by_channel_language"]


def test_orders_per_day_add_up(loaded):
    truth, run, _ = loaded
    rows = run("t11")
    assert sum(orders for _day, _docs, orders in rows) == truth["order_ids"]
    assert all(docs == orders for _day, docs, orders in rows)  # one order id per document


def test_same_seed_gives_identical_files(tmp_path):
    first = ensure_data(tmp_path / "a", TEXT, 2_000)
    again = ensure_data(tmp_path / "b", TEXT, 2_000)
    other = ensure_data(tmp_path / "c", TEXT, 2_000, {"seed": 1})
    name = "documents/documents.0001.parquet"
    assert filecmp.cmp(first.folder / name, again.folder / name, shallow=False)
    assert not filecmp.cmp(first.folder / name, other.folder / name, shallow=False)


def test_the_answers_checked_at_run_time_match_and_a_wrong_truth_is_caught(loaded):
    truth, _, workload = loaded
    assert known_answer_differences(TEXT, workload, truth) == {}
    tampered = {**truth, "top_words": [[w, n + 1] for w, n in truth["top_words"]]}
    assert set(known_answer_differences(TEXT, workload, tampered)) == {"t06"}
