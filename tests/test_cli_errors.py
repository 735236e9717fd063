"""Bad input through the real CLI: one line naming the cause, a non-zero exit, no traceback,
and nothing already recorded lost."""

from __future__ import annotations

import json
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import WHBENCH, assert_one_line_error

from harness.engines import REGISTRY
from harness.paths import bundled
from harness.store import open_store


def broken_workload(workdir: Path, query_id: str, text: str) -> Path:
    """A copy of TPC-H in the test folder with one query template replaced."""
    root = workdir / "workloads"
    shutil.copytree(bundled("workloads") / "tpch", root / "tpch")
    (root / "tpch" / "queries" / f"{query_id}.sql.j2").write_text(text)
    return root


SLOW = "select count(*) from lineitem a, lineitem b, nation where a.l_comment < b.l_comment"


def start_slow_run(whbench, make_config, workdir: Path) -> tuple[subprocess.Popen, Path, Path]:
    """`whbench run` of q01 (quick, twice) then q06 (minutes of work), in the background, once
    q01's two attempts (and its kept result) are journaled: (process, config, workload folder)."""
    root = broken_workload(workdir, "q06", SLOW)
    config = make_config(workload_dirs=[str(root)], timeout_seconds=600)
    whbench("generate", "--config", config)  # so start-up is quick
    process = run_in_background(
        workdir,
        "--config",
        config,
        "-q",
        "q01",
        "-q",
        "q06",
        "--quiet",
        journaled='"query_id": "q01", "attempt": 2',
    )
    return process, config, root


def run_in_background(workdir: Path, *args: str | Path, journaled: str) -> subprocess.Popen:
    """`whbench run ARGS` in the background, returned once its journal holds `journaled`."""
    process = subprocess.Popen(
        [*WHBENCH, "run", *map(str, args)],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    journal = workdir / "results" / "results.duckdb.journal"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        journal.exists() and journaled in journal.read_text()
    ):
        time.sleep(0.05)
    return process


def test_missing_config_file(whbench):
    assert_one_line_error(whbench("run", "--config", "nope.yaml"), "nope.yaml not found", code=2)


def test_malformed_config(whbench, workdir):
    (workdir / "bad.yaml").write_text("engines:\n  duckdb: {database: [x\n")
    assert_one_line_error(whbench("run", "--config", "bad.yaml"), "malformed YAML", code=2)


def test_a_config_that_is_not_text(whbench, workdir):
    (workdir / "random.yaml").write_bytes(bytes(range(128, 256)) * 4)
    assert_one_line_error(
        whbench("run", "--config", "random.yaml"), "random.yaml is not a text file", code=2
    )


def test_unknown_config_key(whbench, make_config):
    config = make_config(engines={"duckdb": {"databse": "x.duckdb"}})
    assert_one_line_error(
        whbench("run", "--config", config),
        "engines.duckdb.databse: unknown key",
        "did you mean 'database'",
        code=2,
    )


def test_unknown_engine_on_the_command_line(whbench, make_config):
    result = whbench("run", "--config", make_config(), "--engine", "oracle")
    assert_one_line_error(
        result,
        "unknown engine 'oracle'",
        "known engines: " + ", ".join(sorted(REGISTRY)),  # every registered engine
        code=2,
    )


def test_unknown_workload(whbench, make_config):
    result = whbench("run", "--config", make_config(), "--workload", "nope")
    assert_one_line_error(result, "unknown workload 'nope'", "tpch", code=2)


def test_unknown_dialect(whbench, make_config):
    result = whbench("render", "--config", make_config(), "tpch", "q01", "--dialect", "oracel")
    assert_one_line_error(result, "unknown dialect 'oracel'", "snowflake", code=2)


def test_unknown_query(whbench, make_config):
    result = whbench("run", "--config", make_config(), "--query", "q99")
    assert_one_line_error(result, "no query 'q99'", code=2)


@pytest.mark.parametrize(
    ("scale", "fragment"),
    [
        ("-1", "must be a positive number"),
        ("ten", "'ten' is not a valid float"),
        ("0.0001", "out of range"),
    ],
)
def test_bad_scale(whbench, make_config, scale, fragment):
    result = whbench("run", "--config", make_config(), "--scale", scale)
    assert_one_line_error(result, fragment, code=2)


