"""Hostile configs and command lines through the real `whbench` command (issue 24): one row per
case. Each must end at once with one line naming the cause, exit 2, no traceback, and without
the planted secret anywhere in what is printed (also with --debug); a row that stores a run
also has the store, the exports and the report searched for it.

The secret is planted by where it comes from (an environment variable, a reference's default,
a secret file, a credential field), never by what it looks like: it is ordinary text.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import WHBENCH, Result, assert_one_line_error

SECRET = "canary-hostile-3f9a1c"  # planted through the environment, a default, a file …
ENV = {"WHB_HOSTILE_SECRET": SECRET}
REF = "${WHB_HOSTILE_SECRET}"
CONFIG = "<config>"  # in a row's arguments: the config file the row wrote
QUICK = 30  # seconds: every refusal is immediate; a run that stores takes a few
# A bounded read that regresses must fail the test, not hang it or take the machine's memory:
# those rows run with their memory capped too.
BOUNDED_SECONDS, BOUNDED_BYTES = 20, 1 << 30


@dataclass(frozen=True)
class Row:
    id: str
    args: tuple[str, ...]  # after `whbench`; CONFIG stands for the row's config file
    config: dict | str | None = None  # keys over make_config's defaults, or a file's text as is
    fragments: tuple[str, ...] = ()  # in the one line of the error
    code: int = 2
    setup: Callable[[Path], None] | None = None  # files the row needs in its folder
    stores: bool = False  # a run is stored: the store, exports and report are searched too
    bounded: bool = False  # reads what could be endless: run under a memory cap


def duckdb_and(**engines: dict) -> dict:
    """engines: a DuckDB the run can use, and the hostile sections beside it."""
    return {"engines": {"duckdb": {"database": "results/bench.duckdb"}, **engines}}


def nested(depth: int) -> list:
    value: list = ["x"]
    for _ in range(depth):
        value = [value]
    return value


def alias_bomb() -> str:
    """Twelve levels of ten aliases each: 10**12 values once expanded, 110 aliases written."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    return "\n".join(lines) + "\n"


def many_aliases() -> str:
    return "base: &b {k: 1}\nmany:\n" + "".join(f"  k{i}: *b\n" for i in range(150))


def symlink_loop(folder: Path) -> None:
    (folder / "loop.yaml").symlink_to("loop2.yaml")
    (folder / "loop2.yaml").symlink_to("loop.yaml")


def fifo(folder: Path) -> None:
    os.mkfifo(folder / "pipe.yaml")  # opening it to read would wait for a writer forever


def big_config(folder: Path) -> None:
    with (folder / "big.yaml").open("w") as out:
        out.write("runs: 2\n")
        for _ in range(50):
            out.write("# " + "x" * (1 << 20) + "\n")  # 50 MB of comments


def big_secret(folder: Path) -> None:
    (folder / "big.secret").write_text(SECRET * 5000)  # 105 KB: over the 64 KiB cap


def secret_file(folder: Path) -> None:
    (folder / "rs.secret").write_text(SECRET + "\n")


def file_in_the_way(folder: Path) -> None:
    (folder / "afile").write_text("not a folder\n")


