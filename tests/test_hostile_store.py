"""Hostile input to the results store, its journal, the files whbench writes and the run plan,
through the real CLI, one row a case (issue 24): the exit code, one line on stderr naming the
cause and what to do, no traceback, and nothing already measured lost.

Each row gets a folder with a finished run in its store (TPC-H SF 0.01, one query) and its own
way to break something. `act` breaks it and runs the command; `check` looks at what is left.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import WHBENCH, Result, assert_one_line_error
from test_cli_errors import SLOW, broken_workload, run_in_background

Attempts = set[tuple[str, str, int]]


@dataclass
class Scene:
    """A folder with a finished run: what a row breaks, runs and checks."""

    whbench: Callable[..., Result]
    make_config: Callable[..., Path]
    workdir: Path
    config: Path
    run_id: str
    store: Path
    notes: dict = field(default_factory=dict)  # what `act` tells `check`

    def attempts(self, store: Path | None = None) -> Attempts:
        return attempts_in(store or self.store)


def attempts_in(store: Path) -> Attempts:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return set(con.execute("SELECT run_id, query_id, attempt FROM attempts").fetchall())
    finally:
        con.close()


def subprocess_run(scene: Scene, *args: str | Path, limit: int | None = None) -> Result:
    """`whbench ARGS`, writes past `limit` bytes failing as on a full disk (EFBIG: Python
    ignores the SIGXFSZ that would end the process)."""

    def file_size_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [*WHBENCH, *map(str, args)],
        cwd=scene.workdir,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=file_size_limit if limit else None,
    )
    return Result(done.returncode, done.stdout, done.stderr)


# -- the journal: a run killed mid-way (kill -9), then a line of its journal damaged ---------------
def killed_run(scene: Scene) -> tuple[Path, list[str]]:
    """A run of q01 and q03 ten times each, then q06 (minutes of work), killed with SIGKILL
    during q06: the journal it left (22 lines: 2 results, 20 attempts) and its lines."""
    root = broken_workload(scene.workdir, "q06", SLOW)
    config = scene.make_config(workload_dirs=[str(root)], timeout_seconds=600, runs=10)
    process = run_in_background(
        scene.workdir,
        "--config",
        config,
        *("-q", "q01", "-q", "q03", "-q", "q06", "--quiet"),
        journaled='"query_id": "q03", "attempt": 10',
    )
    process.kill()
    process.wait(timeout=30)
    journal = scene.store.with_name("results.duckdb.journal")
    lines = journal.read_text().splitlines()
    assert len(lines) == 22, lines
    return journal, lines


def attempts_of(lines: list[str]) -> Attempts:
    """The attempts journal lines hold (lines that are not attempts skipped)."""
    found = set()
    for line in lines:
        try:
            row = json.loads(line)
            found.add((row["run_id"], row["query_id"], row["attempt"]))
        except (ValueError, KeyError, TypeError):
            pass
    return found


Damage = Callable[[list[str]], set[int]]  # damages lines in place: the indexes it damaged


def damage_journal(damage: Damage) -> Callable[[Scene], Result]:
    def act(scene: Scene) -> Result:
        journal, lines = killed_run(scene)
        damaged = list(lines)
        where = damage(damaged)
        journal.write_text("\n".join(damaged) + ("" if damaged[-1].endswith("…") else "\n"))
        whole = [line for n, line in enumerate(damaged) if n not in where]
        scene.notes["kept"] = attempts_of(whole) | scene.attempts()
        scene.notes["lost"] = attempts_of([lines[n] for n in where if n < len(lines)])
        return scene.whbench("results", "list", "--config", scene.config, "--json")

    return act


def journal_recovered(scene: Scene, result: Result) -> None:
    after = scene.attempts()
    assert scene.notes["kept"] <= after  # every readable line recovered
    assert not (scene.notes["lost"] & after)
    assert len(after) == len(scene.notes["kept"])
    assert not scene.store.with_name("results.duckdb.journal").exists()
    (copy,) = scene.store.parent.glob("results.duckdb.journal.damaged-*")
    assert str(copy.relative_to(scene.workdir)) in result.stderr  # named, kept for a look
    assert len(json.loads(result.stdout)) == 2  # the command itself did its work


def garbage_at_line_5(lines: list[str]) -> set[int]:
    lines[4] = "\0\0\0 garbage {" + lines[4][20:60]
    return {4}


def rows_that_are_not_rows(lines: list[str]) -> set[int]:
    """Lines that parse as JSON but are no attempt: a key missing, a wrong type, a list, an
    unknown key, a number too large for its column, a result of the wrong shape."""
    row = json.loads(lines[3])
    lines[2] = json.dumps({k: v for k, v in row.items() if k != "query_id"})
    lines[3] = json.dumps({**row, "attempt": "three"})
    lines[6] = json.dumps([1, 2, 3])
    lines[8] = json.dumps({**json.loads(lines[8]), "surprise": 1})
    lines[10] = json.dumps({**json.loads(lines[10]), "attempt": 2**40})
    lines[12] = json.dumps({"result": 1})
    return {2, 3, 6, 8, 10, 12}


def torn_last_line(lines: list[str]) -> set[int]:
    lines.append(lines[-1][:40] + "…")  # the line being written, cut short
    return {len(lines) - 1}


# -- output files (-o) ------------------------------------------------------------------------
def write_to(command: str, target: str | Callable[[Scene], str]) -> Callable[[Scene], Result]:
    def act(scene: Scene) -> Result:
        path = target(scene) if callable(target) else target
        scene.notes["target"] = path
        if os.path.lexists(path):
            scene.notes["target_before"] = os.lstat(path)
        args = ["report"] if command == "report" else ["results", "export", scene.run_id]
        return scene.whbench(*args, "-o", path, "--config", scene.config)

    return act


def left_as_it_was(scene: Scene, result: Result) -> None:
    target, before = scene.notes["target"], scene.notes.get("target_before")
    if before is not None:
        after = os.lstat(target)
        assert (after.st_mode, after.st_ino, after.st_rdev) == (
            before.st_mode,
            before.st_ino,
            before.st_rdev,
        )
    else:
        assert not os.path.lexists(target)
    assert not list(scene.workdir.rglob("*.partial"))


def a_symlink(scene: Scene) -> str:
    (scene.workdir / "elsewhere.txt").write_text("someone's file\n")
    os.symlink(scene.workdir / "elsewhere.txt", scene.workdir / "link.json")
    scene.notes["check_text"] = scene.workdir / "elsewhere.txt"
    return "link.json"


def under_a_file(scene: Scene) -> str:
    return str(scene.config.relative_to(scene.workdir) / "report.html")


def read_only_folder(scene: Scene) -> str:
    """A folder on a read-only filesystem (a tmpfs mounted ro, where the test may mount),
    else a folder of sysfs, where no one, not even root, may create a file."""
    folder = scene.workdir / "ro"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
        capture_output=True,
    )
    if mounted.returncode == 0:
        scene.notes["unmount"] = folder
        return str(folder / "report.html")
    return "/sys/whbench-report.html"


def export_to_stdout(scene: Scene, result: Result) -> None:
    exported = json.loads(result.stdout)  # the whole of stdout: no file name after it
    assert {(a["run_id"], a["query_id"], a["attempt"]) for a in exported} == scene.attempts()


# -- the store itself -------------------------------------------------------------------------
def foreign_database(scene: Scene) -> Result:
    """`store:` names someone's DuckDB database."""
    theirs = scene.workdir / "theirs.duckdb"
    con = duckdb.connect(str(theirs))
    con.execute("CREATE TABLE customers AS SELECT range AS id FROM range(1000)")
    con.close()
    scene.notes["untouched"] = (theirs, theirs.read_bytes())
    config = scene.make_config("theirs.yaml", store="theirs.duckdb")
    return scene.whbench("run", "--config", config, "-q", "q06", "--quiet")


