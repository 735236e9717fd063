"""MotherDuck's billing rules: worked examples by hand.

Sources, read 2026-12-06:
- https://motherduck.com/docs/about-motherduck/billing/pricing/ : compute metered per second;
  Standard, Jumbo, Mega and Giga Ducklings billed for wall-clock time; Pulse per query with a
  minimum of 1 CU-second per query; storage $0.0025685 per GB per day ("$0.08 per 31-day
  month"), in the version of the page that could be read.
- https://motherduck.com/docs/about-motherduck/billing/duckling-sizes/ : default cooldowns
  (Pulse 1 s, Standard and Jumbo 60 s, Mega 5 min, Giga 10 min), configurable for all but Pulse.
- https://motherduck.com/docs/sql-reference/motherduck-sql-reference/shutdown-terminate/ :
  "You will always be billed for a minimum of 60 seconds" (what it attaches to is not said;
  the rules apply it per start).

MotherDuck's dollar rate per Duckling size could NOT be read (its compute table), so nothing is
bundled: the bundled catalog prices compute "unknown". The worked examples below give the rules
an EXAMPLE rate of $2.00 an hour for a Standard Duckling, which is this test's number, not
MotherDuck's.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
import stored_rows

from harness.engines import billing_for
from harness.pricing import Catalog, Cost, load_catalog
from harness.settings import Pattern
from harness.store.rows import StoredAttempt, StoredRun

BUNDLED = load_catalog()
AT = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
EXAMPLE_RATE = 2.00  # USD per Standard-Duckling hour: this test's, not MotherDuck's


def example_catalog(size: str = "standard", rate: float = EXAMPLE_RATE) -> Catalog:
    section = copy.deepcopy(BUNDLED.section("motherduck"))
    section["ducklings"][size]["hour"] = {
        "price": rate,
        "unit": f"USD per hour ({size} Duckling; an example rate for the test)",
        "source": "tests/test_billing_motherduck.py",
        "as_of": "2026-12-06",
    }
    return Catalog({"motherduck": section}, "the test's example rates")


def run(duckling: str | None = "standard", cooldown: int | None = None) -> StoredRun:
    settings = {"duckling": duckling, "cooldown_seconds": cooldown}
    return stored_rows.run(engine="motherduck", engine_settings=settings, started_at=AT)


def attempt(start: float, took: float, **more) -> StoredAttempt:
    return stored_rows.attempt(
        started_at=AT + timedelta(seconds=start),
        ended_at=AT + timedelta(seconds=start + took),
        client_seconds=took,
        **more,
    )


def test_a_standard_duckling_bills_its_queries_and_one_cooldown():
    # Queries 0-4 s and 10-16 s: 10 s apart at most, under the 60 s cooldown, so one start, up
    # from 0 s to 16 s and then 60 s of cooldown: 76 s x $2.00/h = $0.04222.
    bill = billing_for(run(), example_catalog()).run_bill([attempt(0, 4), attempt(10, 6)])
    assert bill.cost.dollars == pytest.approx(76 / 3600 * EXAMPLE_RATE)
    assert bill.cost.basis == "modelled"
    assert "1 start(s)" in bill.explain[0] and "76 s billed per second" in bill.explain[0]
    assert "SHUTDOWN page" in bill.explain[0]  # the minimum's source, and its doubt, said


def test_a_gap_longer_than_the_cooldown_starts_the_duckling_again():
    # 0-2 s, then 200-203 s: 198 s apart > 60 s, so two starts: (2 + 60) + (3 + 60) = 125 s.
    bill = billing_for(run(), example_catalog()).run_bill([attempt(0, 2), attempt(200, 3)])
    assert bill.cost.dollars == pytest.approx(125 / 3600 * EXAMPLE_RATE)
    assert "2 start(s)" in bill.explain[0]


def test_the_cooldown_is_the_runs_own_when_set_and_the_minimum_holds_per_start():
    # A 1 s cooldown (set): one 0.5 s query is up 1.5 s, billed the 60 s minimum.
    rules = billing_for(run(cooldown=1), example_catalog())
    assert rules.cooldown() == 1
    assert rules.run_bill([attempt(0, 0.5)]).cost.dollars == pytest.approx(60 / 3600 * 2.0)
    # A Mega's default cooldown is 5 minutes: one 10 s query bills 310 s (at the example rate).
    mega = billing_for(run("mega"), example_catalog("mega"))
    assert mega.cooldown() == 300
    assert mega.run_bill([attempt(0, 10)]).cost.dollars == pytest.approx(310 / 3600 * 2.0)


def test_the_marginal_cost_is_the_querys_own_seconds():
    # 9 s on a Duckling that is up anyway: 9 / 3600 x $2.00 = $0.005, no cooldown, no minimum.
    cost = billing_for(run(), example_catalog()).marginal(attempt(0, 9))
    assert cost.dollars == pytest.approx(0.005)


def test_without_a_rate_or_a_size_the_bill_is_unknown_and_says_what_to_add():
    # The bundled catalog has no Duckling rates (the compute table could not be read).
    bill = billing_for(run(), BUNDLED).run_bill([attempt(0, 4)])
    assert bill.cost.dollars is None and bill.cost.basis == "unknown"
    assert any("motherduck.ducklings.standard.hour" in line for line in bill.explain)
    unknown = billing_for(run(None), BUNDLED).run_bill([attempt(0, 4)])
    assert unknown.cost.dollars is None
    assert any("engines.motherduck.duckling" in line for line in unknown.explain)
    assert billing_for(run(), BUNDLED).minimum_charge() is None


def test_a_pulse_duckling_is_unknown_its_cu_seconds_are_not_reported():
    # Pulse is metered in CU-seconds per query (at least 1): the client is not told how many.
    rules = billing_for(run("pulse"), example_catalog())
    assert rules.marginal(attempt(0, 3)).dollars is None
    bill = rules.run_bill([attempt(0, 3)])
    assert bill.cost.dollars is None and "CU-seconds per query" in bill.explain[0]


def test_storage_is_eight_cents_a_gb_month():
    # 25 GB (10^9 bytes each: the docs do not define their GB) x $0.08 = $2.00.
    priced = billing_for(run(), BUNDLED).storage_per_month(25e9)
    assert priced.cost.dollars == pytest.approx(2.00)
    assert billing_for(run(), BUNDLED).storage_per_month(None).cost.dollars is None


def test_a_month_keeps_the_duckling_up_through_the_active_hours():
    # 1,000 queries of 2 s over 8 h: each keeps it up 2 + 60 s, 62,000 s > 8 h, so up the 8 h
    # plus the last query's 62 s (28,862 s) a day; x 730/24 days = 243.9 h; x $2.00 = $487.71.
    rules = billing_for(run(), example_catalog())
    month = rules.month(Pattern(queries_per_day=1000, active_hours=8), Cost(0.0, "modelled"), 2)
    assert month.cost.dollars == pytest.approx(28862 / 3600 * 730 / 24 * 2.0)
    assert any("$250 platform fee" in line for line in month.explain)
    # 10 queries a day of 2 s: 10 x 62 s = 620 s a day.
    sparse = rules.month(Pattern(queries_per_day=10, active_hours=8), Cost(0.0, "modelled"), 2)
    assert sparse.cost.dollars == pytest.approx(620 / 3600 * 730 / 24 * 2.0)


def test_the_cooldown_drives_the_bill():
    rules = billing_for(run(), example_catalog())
    driver = rules.bill_driver()
    assert driver.setting == "cooldown_seconds" and driver.value == 60
    bills = dict(rules.sensitivity([attempt(0, 4)]))
    assert bills[600.0].dollars == pytest.approx(604 / 3600 * 2.0)
