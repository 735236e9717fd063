"""How a Databricks SQL warehouse bills (harness/engines/databricks/billing.py): worked examples,
computed by hand in each test's comment and checked against the code.

Sources, read 2026-12-06 (billing.py and pricing.yaml quote them):
- DBU/hour by size, SQL serverless SKU: 2X-Small 4, X-Small 6, Small 12, Medium 24, Large 40,
  X-Large 80 ("Serverless DBU consumption by SKU", https://docs.databricks.com/resources/pricing.html,
  read in its Portuguese edition). Not given for pro and classic: the same table is assumed.
- Billed per second ("A DBU is a unit of processing power per hour, billed on a per second basis",
  https://community.databricks.com/t5/machine-learning/pricing-on-databricks/td-p/33800); no
  minimum per start found.
- Auto stop after `auto_stop_mins` idle minutes, 0 = never, else at least 10 (SQL warehouses API,
  https://databricks.github.io/sdk-js/api/interfaces/_databricks_sdk-warehouses.v1.CreateWarehouseRequest.html).
- List prices per DBU (premium, US): SQL Serverless $0.70 (AWS, Azure), $0.88 (GCP); SQL Pro
  $0.55, SQL Classic $0.22 (AWS) (https://www.databrickspricing.com/serverless and
  https://databrickspricing.pages.dev/serverless-pricing: Databricks's own price page could not
  be read from here). Pro and classic add the cloud VMs, billed by the cloud.
- system.billing.usage: DBUs per SKU per hour, "typically available within 12 hours"
  (https://docs.databricks.com/en/admin/system-tables/billing).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
import stored_rows

from harness.engines import billing_for
from harness.errors import ConfigError
from harness.pricing import DAYS_PER_MONTH, Catalog, load_catalog
from harness.settings import Pattern

CATALOG = load_catalog()
AT = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def rules(catalog=CATALOG, run_usage=None, **settings):
    """The billing rules of a Databricks run with these engine settings (the contract's keys)."""
    given = {"warehouse_size": "Small", "auto_stop_minutes": 10} | settings
    run = stored_rows.run(engine="databricks", engine_settings=given, run_usage=run_usage)
    return billing_for(run, catalog)


def attempt(start: float, took: float, **fields):
    return stored_rows.attempt(
        engine="databricks",
        started_at=AT + timedelta(seconds=start),
        ended_at=AT + timedelta(seconds=start + took),
        client_seconds=took,
        **fields,
    )


def test_a_small_serverless_warehouse_on_aws_bills_its_uptime_and_the_auto_stop_tail():
    # A Small serverless warehouse on AWS: 12 DBU/h x $0.70/DBU. Queries from 0 s to 95 s, then
    # the 10 min auto-stop tail: up 95 + 600 = 695 s, per second.
    # 12 x 695 / 3600 = 2.3167 DBU x $0.70 = $1.6217.
    bill = rules().run_bill([attempt(0, 40), attempt(40, 30), attempt(70, 25)])
    assert bill.cost.dollars == pytest.approx(12 * 695 / 3600 * 0.70)
    assert bill.cost.basis == "modelled"
    text = " ".join(bill.explain)
    assert "auto stop 10 min" in text and "12 DBU/h" in text and "$0.70/DBU" in text


def test_a_pause_longer_than_auto_stop_starts_the_warehouse_again():
    # Two 20 s queries 15 min apart with a 10 min auto stop: two starts, each 20 s + 600 s up:
    # 2 x 620 = 1,240 s. 5 min apart: one stretch, 0 to 320 s + 600 s = 920 s.
    # X-Small (6 DBU/h) at $0.70: 6 x 1240 / 3600 x 0.7 = $1.4467 and 6 x 920 / 3600 x 0.7.
    apart = rules(warehouse_size="X-Small").run_bill([attempt(0, 20), attempt(920, 20)])
    assert apart.cost.dollars == pytest.approx(6 * 1240 / 3600 * 0.70)
    assert "2 start(s)" in apart.explain[0]
    close = rules(warehouse_size="X-Small").run_bill([attempt(0, 20), attempt(300, 20)])
    assert close.cost.dollars == pytest.approx(6 * 920 / 3600 * 0.70)


def test_the_marginal_cost_is_the_query_s_own_seconds_and_the_sizes_are_the_api_s():
    # On a running Medium (24 DBU/h) warehouse a query that executed 3 s (the engine's figure,
    # though the client waited 4 s) costs 24 x 3 / 3600 x $0.70 = $0.014. The system tables'
    # MEDIUM and the API's Medium are one size.
    query = attempt(0, 4, engine_seconds=3.0)
    assert rules(warehouse_size="MEDIUM").marginal(query).dollars == pytest.approx(0.014)
    assert rules(warehouse_size="Medium").marginal(attempt(0, 1.8)).dollars == pytest.approx(
        24 * 1.8 / 3600 * 0.70
    )
    assert rules().marginal(attempt(0, 1, status="skipped")).dollars == 0


def test_overlapping_queries_on_a_multi_cluster_warehouse_make_the_model_a_lower_bound():
    # Two 60 s queries at once on a Small serverless warehouse of up to 3 clusters: up
    # 60 + 600 = 660 s; one cluster counted, 12 x 660 / 3600 x 0.70 = $1.54, and the most it
    # can be, 3 clusters the whole time, $4.62.
    together = rules(max_clusters=3).run_bill([attempt(0, 60), attempt(0, 60)])
    assert together.cost.dollars == pytest.approx(12 * 660 / 3600 * 0.70)
    assert "a lower bound; all 3 up the whole time: $4.62" in together.explain[-1]
    # Back to back (the second starts as the first ends) is one at a time, not overlapping.
    in_turn = rules(max_clusters=3).run_bill([attempt(0, 60), attempt(60, 60)])
    assert "queries ran one at a time" in in_turn.explain[-1]


def test_classic_adds_the_cloud_vms_and_without_their_price_the_bill_is_unknown():
    # A Medium classic warehouse on AWS: 24 DBU/h x $0.22 = $5.28/h in DBUs, plus its VMs at the
    # vm_dollars_per_hour given, $8/h. A 60 s query + 10 min tail = 660 s:
    # (5.28 + 8) x 660 / 3600 = $2.4347.
    queries = [attempt(0, 60)]
    priced = rules(warehouse_type="classic", warehouse_size="Medium", vm_dollars_per_hour=8.0)
    bill = priced.run_bill(queries)
    assert bill.cost.dollars == pytest.approx((24 * 0.22 + 8.0) * 660 / 3600)
    assert "assumed for classic" in " ".join(bill.explain)
    # Without vm_dollars_per_hour the VM part is unknown, so the bill is: None, never the DBU
    # part passed off as the whole. The note names the setting and gives the DBU part
    # (24 x 660 / 3600 x 0.22 = $0.97).
    unpriced = rules(warehouse_type="classic", warehouse_size="Medium").run_bill(queries)
    assert unpriced.cost.dollars is None and unpriced.cost.basis == "unknown"
    assert "vm_dollars_per_hour" in unpriced.cost.note and "$0.97" in unpriced.cost.note


def test_an_unknown_size_is_a_one_line_config_error_naming_the_sizes():
    with pytest.raises(ConfigError) as caught:
        rules(warehouse_size="Huge").run_bill([attempt(0, 1)])
    message = str(caught.value)
    assert "\n" not in message and "'Huge'" in message
    assert "2X-Small" in message and "4X-Large" in message
    with pytest.raises(ConfigError, match=r"warehouse_type 'spot'.*serverless, pro, classic"):
        rules(warehouse_type="spot").run_bill([attempt(0, 1)])


def test_a_size_or_cloud_without_a_price_read_is_unknown_with_what_to_add():
    # The DBU/h of 2X-Large was not on the page read: unknown, naming the catalog key.
    big = rules(warehouse_size="2X-Large").run_bill([attempt(0, 1)])
    assert big.cost.dollars is None
    assert "databricks.dbu_per_hour.serverless.2X-Large" in big.cost.note
    # No list price was found for pro on Azure: unknown, unless the run's dbu_price says it.
    # With dbu_price $0.60 and VMs at $3/h, a Small pro warehouse up 660 s:
    # (12 x 0.60 + 3) x 660 / 3600 = $1.87.
    azure = rules(cloud="azure", warehouse_type="pro", vm_dollars_per_hour=3.0)
    assert "set dbu_price" in azure.run_bill([attempt(0, 60)]).cost.note
    contract = rules(cloud="azure", warehouse_type="pro", vm_dollars_per_hour=3.0, dbu_price=0.6)
    assert contract.run_bill([attempt(0, 60)]).cost.dollars == pytest.approx(
        (12 * 0.6 + 3.0) * 660 / 3600
    )


def test_serverless_on_gcp_uses_gcp_s_list_price():
    # A Small serverless warehouse on GCP: 12 DBU/h x $0.88; one 10 s query + 10 min tail:
    # 12 x 610 / 3600 x 0.88 = $1.7893.
    bill = rules(cloud="GCP").run_bill([attempt(0, 10)])
    assert bill.cost.dollars == pytest.approx(12 * 610 / 3600 * 0.88)


def test_a_measured_system_billing_usage_bill_wins_over_the_list_price_model():
    queries = [attempt(0, 95)]
    # system.billing.usage said 2.9 DBU, priced by system.billing.list_prices at $2.03: that is
    # the bill (the model would say 12 x 695 / 3600 x 0.70 = $1.62).
    usage = {"dbus": 2.9, "list_dollars": 2.03, "complete": True, "pending": None}
    usage |= {"skus": ["PREMIUM_SERVERLESS_SQL_COMPUTE_US_EAST"], "fetched_at": "2026-12-06"}
    measured = rules(run_usage=usage).run_bill(queries)
    assert measured.cost.dollars == pytest.approx(2.03) and measured.cost.basis == "measured"
    assert "system.billing.usage: 2.9 DBU" in measured.explain[0]
    # A contract's dbu_price prices the measured DBUs instead: 2.9 x $0.50 = $1.45.
    contract = rules(run_usage=usage, dbu_price=0.5).run_bill(queries)
    assert contract.cost.dollars == pytest.approx(1.45) and contract.cost.basis == "measured"
    # Without list prices readable, the catalog's: 2.9 x $0.70 = $2.03 as well, by another road.
    unlisted = rules(run_usage=usage | {"list_dollars": None}).run_bill(queries)
    assert unlisted.cost.dollars == pytest.approx(2.9 * 0.70)
    # Not complete yet: the model, saying why the measured figure is pending.
    pending = usage | {"complete": False, "pending": "records typically arrive within 12 hours"}
    modelled = rules(run_usage=pending).run_bill(queries)
    assert modelled.cost.dollars == pytest.approx(12 * 695 / 3600 * 0.70)
    assert modelled.cost.basis == "modelled"
    assert "measured figures pending: records typically arrive" in modelled.explain[-1]


def test_a_measured_pro_bill_adds_the_vms_it_does_not_hold_as_modelled():
    # system.billing.usage holds Databricks's DBUs only: 2.0 DBU x $0.55 (no list prices read)
    # = $1.10, plus the VMs for the modelled 695 s at $4/h = $0.7722: $1.8722, modelled.
    usage = {"dbus": 2.0, "list_dollars": None, "complete": True}
    bill = rules(run_usage=usage, warehouse_type="pro", vm_dollars_per_hour=4.0).run_bill(
        [attempt(0, 95)]
    )
    assert bill.cost.dollars == pytest.approx(2.0 * 0.55 + 4.0 * 695 / 3600)
    assert bill.cost.basis == "modelled"
    assert "not in system.billing.usage" in bill.explain[-1]


def test_auto_stop_off_leaves_the_run_bill_unknown_and_the_window_ends_after_the_tail():
    off = rules(auto_stop_minutes=0).run_bill([attempt(0, 30)])
    assert off.cost.dollars is None and "auto stop is off" in off.cost.note
    # The billed window the engine asks system.billing.usage about: the first query's start to
    # the last one's end plus the 10 min tail.
    window = rules().billed_window([attempt(0, 30), attempt(100, 20)])
    assert window == (AT, AT + timedelta(seconds=120 + 600))


def test_the_bill_at_other_auto_stop_values():
    # One 60 s query on a Small serverless warehouse: 12 x (60 + 60 x minutes) / 3600 x $0.70.
    bills = dict(rules(auto_stop_minutes=20).sensitivity([attempt(0, 60)]))
    assert sorted(bills) == [10, 20, 30, 60, 120]
    for minutes, cost in bills.items():
        assert cost.dollars == pytest.approx(12 * (60 + 60 * minutes) / 3600 * 0.70)


def test_loading_and_storage():
    # 120 s of COPY INTO on a Small serverless warehouse: 12 x 120 / 3600 x 0.70 = $0.28.
    loads = [stored_rows.load(seconds=80.0), stored_rows.load(seconds=40.0)]
    assert rules().load_bill(loads).cost.dollars == pytest.approx(0.28)
    assert rules().load_bill([stored_rows.load(seconds=None)]).cost.dollars is None
    # Storage is the cloud's: unknown without a price, naming the key to add...
    storage = rules().storage_per_month(5e9)
    assert storage.cost.dollars is None and "databricks.storage_gb_month.aws" in storage.cost.note
    # ... and priced with one: 5 GB x $0.023 = $0.115 a month.
    section = copy.deepcopy(CATALOG.section("databricks"))
    section["storage_gb_month"] = {
        "aws": {"price": 0.023, "unit": "USD per GB-month", "source": "s", "as_of": "2026-12-06"}
    }
    own = Catalog({"databricks": section}, "a test catalog")
    assert rules(catalog=own).storage_per_month(5e9).cost.dollars == pytest.approx(0.115)


def test_a_month_of_a_pattern():
    # 100 queries a day of 2 s over 8 active hours on a Small serverless warehouse: 200 s of work
    # a day, one cluster keeps up. Each query keeps it up 2 s + 600 s = 602 s; 100 of them would
    # be 60,200 s, more than the active window plus one tail (8 x 3600 + 602 = 29,402 s), so the
    # warehouse is up 29,402 s a day: 12 x 29402 / 3600 x $0.70 x 30.42 days = $2,086.75.
    month = rules().month(Pattern(queries_per_day=100, active_hours=8), None, 2.0)
    assert month.cost.dollars == pytest.approx(12 * 29402 / 3600 * 0.70 * DAYS_PER_MONTH)
    # 20,000 queries of 4 s over 8 h: 22.2 compute-hours a day, 2.78 clusters busy: 3 clusters
    # up 8 h each plus one 10 min tail: 3 x 28,800 + 600 = 87,000 cluster-seconds a day.
    busy = rules(max_clusters=2).month(Pattern(queries_per_day=20000, active_hours=8), None, 4.0)
    assert busy.cost.dollars == pytest.approx(12 * 87000 / 3600 * 0.70 * DAYS_PER_MONTH)
    assert "max_clusters 2: below 3 queries queue" in " ".join(busy.explain)


def test_what_the_generic_code_adds_up_for_a_run():
    # price_run: the run bill ($1.6217, as in the first example), each query's marginal cost
    # (q01 40 s + q02 55 s: 12 x 95 / 3600 x 0.70 = $0.2217 in all), the load (30 s:
    # 12 x 30 / 3600 x 0.70 = $0.07) and storage (the cloud's: unknown), explained in words.
    queries = [attempt(0, 40), attempt(40, 55, query_id="q02")]
    priced = rules().price_run(queries, [stored_rows.load(seconds=30.0, bytes_stored=2e9)])
    assert priced.total.dollars == pytest.approx(12 * 695 / 3600 * 0.70)
    assert priced.marginal.dollars == pytest.approx(12 * 95 / 3600 * 0.70)
    assert priced.queries["q02"].dollars == pytest.approx(12 * 55 / 3600 * 0.70)
    assert priced.load.dollars == pytest.approx(0.07)
    assert priced.storage_per_month.dollars is None
    assert any("billed by AWS" in line for line in priced.explain)
    assert priced.sensitivity.startswith("run bill at auto stop (min) 10 (this run): $1.62")


def test_the_least_a_run_costs_is_one_auto_stop_tail():
    # 10 min of a Small serverless warehouse: 12 x 600 / 3600 x 0.70 = $1.40.
    assert rules().minimum_charge().dollars == pytest.approx(1.40)
    assert rules(warehouse_type="classic").minimum_charge() is None  # VMs unknown