def test_template_syntax_error(whbench, make_config, workdir):
    root = broken_workload(workdir, "q05", "select 1 from t\n{% for %}\n")
    result = whbench("run", "--config", make_config(workload_dirs=[str(root)]))
    assert_one_line_error(result, "q05.sql.j2:2: template syntax error", code=2)
    assert not (workdir / "results" / "results.duckdb").exists()  # failed before any work


def test_undefined_template_variable(whbench, make_config, workdir):
    root = broken_workload(workdir, "q05", "select 1\nfrom t where a = {{ region_nme }}\n")
    result = whbench("run", "--config", make_config(workload_dirs=[str(root)]))
    assert_one_line_error(result, "q05.sql.j2:2", "'region_nme' is undefined", code=2)


def test_sql_error_in_one_query_is_recorded_and_the_run_goes_on(whbench, make_config, workdir):
    root = broken_workload(workdir, "q06", "select no_such_column from lineitem")
    result = whbench("run", "--config", make_config(workload_dirs=[str(root)]), "--quiet")
    assert result.code == 1
    assert "Traceback" not in result.stderr
    assert "q06: error: " in result.stderr and "no_such_column" in result.stderr
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    by_status = dict(con.execute("SELECT status, count(*) FROM attempts GROUP BY 1").fetchall())
    assert by_status == {"ok": 42, "error": 2}
    error, seconds = con.execute(
        "SELECT error, client_seconds FROM attempts WHERE status = 'error' LIMIT 1"
    ).fetchone()
    assert "no_such_column" in error and seconds is None  # an error is never a time


def test_query_over_its_time_limit_is_a_timeout_not_a_time(whbench, make_config, workdir):
    slow = "select sum(a.l_quantity * b.l_quantity) from lineitem a, lineitem b"
    root = broken_workload(workdir, "q06", slow)
    config = make_config(workload_dirs=[str(root)], timeout_seconds=0.5)
    result = whbench("run", "--config", config, "--quiet", "-q", "q06", "-q", "q01")
    assert result.code == 1 and "q06: timeout" in result.stderr
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT query_id, status, client_seconds FROM attempts ORDER BY query_id, attempt"
    ).fetchall()
    assert rows[:2] == [("q01", "ok", rows[0][2]), ("q01", "ok", rows[1][2])]
    assert rows[2:] == [("q06", "timeout", None), ("q06", "timeout", None)]


def test_duckdb_database_locked_by_another_process(whbench, make_config, workdir):
    config = make_config(engines={"duckdb": {"database": "held.duckdb"}})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, time; c = duckdb.connect('held.duckdb'); print('ready', flush=True); "
            "time.sleep(120)",
        ],
        cwd=workdir,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = whbench("run", "--config", config, "--quiet")
    finally:
        holder.kill()
        holder.wait()
    assert result.code == 1
    assert "Traceback" not in result.stderr
    assert "held.duckdb is locked by another process" in result.stderr
    assert f"PID {holder.pid}" in result.stderr


def test_results_folder_not_writable(whbench, make_config, workdir):
    (workdir / "blocker").write_text("a file where a folder should be")
    result = whbench("run", "--config", make_config(results_dir="blocker/results"))
    assert_one_line_error(result, "cannot open results store", "--results-dir", code=1)


def test_no_store_yet(whbench, make_config):
    assert_one_line_error(whbench("report", "--config", make_config()), "no results store", code=2)
    assert_one_line_error(
        whbench("results", "list", "--config", make_config()), "no results store", code=2
    )


def test_unknown_run_id(whbench, make_config):
    config = make_config()
    assert whbench("run", "--config", config, "--quiet", "-q", "q06").code == 0
    assert_one_line_error(
        whbench("results", "show", "nope", "--config", config), "no run 'nope'", code=2
    )


def test_debug_shows_the_traceback(whbench):
    result = whbench("run", "--config", "nope.yaml", "--debug")
    assert result.code != 0 and "Traceback" in result.stderr


