"""A large result: `whbench run` of one query returning 10 million rows on DuckDB.

A shadow copy of the TPC-H workload (SF 0.01) in a temporary folder has its q01 replaced by

    SELECT range AS a, range * 2 AS b, 'x' || range AS c FROM range(10000000)

(no ORDER BY: the fingerprint is then order-independent, the harder case; --ordered adds
ORDER BY a). `whbench run -q q01` runs it --runs times in a fresh process. Reported: the
process's wall time and peak resident set size (os.wait4), the client seconds whbench recorded
for each attempt, the result's row count and fingerprint, and the same query timed bare in
DuckDB (as one Arrow table, no Python objects) as the floor under any fetch.

    python benchmarks/big_result.py --rows 10000000 --runs 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

ROOT = Path(__file__).resolve().parent.parent
_SCRIPT = Path(sys.executable).with_name("whbench")
WHBENCH = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "harness"]


def query(rows: int, ordered: bool) -> str:
    sql = f"SELECT range AS a, range * 2 AS b, 'x' || range AS c FROM range({rows})"
    return sql + (" ORDER BY a" if ordered else "")


def measured(command: list[str], cwd: Path) -> tuple[float, int, str]:
    """Run a process; its wall seconds, peak RSS in bytes and stdout."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:  # a file: a full stderr pipe would block the child
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=err)
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)  # this child's own peak, not all children's
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"{' '.join(command[:4])} failed: {err.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss * 1024, out.decode()


def bare_seconds(sql: str) -> float:
    """The query alone, its result fetched as Arrow (no Python objects): the floor."""
    con = duckdb.connect()
    started = time.perf_counter()
    relation = con.sql(sql)
    (getattr(relation, "to_arrow_table", None) or relation.arrow)()  # DuckDB 2; 1.x
    seconds = time.perf_counter() - started
    con.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=2, help="attempts of the query")
    parser.add_argument("--ordered", action="store_true", help="ORDER BY a")
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="whbench-big-result-"))
    workdir.mkdir(parents=True, exist_ok=True)
    workloads = workdir / "workloads"
    shutil.rmtree(workloads, ignore_errors=True)
    shutil.copytree(ROOT / "workloads" / "tpch", workloads / "tpch")
    sql = query(args.rows, args.ordered)
    (workloads / "tpch" / "queries" / "q01.sql.j2").write_text(sql + "\n")
    config = workdir / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "runs": args.runs,
                "timeout_seconds": 3600,
                "results_dir": str(workdir / "results"),
                "data_dir": str(workdir / "data"),
                "workload_dirs": [str(workloads)],
                "engines": {"duckdb": {"database": str(workdir / "bench.duckdb")}},
                "workloads": {"tpch": {"scale": 0.01, "queries": ["q01"]}},
            }
        )
    )
    # Generate and load outside the measurement.
    subprocess.run(
        [*WHBENCH, "load", "--config", str(config)],
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall, rss, out = measured(
        [*WHBENCH, "run", "--config", str(config), "--quiet", "--json"], workdir
    )
    run_id = json.loads(out)[0]["run_id"]
    store = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    attempts = store.execute(
        "SELECT attempt, status, client_seconds, rows, checksum, error FROM attempts "
        "WHERE run_id = ? ORDER BY attempt",
        [run_id],
    ).fetchall()
    kept = store.execute(
        "SELECT total_rows, rest_fingerprint FROM results WHERE run_id = ?", [run_id]
    ).fetchall()
    store.close()
    print(
        json.dumps(
            {
                "rows": args.rows,
                "ordered": args.ordered,
                "runs": args.runs,
                "wall_seconds": round(wall, 2),
                "peak_rss_mb": round(rss / 2**20),
                "attempts": [
                    {
                        "attempt": number,
                        "status": status,
                        "client_seconds": seconds and round(seconds, 2),
                        "rows": rows,
                        "checksum": checksum,
                        "error": error,
                    }
                    for number, status, seconds, rows, checksum, error in attempts
                ],
                "kept": [{"total_rows": t, "rest_fingerprint": f} for t, f in kept],
                "bare_query_seconds": round(bare_seconds(sql), 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