def damaged_store(how: Callable[[Path], None]) -> Callable[[Scene], Result]:
    def act(scene: Scene) -> Result:
        how(scene.store)
        scene.notes["untouched"] = (scene.store, scene.store.read_bytes())
        return scene.whbench("run", "--config", scene.config, "-q", "q06", "--quiet")

    return act


def truncate(store: Path) -> None:
    with store.open("r+b") as f:
        f.truncate(store.stat().st_size // 2)


def schema_version_not_a_number(store: Path) -> None:
    con = duckdb.connect(str(store))
    con.execute("UPDATE meta SET value = 'eleven' WHERE key = 'schema_version'")
    con.close()


def untouched(scene: Scene, result: Result) -> None:
    path, before = scene.notes["untouched"]
    assert path.read_bytes() == before


def store_is_the_engine_database(scene: Scene) -> Result:
    config = scene.make_config(
        "same.yaml", engines={"duckdb": {"database": "./results/../results/results.duckdb"}}
    )
    return scene.whbench("run", "--config", config, "-q", "q06", "--quiet")


def disk_full_mid_run(scene: Scene) -> Result:
    """The store's disk fills up (here: a file size limit) while a run's attempts are being
    journaled; the engine is in memory, so the store is what fills up."""
    data = yaml.safe_load(scene.config.read_text())
    data["engines"] = {"duckdb": {"database": ":memory:"}}
    data["runs"] = 10
    scene.config.write_text(yaml.safe_dump(data))
    queries = [arg for q in ("q01", "q03", "q04", "q05", "q06", "q07") for arg in ("-q", q)]
    # about 24 KB of the store's WAL before the first attempt (the run, its queries' SQL, its
    # loads), then about 0.6 KB of journal an attempt: the limit falls mid-run
    return subprocess_run(scene, "run", "--config", scene.config, *queries, "--quiet", limit=32_000)


def resumed_once_there_is_space(scene: Scene, result: Result) -> None:
    journal = scene.store.with_name("results.duckdb.journal")
    kept = attempts_of(journal.read_text().splitlines()) | scene.notes["before"]
    assert len(kept) > len(scene.notes["before"])  # the run had journaled attempts
    command = result.stderr.split("then: ")[1].split()
    assert command[:3] == ["whbench", "run", "--resume"]
    resumed = scene.whbench(*command[1:], "--quiet")
    assert resumed.code == 0, resumed.stderr
    (run,) = {r for r, _, _ in kept} - {scene.run_id}
    after = scene.attempts()
    assert kept <= after
    assert len([a for a in after if a[0] == run]) == 6 * 10  # finished whole


# -- --resume and planning --------------------------------------------------------------------
def two_workloads_interrupted_then_resumed(scene: Scene) -> Result:
    """`-w tpch -w text`, Ctrl-C in tpch: resume finishes tpch and then runs text."""
    root = broken_workload(scene.workdir, "q06", SLOW)
    config = scene.make_config(
        "two.yaml",
        workload_dirs=[str(root)],
        timeout_seconds=600,
        workloads={"tpch": {"scale": 0.01, "queries": ["q01", "q06"]}, "text": {"scale": 100}},
    )
    process = run_in_background(
        scene.workdir,
        *("--config", config, "-w", "tpch", "-w", "text", "--quiet"),
        journaled='"query_id": "q01", "attempt": 2',
    )
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    command = stderr.split("to finish it: ")[1].split()
    scene.notes["interrupted"] = command[3]
    scene.notes["before"] = scene.attempts()
    (root / "tpch" / "queries" / "q06.sql.j2").write_text("SELECT 1 AS quick")
    return scene.whbench(*command[1:], "--quiet", "--json")


def every_workload_finished(scene: Scene, result: Result) -> None:
    runs = {run["workload"]: run for run in result.json()}
    assert set(runs) == {"tpch", "text"}
    assert runs["tpch"]["run_id"] == scene.notes["interrupted"]
    assert [q["query_id"] for q in runs["tpch"]["queries"]] == ["q06"]
    assert len(runs["text"]["queries"]) > 5
    assert scene.notes["before"] <= scene.attempts()
    again = scene.whbench("run", "--resume", scene.notes["interrupted"], "--config", "two.yaml")
    assert_one_line_error(again, "there is nothing to resume", code=2)


def scale_below_the_generator_minimum(scene: Scene) -> Result:
    """events at 1,500 rows (its workload's minimum) cannot span the default 14 days: found
    when the run is planned, before TPC-H (first in the plan) runs."""
    config = scene.make_config(
        "events.yaml",
        workloads={"tpch": {"scale": 0.01, "queries": ["q06"]}, "events": {"scale": 1500}},
    )
    return scene.whbench("run", "--config", config, "-w", "tpch", "-w", "events", "--quiet")


def nothing_ran(scene: Scene, result: Result) -> None:
    con = duckdb.connect(str(scene.store), read_only=True)
    assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    con.close()


@dataclass(frozen=True)
class Row:
    id: str
    act: Callable[[Scene], Result]
    code: int
    fragments: tuple[str, ...]
    check: Callable[[Scene, Result], None] | None = None
    lines: int = 1  # on stderr: the error, or the warning of a command that went on


ROWS = [
    Row(
        "journal: a line overwritten with garbage after kill -9",
        damage_journal(garbage_at_line_5),
        0,
        ("warning: 1 line of the journal", "(line 5 of 22)", "the other 21 were recovered"),
        journal_recovered,
    ),
    Row(
        "journal: lines that parse as JSON but are not rows",
        damage_journal(rows_that_are_not_rows),
        0,
        ("6 lines of the journal", "lines 3, 4, 7, 9, 11, …", "the other 16 were recovered"),
        journal_recovered,
    ),
    Row(
        "journal: a torn last line, as a crash leaves it",
        damage_journal(torn_last_line),
        0,
        ("1 line", "line 23 of 23, the last cut off", "the other 22 were recovered"),
        journal_recovered,
    ),
    Row(
        "report -o /dev/null: a character device",
        write_to("report", "/dev/null"),
        2,
        ("/dev/null: it is a character device", "writes only regular files"),
        left_as_it_was,
    ),
    Row(
        "export -o /dev/full",
        write_to("export", "/dev/full"),
        2,
        ("/dev/full: it is a character device",),
        left_as_it_was,
    ),
    Row(
        "export -o a symbolic link",
        write_to("export", a_symlink),
        2,
        ("link.json: it is a symbolic link", "- for standard output"),
        left_as_it_was,
    ),
    Row(
        "report -o a folder",
        write_to("report", "results"),
        2,
        ("results: it is a directory",),
    ),
    Row(
        "report -o a path under a file",
        write_to("report", under_a_file),
        2,
        ("config.yaml is a file, not a folder",),
        left_as_it_was,
    ),
    Row(
        "report -o on a read-only filesystem",
        write_to("report", read_only_folder),
        2,
        ("cannot write report", "choose a file in a folder you can write"),
        left_as_it_was,
    ),
    Row(
        "export -o - writes to stdout",
        write_to("export", "-"),
        0,
        (),
        export_to_stdout,
        lines=0,
    ),
    Row(
        "store: someone's DuckDB database",
        foreign_database,
        2,
        ("theirs.duckdb is not a whbench results store", "tables of its own", "left as it was"),
        untouched,
    ),
    Row(
        "a truncated store",
        damaged_store(truncate),
        1,
        ("results.duckdb is damaged", "changed nothing", "move it aside", "--results-dir"),
        untouched,
    ),
    Row(
        "a store whose schema version is not a number",
        damaged_store(schema_version_not_a_number),
        1,
        ("results.duckdb is damaged", "'eleven', not a number", "move it aside"),
        untouched,
    ),
    Row(
        "the store is the DuckDB engine's database",
        store_is_the_engine_database,
        2,
        ("engines.duckdb.database", "is the results store", "a file of its own"),
        nothing_ran,
    ),
    Row(
        "the store's disk fills up mid-run",
        disk_full_mid_run,
        1,
        ("is full (File too large)", "every attempt that finished before is kept", "--resume"),
        resumed_once_there_is_space,
    ),
    Row(
        "--resume of an interrupted -w tpch -w text runs text too",
        two_workloads_interrupted_then_resumed,
        0,
        ("resuming", "(interrupted, 2 attempts kept), then duckdb text (not started before)"),
        every_workload_finished,
    ),
    Row(
        "--scale below the events generator's minimum, found when planned",
        scale_below_the_generator_minimum,
        2,
        ("events: scale 1500 is too small for 14 days", "lower --days"),
        nothing_ran,
    ),
]


@pytest.fixture
def scene(whbench, make_config, workdir) -> Scene:
    config = make_config()
    result = whbench("run", "--config", config, "-q", "q06", "--quiet", "--json")
    assert result.code == 0, result.stderr
    (run,) = result.json()
    made = Scene(
        whbench, make_config, workdir, config, run["run_id"], workdir / "results/results.duckdb"
    )
    yield made
    if folder := made.notes.get("unmount"):
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_hostile_store_input(scene: Scene, row: Row) -> None:
    before = scene.attempts()
    scene.notes["before"] = before
    result = row.act(scene)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.code == row.code, (result.code, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == row.lines, result.stderr
    for fragment in row.fragments:
        assert fragment in lines[0], lines[0]
    if row.check is not None:
        row.check(scene, result)
    if scene.store.exists():
        try:
            after = scene.attempts()
        except duckdb.Error:  # a row that damaged the store checks its bytes instead
            after = before
        assert before <= after  # nothing already measured is lost
    if "check_text" in scene.notes:
        assert scene.notes["check_text"].read_text() == "someone's file\n"


def test_the_output_file_keeps_the_permissions_a_new_file_gets(scene: Scene) -> None:
    result = scene.whbench("report", "-o", "r.html", "--config", scene.config)
    assert result.code == 0, result.stderr
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((scene.workdir / "r.html").stat().st_mode) == 0o666 & ~mask


def test_a_sqlite_file_as_the_store_is_refused_without_a_download(scene: Scene) -> None:
    import sqlite3

    con = sqlite3.connect(scene.workdir / "other.db")
    con.execute("CREATE TABLE t (a)")
    con.commit()
    con.close()
    before = (scene.workdir / "other.db").read_bytes()
    config = scene.make_config("sqlite.yaml", store="other.db")
    result = scene.whbench("results", "list", "--config", config)
    assert_one_line_error(result, "other.db is not a whbench results store", code=2)
    assert (scene.workdir / "other.db").read_bytes() == before
    shutil.rmtree(scene.workdir / "results")  # and a run, which would create the store:
    result = scene.whbench("run", "--config", config, "-q", "q06", "--quiet")
    assert_one_line_error(result, "other.db is not a whbench results store", code=2)
    assert (scene.workdir / "other.db").read_bytes() == before