ROWS = [
    # -- secrets in messages ------------------------------------------------------------------
    Row(
        "secret-in-a-mapping-run",
        ("run", "--config", CONFIG, "--quiet"),
        duckdb_and(redshift={"host": "h", "password": {"value": REF}}),
        ("engines.redshift.password", "${REDSHIFT_PASSWORD}", "line "),
    ),
    Row(
        "secret-in-a-mapping-validate",
        ("validate", "--config", CONFIG),
        duckdb_and(redshift={"host": "h", "password": {"value": REF}}),
        ("engines.redshift.password", "may not be written into the config"),
    ),
    Row(
        "secret-in-a-list",
        ("validate", "--config", CONFIG),
        duckdb_and(snowflake={"token": [REF, "literal"]}),
        ("engines.snowflake.token", "${SNOWFLAKE_TOKEN}"),
    ),
    Row(
        "port-from-env-not-a-number",
        ("validate", "--config", CONFIG),
        duckdb_and(redshift={"host": "h", "port": REF}),
        ("engines.redshift.port", REF),
    ),
    Row(
        "runs-default-not-a-number",
        ("run", "--config", CONFIG),
        {"runs": "${WHB_HOSTILE_UNSET:-" + SECRET + "}"},
        ("runs: expected int", "${WHB_HOSTILE_UNSET:-***}"),
    ),
    Row(
        "engine-check-quotes-an-env-value",
        ("validate", "--config", CONFIG),
        duckdb_and(snowflake={"warehouse": REF + "; DROP"}),
        ("engines.snowflake.warehouse", "is not a Snowflake name", REF),
    ),
    Row(
        "folder-from-env-in-another-files-message",
        ("validate", "--config", CONFIG),
        {"workload_dirs": [f"missing/{REF}"]},
        (REF,),
    ),
    # -- secrets stored -----------------------------------------------------------------------
    Row(
        "default-of-a-credential-reference-stored-masked",
        ("run", "--config", CONFIG, "-e", "duckdb", "-q", "q06", "--quiet"),
        duckdb_and(redshift={"host": "h", "password": "${WHB_HOSTILE_UNSET:-" + SECRET + "}"}),
        code=0,
        stores=True,
    ),
    Row(
        "literal-secret-refused-unshown",
        ("run", "--config", CONFIG, "-e", "snowflake", "--quiet"),
        duckdb_and(snowflake={"account": "a", "token": SECRET}),
        ("engines.snowflake.token", "${SNOWFLAKE_TOKEN}", "${file:PATH}", "line "),
    ),
    Row(
        # Engine sections are checked when their engine is used (see harness.config): one
        # that is not used here is still masked wherever the config is stored.
        "literal-credential-and-secret-file-stored-masked",
        ("run", "--config", CONFIG, "-e", "duckdb", "-q", "q06", "--quiet"),
        duckdb_and(
            snowflake={"account": "a", "token": SECRET},
            redshift={"host": "h", "password": "${file:rs.secret}"},
        ),
        code=0,
        setup=secret_file,
        stores=True,
    ),
    # -- bounded reads ------------------------------------------------------------------------
    Row(
        "config-dev-zero",
        ("validate", "--config", "/dev/zero"),
        None,
        ("character device",),
        bounded=True,
    ),
    Row(
        "config-fifo",
        ("validate", "--config", "pipe.yaml"),
        None,
        ("named pipe",),
        setup=fifo,
        bounded=True,
    ),
    Row("config-directory", ("validate", "--config", "."), None, ("is a directory",)),
    Row(
        "config-50-mb",
        ("validate", "--config", "big.yaml"),
        None,
        ("big.yaml", "larger than 1 MiB"),
        setup=big_config,
        bounded=True,
    ),
    Row(
        "config-symlink-loop",
        ("validate", "--config", "loop.yaml"),
        None,
        ("loop.yaml", "symlink loop"),
        setup=symlink_loop,
        bounded=True,
    ),
    Row(
        "secret-file-dev-zero",
        ("validate", "--config", CONFIG),
        duckdb_and(redshift={"host": "h", "password": "${file:/dev/zero}"}),
        ("engines.redshift.password", "/dev/zero", "character device"),
        bounded=True,
    ),
    Row(
        "secret-file-too-big",
        ("validate", "--config", CONFIG),
        duckdb_and(redshift={"host": "h", "password": "${file:big.secret}"}),
        ("engines.redshift.password", "larger than 64 KiB"),
        setup=big_secret,
        bounded=True,
    ),
    # -- YAML ---------------------------------------------------------------------------------
    Row(
        "alias-bomb",
        ("validate", "--config", CONFIG),
        alias_bomb(),
        ("line 5", "aliases that expand to more than"),
        bounded=True,
    ),
    Row(
        "too-many-aliases",
        ("validate", "--config", CONFIG),
        many_aliases(),
        ("more than 100",),
        bounded=True,
    ),
    Row(
        "duplicate-top-level-key",
        ("validate", "--config", CONFIG),
        "runs: 2\ntimeout_seconds: 5\nruns: 3\n",
        ("line 3", "duplicate key 'runs'", "first given at line 1"),
    ),
    Row(
        "duplicate-nested-key",
        ("validate", "--config", CONFIG),
        "engines:\n  duckdb:\n    database: a.duckdb\n    threads: 2\n    database: b.duckdb\n",
        ("line 5", "duplicate key 'database'"),
    ),
    Row(
        "nested-too-deep",
        ("validate", "--config", CONFIG),
        {"workload_dirs": nested(40)},
        ("nested more than 32 levels",),
    ),
    Row(
        "key-with-a-newline",
        ("validate", "--config", CONFIG),
        {"bad\nkey": 1},
        ("'bad\\nkey': unknown key",),
    ),
    # -- numbers in the config ----------------------------------------------------------------
    Row(
        "runs-past-int32",
        ("run", "--config", CONFIG),
        {"runs": 3_000_000_000},
        ("runs", "at most 10,000"),
    ),
    Row("runs-nan", ("run", "--config", CONFIG), {"runs": float("nan")}, ("runs", "finite")),
    Row(
        "timeout-inf",
        ("run", "--config", CONFIG),
        {"timeout_seconds": float("inf")},
        ("timeout_seconds", "finite"),
    ),
    Row(
        "timeout-nan",
        ("run", "--config", CONFIG),
        {"timeout_seconds": float("nan")},
        ("timeout_seconds", "finite"),
    ),
    Row(
        "max-cost-negative",
        ("run", "--config", CONFIG),
        {"max_cost": -5},
        ("max_cost", "positive"),
    ),
    Row(
        "projection-hours",
        ("validate", "--config", CONFIG),
        {"projection": {"active_hours": 25}},
        ("projection.active_hours", "at most 24"),
    ),
    Row(
        "template-limit-inf",
        ("validate", "--config", CONFIG),
        {"templates": {"seconds": float("inf")}},
        ("templates.seconds", "finite"),
    ),
    Row(
        "scale-nan",
        ("validate", "--config", CONFIG),
        {"workloads": {"tpch": {"scale": float("nan")}}},
        ("workloads.tpch.scale", "finite"),
    ),
    Row(
        "duckdb-threads-zero",
        ("run", "--config", CONFIG),
        duckdb_and(duckdb={"database": ":memory:", "threads": 0}),
        ("engines.duckdb.threads", "at least 1"),
    ),
    Row(
        "redshift-port-out-of-range",
        ("validate", "--config", CONFIG),
        duckdb_and(redshift={"host": "h", "port": 70000}),
        ("engines.redshift.port", "at most 65,535"),
    ),
    Row(
        "timeout-from-env-inf",
        ("run", "--config", CONFIG),
        {"timeout_seconds": "${WHB_HOSTILE_UNSET:-inf}"},
        ("timeout_seconds", "finite", "${WHB_HOSTILE_UNSET:-***}"),
    ),
    # -- numbers on the command line ----------------------------------------------------------
    Row("cli-timeout-inf", ("run", "--config", CONFIG, "--timeout", "inf"), {}, ("--timeout",)),
    Row("cli-timeout-nan", ("run", "--config", CONFIG, "--timeout", "nan"), {}, ("finite",)),
    Row("cli-runs-huge", ("run", "--config", CONFIG, "--runs", "3000000000"), {}, ("--runs",)),
    Row("cli-max-cost-nan", ("run", "--config", CONFIG, "--max-cost", "nan"), {}, ("finite",)),
    Row("cli-scale-nan", ("run", "--config", CONFIG, "--scale", "nan"), {}, ("--scale",)),
    Row(
        "cli-threshold-nan",
        ("compare", "--config", CONFIG, "a", "b", "--threshold", "nan"),
        {},
        ("--threshold", "finite"),
    ),
    # -- a referenced value quoted by a driver, or kept in the engine's recorded settings -------
    Row(
        "driver-error-quotes-a-referenced-path",
        ("run", "--config", CONFIG, "--quiet"),
        {"engines": {"duckdb": {"database": "afile/" + REF + "/bench.duckdb"}}},
        ("duckdb", "Not a directory", "afile/" + REF),
        code=1,
        setup=file_in_the_way,
    ),
    Row(
        "engine-settings-from-a-reference-are-stored-masked",
        ("run", "--config", CONFIG),
        {
            "engines": {"duckdb": {"database": REF + ".duckdb"}},  # outside results/
            "timeout_seconds": "${WHB_HOSTILE_UNSET:-60}",
            "workloads": {"tpch": {"scale": 0.01, "queries": ["q06"]}},
        },
        code=0,
        stores=True,
    ),
    # -- credential files the engine reads (bounded, named by their setting) -------------------
    Row(
        "snowflake-private-key-file-missing",
        ("estimate", "--config", CONFIG, "-e", "snowflake", "-w", "tpch", "-q", "q06"),
        duckdb_and(
            snowflake={
                "account": "a",
                "user": "u",
                "private_key_file": "missing/key.p8",
                "private_key_passphrase": REF,
            }
        ),
        ("engines.snowflake.private_key_file", "missing/key.p8", "not found"),
    ),
    Row(
        "snowflake-private-key-file-not-a-key",
        ("estimate", "--config", CONFIG, "-e", "snowflake", "-w", "tpch", "-q", "q06"),
        duckdb_and(snowflake={"account": "a", "user": "u", "private_key_file": "afile"}),
        ("engines.snowflake.private_key_file", "afile", "PEM key file"),
        setup=file_in_the_way,
    ),
    Row(
        "bigquery-credentials-file-dev-zero",
        ("estimate", "--config", CONFIG, "-e", "bigquery", "-w", "tpch", "-q", "q06"),
        duckdb_and(bigquery={"project": "p", "credentials_file": "/dev/zero"}),
        ("engines.bigquery.credentials_file", "/dev/zero", "character device"),
        bounded=True,
    ),
    # -- the results folder -------------------------------------------------------------------
    Row(
        "results-dir-is-a-file",
        ("results", "list", "--config", CONFIG, "--results-dir", "afile"),
        {},
        ("results_dir afile is a file", "not a folder", "--results-dir"),
        setup=file_in_the_way,
    ),
    Row(
        "data-dir-is-a-file",
        ("run", "--config", CONFIG),
        {"data_dir": "afile"},
        ("data_dir afile", "not a folder"),
        setup=file_in_the_way,
    ),
]


