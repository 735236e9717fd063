"""Snowflake's billing rules, worked by hand from Snowflake's pages (each cited with the date it
was read): when a metered bill is complete, the edition a multi-cluster warehouse implies,
storage on demand or on capacity, and the query-history statement that reads every stream's
own session. Pure arithmetic on stored runs; the engine paths are in test_engine_snowflake.py."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import stored_rows

from harness.engines import billing_for
from harness.engines.snowflake import history_by_session_sql
from harness.engines.snowflake.billing import hour_end, metering_complete
from harness.errors import ConfigError
from harness.pricing import Catalog, load_catalog
from harness.store.rows import StoredAttempt, StoredRun

CATALOG = load_catalog()
T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def timed(query_id: str, start: float, end: float) -> StoredAttempt:
    """An attempt that held the warehouse from T0 + start to T0 + end seconds."""
    return stored_rows.attempt(
        engine="snowflake",
        query_id=query_id,
        started_at=T0 + timedelta(seconds=start),
        ended_at=T0 + timedelta(seconds=end),
        client_seconds=end - start,
    )


def run(**settings) -> StoredRun:
    return stored_rows.run(
        engine="snowflake", engine_settings={"warehouse_size": "X-Small", **settings}
    )


def catalog(**section) -> Catalog:
    data = {"snowflake": copy.deepcopy(CATALOG.section("snowflake")) | section}
    return Catalog(data, "test catalog")


# -- when WAREHOUSE_METERING_HISTORY is the whole bill ----------------------------------------
# https://docs.snowflake.com/en/sql-reference/account-usage/warehouse_metering_history (read
# 2026-12-06): one row per warehouse per hour, END_TIME "the date and end of the hour in which
# the warehouse usage took place". The row of an hour still under way already ends at the end
# of that hour, with only the credits so far.
QUERIES = [timed("q01", 0, 600), timed("q02", 600, 1230)]  # 10:00:00 to 10:20:30


def test_worked_an_open_hour_is_not_a_measured_bill():
    # Queries 10:00:00-10:20:30, AUTO_SUSPEND 600: the warehouse bills until 10:30:30, in the
    # 10:00-11:00 hour. Fetched at the run's end (10:20:31) the history's last row already ends
    # at 11:00, which the old rule took as complete: 0.342 credits (20.5 min of an XS) where the
    # bill will be 0.508 (30.5 min), and a shorter run reads lower still. Not complete until
    # 11:00 has passed.
    billed_end = T0 + timedelta(seconds=1230 + 600)
    assert hour_end(billed_end) == T0 + timedelta(hours=1)
    complete, why = metering_complete(
        T0 + timedelta(hours=1), billed_end, T0 + timedelta(seconds=1231)
    )
    assert not complete and "10:30:30 UTC" in why and "closes at 11:00 UTC" in why
    # After 11:00, with the 10:00-11:00 row in the history: complete.
    assert metering_complete(T0 + timedelta(hours=1), billed_end, T0 + timedelta(minutes=65)) == (
        True,
        None,
    )
    # After 11:00 but the history still stops at 10:00 (it lags): pending, and says so.
    complete, why = metering_complete(T0, billed_end, T0 + timedelta(minutes=65))
    assert not complete and "lags" in why


def test_worked_a_stored_open_hour_figure_is_re_checked_and_stays_modelled():
    # A run stored with the old rule: complete, 0.342 credits, fetched at 10:20:31 for a window
    # ending 10:30:30. The bill stays the modelled 1830 s (10:00:00-10:30:30) of an XS at 1
    # credit/hour x $2/credit = $1.0167, and says why the metered figure is pending.
    window = [T0.isoformat(), (T0 + timedelta(seconds=1830)).isoformat()]
    usage = {
        "credits_compute": 0.342,
        "complete": True,
        "window": window,
        "fetched_at": (T0 + timedelta(seconds=1231)).isoformat(),
    }
    stored = replace(run(auto_suspend_seconds=600), run_usage=usage)
    bill = billing_for(stored, CATALOG).price_run(QUERIES)
    assert bill.total.basis == "modelled"
    assert bill.total.dollars == pytest.approx(1830 / 3600 * 2)
    assert any("pending" in line and "closes at 11:00 UTC" in line for line in bill.explain)
    # Fetched again at 11:05 with the closed hour in it (0.5083 credits): measured, $1.0167.
    usage |= {
        "credits_compute": 0.5083,
        "fetched_at": (T0 + timedelta(minutes=65)).isoformat(),
        "metered_until": (T0 + timedelta(hours=1)).isoformat(),
    }
    stored = replace(stored, run_usage=usage)
    bill = billing_for(stored, CATALOG).price_run(QUERIES)
    assert bill.total.basis == "measured"
    assert bill.total.dollars == pytest.approx(0.5083 * 2)


def test_worked_suspended_by_whbench_the_window_ends_at_the_suspend():
    # suspend_after_run: whbench suspended the warehouse at 10:20:31, so the bill ends then and
    # its hour (10:00-11:00) must close: the same rule, with the suspend in place of the tail.
    suspended = T0 + timedelta(seconds=1231)
    assert not metering_complete(T0 + timedelta(hours=1), suspended, suspended)[0]
    assert metering_complete(T0 + timedelta(hours=1), suspended, T0 + timedelta(hours=1))[0]


# -- the edition a multi-cluster warehouse implies --------------------------------------------
# Multi-cluster warehouses need Enterprise Edition or higher:
# https://docs.snowflake.com/en/user-guide/warehouses-multicluster and the editions table of
# https://www.snowflake.com/en/pricing-options/ (multi-cluster under Enterprise, not Standard),
# read 2026-12-06. On-demand credits, AWS US East: Standard $2, Enterprise $3, Business Critical
# $4 (finout.io's 2026 Snowflake pricing guide, read 2026-12-06).
ONE_PASS = [timed("q01", 0, 10), timed("q02", 10, 30)]  # 30 s + 600 s tail = 630 s


def test_worked_a_multi_cluster_warehouse_is_priced_at_enterprise():
    # An XS with max_cluster_count 3 and the bundled `edition: auto`: 630 s x 1 credit/hour x
    # $3/credit = $0.525 (at Standard's $2 it would read $0.35), and the bill says why.
    bill = billing_for(run(auto_suspend_seconds=600, max_clusters=3), CATALOG).price_run(ONE_PASS)
    assert bill.total.dollars == pytest.approx(630 / 3600 * 3)
    assert any("Enterprise" in line and "max_cluster_count 3" in line for line in bill.explain)
    # A single-cluster warehouse stays at Standard: 630 / 3600 x $2 = $0.35, no edition note.
    single = billing_for(run(auto_suspend_seconds=600, max_clusters=1), CATALOG).price_run(ONE_PASS)
    assert single.total.dollars == pytest.approx(630 / 3600 * 2)
    assert not any("edition" in line for line in single.explain)


def test_worked_an_edition_the_user_set_is_kept():
    # edition: business_critical: 630 / 3600 x $4 = $0.70.
    rules = catalog(edition="business_critical")
    bill = billing_for(run(auto_suspend_seconds=600, max_clusters=3), rules).price_run(ONE_PASS)
    assert bill.total.dollars == pytest.approx(630 / 3600 * 4)
    # edition: standard on a multi-cluster warehouse is kept ($0.35) but flagged: it cannot be.
    standard = billing_for(
        run(auto_suspend_seconds=600, max_clusters=3), catalog(edition="standard")
    ).price_run(ONE_PASS)
    assert standard.total.dollars == pytest.approx(630 / 3600 * 2)
    assert any("check snowflake.edition" in line for line in standard.explain)


def test_worked_the_measured_bill_is_priced_at_the_implied_edition_too():
    # 0.5 metered credits on a multi-cluster warehouse: 0.5 x $3 = $1.50.
    stored = replace(
        run(auto_suspend_seconds=600, max_clusters=2),
        run_usage={"credits_compute": 0.5, "complete": True},
    )
    bill = billing_for(stored, CATALOG).price_run(ONE_PASS)
    assert bill.total.basis == "measured" and bill.total.dollars == pytest.approx(1.5)


# -- storage: on demand unless the account has capacity ---------------------------------------
# AWS US East, compressed TB-month: on demand about $40, capacity $23 (data-flakes.dev and
# CloudZero's guide, read 2026-12-06; Snowflake's own page shows the figures only once a region
# is picked). A TB is taken as 10^12 bytes (the docs do not say).


def test_worked_storage_is_on_demand_by_default():
    rules = billing_for(run(), CATALOG)
    priced = rules.storage_per_month(2.5e12)
    assert priced.cost.dollars == pytest.approx(2.5 * 40)  # $100 a month
    assert "on-demand" in priced.explain[0]


def test_worked_storage_on_capacity():
    rules = billing_for(run(), catalog(storage_contract="capacity"))
    assert rules.storage_per_month(2.5e12).cost.dollars == pytest.approx(2.5 * 23)  # $57.50


def test_storage_contract_must_have_a_price():
    rules = billing_for(run(), catalog(storage_contract="prepaid"))
    with pytest.raises(ConfigError, match=r"storage_contract 'prepaid' has no price"):
        rules.storage_per_month(1e12)


def test_a_catalog_with_one_storage_price_still_prices_it():
    # A user's catalog written before storage_contract: its one price is used as it is.
    one = {"price": 30.0, "unit": "USD per TB-month", "source": "https://x", "as_of": "2026-12-01"}
    rules = billing_for(run(), catalog(storage_tb_month=one))
    assert rules.storage_per_month(1e12).cost.dollars == pytest.approx(30.0)


def test_unknown_stored_size_is_unknown_not_zero():
    priced = billing_for(run(), CATALOG).storage_per_month(None)
    assert priced.cost.dollars is None and priced.cost.basis == "unknown"


# -- every stream's own session ------------------------------------------------------------------
# QUERY_HISTORY_BY_SESSION(SESSION_ID => …): "returns queries within a specified session"; left
# out, the current session's (https://docs.snowflake.com/en/sql-reference/functions/query_history,
# read 2026-12-06). fakesnow does not run the function, so the statement is checked as text.


def test_the_history_statement_reads_each_session_by_its_id():
    sql = history_by_session_sql([101, 202, 303, 202], ["01a-1", "01a-2"])
    assert sql.count("QUERY_HISTORY_BY_SESSION(") == 3  # each session once
    for session in (101, 202, 303):
        assert f"SESSION_ID => {session}, RESULT_LIMIT => 10000" in sql
    assert sql.count(" UNION ALL ") == 2
    assert sql.count("WHERE query_id IN ('01a-1', '01a-2')") == 3


def test_an_unknown_session_id_reads_the_current_session():
    sql = history_by_session_sql([None, 7], ["q"])
    assert "QUERY_HISTORY_BY_SESSION(RESULT_LIMIT => 10000)" in sql
    assert "QUERY_HISTORY_BY_SESSION(SESSION_ID => 7, RESULT_LIMIT => 10000)" in sql
    assert history_by_session_sql([], ["q"]).count("QUERY_HISTORY_BY_SESSION(RESULT_LIMIT") == 1


def test_a_query_id_cannot_end_the_statement():
    sql = history_by_session_sql([1], ["x') OR 1=1 --"])
    assert "'x'') OR 1=1 --'" in sql
    with pytest.raises(ValueError):
        history_by_session_sql(["1; DROP TABLE t"], ["q"])  # type: ignore[list-item]


# -- what the reader's own AUTO_SUSPEND would make of the run bill ------------------------------
def test_worked_the_run_bill_at_each_common_auto_suspend():
    # One 10 s query on an X-Small (1 credit an hour, Standard $2 a credit). The warehouse bills
    # from the resume to AUTO_SUSPEND after the query, at least 60 s per resume (CREATE
    # WAREHOUSE, https://docs.snowflake.com/en/sql-reference/sql/create-warehouse, and "Warehouse
    # considerations", read 2026-12-06): at 60 s, 70 s = $0.0389; at 300 s, 310 s = $0.1722; at
    # 600 s (this run's, the default), 610 s = $0.3389; at 3600 s, 3610 s = $2.0056. The report
    # shows all four beside the bill: the run's own setting moves it 8.7x between 60 and 600.
    attempts = [timed("q01", 0, 10)]
    bills = dict(billing_for(run(auto_suspend_seconds=600), CATALOG).sensitivity(attempts))
    assert {value: round(cost.dollars, 4) for value, cost in bills.items()} == {
        60.0: round(70 / 3600 * 2, 4),
        300.0: round(310 / 3600 * 2, 4),
        600.0: round(610 / 3600 * 2, 4),
        3600.0: round(3610 / 3600 * 2, 4),
    }
    # The run's own figure is the run bill as modelled; a value of its own is added to the row.
    bill = billing_for(run(auto_suspend_seconds=120), CATALOG).price_run(attempts)
    assert bill.sensitivity.startswith("run bill at AUTO_SUSPEND (s) 60: $0.039")
    assert "120 (this run): $0.072 ·" in bill.sensitivity  # 130 s
