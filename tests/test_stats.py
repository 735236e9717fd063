"""The one set of statistics: a median with an even count is the mean of the two middles
everywhere (cells, one-pass time, cost, gate), and a query's attempts are summarised once."""

from __future__ import annotations

import statistics

import pytest
import stored_rows

from harness.stats import geometric_mean, median, percentile, timing
from harness.store.rows import StoredAttempt


@pytest.mark.parametrize("values", [[3.0], [4.0, 1.0], [1.0, 2.0, 10.0, 20.0], [5, 1, 4, 2, 3]])
def test_median_is_the_textbook_one(values):
    assert median(values) == statistics.median(values)
    assert percentile(values, 0.5) == pytest.approx(median(values))


def test_percentiles_interpolate_between_neighbours():
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0.0) == 10.0 and percentile(values, 1.0) == 40.0
    assert percentile(values, 0.95) == pytest.approx(38.5)


def test_geometric_mean():
    assert geometric_mean([1.0, 4.0]) == pytest.approx(2.0)
    assert geometric_mean([]) is None


def attempt(phase, seconds, status="ok", excluded=None) -> StoredAttempt:
    return stored_rows.attempt(
        phase=phase, client_seconds=seconds, status=status, excluded=excluded
    )


def test_a_query_s_attempts_are_summarised_once_for_everyone():
    times = timing(
        [
            attempt("cold", 5.0),
            attempt("hot", 2.0),
            attempt("hot", 1.0, excluded="result cache hit"),
            attempt("hot", None, status="error"),
            attempt("hot", 3.0),
        ]
    )
    assert (times.first, times.first_kind, times.best_hot) == (5.0, "cold", 2.0)
    assert times.times == [5.0, 2.0, 3.0] and times.median == 3.0
    assert times.spread == (2.0, 5.0) and times.excluded == 1
    assert times.compared == [2.0, 3.0]
    only_first = timing([attempt("lukewarm", 4.0)])
    assert only_first.compared == [4.0] and only_first.best_hot is None
