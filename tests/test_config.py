from __future__ import annotations

import datetime
import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import harness.engines
from harness.commands.inspect import validate
from harness.config import load_config, parse_config, redact
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


@pytest.mark.parametrize(
    ("engine", "key", "written", "instead"),
    [
        ("motherduck", "token", "md-canary-token-1", "${MOTHERDUCK_TOKEN}"),
        ("clickhouse", "password", "ch-canary-pw", "${CLICKHOUSE_PASSWORD}"),
        ("snowflake", "private_key_passphrase", 90210, "${SNOWFLAKE_PRIVATE_KEY_PASSPHRASE}"),
        ("redshift", "password", {"value": "rs-canary"}, "${REDSHIFT_PASSWORD}"),
        ("snowflake", "token", ["sf-canary"], "${SNOWFLAKE_TOKEN}"),
        ("redshift", "password", "canary-part${WHB_UNSET:-}", "${REDSHIFT_PASSWORD}"),
    ],
)
def test_a_secret_written_into_the_config_is_refused_in_one_line_without_its_value(
    engine, key, written, instead
):
    text = f"engines:\n  {engine}:\n    {key}: {json.dumps(written)}\n"
    config = parse_config(yaml.safe_load(text), "bench.yaml", text)
    with pytest.raises(ConfigError) as refused:
        config.engines[engine]
    message = str(refused.value)
    assert message.startswith(f"bench.yaml: line 3: engines.{engine}.{key}: ")
    assert instead in message and "${file:PATH}" in message and "\n" not in message
    assert "canary" not in message and "90210" not in message


def test_a_secret_from_the_environment_a_default_or_a_file_is_taken(monkeypatch, tmp_path):
    monkeypatch.setenv("WHB_TEST_TOKEN", "from-the-environment")
    monkeypatch.delenv("WHB_UNSET", raising=False)
    secret = tmp_path / "password"
    secret.write_text("from-a-file\n")
    config = parse_config(
        {
            "engines": {
                "motherduck": {"token": "${WHB_TEST_TOKEN}"},
                "clickhouse": {"host": "h", "password": f"${{file:{secret}}}"},
                "redshift": {"password": "${WHB_UNSET:-from-a-default}"},
            }
        }
    )
    assert config.engines["motherduck"].token == "from-the-environment"
    assert config.engines["clickhouse"].password == "from-a-file"
    assert config.engines["redshift"].password == "from-a-default"


def test_literal_secrets_an_older_whbench_accepted_are_masked_when_shown_by_their_type():
    # Snowflake's password and token are typed Secret; the key file's path and the user are not.
    # A reference's default is a value written in the config, so it is masked too. (Such a
    # config is refused now, but a run stored by an older whbench may still hold one.)
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
    assert redact(raw)["engines"] == {
        "snowflake": {
            "password": "***",
            "private_key_file": "/k.p8",
            "token": "${WHB_TEST_TOKEN:-***}",
            "user": "me",
        },
        "redshift": {"password": "***", "host": "h"},
    }
    config = parse_config({"engines": {"snowflake": {"token": "${WHB_TEST_TOKEN:-t}"}}})
    assert repr(config.engines["snowflake"].token) == "Secret('***')"


def test_sign_in_follows_from_the_credentials_type():
    from harness.engines import engine_class

    def auth(engine, **settings):
        config = parse_config({"engines": {engine: settings}})
        return engine_class(engine)(config.engines[engine]).auth_method()

    assert auth("snowflake", private_key_file="/k.p8", password="${WHB_UNSET:-x}") == "key pair"
    assert auth("snowflake", connection_name="prod") == "named connection 'prod' (connections.toml)"
    assert auth("snowflake", token="${WHB_UNSET:-t}") == "OAuth token"
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
    from harness.plan import plan

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


def test_a_key_given_twice_at_any_level_is_a_yaml_error_with_its_position():
    with pytest.raises(YamlError) as twice:
        read_yaml("a: 1\nb:\n  c: [1, {d: 1, d: 2}]\n")
    assert (twice.value.line, twice.value.column) == (3, 17)
    assert "duplicate key 'd'" in str(twice.value) and twice.value.hint
    # A key merged in with `<<:` may be overridden: that is what merging is for.
    assert read_yaml("a: &a {k: 1, j: 2}\nb:\n  <<: *a\n  k: 3\n")["b"] == {"k": 3, "j": 2}


def test_aliases_are_counted_before_anything_is_expanded():
    laughs = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    laughs += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    with pytest.raises(YamlError, match="aliases that expand to more than") as bomb:
        read_yaml("\n".join(laughs))  # 72 aliases standing for 10 * 9**8 values
    assert bomb.value.line is not None
    with pytest.raises(YamlError, match="more than 100 aliases"):
        read_yaml("b: &b 1\nl: [" + ", ".join(["*b"] * 101) + "]\n")
    assert read_yaml("b: &b 1\nl: [*b, *b]\nsql: 'SELECT * FROM t WHERE a & 1'\n")["l"] == [1, 1]


def test_reads_are_capped_and_only_of_regular_files(tmp_path):
    from harness.paths import read_text

    big = tmp_path / "big.yaml"
    big.write_text("x" * 2000)
    assert read_text(big, "file", ConfigError) == "x" * 2000
    with pytest.raises(ConfigError, match=r"big\.yaml is larger than 1 KiB"):
        read_text(big, "file", ConfigError, limit=1024)
    for path, kind in (("/dev/zero", "a character device"), (tmp_path, "a directory")):
        with pytest.raises(ConfigError, match=f"is {kind}, not a regular file"):
            read_text(path, "file", ConfigError)
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    with pytest.raises(ConfigError, match="is a symlink loop"):
        load_config(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="is a symlink to a missing file"):
        load_config(tmp_path / "dangling")


