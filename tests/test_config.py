from __future__ import annotations

import datetime
import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

import harness.engines
from harness.commands.inspect import validate
from harness.config import load_config, parse_config
from harness.engines.duckdb import DuckDBSettings
from harness.errors import ConfigError
from harness.paths import YamlError, bundled, read_yaml
from harness.store import open_store


def test_bundled_configs_parse():
    for name in ("default.yaml", "ci.yaml"):
        config = load_config(bundled("configs") / name)
        assert isinstance(config.engines["duckdb"], DuckDBSettings)


def test_values_are_typed_and_defaults_fill_the_rest():
    config = parse_config(
        {
            "runs": 5,
            "engines": {"duckdb": {"threads": 2}},
            "workloads": {"tpch": {"scale": 1, "queries": ["q01"]}},
        }
    )
    assert config.runs == 5 and config.timeout_seconds == 600.0
    assert config.engines["duckdb"].threads == 2
    assert config.workloads["tpch"].scale == 1.0 and config.workloads["tpch"].queries == ["q01"]
    assert config.store_path == Path("results/results.duckdb")


def test_unknown_key_names_its_path_and_suggests():
    with pytest.raises(
        ConfigError, match=r"engines\.duckdb\.thread: unknown key, did you mean 'threads'"
    ):
        parse_config({"engines": {"duckdb": {"thread": 2}}}).engines["duckdb"]
    with pytest.raises(ConfigError, match=r"workloads\.tpch\.scal: unknown key"):
        parse_config({"workloads": {"tpch": {"scal": 2}}})


