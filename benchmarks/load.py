"""The harness under load: how many queries per second `whbench run --streams` sustains on
DuckDB with trivial queries, and the time it adds to each one.

A copy of the TPC-H workload whose 22 queries are all `SELECT n`-class (so the engine does
almost nothing and the harness's own work shows) runs at `--streams 16 --duration D`, each
stream on its own DuckDB connection. Reported, for the 16-stream level:

- queries per second the harness sustained (target: at least 2,000);
- the time it adds to each query: on each stream, the time between one query's start and the
  next's, less the query's own recorded time, averaged (target: under 0.2 ms). It is everything
  the harness does per query outside the timed call (answer fingerprint, hand-off to the
  writer, the time-limit alarm) plus waiting for the GIL while other streams hold it;
- the same queries in a bare loop (16 threads, a connection each, no harness), and from the two
  throughputs the process time each query costs beyond the bare loop's, 1/harness - 1/bare:
  the harness's work wherever it happens, the writer thread's journaling included (also held
  to 0.2 ms).

    python benchmarks/load.py --duration 5
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import yaml

STREAMS = 16


def bare_loop(database: Path, namespace: str, queries: list[str], seconds: float) -> float:
    """Queries per second of 16 threads running the queries on their own connections."""
    main = duckdb.connect(str(database), read_only=True)
    counts = [0] * STREAMS
    stop = time.perf_counter() + seconds

    def work(number: int) -> None:
        con = main.cursor()
        con.execute(f'USE "{namespace}"')
        while time.perf_counter() < stop:
            for sql in queries:
                con.execute(sql).fetchall()
                counts[number] += 1

    threads = [threading.Thread(target=work, args=(n,)) for n in range(STREAMS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    main.close()
    return sum(counts) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per level")
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder")
    args = parser.parse_args()

    import harness
    from harness.paths import bundled

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="whbench-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    workloads = workdir / "workloads"
    shutil.rmtree(workloads, ignore_errors=True)
    shutil.copytree(bundled("workloads") / "tpch", workloads / "tpch")
    queries = []
    for number in range(1, 23):
        sql = f"SELECT {number} AS n"
        (workloads / "tpch" / "queries" / f"q{number:02d}.sql.j2").write_text(sql)
        queries.append(sql)
    database = workdir / "bench.duckdb"
    config = workdir / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "results_dir": str(workdir / "results"),
                "workload_dirs": [str(workloads)],
                "engines": {"duckdb": {"database": str(database)}},
                "workloads": {"tpch": {"scale": 0.01}},
            }
        )
    )
    # Byte-compiled as an installed copy is (see benchmarks/overhead.py).
    compileall.compile_dir(Path(harness.__file__).parent, quiet=1)
    whbench = [sys.executable, "-m", "harness"]
    subprocess.run([*whbench, "load", "--config", str(config)], check=True, capture_output=True)
    command = [*whbench, "run", "--config", str(config), "--quiet", "--json"]
    command += ["--streams", str(STREAMS), "--duration", str(args.duration)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"whbench run failed: {done.stderr[-2000:]}")
    (run,) = json.loads(done.stdout)
    (level,) = [lv for lv in run["load"]["levels"] if lv["level"] == STREAMS]

    con = duckdb.connect(str(workdir / "results" / "results.duckdb"), read_only=True)
    rows = con.execute(
        "SELECT stream, epoch(started_at), client_seconds FROM attempts "
        "WHERE run_id = ? AND level = ? AND status = 'ok' ORDER BY stream, started_at",
        [run["run_id"], STREAMS],
    ).fetchall()
    namespace = con.execute(
        "SELECT namespace FROM runs WHERE run_id = ?", [run["run_id"]]
    ).fetchone()[0]
    con.close()
    added = []
    for (stream, start, seconds), (next_stream, next_start, _) in itertools.pairwise(rows):
        if stream == next_stream:
            added.append(next_start - start - seconds)
    bare = bare_loop(database, namespace, queries, args.duration)
    qps = level["queries_per_second"]
    added_ms = statistics.fmean(added) * 1000
    print(
        json.dumps(
            {
                "streams": STREAMS,
                "duration_seconds": args.duration,
                "queries": level["ok"],
                "harness_queries_per_second": round(qps),
                "bare_loop_queries_per_second": round(bare),
                "added_ms_per_query_mean": round(added_ms, 4),
                "added_ms_per_query_median": round(statistics.median(added) * 1000, 4),
                # What each query costs the process beyond the bare loop's cost for it:
                # everything the harness does, wherever in the process it happens.
                "harness_work_ms_per_query": round((1 / qps - 1 / bare) * 1000, 4),
                "p50_ms": round(level["p50_seconds"] * 1000, 4),
                "p99_ms": round(level["p99_seconds"] * 1000, 4),
                "targets_met": {
                    "throughput": qps >= 2000,
                    "added_latency": added_ms < 0.2 and (1 / qps - 1 / bare) < 0.0002,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