def test_an_error_names_the_file_and_the_line_of_its_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("runs: 2\nengines:\n  duckdb:\n    threads: 0\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: line 4: engines\.duckdb\.threads: must be"):
        load_config(path).engines["duckdb"]
    path.write_text("runs: 2\nworkload_dirs: [a, 3, {x: 1}]\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: line 2: workload_dirs\[2\]: expected Path"):
        load_config(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"runs": 10_001}, r"runs: must be at most 10,000 \(got 10001\)"),
        ({"runs": float("nan")}, r"runs: must be a finite number, got nan"),
        ({"timeout_seconds": float("inf")}, r"timeout_seconds: must be a finite number"),
        ({"timeout_seconds": 10**400}, r"timeout_seconds: must be at most 604,800"),
        ({"max_cost": 0}, r"max_cost: must be a positive number"),
        ({"projection": {"queries_per_day": -1}}, r"projection\.queries_per_day: must be at"),
        ({"templates": {"output_mb": float("nan")}}, r"templates\.output_mb: must be a finite"),
        ({"workloads": {"events": {"options": {"gap": 2**70}}}}, r"options\.gap: must be at most"),
        ({"engines": {"redshift": {"port": 0}}}, r"engines\.redshift\.port: must be at least 1"),
        ({"engines": {"snowflake": {"port": "99999"}}}, r"snowflake\.port: must be at most 65,535"),
        ({"engines": {"bigquery": {"maximum_bytes_billed": 1}}}, r"must be at least 10,485,760"),
    ],
)
def test_every_number_is_finite_and_in_its_range(data, message):
    with pytest.raises(ConfigError, match=message):
        config = parse_config(data)
        for name in config.engines:
            config.engines[name]


def test_no_message_shows_a_value_that_came_from_a_reference(monkeypatch):
    monkeypatch.setenv("WHB_TEST_SECRET", "canary-config-4a1b")
    cases = [
        {"engines": {"redshift": {"password": {"value": "${WHB_TEST_SECRET}"}}}},
        {"engines": {"redshift": {"port": "${WHB_TEST_SECRET}"}}},
        {"engines": {"snowflake": {"warehouse": "${WHB_TEST_SECRET}!"}}},
        {"runs": "${WHB_UNSET:-canary-default}"},
        {"timeout_seconds": "x${WHB_TEST_SECRET}"},
        {"engines": {"snowflake": {"token": ["canary-literal"]}}},
    ]
    for data in cases:
        with pytest.raises(ConfigError) as error:
            config = parse_config(data)
            for name in config.engines:
                config.engines[name]
        assert "canary" not in str(error.value), str(error.value)
        assert "${WHB" in str(error.value) or "not shown" in str(error.value)


def test_the_stored_config_masks_every_credential_and_every_default(monkeypatch):
    monkeypatch.delenv("WHB_UNSET", raising=False)
    config = parse_config(
        {
            "results_dir": "${WHB_UNSET:-canary-folder}",
            "engines": {
                "redshift": {"password": "${WHB_UNSET:-canary-password}", "port": 5439},
                "snowflake": {"token": 12345, "private_key_passphrase": "${WHB_UNSET:-}"},
            },
        }
    )
    stored = config.redacted()
    assert "canary" not in json.dumps(stored)
    assert stored["results_dir"] == "${WHB_UNSET:-***}"
    assert stored["engines"]["redshift"] == {"password": "${WHB_UNSET:-***}", "port": 5439}
    assert stored["engines"]["snowflake"]["token"] == "***"
    assert config.raw["results_dir"] == "${WHB_UNSET:-canary-folder}"  # as written, not stored


def test_a_driver_message_quoting_a_secret_is_scrubbed(monkeypatch):
    from harness.errors import EngineError, one_line, scrub

    monkeypatch.setenv("WHB_TEST_SECRET", "canary-driver-9c2d")
    parse_config({"engines": {"redshift": {"host": "${WHB_TEST_SECRET}"}}})
    message, code = one_line(EngineError("could not reach\ncanary-driver-9c2d:5439"))
    assert message == "error: could not reach ${WHB_TEST_SECRET}:5439" and code == 1
    assert scrub("'canary-driver-9c2d'") == "${WHB_TEST_SECRET}"


def test_a_results_folder_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "afile").write_text("")
    config = parse_config({"results_dir": str(tmp_path / "afile")})
    with pytest.raises(ConfigError, match=r"results_dir .*afile is a file, not a folder"):
        config.check_folders()
    parse_config({"results_dir": str(tmp_path / "new")}).check_folders()  # made when needed


def test_debug_is_passed_down_to_the_invocation_not_kept_in_a_module(tmp_path):
    """--debug fills in the Invocation the entry point gave Click (harness/options.py), so two
    invocations in one process never see each other's."""
    from harness.cli import cli
    from harness.options import Invocation

    results = tmp_path / "results"
    with open_store(results / "results.duckdb"):
        pass
    with_debug, without = Invocation(), Invocation()
    for invocation, extra in ((with_debug, ["--debug"]), (without, [])):
        args = ["results", "list", "--results-dir", str(results), "--json", *extra]
        cli.main(args, standalone_mode=False, obj=invocation)
    assert with_debug.debug and not without.debug
