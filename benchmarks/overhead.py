"""Harness overhead: `whbench run` against a bare Python loop running the same SQL.

Both run TPC-H (SF 1 by default) on the same DuckDB database file, the same 22 rendered
queries, the same number of attempts, fetching every row, each in a fresh process; both open
the database afresh before each query's first attempt (whbench's cold run). They
alternate for --repeat rounds so drift in the machine hits both alike. Reported:

- query time: per query, the median over rounds of the time whbench recorded divided by the
  bare loop's, summarised as the geometric mean over queries (target within 2%); and the same
  ratio with both timed in one process, interleaved, which leaves out how much whole processes
  differ from each other;
- wall time: the whole `whbench run` process (start-up, planning, store writes, summary)
  divided by the whole bare process (target at most 1.10x), as the median of each round's
  ratio. Query times vary by several percent from one process to the next on a small VM, which
  swamps the harness's own share; so the time each process spends outside its queries is
  reported too, and the ratio those give with the query time taken as equal (the query-time
  target checks that part);
- peak memory: maximum resident set size of each process (target at most 1.3x).

    python benchmarks/overhead.py --scale 1 --repeat 3
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml

BARE_LOOP = r"""
import json, sys, time
import duckdb
database, namespace, runs, sql_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
queries = json.load(open(sql_file))
times = {}
for query_id, sql in queries.items():
    # As whbench makes a query's first attempt cold: the database opened afresh.
    con = duckdb.connect(database)
    con.execute("SET enable_progress_bar = false")
    con.execute(f'USE "{namespace}"')
    times[query_id] = []
    for _ in range(runs):
        started = time.perf_counter()
        con.execute(sql).fetchall()
        times[query_id].append(time.perf_counter() - started)
    con.close()
