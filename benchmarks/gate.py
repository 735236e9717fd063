"""The regression gate on itself: how often `whbench compare`, with its defaults, cries wolf on
unchanged code, and how often it catches one query made about 1.3x slower.

Per pair, three sides of `--processes` runs each, separate processes run in turn (base, A, B,
base, A, B, …) as the CI example does: the base, A (the same workload: nothing changed) and B
(a shadow copy of TPC-H in `workload_dirs` whose q06 scans lineitem several times, `union all`,
`--copies`; three copies take about 1.3x the time at SF 0.1 on DuckDB). A and B are each
compared with the base by `whbench compare BASE1,BASE2,… NEW1,NEW2,… --json` with no options.
Reported: false alarms (A/A comparisons that failed the gate), detections (A/B comparisons that
named q06 slower), A/B comparisons that named any other query, q06's measured factor, and what
the comparisons could see.

    python benchmarks/gate.py --pairs 20 --scale 0.1 --runs 10 --processes 3
    python benchmarks/gate.py --pairs 20 --scale 0.1 --runs 10 --interleave
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

SLOWED = "q06"
COPIES = 3  # lineitem scans in the shadow q06: about 1.3x its time through whbench at SF 0.1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=10, help="attempts per query")
    parser.add_argument("--copies", type=int, default=COPIES, help="lineitem scans in q06")
    parser.add_argument(
        "--processes", type=int, default=3, help="runs a side, in turn with the other side's"
    )
    parser.add_argument(
        "--interleave", action="store_true", help="each comparison: both sides in one process"
    )
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder")
    args = parser.parse_args()

    from harness.paths import bundled

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="whbench-gate-"))
    workdir.mkdir(parents=True, exist_ok=True)
    shadow = workdir / "shadow"
    shutil.rmtree(shadow, ignore_errors=True)
    shutil.copytree(bundled("workloads") / "tpch", shadow / "tpch")
    query = shadow / "tpch" / "queries" / f"{SLOWED}.sql.j2"
    one = query.read_text()
    query.write_text(  # each copy in parentheses: its leading {#- comment eats whitespace
        "select sum(revenue) as revenue from (\n"
        + "\nunion all\n".join([f"({one}\n)"] * args.copies)
        + "\n) as scanned_more"
    )
    common = {
        "runs": args.runs,
        "results_dir": str(workdir / "results"),
        "engines": {"duckdb": {"database": str(workdir / "bench.duckdb")}},
        "workloads": {"tpch": {"scale": args.scale}},
    }
    config_a, config_b = workdir / "a.yaml", workdir / "b.yaml"
    config_a.write_text(yaml.safe_dump(common))
    config_b.write_text(yaml.safe_dump({**common, "workload_dirs": [str(shadow)]}))
    whbench = [sys.executable, "-m", "harness"]

    def run(config: Path) -> str:
        done = subprocess.run(
            [*whbench, "run", "--config", str(config), "--quiet", "--json"],
            capture_output=True,
            text=True,
        )
        if done.returncode not in (0, 1):
            sys.exit(f"whbench run failed: {done.stderr[-2000:]}")
        return json.loads(done.stdout)[0]["run_id"]

    def compare(base: str, new: str, *options: str) -> dict:
        done = subprocess.run(
            [*whbench, "compare", base, new, "--config", str(config_a), "--json", *options],
            capture_output=True,
            text=True,
        )
        return json.loads(done.stdout)

    subprocess.run([*whbench, "load", "--config", str(config_a)], check=True, capture_output=True)
    started = time.monotonic()
    false_alarms, detections, others, factors, can_see = 0, 0, 0, [], []
    for pair in range(args.pairs):
        if args.interleave:
            runs = ["--runs", str(args.runs)]
            aa = compare(str(config_a), str(config_a), "--interleave", *runs)
            ab = compare(str(config_a), str(config_b), "--interleave", *runs)
        else:
            sides: dict[str, list[str]] = {"base": [], "same": [], "slowed": []}
            for _ in range(args.processes):  # in turn, so that slow spells hit every side alike
                sides["base"].append(run(config_a))
                sides["same"].append(run(config_a))
                sides["slowed"].append(run(config_b))
            base, same, slowed = (",".join(runs) for runs in sides.values())
            aa, ab = compare(base, same), compare(base, slowed)
        false_alarms += aa["regressed"]
        slower = {c["query_id"] for c in ab["changes"] if c["verdict"] == "slower"}
        detections += SLOWED in slower
        others += bool(slower - {SLOWED})
        factors += [c["factor"] for c in ab["changes"] if c["query_id"] == SLOWED]
        can_see += [aa["can_see"], ab["can_see"]]
        same_verdict = f"FALSE ALARM {_named(aa)}" if aa["regressed"] else "pass"
        also = f" and named {sorted(slower - {SLOWED})}" if slower - {SLOWED} else ""
        print(
            f"pair {pair + 1}: A/A {same_verdict} (workload {aa['workload']['factor']:.3f}x); "
            f"A/B {'caught' if SLOWED in slower else 'MISSED'} {SLOWED} ({factors[-1]:.2f}x)"
            f"{also}",
            file=sys.stderr,
        )
    print(
        json.dumps(
            {
                "pairs": args.pairs,
                "scale": args.scale,
                "runs": args.runs,
                "processes": "one, interleaved" if args.interleave else args.processes,
                "false_alarms": false_alarms,
                "detections": detections,
                "ab_naming_another_query": others,
                "copies": args.copies,
                "slowed_query_factor_median": round(statistics.median(factors), 3),
                "can_see_median": round(statistics.median(can_see), 3),
                "minutes": round((time.monotonic() - started) / 60, 1),
                "targets_met": {
                    "false_alarms": false_alarms <= args.pairs / 20,
                    "detections": detections >= args.pairs * 19 / 20,
                },
            },
            indent=2,
        )
    )


def _named(result: dict) -> list[str]:
    return [c["query_id"] for c in result["changes"] if c["verdict"] in ("slower", "failed")] + (
        ["whole workload"] if result["workload"]["slower"] else []
    )


if __name__ == "__main__":
    main()
