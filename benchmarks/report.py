"""Report rendering at scale: `whbench report` on a store of 100 runs per engine x 4 engines x
60 queries x 5 attempts (120,000 attempts), in a fresh process; prints seconds, peak memory and
the size of the HTML. Targets: at most 5 s and 5 MB.

The store is synthetic (times drawn from a seeded generator, three workloads of 60 queries, one
per data type, at two scales each, runs spread over 100 days) so the report has every section,
chart and trend to draw; the runs and attempts are written straight into the store's tables.

    python benchmarks/report.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from harness.store import Store

ENGINES = ("duckdb", "bigquery", "snowflake", "redshift")
WORKLOADS = (("tpch", "structured"), ("events", "semi-structured"), ("text", "unstructured"))
SCALES = (1.0, 10.0)


def fill(path: Path, runs_per_engine: int, queries: int, attempts: int) -> int:
    store = Store(path)
    con = store.con
    con.execute("BEGIN")
    run_number = 0
    for engine_number, engine in enumerate(ENGINES):
        for n in range(runs_per_engine):
            workload, data_type = WORKLOADS[n % len(WORKLOADS)]
            scale = SCALES[(n // len(WORKLOADS)) % len(SCALES)]
            run_id = f"2026{n:04d}-{engine}-{workload}"
            settings = {"warehouse_size": "XSMALL", "base_rpu": 8, "project": "p"}
            con.execute(
                """INSERT INTO runs (run_id, status, started_at, ended_at, harness_version,
                       engine, engine_version, engine_settings, workload, data_type, scale,
                       namespace, runs_per_query, timeout_seconds, checksum_decimals, config)
                   VALUES (?, 'finished', TIMESTAMPTZ '2026-08-01' + to_days(?),
                       TIMESTAMPTZ '2026-08-01' + to_days(?) + INTERVAL 1 HOUR, '0.1.0', ?,
                       '1.0', ?, ?, ?, ?, ?, ?, 600, 2, '{}')""",
                [
                    run_id,
                    n,
                    n,
                    engine,
                    json.dumps(settings),
                    workload,
                    data_type,
                    scale,
                    f"whb_{workload}_sf{scale:g}",
                    attempts,
                ],
            )
            con.execute(
                """INSERT INTO queries SELECT ?, printf('q%02d', i), printf('Query %d', i),
                       false, printf('SELECT count(*) FROM t%d WHERE x > %d', i % 8, i)
                   FROM range(1, ? + 1) r(i)""",
                [run_id, queries],
            )
            con.execute(
                """INSERT INTO attempts (run_id, query_id, attempt, phase, status, started_at,
                       client_seconds, engine_seconds, rows, checksum, bytes_scanned,
                       bytes_billed, slot_ms, warehouse_seconds, cache_hit)
                   SELECT ?, printf('q%02d', q), a, CASE WHEN a = 1 THEN 'cold' ELSE 'hot' END,
                       CASE WHEN hash(q, a, ?) % 200 = 0 THEN 'error' ELSE 'ok' END,
                       TIMESTAMPTZ '2026-08-01' + to_days(?) + to_seconds(q * 10 + a),
                       (0.05 + (q % 7) * 0.1) * (1 + ? * 0.3) * ? * (0.9 + random() * 0.2),
                       NULL, q, printf('c%d', q), 1048576 * q, 10485760 * q, 1000 * q,
                       (0.05 + (q % 7) * 0.1) * ?, false
                   FROM range(1, ? + 1) r1(q), range(1, ? + 1) r2(a)""",
                [run_id, run_number, n, engine_number, scale, scale, queries, attempts],
            )
            run_number += 1
    con.execute("COMMIT")
    (total,) = con.execute("SELECT count(*) FROM attempts").fetchone()
    store.close()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100, help="runs per engine")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--attempts", type=int, default=5)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="whbench-report-"))
    config = workdir / "config.yaml"
    config.write_text(yaml.safe_dump({"results_dir": str(workdir / "results")}))
    total = fill(workdir / "results" / "results.duckdb", args.runs, args.queries, args.attempts)
    output = workdir / "report.html"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "report", "--config", str(config), "-o", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"whbench report failed: {process.stderr.read().decode()[-2000:]}")
    size = output.stat().st_size
    print(
        json.dumps(
            {
                "attempts_in_store": total,
                "seconds": round(seconds, 2),
                "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
                "html_mib": round(size / 2**20, 2),
                "targets_met": {"seconds": seconds <= 5, "size": size <= 5 * 2**20},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