json.dump(times, sys.stdout)
"""


def measured(command: list[str], cwd: Path) -> tuple[float, int, str]:
    """Run a process; return its wall seconds, peak RSS in bytes and stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{command[:3]} failed: {process.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss * 1024, out.decode()


def _same_process_ratio(database: Path, namespace: str, queries: dict[str, str]) -> float:
    """The harness's timed execute against a bare execute in one process, interleaved query
    by query and taking turns at going first: what the harness's timing itself adds, without
    the few percent by which whole processes differ on a small VM."""
    from harness.engines.duckdb import DuckDBEngine, DuckDBSettings

    engine = DuckDBEngine(DuckDBSettings(database=str(database)))
    engine.connect()
    engine.prepare_session(namespace, "overhead", 600)
    ratios = []
    for query_id, sql in queries.items():
        harness_seconds = bare_seconds = 0.0
        for turn in range(6):
            for who in ("harness", "bare") if turn % 2 else ("bare", "harness"):
                if who == "harness":
                    harness_seconds += engine.execute(sql, 600, query_id).client_seconds
                else:
                    started = time.perf_counter()
                    engine._con.execute(sql).fetchall()
                    bare_seconds += time.perf_counter() - started
        ratios.append(harness_seconds / bare_seconds)
    engine.close()
    return math.exp(statistics.fmean(math.log(r) for r in ratios))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3, help="attempts per query")
    parser.add_argument("--repeat", type=int, default=3, help="alternating rounds")
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder")
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="whbench-overhead-"))
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "bench.duckdb"
    config = workdir / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "runs": args.runs,
                "results_dir": str(workdir / "results"),
                "engines": {"duckdb": {"database": str(database)}},
                "workloads": {"tpch": {"scale": args.scale}},
            }
        )
    )
    script = Path(sys.executable).with_name("whbench")  # as a user runs it, when installed
    whbench = [str(script)] if script.exists() else [sys.executable, "-m", "harness"]
    # Byte-compile the harness as installing a wheel does. Python would write these files on the
    # first start anyway, unless PYTHONDONTWRITEBYTECODE is set (as in some containers), and then
    # every start would compile the harness from source again, which no installed copy does.
    import harness

    compileall.compile_dir(Path(harness.__file__).parent, quiet=1)
    # Generate and load once, outside the measurement (this also fills the template cache).
    subprocess.run(
        [*whbench, "load", "--config", str(config)],
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )

    from harness.workloads import get_workload

    namespace = get_workload("tpch").namespace(args.scale)
    store = workdir / "results" / "results.duckdb"
    bare_script = workdir / "bare.py"
    bare_script.write_text(BARE_LOOP)
    sql_file = workdir / "queries.json"

    harness_walls, bare_walls, harness_rss, bare_rss = [], [], [], []
    harness_outside, bare_outside = [], []  # seconds of each process spent outside its queries
    ratios: dict[str, list[float]] = {}
    for round_number in range(args.repeat):
        wall, rss, out = measured(
            [*whbench, "run", "--config", str(config), "--quiet", "--json"], workdir
        )
        harness_walls.append(wall)
        harness_rss.append(rss)
        run_id = json.loads(out)[0]["run_id"]
        con = duckdb.connect(str(store), read_only=True)
        recorded = con.execute(
            "SELECT query_id, list(client_seconds ORDER BY attempt) FROM attempts "
            "WHERE run_id = ? GROUP BY 1 ORDER BY 1",
            [run_id],
        ).fetchall()
        harness_outside.append(wall - sum(sum(times) for _, times in recorded))
        sql = dict(
            con.execute("SELECT query_id, sql FROM queries WHERE run_id = ?", [run_id]).fetchall()
        )
        con.close()
        sql_file.write_text(json.dumps(dict(sorted(sql.items()))))

        wall, rss, out = measured(
            [
                sys.executable,
                str(bare_script),
                str(database),
                namespace,
                str(args.runs),
                str(sql_file),
            ],
            workdir,
        )
        bare_walls.append(wall)
        bare_rss.append(rss)
        bare = json.loads(out)
        bare_outside.append(wall - sum(sum(times) for times in bare.values()))
        for query_id, times in recorded:
            ratios.setdefault(query_id, []).append(sum(times) / sum(bare[query_id]))
        print(
            f"round {round_number + 1}: whbench {harness_walls[-1]:.2f} s, "
            f"bare {bare_walls[-1]:.2f} s",
            file=sys.stderr,
        )

    same_process = _same_process_ratio(database, namespace, json.loads(sql_file.read_text()))
    per_query = {q: statistics.median(r) for q, r in ratios.items()}
    geomean = math.exp(statistics.fmean(math.log(r) for r in per_query.values()))
    wall_ratio = statistics.median(h / b for h, b in zip(harness_walls, bare_walls, strict=True))
    outside = statistics.median(harness_outside) - statistics.median(bare_outside)
    bare_wall = statistics.median(bare_walls)
    rss_ratio = max(harness_rss) / max(bare_rss)
    print(
        json.dumps(
            {
                "scale": args.scale,
                "runs": args.runs,
                "repeat": args.repeat,
                "query_time_ratio_geomean": round(geomean, 4),
                "query_time_ratio_per_query": {q: round(r, 3) for q, r in per_query.items()},
                "query_time_ratio_same_process": round(same_process, 4),
                "wall_seconds": {
                    "whbench": round(statistics.median(harness_walls), 3),
                    "bare": round(statistics.median(bare_walls), 3),
                    "ratio": round(wall_ratio, 3),
                    "outside_queries_whbench": round(statistics.median(harness_outside), 3),
                    "outside_queries_bare": round(statistics.median(bare_outside), 3),
                    "ratio_with_equal_query_time": round((bare_wall + outside) / bare_wall, 3),
                },
                "peak_rss_mib": {
                    "whbench": round(max(harness_rss) / 2**20, 1),
                    "bare": round(max(bare_rss) / 2**20, 1),
                    "ratio": round(rss_ratio, 3),
                },
                "targets_met": {
                    "query_time": abs(geomean - 1) <= 0.02,
                    "wall": wall_ratio <= 1.10,
                    "memory": rss_ratio <= 1.3,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