def test_ctrl_c_cancels_the_query_keeps_what_finished_and_exits_130(whbench, make_config, workdir):
    process, config, root = start_slow_run(whbench, make_config, workdir)
    store = workdir / "results" / "results.duckdb"
    time.sleep(1)  # well into q06
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert time.monotonic() - started < 10  # the query was cancelled, not waited for
    assert "Traceback" not in stderr and "interrupted" in stderr
    con = duckdb.connect(str(store), read_only=True)
    (run_id, status) = con.execute("SELECT run_id, status FROM runs").fetchone()
    assert status == "interrupted"
    finished = con.execute(
        "SELECT query_id, attempt, status, started_at FROM attempts ORDER BY attempt"
    ).fetchall()
    con.close()
    assert [row[:3] for row in finished] == [("q01", 1, "ok"), ("q01", 2, "ok")]

    # The message says how to finish the run; doing so runs only what is missing (q06, made
    # quick again here), into the same run.
    (command,) = re.findall(r"to finish it: (whbench run --resume \S+ --config \S+ .*)$", stderr)
    assert f"--resume {run_id}" in command
    (root / "tpch" / "queries" / "q06.sql.j2").write_text("SELECT 1 AS quick")
    args = command.split()[2:]
    resumed = whbench("run", *args, "--quiet", "--json")
    assert resumed.code == 0, resumed.stderr
    assert [q["query_id"] for q in resumed.json()[0]["queries"]] == ["q06"]
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("SELECT run_id, status FROM runs").fetchall() == [(run_id, "finished")]
    after = con.execute(
        "SELECT query_id, attempt, status, started_at FROM attempts ORDER BY query_id, attempt"
    ).fetchall()
    assert after[:2] == finished  # untouched
    assert [row[:3] for row in after[2:]] == [("q06", 1, "ok"), ("q06", 2, "ok")]
    again = whbench("run", "--resume", run_id, "--config", config)
    assert_one_line_error(again, "finished; there is nothing to resume", code=2)


def test_sigkill_mid_run_keeps_every_finished_attempt(whbench, make_config, workdir):
    process, config, root = start_slow_run(whbench, make_config, workdir)
    journal = workdir / "results" / "results.duckdb.journal"
    process.kill()  # SIGKILL: nothing runs after it, no handler, no flush
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    # The next command to open the store (here a reader) finds both finished attempts.
    (run,) = json.loads(whbench("results", "list", "--config", config, "--json").stdout)
    shown = json.loads(
        whbench("results", "show", run["run_id"], "--config", config, "--json").stdout
    )
    assert shown["run"]["status"] == "interrupted"
    assert [(a["query_id"], a["attempt"], a["status"]) for a in shown["attempts"]] == [
        ("q01", 1, "ok"),
        ("q01", 2, "ok"),
    ]
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    assert con.execute("SELECT query_id, attempt FROM results").fetchall() == [("q01", 1)]
    con.close()
    assert not journal.exists()
    # And it can be finished: only q06 runs (made quick again), into the same run.
    (root / "tpch" / "queries" / "q06.sql.j2").write_text("SELECT 1 AS quick")
    resumed = whbench("run", "--resume", run["run_id"], "--config", config, "--quiet")
    assert resumed.code == 0, resumed.stderr
    shown = json.loads(
        whbench("results", "show", run["run_id"], "--config", config, "--json").stdout
    )
    assert shown["run"]["status"] == "finished"
    assert [(a["query_id"], a["attempt"]) for a in shown["attempts"]] == [
        ("q01", 1),
        ("q01", 2),
        ("q06", 1),
        ("q06", 2),
    ]


def test_resume_refuses_options_that_would_change_the_run(whbench, make_config):
    result = whbench("run", "--resume", "x", "-w", "tpch", "--config", make_config())
    assert_one_line_error(result, "--resume continues a run with its own engine", code=2)


