from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stand-in server exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"stand-in server did not listen on port {port} within {seconds} s")


@contextmanager
def server(command: list[str], port: int, log: Path, **popen):
    """A stand-in server process, up once it listens on `port`, stopped afterwards."""
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, **popen)
    try:
        wait_for_port(port, process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


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


def fakesnow_settings(port: int) -> dict:
    """engines.snowflake settings that reach the fakesnow stand-in."""
    return {
        "host": "127.0.0.1",
        "port": port,
        "protocol": "http",
        "account": "fake",
        "user": "fake",
        "password": "${WHB_TEST_SF_PASSWORD:-x}",
        "warehouse_size": "XSMALL",
    }


@pytest.fixture(scope="session")
def fakesnow_port(tmp_path_factory):
    """A fakesnow server (a DuckDB-backed Snowflake) for the whole session, on a free port."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "fakesnow"), "-s", "-p", str(port)]
    with server(command, port, tmp_path_factory.mktemp("fakesnow") / "server.log"):
        yield port


@pytest.fixture(scope="session")
def redshift_port():
    """A throwaway PostgreSQL cluster behind the Redshift protocol shim; yields the shim's port."""
    from redshift_standin import PostgresCluster, RedshiftShim, postgres_available

    if not postgres_available():
        pytest.fail("PostgreSQL 15 is missing: .ci/run installs it (apt-get install postgresql-15)")
    cluster = PostgresCluster(free_port())
    cluster.start()
    shim = RedshiftShim(cluster.port)
    try:
        yield shim.port
    finally:
        shim.close()
        cluster.stop()


@pytest.fixture(scope="session")
def bqemulator_port(tmp_path_factory, object_storage_dir):
    """bqemulator (a DuckDB-backed BigQuery) from its own virtualenv, made by `make test`."""
    root = Path(__file__).resolve().parent.parent
    executable = Path(os.environ.get("WHB_BQEMULATOR", root / ".venv-bqemulator/bin/bqemulator"))
    if not executable.exists():
        pytest.fail(f"{executable} is missing: run `make test`, which installs bqemulator")
    rest, grpc = free_port(), free_port()
    log = tmp_path_factory.mktemp("bqemulator") / "server.log"
    command = [str(executable), "start", "--rest-port", str(rest), "--grpc-port", str(grpc)]
    env = {**os.environ, "BQEMU_GCS_LOCAL_ROOT": str(object_storage_dir / ".cloudstorage")}
    with server([*command, "--project", "whbench-test"], rest, log, cwd=log.parent, env=env):
        yield rest


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


# -- the engines with a local stand-in, for the conformance suite (tests/engines/) -------------
STAND_INS = ("duckdb", "snowflake", "bigquery", "redshift")


@pytest.fixture
def stand_in(request, tmp_path):
    """Settings that reach `engine`'s local stand-in (started for the session on first use)."""

    def settings(engine: str) -> dict:
        if engine == "duckdb":
            return {"database": str(tmp_path / "bench.duckdb")}
        if engine == "snowflake":
            return {
                **fakesnow_settings(request.getfixturevalue("fakesnow_port")),
                "warehouse": "bench_wh",
            }
        if engine == "bigquery":
            port = request.getfixturevalue("bqemulator_port")
            return {
                "project": "whbench-test",
                "api_endpoint": f"http://127.0.0.1:{port}",
                "anonymous": True,
            }
        port = request.getfixturevalue("redshift_port")
        return {
            "host": "127.0.0.1",
            "port": port,
            "database": "postgres",
            "user": "bench",
            "password": "${WHB_TEST_RS_PASSWORD:-x}",
            "ssl": False,
        }

    return settings
