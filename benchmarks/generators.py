"""Generator throughput and memory: rows per second and peak resident memory of the events and
text generators at 1M and 10M rows, each in a fresh process.

Targets (two cores): at least 500k events/s; peak memory at most 1 GiB at 10M rows, flat with
scale (generation streams in parts).

    python benchmarks/generators.py                 # 1M and 10M rows of each
    python benchmarks/generators.py --rows 1000000  # one size
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ONE_RUN = r"""
import sys, tempfile
from pathlib import Path
from harness.datagen import ensure_data
from harness.workloads import get_workload
workload, rows, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
ensure_data(folder, get_workload(workload), rows)
"""


def measure(workload: str, rows: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="whbench-gen-") as folder:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", ONE_RUN, workload, str(rows), folder])
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"generating {rows} rows of {workload} failed")
        size = sum(
            os.path.getsize(os.path.join(root, name))
            for root, _, names in os.walk(folder)
            for name in names
        )
    return {
        "workload": workload,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "peak_rss_mib": round(usage.ru_maxrss / 1024),
        "bytes_written": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="default: 1M and 10M")
    parser.add_argument("--workload", action="append", choices=["events", "text"])
    args = parser.parse_args()
    for workload in args.workload or ["events", "text"]:
        for rows in args.rows or [1_000_000, 10_000_000]:
            print(json.dumps(measure(workload, rows)), flush=True)


if __name__ == "__main__":
    main()