def test_a_second_run_on_a_busy_store_fails_clearly_and_loses_nothing(
    whbench, make_config, workdir
):
    first, config, _ = start_slow_run(whbench, make_config, workdir)
    second = whbench("run", "--config", config, "-q", "q01", "--quiet")
    assert_one_line_error(second, "is in use by another process", "wait for it", code=1)
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=60)
    third = whbench("run", "--config", config, "-q", "q01", "--quiet")  # now it may
    assert third.code == 0, third.stderr
    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    counts = con.execute(
        "SELECT r.status, count(a.attempt) FROM runs r LEFT JOIN attempts a USING (run_id) "
        "GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert counts == [("finished", 2), ("interrupted", 2)]


# -- the rest of the bad-input catalogue (see docs/failure-behaviour.md) -----------------------
def test_config_value_of_the_wrong_type(whbench, workdir):
    (workdir / "c.yaml").write_text("runs: many\n")
    assert_one_line_error(whbench("run", "--config", "c.yaml"), "runs", code=2)


def test_config_refers_to_a_missing_environment_variable(whbench, workdir):
    (workdir / "c.yaml").write_text(
        "engines:\n  redshift:\n    host: h\n    password: ${WHB_NO_SUCH_VARIABLE}\n"
    )
    assert_one_line_error(whbench("run", "--config", "c.yaml"), "WHB_NO_SUCH_VARIABLE", code=2)


def test_query_template_file_missing(whbench, make_config, workdir):
    root = broken_workload(workdir, "q06", "")
    (root / "tpch" / "queries" / "q06.sql.j2").unlink()
    config = make_config(workload_dirs=[str(root)])
    assert_one_line_error(
        whbench("run", "--config", config, "-q", "q06"), "q06.sql.j2 not found", code=2
    )


def _damage(folder: Path, how: str) -> None:
    lineitem = next(folder.rglob("lineitem*.parquet"))
    if how == "missing":
        lineitem.unlink()
    elif how == "truncated":
        lineitem.write_bytes(lineitem.read_bytes()[: lineitem.stat().st_size // 2])
    else:  # corrupt: the right size, the wrong bytes
        lineitem.write_bytes(b"\0" * lineitem.stat().st_size)


@pytest.mark.parametrize("how", ["missing", "truncated", "corrupt"])
def test_damaged_data_file_fails_the_load_and_leaves_no_table(whbench, make_config, workdir, how):
    config = make_config(data_dir="data", engines={"duckdb": {"database": "bench.duckdb"}})
    assert whbench("generate", "--config", config).code == 0
    _damage(workdir / "data", how)
    result = whbench("run", "--config", config, "-q", "q06")
    assert result.code == 1 and "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "lineitem" in line and "generate" in line and "again" in line
    if (workdir / "bench.duckdb").exists():  # (a missing file is found before connecting)
        con = duckdb.connect(str(workdir / "bench.duckdb"), read_only=True)
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert "lineitem" not in tables  # all or nothing
        con.close()


def test_corrupt_results_store_is_refused_and_left_as_it_was(whbench, make_config, workdir):
    store = workdir / "results" / "results.duckdb"
    store.parent.mkdir()
    store.write_bytes(b"not a database " * 1000)
    before = store.read_bytes()
    result = whbench("run", "--config", make_config(), "-q", "q06")
    assert_one_line_error(result, "results store", "results.duckdb", code=1)
    assert store.read_bytes() == before


def _file_size_limit(limit: int):
    """Simulate a full disk: writes past `limit` bytes fail with EFBIG (Python ignores the
    SIGXFSZ signal that would otherwise end the process)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_disk_full_while_writing_the_report_leaves_no_partial_file(whbench, make_config, workdir):
    config = make_config()
    assert whbench("run", "--config", config, "-q", "q06", "--quiet").code == 0
    result = subprocess.run(
        [*WHBENCH, "report", "--config", str(config), "-o", "r.html"],
        cwd=workdir,
        capture_output=True,
        text=True,
        preexec_fn=_file_size_limit(4_000),
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "cannot write report" in result.stderr and "File too large" in result.stderr
    assert not (workdir / "r.html").exists() and not (workdir / "r.html.partial").exists()


@pytest.mark.parametrize(
    ("database", "fragments"),
    [
        (":memory:", ["results store", "File too large"]),  # the store cannot grow
        ("bench.duckdb", ["loading table", "File too large", "free disk space"]),  # the engine's
    ],
)
def test_disk_full_is_one_line_naming_what_filled_up(
    whbench, make_config, workdir, database, fragments
):
    config = make_config(data_dir="data", engines={"duckdb": {"database": database}})
    assert whbench("generate", "--config", config).code == 0
    if database != ":memory:":  # the store exists already: the engine's file is what fills up
        with open_store(workdir / "results" / "results.duckdb"):
            pass
    result = subprocess.run(
        [*WHBENCH, "run", "--config", str(config), "-q", "q06", "--quiet"],
        cwd=workdir,
        capture_output=True,
        text=True,
        preexec_fn=_file_size_limit(8_000 if database == ":memory:" else 1_500_000),
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and all(f in lines[0] for f in fragments), result.stderr


def test_bigquery_sign_in_failure_is_one_line_and_says_what_to_do(whbench, make_config, workdir):
    key = workdir / "sa.json"
    key.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "p",
                "private_key_id": "1",
                "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                "client_email": "a@p.iam.gserviceaccount.com",
                "token_uri": "http://127.0.0.1:9/token",
            }
        )
    )
    config = make_config(engines={"bigquery": {"project": "p", "credentials_file": str(key)}})
    result = whbench("run", "--config", config, "-q", "q06", "--quiet")
    assert result.code == 1 and "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "cannot set up BigQuery" in line and "credentials_file" in line
