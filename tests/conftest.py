from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import standins
import yaml
from standins import free_port, server

# Each engine's stand-in declaration (tests/engines/<engine>/standin.py) is a plugin, so its
# session fixtures (the servers: fakesnow_port, bqemulator_port, redshift_port) reach every test.
pytest_plugins = standins.PLUGINS

WHBENCH = [sys.executable, "-m", "harness"]


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """Generated data shared by the whole session (generation is cached by workload and scale)."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def make_config(workdir, data_dir):
    """Write a config file in the test's folder; keys given override a small DuckDB default."""

    def make(name: str = "config.yaml", **overrides) -> Path:
        config = {
            "runs": 2,
            "timeout_seconds": 60,
            "results_dir": "results",
            "data_dir": str(data_dir),
            "engines": {"duckdb": {"database": "results/bench.duckdb"}},
            "workloads": {"tpch": {"scale": 0.01}},
        }
        config.update(overrides)
        path = workdir / name
        path.write_text(yaml.safe_dump(config))
        return path

    return make


@pytest.fixture
def whbench(workdir):
    """Run the real CLI in a subprocess, in the test's folder."""

    def run(*args: str, env: dict | None = None, timeout: float = 300) -> Result:
        completed = subprocess.run(
            [*WHBENCH, *map(str, args)],
            capture_output=True,
            text=True,
            cwd=workdir,
            env={**os.environ, **(env or {})},
            timeout=timeout,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    return run


def assert_one_line_error(result: Result, *fragments: str, code: int | None = None) -> None:
    """A clear failure: non-zero exit, one line on stderr naming the cause, no traceback."""
    assert result.code != 0, result.stdout
    if code is not None:
        assert result.code == code, (result.code, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="session")
def object_storage_dir(tmp_path_factory) -> Path:
    """Where the GCS emulator keeps objects; bqemulator resolves gs:// URIs under the same
    folder, so a load job reads what the storage client uploaded (as GCS and BigQuery share
    a cloud)."""
    return tmp_path_factory.mktemp("gcs")


@pytest.fixture(scope="session")
def gcs_emulator(object_storage_dir):
    """gcp-storage-emulator (the GCS JSON API) with bucket `whb-test`; yields the env a client
    needs to reach it."""
    port = free_port()
    command = [sys.executable, "-m", "gcp_storage_emulator", "start", "--port", str(port)]
    command += ["--default-bucket", "whb-test", "--quiet"]
    env = {**os.environ, "STORAGE_BASE": str(object_storage_dir)}
    with server(command, port, object_storage_dir.parent / "gcs.log", env=env):
        yield {"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}"}


def s3_client(env: dict):
    """A boto3 S3 client for the stand-in whose env `s3_emulator` gave."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL_S3"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )


def run_from_s3(whbench, config: Path, engine: str, settings: dict, s3_env: dict, prefix: str):
    """Give `engine` the S3 `settings` (a data_uri under s3://whb-test/<prefix>), drop what it
    loaded before, run, and return (its run, {object key: last modified} under the prefix)."""
    data = yaml.safe_load(config.read_text())
    data["engines"][engine] |= settings
    config.write_text(yaml.safe_dump(data))
    whbench("clean", "--config", config, "-e", engine, "--yes")
    _, runs = run_engines(whbench, config, env=s3_env)
    listed = s3_client(s3_env).list_objects_v2(Bucket="whb-test", Prefix=f"{prefix}/")
    return runs[engine], {o["Key"]: o["LastModified"] for o in listed.get("Contents", [])}


@pytest.fixture(scope="session")
def s3_emulator(tmp_path_factory):
    """moto's server (the S3 API) with bucket `whb-test`; yields the env boto3 needs."""
    port = free_port()
    env = {
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "stand-in",
        "AWS_SECRET_ACCESS_KEY": "stand-in",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    command = [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p"]
    with server([*command, str(port)], port, tmp_path_factory.mktemp("s3") / "server.log"):
        s3_client(env).create_bucket(Bucket="whb-test")
        yield env


@dataclass
class LoadedWorkload:
    """A workload generated and loaded into an in-memory DuckDB through the harness's own
    generator, renderer and engine: run(query id) gives a query's rows."""

    truth: dict
    engine: object
    renderer: object

    def run(self, query_id: str, timeout_seconds: float = 300) -> list[tuple]:
        return self.engine.execute(self.renderer.query(query_id), timeout_seconds).rows


def load_into_duckdb(data_dir: Path, workload, scale: float, options=None) -> LoadedWorkload:
    from harness.datagen import ensure_data
    from harness.engines.duckdb import DuckDBEngine, DuckDBSettings
    from harness.workloads import Renderer

    data = ensure_data(data_dir, workload, scale, options)
    engine = DuckDBEngine(DuckDBSettings(database=":memory:"))
    engine.connect()
    renderer = Renderer(workload, engine.dialect, scale, options)
    namespace = workload.namespace(scale, options)
    for table in workload.tables:
        files = data.table_data(table.name)
        engine.load(namespace, files, renderer.table_statements(table, engine.source_uris(files)))
    engine.prepare_session(namespace, "test", 300)
    return LoadedWorkload(data.truth, engine, renderer)


def run_engines(
    whbench, config, env: dict | None = None
) -> tuple[dict[str, dict[str, dict]], dict[str, dict]]:
    """Run `whbench run` on a config: (query id -> engine -> query summary, engine -> run)."""
    result = whbench("run", "--config", config, "--json", "--quiet", env=env)
    assert "Traceback" not in result.stderr
    by_query: dict[str, dict[str, dict]] = {}
    runs = {}
    for run in result.json():
        runs[run["engine"]] = run
        for query in run["queries"]:
            by_query.setdefault(query["query_id"], {})[run["engine"]] = query
    return by_query, runs


def known_answer_differences(workload, loaded: LoadedWorkload, truth: dict) -> dict[str, str]:
    """Query id -> why its answer differs from what `truth` says it must be, for every query
    the workload's generator can predict (as `whbench run` checks them)."""
    from harness.answers import check, expected_answers, shape_of
    from harness.datagen import known_answers

    known = expected_answers(
        None, workload.answers, known_answers(workload.generator)(truth, workload)
    )
    assert known, "the generator predicts no answer"
    found = {}
    for query_id, expected in known.items():
        sql = loaded.renderer.query(query_id)
        difference = check(
            expected,
            loaded.run(query_id),
            lambda sql=sql: shape_of(sql, "duckdb"),
            workload.answers.tolerance(query_id),
        )
        if difference:
            found[query_id] = difference.rule
    return found


def at_once(engine, namespace: str, sql: str, sessions: int = 2) -> list:
    """Run `sql` in `namespace` on `sessions` sessions of the engine's own (`open_session`) at
    the same time, as streams under load do: each one's QueryResult. The sessions are closed."""
    import threading

    opened = [engine.open_session() for _ in range(sessions)]
    results: list = [None] * sessions
    try:
        for session in opened:
            session.prepare_session(namespace, "whbench-load-test", 120)

        def ask(number: int) -> None:
            results[number] = opened[number].execute(sql, 120)

        threads = [threading.Thread(target=ask, args=(n,)) for n in range(sessions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    finally:
        for session in opened:
            session.close()
    return results


# -- the stand-ins (tests/standins.py; each declared in tests/engines/<engine>/standin.py) -------
@pytest.fixture
def stand_in(request, tmp_path):
    """stand_in(engine): settings that reach `engine`'s local stand-in (its server started for
    the session on first use). An engine without a stand-in fails the test, naming it."""

    def settings(engine: str) -> dict:
        declared = standins.at_collection(lambda: standins.lookup(engine))
        return declared.settings(request, tmp_path)

    return settings


@pytest.fixture
def both_engines(make_config, stand_in):
    """both_engines(engine, settings=None, **config): a config of one run each of DuckDB (in
    memory) and `engine`'s stand-in, `settings` added to the stand-in's."""

    def make(engine: str, settings: dict | None = None, **overrides) -> Path:
        engines = {"duckdb": {"database": ":memory:"}, engine: stand_in(engine) | (settings or {})}
        return make_config(runs=1, engines=engines, **overrides)

    return make


def fakesnow_settings(port: int) -> dict:
    """engines.snowflake settings that reach fakesnow on `port` (declared with the Snowflake
    stand-in; here for tests/test_report.py and benchmarks/fetch_paths.py)."""
    from engines.snowflake.standin import fakesnow_settings

    return fakesnow_settings(port)
