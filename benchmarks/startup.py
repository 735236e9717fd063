"""Start-up: `whbench results list` against `python -c "import duckdb"`, each in a fresh process.

A store with one small run is made in a temporary folder first (TPC-H SF 0.01 on DuckDB). Then
the commands take turns, --repeat times each, so drift in the machine hits them alike; the
median wall time of each and the ratio to `import duckdb` are printed (target: at most 1.5x).
Also timed, as the floor under any listing of a DuckDB store: a script with no harness, Click or
config that imports DuckDB, opens the store read-only, reads its runs joined to their attempts,
closes it and ends as whbench does (without the last garbage collection). With --imports, the
modules `results list` imports beyond `import duckdb` are listed with their own import time.

    python benchmarks/startup.py --repeat 21
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The installed `whbench` script, as a user runs it (runpy's import would add to `-m harness`).
_SCRIPT = Path(sys.executable).with_name("whbench")
WHBENCH = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "harness"]
IMPORT_DUCKDB = [sys.executable, "-c", "import duckdb"]


def wall(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def imported(command: list[str], cwd: Path) -> dict[str, int]:
    """Each module a command imports, with its own import time in microseconds."""
    python, *rest = command if command[0] == sys.executable else [sys.executable, *command]
    process = subprocess.run(
        [python, "-X", "importtime", *rest], cwd=cwd, capture_output=True, text=True, check=True
    )
    own = {}
    for line in process.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self" not in line:
            self_us, _, name = line.removeprefix("import time:").split("|")
            own[name.strip()] = int(self_us)
    return own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--imports", action="store_true", help="list the extra imports")
    args = parser.parse_args()

    import harness

    # As installing a wheel does; PYTHONDONTWRITEBYTECODE would otherwise make every start
    # compile the harness from source.
    compileall.compile_dir(Path(harness.__file__).parent, quiet=1)
    folder = Path(tempfile.mkdtemp(prefix="whbench-startup-"))
    env = {**os.environ, "PYTHONPATH": str(Path(harness.__file__).parent.parent)}
    small_run = ["run", "-e", "duckdb", "-w", "tpch", "--scale", "0.01", "--runs", "1", "--quiet"]
    subprocess.run(
        [*WHBENCH, *small_run],
        cwd=folder,
        check=True,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    results_list = [*WHBENCH, "results", "list"]
    floor = [
        sys.executable,
        "-c",
        "import duckdb, gc; store = duckdb.connect('results/results.duckdb', read_only=True); "
        "store.sql('FROM runs LEFT JOIN attempts USING (run_id)').fetchall(); store.close(); "
        "gc.freeze()",
    ]
    listing, baseline, floors = [], [], []
    for _ in range(args.repeat):
        listing.append(wall(results_list, folder))
        baseline.append(wall(IMPORT_DUCKDB, folder))
        floors.append(wall(floor, folder))
    base = statistics.median(baseline)
    figures = {
        "whbench_results_list_s": round(statistics.median(listing), 3),
        "import_duckdb_s": round(base, 3),
        "duckdb_reading_the_store_s": round(statistics.median(floors), 3),
        "ratio": round(statistics.median(listing) / base, 2),
        "ratio_of_duckdb_reading_the_store": round(statistics.median(floors) / base, 2),
        "target": 1.5,
    }
    if args.imports:
        base = imported(IMPORT_DUCKDB, folder)
        extra = {m: us for m, us in imported(results_list, folder).items() if m not in base}
        figures["extra_imports_ms"] = round(sum(extra.values()) / 1000, 1)
        figures["largest_extra_imports_ms"] = {
            m: round(us / 1000, 1) for m, us in sorted(extra.items(), key=lambda kv: -kv[1])[:15]
        }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