def test_unknown_engine_is_named():
    with pytest.raises(ConfigError, match=r"engines\.snowflak: unknown engine"):
        parse_config({"engines": {"snowflak": {}}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"runs": "many"}, r"runs: expected int, got str 'many'"),
        ({"runs": 1.5}, r"runs: expected a whole number"),
        ({"runs": 0}, r"runs: must be at least 1"),
        ({"timeout_seconds": -1}, r"timeout_seconds: must be a positive number \(got -1\)"),
        ({"engines": []}, r"engines: expected a mapping"),
        ({"workloads": {"tpch": {"queries": "q01"}}}, r"workloads\.tpch\.queries: expected a list"),
        (["runs"], r"top level must be a mapping"),
    ],
)
def test_wrong_types_are_errors_naming_the_key(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_env_references_resolve_at_load_and_stay_references_when_stored(monkeypatch):
    monkeypatch.setenv("WHB_TEST_THREADS", "3")
    monkeypatch.delenv("WHB_TEST_MEM", raising=False)
    config = parse_config(
        {
            "engines": {
                "duckdb": {"threads": "${WHB_TEST_THREADS}", "memory_limit": "${WHB_TEST_MEM:-2GB}"}
            }
        }
    )
    assert config.engines["duckdb"].threads == 3
    assert config.engines["duckdb"].memory_limit == "2GB"
    assert config.redacted()["engines"]["duckdb"]["threads"] == "${WHB_TEST_THREADS}"


def test_literal_secrets_are_masked_in_the_stored_config_by_their_type():
    # Snowflake's password and token are typed Secret; the key file's path and the user are not.
    # A reference's default is a value written in the config, so it is masked too.
    raw = {
        "engines": {
            "snowflake": {
                "password": "hunter2",
                "private_key_file": "/k.p8",
                "token": "${WHB_TEST_TOKEN:-t}",
                "user": "me",
            },
            "redshift": {"password": "s3cr3t", "host": "h"},
        }
    }
    config = parse_config(raw)
    assert config.redacted()["engines"] == {
        "snowflake": {
            "password": "***",
            "private_key_file": "/k.p8",
            "token": "${WHB_TEST_TOKEN:-***}",
            "user": "me",
        },
        "redshift": {"password": "***", "host": "h"},
    }
    assert repr(config.engines["snowflake"].password) == "Secret('***')"


def test_sign_in_follows_from_the_credentials_type():
    from harness.engines import engine_class

    def auth(engine, **settings):
        config = parse_config({"engines": {engine: settings}})
        return engine_class(engine)(config.engines[engine]).auth_method()

    assert auth("snowflake", private_key_file="/k.p8", password="x") == "key pair"
    assert auth("snowflake", connection_name="prod") == "named connection 'prod' (connections.toml)"
    assert auth("snowflake", token="t") == "OAuth token"
    assert auth("snowflake") == "none configured"
    assert auth("redshift", iam=True, serverless_work_group="wg").startswith("IAM temporary")
    assert auth("bigquery") == "Application Default Credentials"
    assert auth("duckdb") == "none (runs in this process)"


def test_missing_env_variable_names_variable_and_key(monkeypatch):
    monkeypatch.delenv("WHB_NOT_SET", raising=False)
    with pytest.raises(
        ConfigError, match=r"engines\.duckdb\.database: environment variable WHB_NOT_SET is not set"
    ):
        parse_config({"engines": {"duckdb": {"database": "${WHB_NOT_SET}"}}})


def test_malformed_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("runs: 3\nengines:\n  duckdb: {database: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: line \d+, column \d+: malformed YAML"):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"config file .*nope\.yaml not found"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("engine", "settings", "message"),
    [
        ("bigquery", {"data_uri": "s3://bucket/x"}, r"loads from gs://, not s3://"),
        ("redshift", {"data_uri": "gs://bucket/x"}, r"loads from s3://, not gs://"),
        ("redshift", {"data_uri": "bucket/x"}, r"'bucket/x' is not an s3://"),
        ("bigquery", {"data_uri": "gs://Bad_Bucket/x"}, r"is not an s3://BUCKET/PREFIX or gs://"),
        # A URI goes into COPY and CREATE STAGE as a literal: nothing that could end it passes.
        ("redshift", {"data_uri": "s3://bucket/x' IAM_ROLE default; --"}, r"is not an s3://"),
        ("snowflake", {"data_uri": "s3://bucket/x"}, r"needs storage_integration"),
        ("snowflake", {"external_stage": "st; DROP TABLE t"}, r"is not a Snowflake name"),
        ("snowflake", {"database": "X; DROP DATABASE Y"}, r"is not a Snowflake name"),
        ("snowflake", {"warehouse": "W' OR '1'='1"}, r"is not a Snowflake name"),
        ("bigquery", {"dataset_prefix": "a`; DROP"}, r"may hold only"),
        ("redshift", {"iam_role_arn": "role"}, r"is not an IAM role ARN"),
    ],
)
def test_engine_settings_are_checked_when_the_engine_is_first_used(engine, settings, message):
    config = parse_config({"engines": {engine: settings}})  # names only: no engine imported yet
    with pytest.raises(ConfigError, match=rf"engines\.{engine}\.\w+:? .*{message}"):
        config.engines[engine]
    with pytest.raises(ConfigError, match=rf"engines\.{engine}\.\w+:? .*{message}"):
        validate(config)  # checks every section, used or not


