"""Worked examples of Amazon Redshift's billing rules (harness/engines/redshift/billing.py),
each computed by hand from AWS's pages, read 2026-12-06:

- BILLING = https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-billing.html: billed
  per second while queries run, nothing while idle; "Minimum charge - The minimum charge is for
  60 seconds, metered on a per-second basis"; the worked example's "$0.375 per RPU-hour" (US
  East, N. Virginia). It does not say whether the minimum applies per query or per active
  period of the workgroup, so both are computed: the lower bound (one minimum per active
  period; queries less than 60 s apart are one period) and the upper bound (one per query).
- USAGE = https://docs.aws.amazon.com/redshift/latest/dg/SYS_SERVERLESS_USAGE.html: 1-minute
  intervals, charged_seconds written after transactions complete, visible only to superusers.
- PRICING = https://aws.amazon.com/redshift/pricing/: dc2.large "start small at $0.25 per hour";
  the stored copy shows no node-price table, so ra3.large's price is not confirmed.

Pure arithmetic on the billing rules: no engine is reached here (test_engine_redshift.py
drives the engine against the PostgreSQL stand-in).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import stored_rows

from harness.engines import billing_for
from harness.pricing import Catalog, load_catalog
from harness.settings import Pattern
from harness.store.rows import StoredAttempt, StoredRun

CATALOG = load_catalog()
RPU_HOUR = 0.375  # BILLING, read 2026-12-06
AT = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
DAYS = 730 / 24


def timed(query_id: str, start: float, end: float) -> StoredAttempt:
    """An answered attempt from `start` to `end` seconds after 10:00 UTC."""
    return stored_rows.attempt(
        engine="redshift",
        query_id=query_id,
        started_at=AT + timedelta(seconds=start),
        ended_at=AT + timedelta(seconds=end),
        client_seconds=end - start,
    )


def serverless(base_rpu: int = 8, **run) -> StoredRun:
    return stored_rows.run(engine="redshift", engine_settings={"base_rpu": base_rpu}, **run)


def provisioned_run(node_type: str, nodes: int) -> StoredRun:
    settings = {"node_type": node_type, "nodes": nodes}
    return stored_rows.run(engine="redshift", engine_settings=settings)


def at_8_rpu(billed_seconds: float) -> float:
    return billed_seconds * 8 / 3600 * RPU_HOUR


def test_worked_two_back_to_back_queries_bill_60_s_or_120_s():
    # BILLING (2026-12-06): q01 0-10 s, q02 10-30 s at base 8 RPU. One active period of 30 s,
    # at least 60 s: 60 x 8 / 3600 x $0.375 = $0.05. One minimum per query: 60 + 60 = 120 s
    # = $0.10. The headline is the lower bound; the note and the words carry both.
    bill = billing_for(serverless(), CATALOG).price_run([timed("q01", 0, 10), timed("q02", 10, 30)])
    assert bill.total.dollars == pytest.approx(at_8_rpu(60)) == pytest.approx(0.05)
    assert bill.total.basis == "modelled"
    assert "$0.050" in bill.total.note and "$0.10" in bill.total.note
    assert "serverless-billing.html" in bill.total.note
    assert any("60 s if the 60 s minimum applies once per active period" in e for e in bill.explain)
    assert any("120 s if it applies to each query" in e for e in bill.explain)


def test_worked_a_pause_longer_than_the_minimum_starts_a_new_period():
    # BILLING (2026-12-06): q01 0-5 s, q02 125-130 s: 120 s apart, two active periods, each
    # at least 60 s: 120 s = $0.10 on both readings. q02 at 30-35 s instead: one period of
    # 35 s, billed 60 s ($0.05), and 120 s per query ($0.10).
    apart = billing_for(serverless(), CATALOG).price_run(
        [timed("q01", 0, 5), timed("q02", 125, 130)]
    )
    assert apart.total.dollars == pytest.approx(at_8_rpu(120))
    close = billing_for(serverless(), CATALOG).price_run([timed("q01", 0, 5), timed("q02", 30, 35)])
    assert close.total.dollars == pytest.approx(at_8_rpu(60))
    assert "$0.10" in close.total.note


def test_worked_the_catalog_can_make_the_per_query_reading_the_headline():
    # Same two queries as the first example, with `minimum_applies_to: query`: 120 s = $0.10.
    section = dict(CATALOG.section("redshift"), minimum_applies_to="query")
    mine = Catalog({"redshift": section}, "test catalog")
    bill = billing_for(serverless(), mine).price_run([timed("q01", 0, 10), timed("q02", 10, 30)])
    assert bill.total.dollars == pytest.approx(at_8_rpu(120))
    assert any("the headline is per query" in e for e in bill.explain)


def test_worked_month_1000_queries_of_2_s_over_8_hours():
    # BILLING (2026-12-06), base 8 RPU, 1000 queries a day evenly over 8 h: one every 28.8 s,
    # each 2 s, so 26.8 s pauses, shorter than the 60 s minimum.
    #   per active period (lower): the day is one period, 999 x 28.8 + 2 = 28,773.2 s a day;
    #     28,773.2 x 8 / 3600 x $0.375 x 30.42 days = $729.32 a month.
    #   per query (upper): 1000 x 60 = 60,000 s a day = $1,520.83 a month.
    # The old model (2,000 busy seconds a day, one minimum a day) gave $50.69: 14.4x low.
    pattern = Pattern(queries_per_day=1000, active_hours=8, data_gb=0)
    month = billing_for(serverless(), CATALOG).project_month([timed("q01", 0, 2)], pattern, None)
    lower = (999 * 28.8 + 2) * 8 / 3600 * RPU_HOUR * DAYS
    upper = 60_000 * 8 / 3600 * RPU_HOUR * DAYS
    assert month.cost.dollars == pytest.approx(lower)
    assert lower == pytest.approx(729.32, abs=0.01) and upper == pytest.approx(1520.83, abs=0.01)
    assert lower / (2000 * 8 / 3600 * RPU_HOUR * DAYS) == pytest.approx(14.39, abs=0.01)
    assert "$1,520.83" in month.cost.note
    assert any("$729.32 (per active period) to $1,520.83 (per query)" in e for e in month.explain)


def test_worked_month_of_sparse_queries_bills_a_minimum_each_on_both_readings():
    # BILLING (2026-12-06): 10 queries a day over 8 h, one every 2,880 s, each 2 s: every
    # query is its own active period, 10 x 60 s = 600 s a day on both readings;
    # 600 x 8 / 3600 x $0.375 x 30.42 = $15.21 a month.
    pattern = Pattern(queries_per_day=10, active_hours=8, data_gb=0)
    month = billing_for(serverless(), CATALOG).project_month([timed("q01", 0, 2)], pattern, None)
    assert month.cost.dollars == pytest.approx(600 * 8 / 3600 * RPU_HOUR * DAYS)
    assert month.cost.dollars == pytest.approx(15.21, abs=0.01)


def test_worked_loading_three_tables():
    # BILLING (2026-12-06): three COPYs of 10 s one after another, base 8 RPU: one period of
    # 30 s, billed 60 s ($0.05); a minimum per COPY, 180 s ($0.15).
    run = serverless()
    loads = [stored_rows.load(seconds=10.0, bytes_stored=1) for _ in range(3)]
    bill = billing_for(run, CATALOG).price_run([timed("q01", 0, 1)], loads)
    assert bill.load.dollars == pytest.approx(at_8_rpu(60))
    assert any("180 s if it applies to each query" in e for e in bill.explain)


def test_worked_measured_bill_shows_the_modelled_bounds_beside_it():
    # USAGE (2026-12-06): charged_seconds 7,200 RPU-seconds = 2 RPU-hours x $0.375 = $0.75,
    # measured; the modelled bounds ($0.050 to $0.10) are printed beside it, so a superuser's
    # run shows which reading AWS applied.
    run = serverless(run_usage={"rpu_seconds": 7200.0, "complete": True})
    bill = billing_for(run, CATALOG).price_run([timed("q01", 0, 10), timed("q02", 10, 30)])
    assert bill.total.dollars == pytest.approx(0.75) and bill.total.basis == "measured"
    assert any(e.startswith("modelled beside it:") and "$0.10" in e for e in bill.explain)


def test_a_bill_this_user_cannot_see_says_so_and_not_pending():
    # USAGE (2026-12-06): "SYS_SERVERLESS_USAGE is visible only to superusers". A user who is
    # not one never gets the measured bill: the words say not visible, never pending.
    why = (
        "user 'analyst' is not a superuser, and SYS_SERVERLESS_USAGE is visible only to superusers"
    )
    run = serverless(run_usage={"rpu_seconds": None, "complete": False, "not_visible": why})
    bill = billing_for(run, CATALOG).price_run([timed("q01", 0, 10)])
    assert bill.total.basis == "modelled"
    assert any(e.startswith("measured figures not visible to this user:") for e in bill.explain)
    assert not any("pending" in e for e in bill.explain)


def test_worked_usage_minutes_keep_the_last_minute_and_the_minimum_after_it():
    # USAGE (2026-12-06): 1-minute intervals, charges written "after transactions complete",
    # minimum charges included. A window 10:00:30-10:04:59.5: the intervals from 10:00 up to
    # the one holding 10:05:59.5 (the end of a 60 s minimum begun by the last query), i.e.
    # start_time >= 10:00 and start_time < 10:06. A window ending at 10:05:00 exactly, which
    # `start_time < ended` cut at 10:04, now reaches the 10:06 interval.
    from harness.engines.redshift import usage_minutes

    first, last = usage_minutes(AT + timedelta(seconds=30), AT + timedelta(minutes=4, seconds=59.5))
    assert (first, last) == (datetime(2026, 12, 6, 10, 0), datetime(2026, 12, 6, 10, 6))
    _, last = usage_minutes(AT, AT + timedelta(minutes=5))
    assert last == datetime(2026, 12, 6, 10, 7)


def test_ra3_large_is_known_but_its_price_is_not_guessed():
    # PRICING (2026-12-06): the stored page does not show ra3.large's price: the bill is
    # unknown (never 0) and says why; a price in the user's own catalog is used.
    run = provisioned_run("ra3.large", 2)
    bill = billing_for(run, CATALOG).price_run([timed("q01", 0, 1800)])
    assert bill.total.dollars is None and bill.total.basis == "unknown"
    assert any("ra3.large: on-demand price not confirmed" in e for e in bill.explain)
    section = dict(CATALOG.section("redshift"))
    section["node_hour"] = dict(section["node_hour"])
    section["node_hour"]["ra3.large"] = {
        "price": 0.5,
        "unit": "USD per node-hour",
        "source": "my contract",
        "as_of": "2026-12-06",
    }
    mine = Catalog({"redshift": section}, "test catalog")
    assert billing_for(run, mine).price_run([timed("q01", 0, 1800)]).total.dollars == pytest.approx(
        0.5
    )


def test_worked_dc2_large_is_priced_and_said_to_be_retiring():
    # PRICING (2026-12-06): "start small at $0.25 per hour": a 30-minute window on one node is
    # 0.5 x $0.25 = $0.125, and the bill says dc2.large is being retired.
    run = provisioned_run("dc2.large", 1)
    bill = billing_for(run, CATALOG).price_run([timed("q01", 0, 1800)])
    assert bill.total.dollars == pytest.approx(0.125)
    assert any("dc2.large: being retired" in e for e in bill.explain)
    month = billing_for(run, CATALOG).project_month([timed("q01", 0, 2)], Pattern(1000, 8, 0), None)
    assert any("being retired" in e for e in month.explain)


def test_worked_the_run_bill_at_each_base_rpu():
    # One 10 s query: billed 60 s (the minimum) at the base capacity, $0.375 an RPU-hour
    # (serverless-billing.html; base capacity 8 to 512 RPU, 128 unless set:
    # https://docs.aws.amazon.com/redshift/latest/mgmt/serverless-capacity.html, read
    # 2026-12-06). At 8 RPU $0.05, 32 $0.20, 128 $0.80, 512 $3.20: at the times measured, which
    # more RPUs would usually shorten, as the line says.
    bill = billing_for(serverless(base_rpu=8), CATALOG).price_run([timed("q01", 0, 10)])
    assert bill.sensitivity == (
        "run bill at base RPU 8 (this run): $0.050 · 32: $0.20 · 128: $0.80 · 512: $3.20 "
        "(at the times measured: more RPUs usually run the same queries faster)"
    )
    # A provisioned cluster bills every hour it exists: 2 x ra3.xlplus at $1.086 a node-hour
    # (the catalog) is $0.0060 for the 10 s window, $2.17 kept up an hour, $17.38 a working
    # day, $52.13 a whole day.
    cluster = provisioned_run("ra3.xlplus", 2)
    provisioned = billing_for(cluster, CATALOG).price_run([timed("q01", 0, 10)])
    assert provisioned.sensitivity == (
        "run bill at hours the cluster is up (0: the query window only) 0 (this run): $0.0060 · "
        "1: $2.17 · 8: $17.38 · 24: $52.13 (a cluster bills every hour it exists, busy or not)"
    )
