"""BigQuery's billing rules, worked by hand from Google's pages (each cited with the date it was
read): physical storage priced from physical bytes, not logical ones, and the Editions
autoscaler's 50-slot step. Pure arithmetic on stored runs; the engine path is in
test_engine_bigquery.py."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
import stored_rows

from harness.engines import billing_for
from harness.engines.bigquery import physical_bytes
from harness.pricing import GIB, Catalog, load_catalog
from harness.store.rows import StoredAttempt, StoredRun

CATALOG = load_catalog()
T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def catalog(**section) -> Catalog:
    data = {"bigquery": copy.deepcopy(CATALOG.section("bigquery")) | section}
    return Catalog(data, "test catalog")


PHYSICAL = catalog(storage_model="physical")


def run(storage: dict | None = None) -> StoredRun:
    """A BigQuery run, with the tables' storage it recorded after its last query if given."""
    after_run = None if storage is None else {"storage": storage}
    return stored_rows.run(engine="bigquery", engine_settings={}, after_run=after_run)


# -- physical storage is physical bytes ------------------------------------------------------------
# https://cloud.google.com/bigquery/docs/reference/rest/v2/tables (read 2026-12-06):
# numTotalPhysicalBytes is "the physical size of this table in bytes. This also includes storage
# used for time travel"; numBytes is logical. Physical storage bills time travel (and fail-safe),
# logical does not (https://cloud.google.com/bigquery/docs/time-travel, read 2026-12-06).
# Prices: $0.02 logical active, $0.04 physical active per GiB-month
# (https://cloud.google.com/bigquery/pricing#storage).


def test_worked_physical_storage_prices_the_physical_bytes():
    # 10 GiB logical that the tables store in 2.5 GiB physical: 2.5 x $0.04 = $0.10 a month.
    # Priced from numBytes (the old rule) it read 10 x $0.04 = $0.40, four times too much.
    rules = billing_for(
        run({"tables": 8, "logical_bytes": 10 * GIB, "physical_bytes": 2.5 * GIB}), PHYSICAL
    )
    priced = rules.storage_per_month(10 * GIB)
    assert priced.cost.dollars == pytest.approx(0.10)
    assert any("0.25 of logical" in line for line in priced.explain)
    # The same tables on the logical model: 10 x $0.02 = $0.20.
    logical = billing_for(
        run({"tables": 8, "logical_bytes": 10 * GIB, "physical_bytes": 2.5 * GIB}), CATALOG
    )
    assert logical.storage_per_month(10 * GIB).cost.dollars == pytest.approx(0.20)


def test_worked_a_projection_scales_by_the_measured_compression():
    # `whbench project --data-gb 400`: 400 GB logical at this run's 0.25 physical per logical
    # byte: 100 GB = 93.13 GiB x $0.04 = $3.73 a month.
    rules = billing_for(
        run({"tables": 8, "logical_bytes": 4 * GIB, "physical_bytes": 1 * GIB}), PHYSICAL
    )
    assert rules.storage_per_month(400e9).cost.dollars == pytest.approx(100e9 / GIB * 0.04)


def test_physical_bytes_not_reported_are_unknown_not_zero():
    # The stand-in (bqemulator) reports no physical bytes: the storage bill is unknown.
    priced = billing_for(
        run({"tables": 8, "logical_bytes": 10 * GIB, "physical_bytes": None}), PHYSICAL
    )
    cost = priced.storage_per_month(10 * GIB).cost
    assert cost.dollars is None and cost.basis == "unknown"
    # A run stored before physical bytes were recorded: unknown too, and it says which.
    older = billing_for(run(), PHYSICAL).storage_per_month(10 * GIB)
    assert older.cost.dollars is None and "recorded no physical bytes" in older.explain[0]


def test_physical_bytes_without_a_logical_size_are_priced_as_they_are():
    # The loads recorded no logical size, the tables 2 GiB physical: 2 x $0.04 = $0.08.
    storage = {"tables": 1, "logical_bytes": 0, "physical_bytes": 2 * GIB}
    rules = billing_for(run(storage), PHYSICAL)
    assert rules.storage_per_month(None).cost.dollars == pytest.approx(0.08)


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"numBytes": "100", "numTotalPhysicalBytes": "40"}, 40),
        ({"numBytes": "100", "numPhysicalBytes": "45"}, 45),  # the older field
        ({"numBytes": "100", "numTotalPhysicalBytes": "40", "numPhysicalBytes": "45"}, 40),
        ({"numBytes": "100"}, None),  # not reported
        ({"numBytes": "100", "numTotalPhysicalBytes": "0"}, None),  # not computed yet
        ({"numBytes": "0", "numTotalPhysicalBytes": "0"}, 0),  # an empty table
        ({"numTotalPhysicalBytes": "n/a"}, None),
    ],
)
def test_physical_bytes_read_from_the_table_resource(resource, expected):
    assert physical_bytes(resource) == expected


# -- Editions: the autoscaler's step --------------------------------------------------------------
# https://cloud.google.com/bigquery/docs/slots-autoscaling-intro (read 2026-12-06): "Slots always
# autoscale to a multiple of 50"; "rounded up to the nearest 50 slot increment"; charged "for the
# number of scaled slots, not the number of slots used", for at least the 60 s scale-down window.
# Standard edition $0.04 per slot-hour (https://cloud.google.com/bigquery/pricing).


def job(start: float, end: float, slot_ms: float) -> StoredAttempt:
    return stored_rows.attempt(
        engine="bigquery",
        started_at=T0 + timedelta(seconds=start),
        ended_at=T0 + timedelta(seconds=end),
        client_seconds=end - start,
        slot_ms=slot_ms,
    )


def test_worked_editions_a_120_slot_job_scales_to_150_slots():
    # A 10 s job that used 1,200 slot-seconds needs 120 slots: rounded up to 150 (not 200 as in
    # 100-slot steps), held 60 s: 150 x 60 / 3600 = 2.5 slot-hours x $0.04 = $0.10.
    editions = catalog(model="editions")
    bill = billing_for(run(), editions).price_run([job(0, 10, 1_200_000)])
    assert bill.total.dollars == pytest.approx(150 * 60 / 3600 * 0.04)
    assert any("50-slot steps" in line for line in bill.explain)


def test_the_step_is_the_catalogs_to_change():
    # Should Google change the step again: autoscale_step_slots 100 bills 200 slots: $0.1333.
    bill = billing_for(run(), catalog(model="editions", autoscale_step_slots=100)).price_run(
        [job(0, 10, 1_200_000)]
    )
    assert bill.total.dollars == pytest.approx(200 * 60 / 3600 * 0.04)