def test_a_command_that_touches_no_engine_does_not_import_one(tmp_path):
    """Start-up: `whbench results list` reads the config but no engine's package."""
    code = (
        "import sys; from harness.config import parse_config; "
        "c = parse_config({'engines': {'snowflake': {'warehouse': 'W'}}}); "
        "assert list(c.engines) == ['snowflake']; "
        "print(sorted(m for m in sys.modules if m.startswith('harness.engines.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_listing_runs_imports_no_engine_and_parses_a_config_text_once(tmp_path):
    """Start-up: `whbench results list` opens the store and reads the config, imports no
    engine's package, and imports PyYAML only the first time it sees the config's text."""
    results = tmp_path / "results"
    with open_store(results / "results.duckdb"):
        pass
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    code = (
        "import json, sys; from harness.cli import main; sys.argv[0] = 'whbench'; main(); "
        "names = [m for m in sys.modules if m == 'yaml' or m.startswith('harness.engines.')]; "
        "print(json.dumps(sorted(names)), file=sys.stderr)"
    )

    def imported() -> list[str]:
        command = [sys.executable, "-c", code, "results", "list", "--results-dir", str(results)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        return json.loads(done.stderr.splitlines()[-1])

    assert imported() == ["yaml"]
    assert imported() == []


def test_every_bundled_yaml_file_can_be_held_by_the_parse_cache():
    """A value marshal cannot write (an unquoted date: `as_of: 2026-11-25`) would make its file
    parsed, and PyYAML imported, on every command that reads it."""
    engines = Path(harness.engines.__file__).parent
    files = [
        *bundled("configs").glob("*.yaml"),
        *bundled("workloads").rglob("*.yaml"),
        *engines.glob("*/pricing.yaml"),
    ]
    assert len(files) >= 10
    for file in files:
        marshal.dumps(read_yaml(file.read_text()))  # raises ValueError on such a value


def test_a_yaml_text_is_parsed_once_and_a_bad_cache_entry_is_parsed_again(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    text = "runs: 3\nengines: {duckdb: {threads: 2}}\nlist: [1, 2.5, null, yes]\n"
    parsed = {"runs": 3, "engines": {"duckdb": {"threads": 2}}, "list": [1, 2.5, None, True]}
    assert read_yaml(text) == parsed
    (entry,) = (tmp_path / "whbench").glob("yaml-*/*.marshal")
    assert read_yaml(text) == parsed  # from the cache
    entry.write_bytes(b"\xff")  # damaged: parsed again, and the entry rewritten
    assert read_yaml(text) == parsed
    assert read_yaml(text) == parsed and entry.read_bytes() != b"\xff"
    # A value the cache cannot hold (a YAML date) is parsed every time, and still right.
    assert read_yaml("day: 2026-11-26\n") == {"day": datetime.date(2026, 11, 26)}
    assert len(list((tmp_path / "whbench").glob("yaml-*/*"))) == 1
    with pytest.raises(YamlError) as bad:
        read_yaml("a: [1,\n")
    assert bad.value.line == 2 and bad.value.where == " line 2, column 1"


def test_a_data_uri_maps_each_table_and_format_to_its_own_folder():
    from harness.engines.base import TableData
    from harness.engines.bigquery import BigQueryEngine, BigQuerySettings

    engine = BigQueryEngine(BigQuerySettings(data_uri="gs://bucket/bench/"))
    data = TableData("events/sf1000000__days7", "events", (Path("e.parquet"), Path("e.ndjson")))
    assert engine.source_uris(data) == {
        "parquet": ["gs://bucket/bench/events/sf1000000__days7/events/parquet/*"],
        "ndjson": ["gs://bucket/bench/events/sf1000000__days7/events/ndjson/*"],
    }


def test_a_dataset_prefix_goes_after_the_harness_prefix(tmp_path):
    from harness.runner import plan

    config = parse_config(
        {
            "engines": {"bigquery": {"dataset_prefix": "alice_"}},
            "workloads": {"tpch": {"scale": 0.01}},
        }
    )
    (task,) = plan(config)
    assert task.namespace == "whb_alice_tpch_sf0_01"
    with pytest.raises(ConfigError, match="dataset_prefix: 'Alice-' may hold only"):
        parse_config({"engines": {"bigquery": {"dataset_prefix": "Alice-"}}}).engines["bigquery"]


def test_secret_files_resolve_and_stay_references_when_stored(tmp_path):
    secret = tmp_path / "redshift_password"
    secret.write_text("s3cr3t-from-a-file\n")
    config = parse_config({"engines": {"redshift": {"password": f"${{file:{secret}}}"}}})
    assert config.engines["redshift"].password == "s3cr3t-from-a-file"
    assert config.redacted()["engines"]["redshift"]["password"] == f"${{file:{secret}}}"
    with pytest.raises(
        ConfigError, match=r"engines\.redshift\.password: secret file /no/such/secret not found"
    ):
        parse_config({"engines": {"redshift": {"password": "${file:/no/such/secret}"}}})
