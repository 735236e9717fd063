"""Where a run ran (harness/engines/where.py), classified from the address its client talked to
by each engine class's declared service domains: worked examples from the vendors' documented
endpoint forms, the near misses that must not pass for them, and the words people read."""

from __future__ import annotations

import pytest

from harness.engines import engine_class
from harness.engines.where import (
    NOT_RECORDED,
    classify,
    host_of,
    located,
    url_address,
    where_kind,
    where_text,
)

# (engine, an address in the form its vendor documents): each must read as the service.
SERVICE = [
    ("snowflake", "myorg-account123.snowflakecomputing.com:443"),
    ("snowflake", "xy12345.us-east-2.aws.snowflakecomputing.com:443"),
    ("snowflake", "myorg-account123.privatelink.snowflakecomputing.com:443"),
    ("bigquery", "bigquery.googleapis.com:443"),
    ("redshift", "examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com:5439"),
    ("redshift", "default.123456789012.us-east-1.redshift-serverless.amazonaws.com:5439"),
    ("redshift", "examplecluster.abc123xyz789.cn-north-1.redshift.amazonaws.com.cn:5439"),
    ("databricks", "dbc-a1b2345c-d6e7.cloud.databricks.com:443"),
    ("databricks", "adb-5555555555555555.19.azuredatabricks.net:443"),
    ("databricks", "1234567890123456.7.gcp.databricks.com:443"),
    ("databricks", "adb-5555555555555555.19.databricks.azure.cn:443"),
    ("clickhouse", "abc123.us-east-1.aws.clickhouse.cloud:8443"),
    ("clickhouse", "sb9jmrq2ne.asf3kcggao.ap-southeast-1.aws.clickhouse-byoc.com:8443"),
]

# Addresses that look like a vendor's but are not in its domain, or are another vendor's.
OTHER = [
    ("snowflake", "account.snowflakecomputing.com.evil.example:443"),
    ("snowflake", "evilsnowflakecomputing.com:443"),
    ("snowflake", "snowflake.internal.example.com:443"),  # a proxy or CNAME of the team's
    ("bigquery", "eu-bigquery.googleapis.com.example.net:443"),
    ("bigquery", "notbigquery.googleapis.com:443"),
    ("redshift", "db.example.com:5439"),  # a self-hosted PostgreSQL, say
    ("redshift", "redshift.amazonaws.com.evil.example:5439"),
    ("redshift", "10.0.3.17:5439"),  # a private endpoint's address: not recognised
    ("databricks", "dbc-1.cloud.databricks.com.attacker.io:443"),
    ("databricks", "abc.clickhouse.cloud:443"),  # another vendor's service
    ("clickhouse", "clickhouse.example.com:8443"),
    ("clickhouse", "x.clickhouse.cloud.example.com:8443"),
]

LOCAL = ["127.0.0.1:8080", "127.1.2.3:5439", "localhost:9050", "[::1]:8123", "LOCALHOST.:80"]


@pytest.mark.parametrize(("engine", "endpoint_address"), SERVICE)
def test_an_address_in_the_vendors_documented_domain_is_its_service(engine, endpoint_address):
    assert classify(endpoint_address, engine_class(engine).service_domains) == "service"


@pytest.mark.parametrize(("engine", "endpoint_address"), OTHER)
def test_a_look_alike_or_a_private_address_is_another_endpoint(engine, endpoint_address):
    assert classify(endpoint_address, engine_class(engine).service_domains) == "other"


@pytest.mark.parametrize("endpoint_address", LOCAL)
def test_a_loopback_address_is_local_for_every_engine(endpoint_address):
    for name in ("snowflake", "bigquery", "redshift", "databricks", "clickhouse"):
        assert classify(endpoint_address, engine_class(name).service_domains) == "local"


def test_an_engine_with_no_address_is_embedded_and_no_engine_claims_a_loopback_domain():
    assert located(None, ("snowflakecomputing.com",)) == {"kind": "embedded", "address": None}
    for name in ("duckdb", "motherduck"):  # MotherDuck's docs name no host: no domain
        assert engine_class(name).service_domains == ()
    assert classify("192.168.1.20:5439", ()) == "other"


def test_addresses_are_read_from_urls_with_their_schemes_default_ports():
    assert url_address("https://bigquery.googleapis.com") == "bigquery.googleapis.com:443"
    assert url_address("http://127.0.0.1:9050") == "127.0.0.1:9050"
    assert url_address("http://[::1]:8123/") == "[::1]:8123"
    assert url_address("http://LocalHost") == "localhost:80"
    assert url_address("no host://") is None
    assert host_of("[::1]:8123") == "::1" and host_of("XY.snowflakecomputing.com.:443") == (
        "xy.snowflakecomputing.com"
    )


def test_the_words_name_the_service_and_say_a_stand_in_is_not_it():
    assert where_text("duckdb", {"kind": "embedded", "address": None}) == (
        "on this machine, in whbench's process"
    )
    service = {"kind": "service", "address": "xy.snowflakecomputing.com:443"}
    assert where_text("snowflake", service) == "the Snowflake service (xy.snowflakecomputing.com)"
    assert where_text("motherduck", {"kind": "service", "address": None}) == (
        "the MotherDuck service"
    )
    assert where_text("snowflake", {"kind": "local", "address": "127.0.0.1:8080"}) == (
        "a local endpoint (127.0.0.1:8080): a stand-in or a server on this machine, "
        "not the Snowflake service"
    )
    assert where_text("redshift", {"kind": "other", "address": "db.example.com:5439"}) == (
        "another endpoint (db.example.com:5439), not recognised as the Amazon Redshift service"
    )
    assert where_text("snowflake", None) == NOT_RECORDED
    assert "not recorded" in NOT_RECORDED
    assert where_text("gone_engine", {"kind": "other", "address": "h:1"}).endswith(
        "not recognised as the gone_engine service"
    )


def test_the_kind_is_unknown_when_not_recorded_or_not_one_whbench_knows():
    assert where_kind(None) == "unknown"
    assert where_kind({"kind": "service", "address": "x"}) == "service"
    assert where_kind({"kind": "cloud?"}) == "unknown"
    assert where_text("bigquery", {"kind": "unknown", "address": None}).startswith("unknown")