def write_config(row: Row, make_config: Callable[..., Path], folder: Path) -> Path:
    if isinstance(row.config, str):
        path = folder / "hostile.yaml"
        path.write_text(row.config)
        return path
    return make_config("hostile.yaml", **(row.config or {}))


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_a_hostile_config_is_refused_in_one_line_and_shows_no_secret(
    row: Row, whbench, make_config, workdir
):
    config = write_config(row, make_config, workdir)
    if row.setup:
        row.setup(workdir)
    args = [str(config) if arg == CONFIG else arg for arg in row.args]

    run = capped if row.bounded else whbench
    result = run(*args, env=ENV, timeout=QUICK if not row.stores else 300)
    if row.code:
        assert_one_line_error(result, *row.fragments, code=row.code)
    else:
        assert result.code == 0, result.stderr
    debug = run(*args, "--debug", env=ENV, timeout=QUICK if not row.stores else 300)
    assert debug.code == row.code, debug.stderr
    printed = [result.stdout, result.stderr, debug.stdout, debug.stderr]
    if row.stores:
        printed += stored_and_shown(whbench, config, workdir)
    for text in printed:
        assert SECRET not in text


def capped(*args: str, env: dict, timeout: float) -> Result:
    """`whbench` as the fixture runs it, in the test's folder (the current one), with its
    data memory capped and a shorter time limit."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (BOUNDED_BYTES, BOUNDED_BYTES))

    done = subprocess.run(
        [*WHBENCH, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=min(timeout, BOUNDED_SECONDS),
        preexec_fn=cap,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def stored_and_shown(whbench, config: Path, folder: Path) -> list[str]:
    """Everything a stored run can be seen through: `results list/show --json`, its exports,
    the report, and the store and results folder themselves."""
    runs = whbench("results", "list", "--config", config, "--json", env=ENV).json()
    assert runs
    shown = []
    for run in runs:
        details = whbench("results", "show", run["run_id"], "--config", config, "--json", env=ENV)
        assert details.code == 0, details.stderr
        stored_config = json.dumps(details.json()).replace("\\", "")
        # The references stay references; what was written literally is masked.
        assert "${WHB_HOSTILE_UNSET:-***}" in stored_config or "${file:rs.secret}" in stored_config
        shown.append(details.stdout)
        for fmt in ("json", "csv"):
            exported = whbench(
                "results", "export", run["run_id"], "--config", config, "--format", fmt, env=ENV
            )
            assert exported.code == 0, exported.stderr
    report = whbench("report", "--config", config, env=ENV)
    assert report.code == 0, report.stderr
    store = folder / "results" / "results.duckdb"
    con = duckdb.connect(str(store), read_only=True)
    try:
        for (table,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            shown.append(str(con.execute(f'SELECT * FROM "{table}"').fetchall()))
    finally:
        con.close()
    files = [p for p in (folder / "results").rglob("*") if p.is_file()]
    assert any(p.name == "report.html" for p in files)
    shown += [p.read_bytes().decode("latin-1") for p in files]
    return shown
